/**
 * Road meshes of every scenario, built from the shared road geometry (src/shared/geometry.ts),
 * the same functions the simulator's exports use: the ring, the figure eight (both loops,
 * the crossing's conflict zone and its priority markings: the vertical road is SUMO's
 * major road), and the straight CACC road, which scrolls under the platoon.
 *
 * Scene axes: x = east, y = up, z = south (a road point (X, Y) is drawn at (X, h, -Y)).
 */
import * as THREE from 'three';
import {
  CONFLICT_ZONE_HALF_LENGTH,
  FIGURE_EIGHT_CONFLICT_ZONES,
  FIGURE_EIGHT_LENGTH,
  figureEightPoint,
  ringPoint,
  straightPoint,
  type RoadPoint,
} from '../../shared/geometry.ts';
import type { ScenarioId } from '../../shared/scenarios.ts';
import { COLORS } from './colors.ts';

export const LANE_WIDTH = 3.6;
const ROAD_HEIGHT = 0.02;
const MARKING_HEIGHT = 0.04;
const MARKING_WIDTH = 0.16;
/** The CACC road drawn around the platoon (m either side of the view origin). */
export const STRAIGHT_HALF_LENGTH = 900;
/** Period of the CACC road's scrolling markings (dashes, distance posts). */
export const STRAIGHT_MARK_PERIOD = 50;

type Sampler = (s: number, out: RoadPoint) => RoadPoint;

export interface RoadScene {
  group: THREE.Group;
  /** Radius that contains the road (for fitting cameras). */
  radius: number;
  /** Markings that scroll with a moving origin (CACC), shifted by -(origin mod period). */
  scrolling: THREE.Object3D | null;
  dispose(): void;
}

const headingRad = (angleDeg: number): number => ((90 - angleDeg) * Math.PI) / 180;

/** A strip along the road between lateral offsets [left, right] (m, positive = left of travel), over [s0, s1]. */
function strip(sample: Sampler, s0: number, s1: number, step: number, inner: number, outer: number, height: number): THREE.BufferGeometry {
  const count = Math.max(2, Math.ceil((s1 - s0) / step) + 1);
  const positions = new Float32Array(count * 2 * 3);
  const point: RoadPoint = { x: 0, y: 0, angleDeg: 0 };
  for (let k = 0; k < count; k++) {
    const s = s0 + ((s1 - s0) * k) / (count - 1);
    sample(s, point);
    const theta = headingRad(point.angleDeg);
    const nx = -Math.sin(theta);
    const ny = Math.cos(theta);
    const o = k * 6;
    positions[o] = point.x + nx * inner;
    positions[o + 1] = height;
    positions[o + 2] = -(point.y + ny * inner);
    positions[o + 3] = point.x + nx * outer;
    positions[o + 4] = height;
    positions[o + 5] = -(point.y + ny * outer);
  }
  const index: number[] = [];
  for (let k = 0; k < count - 1; k++) {
    const a = 2 * k;
    index.push(a, a + 1, a + 2, a + 1, a + 3, a + 2);
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(index);
  geometry.computeVertexNormals();
  return geometry;
}

function merge(geometries: THREE.BufferGeometry[]): THREE.BufferGeometry {
  // Small hand merge (position + index) to keep draw calls down without pulling in more addons.
  let vertices = 0;
  let indices = 0;
  for (const g of geometries) {
    vertices += g.getAttribute('position').count;
    indices += g.getIndex()!.count;
  }
  const positions = new Float32Array(vertices * 3);
  const index = new Uint32Array(indices);
  let v = 0;
  let i = 0;
  for (const g of geometries) {
    const p = g.getAttribute('position').array as Float32Array;
    positions.set(p, v * 3);
    const gi = g.getIndex()!.array;
    for (let k = 0; k < gi.length; k++) index[i + k] = gi[k] + v;
    v += p.length / 3;
    i += gi.length;
    g.dispose();
  }
  const merged = new THREE.BufferGeometry();
  merged.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  merged.setIndex(new THREE.BufferAttribute(index, 1));
  merged.computeVertexNormals();
  return merged;
}

/** Marking lines along [s0, s1] at lateral offset `offset`, solid or dashed (dash, gap), leaving out `skip` intervals. */
function markingLine(
  sample: Sampler,
  s0: number,
  s1: number,
  offset: number,
  step: number,
  dash: [number, number] | null,
  skip: (s: number) => boolean = () => false,
): THREE.BufferGeometry[] {
  const pieces: THREE.BufferGeometry[] = [];
  const runs: [number, number][] = [];
  if (dash) {
    for (let s = s0; s < s1; s += dash[0] + dash[1]) runs.push([s, Math.min(s + dash[0], s1)]);
  } else {
    runs.push([s0, s1]);
  }
  for (const [a, b] of runs) {
    // Split the run where it enters skipped stretches.
    let start: number | null = null;
    const n = Math.max(2, Math.ceil((b - a) / Math.min(step, 0.5)) + 1);
    for (let k = 0; k < n; k++) {
      const s = a + ((b - a) * k) / (n - 1);
      const keep = !skip(s);
      if (keep && start === null) start = s;
      if ((!keep || k === n - 1) && start !== null) {
        const end = keep ? s : s - (b - a) / (n - 1);
        if (end - start > 0.05) pieces.push(strip(sample, start, end, step, offset - MARKING_WIDTH / 2, offset + MARKING_WIDTH / 2, MARKING_HEIGHT));
        start = null;
      }
    }
  }
  return pieces;
}

function materials() {
  return {
    asphalt: new THREE.MeshLambertMaterial({ color: COLORS.asphalt, side: THREE.DoubleSide }),
    marking: new THREE.MeshBasicMaterial({ color: COLORS.marking, transparent: true, opacity: 0.85, side: THREE.DoubleSide }),
  };
}

function roadGroup(sample: Sampler, length: number, step: number, markingSkip?: (s: number) => boolean, extraDashed?: (s: number) => boolean): RoadScene {
  const group = new THREE.Group();
  const { asphalt, marking } = materials();
  const half = LANE_WIDTH / 2;
  const surface = new THREE.Mesh(merge([strip(sample, 0, length, step, -half - 0.6, half + 0.6, ROAD_HEIGHT)]), asphalt);
  surface.renderOrder = 0;
  group.add(surface);
  const edges = [
    ...markingLine(sample, 0, length, half - 0.1, step, null, markingSkip),
    ...markingLine(sample, 0, length, -half + 0.1, step, null, markingSkip),
  ];
  if (extraDashed) {
    // Priority road: its edge lines continue as dashes through the crossing.
    for (const offset of [half - 0.1, -half + 0.1]) {
      edges.push(...markingLine(sample, 0, length, offset, 0.25, [1, 1], (s) => !extraDashed(s)));
    }
  }
  const lines = new THREE.Mesh(merge(edges), marking);
  lines.renderOrder = 1;
  group.add(lines);
  return {
    group,
    radius: 0,
    scrolling: null,
    dispose() {
      surface.geometry.dispose();
      lines.geometry.dispose();
      asphalt.dispose();
      marking.dispose();
    },
  };
}

export function ringRoad(length: number): RoadScene {
  // About 1 m per segment on the scenario's rings (1.4 degrees at 260 m), coarser on long ones.
  const step = Math.max(0.75, length / 360);
  const road = roadGroup((s, out) => ringPoint(s, length, out), length, step);
  road.radius = length / (2 * Math.PI) + LANE_WIDTH;
  return road;
}

/** A sign on a post: a flat plate built from `shape`, facing the direction `faceTowards` (radians about y). */
function sign(shape: THREE.Shape, border: THREE.Shape, fill: string, edge: string, x: number, z: number, faceTowards: number): { object: THREE.Group; dispose: () => void } {
  const group = new THREE.Group();
  const postGeometry = new THREE.CylinderGeometry(0.08, 0.08, 3.2, 8);
  const postMaterial = new THREE.MeshLambertMaterial({ color: '#8b949e' });
  const post = new THREE.Mesh(postGeometry, postMaterial);
  post.position.set(0, 1.6, 0);
  group.add(post);
  const borderGeometry = new THREE.ShapeGeometry(border);
  const fillGeometry = new THREE.ShapeGeometry(shape);
  const borderMaterial = new THREE.MeshBasicMaterial({ color: edge, side: THREE.DoubleSide });
  const fillMaterial = new THREE.MeshBasicMaterial({ color: fill, side: THREE.DoubleSide });
  const plateBorder = new THREE.Mesh(borderGeometry, borderMaterial);
  const plateFill = new THREE.Mesh(fillGeometry, fillMaterial);
  plateFill.position.z = 0.01;
  const plate = new THREE.Group();
  plate.add(plateBorder, plateFill);
  plate.position.set(0, 3.4, 0);
  group.add(plate);
  group.position.set(x, 0, z);
  group.rotation.y = faceTowards;
  return {
    object: group,
    dispose() {
      for (const item of [postGeometry, borderGeometry, fillGeometry]) item.dispose();
      for (const item of [postMaterial, borderMaterial, fillMaterial]) item.dispose();
    },
  };
}

function polygon(points: [number, number][]): THREE.Shape {
  const shape = new THREE.Shape();
  points.forEach(([x, y], k) => (k === 0 ? shape.moveTo(x, y) : shape.lineTo(x, y)));
  shape.closePath();
  return shape;
}

export function figureEightRoad(): RoadScene {
  const sample: Sampler = (s, out) => figureEightPoint(s, out);
  const [vertical, horizontal] = FIGURE_EIGHT_CONFLICT_ZONES;
  const clearance = LANE_WIDTH / 2 + 0.8;
  const nearCrossing = (s: number, zone: { crossing: number }) => Math.abs(s - zone.crossing) < clearance;
  // Edge lines stop at the crossing on both roads; the vertical (major) road's continue dashed.
  const road = roadGroup(
    sample,
    FIGURE_EIGHT_LENGTH,
    0.5,
    (s) => nearCrossing(s, vertical) || nearCrossing(s, horizontal),
    (s) => nearCrossing(s, vertical),
  );
  road.radius = 70;
  const disposers: (() => void)[] = [];

  // The conflict zone: 9.4 m of each stream centred on the crossing.
  const zoneMaterial = new THREE.MeshBasicMaterial({ color: COLORS.conflictZone, transparent: true, opacity: 0.16, depthWrite: false, side: THREE.DoubleSide });
  const zoneEdgeMaterial = new THREE.MeshBasicMaterial({ color: COLORS.conflictZone, transparent: true, opacity: 0.75, depthWrite: false, side: THREE.DoubleSide });
  const zoneGeometries: THREE.BufferGeometry[] = [];
  const zoneEdges: THREE.BufferGeometry[] = [];
  for (const zone of [vertical, horizontal]) {
    zoneGeometries.push(strip(sample, zone.entry, zone.exit, 0.5, -LANE_WIDTH / 2, LANE_WIDTH / 2, MARKING_HEIGHT - 0.005));
    for (const s of [zone.entry, zone.exit]) {
      // A transverse bar at the zone limit.
      const p = sample(s, { x: 0, y: 0, angleDeg: 0 });
      const theta = headingRad(p.angleDeg);
      const bar = new THREE.PlaneGeometry(0.18, LANE_WIDTH);
      bar.rotateX(-Math.PI / 2);
      bar.rotateY(theta);
      bar.translate(p.x, MARKING_HEIGHT + 0.003, -p.y);
      const indexed = bar.toNonIndexed();
      bar.dispose();
      zoneEdges.push(toIndexed(indexed));
    }
  }
  const zoneMesh = new THREE.Mesh(merge(zoneGeometries), zoneMaterial);
  const zoneEdgeMesh = new THREE.Mesh(merge(zoneEdges), zoneEdgeMaterial);
  zoneMesh.renderOrder = 2;
  zoneEdgeMesh.renderOrder = 3;
  road.group.add(zoneMesh, zoneEdgeMesh);
  disposers.push(() => {
    zoneMesh.geometry.dispose();
    zoneEdgeMesh.geometry.dispose();
    zoneMaterial.dispose();
    zoneEdgeMaterial.dispose();
  });

  // Give-way teeth across the minor (horizontal) road before its zone entry, pointing at the approaching driver.
  const teethMaterial = new THREE.MeshBasicMaterial({ color: COLORS.marking });
  const teeth: THREE.BufferGeometry[] = [];
  const entry = sample(horizontal.entry - 0.4, { x: 0, y: 0, angleDeg: 0 });
  const theta = headingRad(entry.angleDeg);
  const along = new THREE.Vector2(Math.cos(theta), Math.sin(theta));
  const left = new THREE.Vector2(-Math.sin(theta), Math.cos(theta));
  const count = 4;
  const width = LANE_WIDTH / count;
  for (let k = 0; k < count; k++) {
    const offset = -LANE_WIDTH / 2 + width * (k + 0.5);
    const base = new THREE.Vector2(entry.x, entry.y).addScaledVector(left, offset);
    // Apex towards the approaching traffic (against the direction of travel).
    const apex = base.clone().addScaledVector(along, -0.9);
    const b1 = base.clone().addScaledVector(left, width * 0.38);
    const b2 = base.clone().addScaledVector(left, -width * 0.38);
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(new Float32Array([apex.x, MARKING_HEIGHT, -apex.y, b1.x, MARKING_HEIGHT, -b1.y, b2.x, MARKING_HEIGHT, -b2.y]), 3));
    g.setIndex([0, 1, 2, 0, 2, 1]);
    teeth.push(g);
  }
  const teethMesh = new THREE.Mesh(merge(teeth), teethMaterial);
  teethMesh.renderOrder = 3;
  road.group.add(teethMesh);
  disposers.push(() => {
    teethMesh.geometry.dispose();
    teethMaterial.dispose();
  });

  // Signs: priority road (yellow diamond) on the vertical approach, give way (inverted triangle) on the horizontal one.
  const d = 1.0;
  const priority = sign(
    polygon([[0, d * 0.72], [d * 0.72, 0], [0, -d * 0.72], [-d * 0.72, 0]]),
    polygon([[0, d], [d, 0], [0, -d], [-d, 0]]),
    '#ffcc00',
    '#f5f5f5',
    LANE_WIDTH / 2 + 1.6,
    -(vertical.entry - vertical.crossing - 3),
    0,
  );
  const t = 1.3;
  const giveWay = sign(
    polygon([[-t * 0.62, t * 0.42], [t * 0.62, t * 0.42], [0, -t * 0.66]]),
    polygon([[-t, t * 0.62], [t, t * 0.62], [0, -t * 1.0]]),
    '#f5f5f5',
    '#e5484d',
    horizontal.crossing - horizontal.entry + 3,
    -(LANE_WIDTH / 2 + 1.6),
    Math.PI / 2,
  );
  road.group.add(priority.object, giveWay.object);
  disposers.push(priority.dispose, giveWay.dispose);

  const baseDispose = road.dispose;
  road.dispose = () => {
    baseDispose();
    disposers.forEach((dispose) => dispose());
  };
  return road;
}

function toIndexed(geometry: THREE.BufferGeometry): THREE.BufferGeometry {
  const count = geometry.getAttribute('position').count;
  geometry.setIndex(Array.from({ length: count }, (_, k) => k));
  return geometry;
}

/** The CACC road: a straight stretch around the view origin; its markings scroll as the platoon drives. */
export function straightRoad(): RoadScene {
  const sample: Sampler = (s, out) => straightPoint(s, out);
  const group = new THREE.Group();
  const { asphalt, marking } = materials();
  const half = LANE_WIDTH / 2;
  const L = STRAIGHT_HALF_LENGTH;
  // Two lanes and shoulders: the platoon drives in the right lane.
  const surface = new THREE.Mesh(strip(sample, -L, L, 10, -half - 0.8, half + LANE_WIDTH + 0.8, ROAD_HEIGHT), asphalt);
  group.add(surface);
  const solid = merge([
    ...markingLine(sample, -L, L, -half + 0.1, 10, null),
    ...markingLine(sample, -L, L, half + LANE_WIDTH - 0.1, 10, null),
  ]);
  const solidMesh = new THREE.Mesh(solid, marking);
  group.add(solidMesh);
  // Scrolling: lane dashes and distance posts every STRAIGHT_MARK_PERIOD m.
  const scrolling = new THREE.Group();
  const dashes = merge(markingLine(sample, -L - STRAIGHT_MARK_PERIOD, L + STRAIGHT_MARK_PERIOD, half, 1, [6, 6.5]));
  const dashMesh = new THREE.Mesh(dashes, marking);
  scrolling.add(dashMesh);
  const postGeometry = new THREE.BoxGeometry(0.25, 1.1, 0.25);
  postGeometry.translate(0, 0.55, 0);
  const postMaterial = new THREE.MeshLambertMaterial({ color: '#c9d1d9' });
  const postCount = Math.ceil((2 * L) / STRAIGHT_MARK_PERIOD) + 3;
  const posts = new THREE.InstancedMesh(postGeometry, postMaterial, postCount);
  const m = new THREE.Matrix4();
  for (let k = 0; k < postCount; k++) {
    m.makeTranslation(-L - STRAIGHT_MARK_PERIOD + k * STRAIGHT_MARK_PERIOD, 0, half + 1.6);
    posts.setMatrixAt(k, m);
  }
  scrolling.add(posts);
  group.add(scrolling);
  return {
    group,
    radius: 160,
    scrolling,
    dispose() {
      for (const g of [surface.geometry, solid, dashes, postGeometry]) g.dispose();
      for (const mat of [asphalt, marking, postMaterial]) mat.dispose();
      posts.dispose();
    },
  };
}

export function buildRoad(scenario: ScenarioId, roadLength: number | null): RoadScene {
  switch (scenario) {
    case 'ring':
      return ringRoad(roadLength ?? 230);
    case 'figure-eight':
      return figureEightRoad();
    case 'cacc-catchup':
    case 'cacc-slowdown':
      return straightRoad();
    case 'network-routing':
    case 'mabc':
    case 'demand-response':
      throw new Error(`the 3D view has no road for ${scenario}: its episodes carry a scene (src/shared/scene.ts), drawn by its own view`);
  }
}

export { CONFLICT_ZONE_HALF_LENGTH };
