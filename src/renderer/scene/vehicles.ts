/**
 * The vehicles of the 3D view, all instanced (one draw call per kind of part, whatever the
 * vehicle count): bodies coloured by speed, a glowing roof bar on controlled vehicles
 * (agents), an amber beacon on CACC's exogenous leader, red markers over vehicles in a
 * collision, a pulsing chartreuse ring and diamond on disturbed vehicles, ground halos for
 * the selection and its neighbourhoods, and the agent-graph edges drawn as arcs between
 * vehicles. Collision and disturbance marks follow the frame's FrameFlag bits per vehicle.
 */
import * as THREE from 'three';
import { LineMaterial } from 'three/addons/lines/LineMaterial.js';
import { LineSegments2 } from 'three/addons/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/addons/lines/LineSegmentsGeometry.js';
import { FrameFlag, VehicleKindCode } from '../../shared/api.ts';
import { COLORS, speedColor } from './colors.ts';

const BODY_LENGTH = 4.5;
const BODY_WIDTH = 1.9;
const ARC_SEGMENTS = 12;
const EDGE_HEIGHT = 2.4;

/** sRGB [0, 1] -> linear, the space three.js works in. */
function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Speed colours precomputed in linear space: 256 steps over the scale. */
function speedLut(max: number): Float32Array {
  const lut = new Float32Array(256 * 3);
  const rgb = [0, 0, 0];
  for (let k = 0; k < 256; k++) {
    speedColor((k / 255) * max, max, rgb);
    lut[3 * k] = srgbToLinear(rgb[0]);
    lut[3 * k + 1] = srgbToLinear(rgb[1]);
    lut[3 * k + 2] = srgbToLinear(rgb[2]);
  }
  return lut;
}

function linearColor(hex: string): THREE.Color {
  return new THREE.Color(hex);
}

/** A car-like body: a lower box and a darker cabin (vertex colours multiply the instance colour). */
function bodyGeometry(): THREE.BufferGeometry {
  const parts: [THREE.BoxGeometry, number][] = [];
  const lower = new THREE.BoxGeometry(BODY_LENGTH, 0.95, BODY_WIDTH);
  lower.translate(0, 0.3 + 0.475, 0);
  parts.push([lower, 1]);
  const cabin = new THREE.BoxGeometry(BODY_LENGTH * 0.52, 0.62, BODY_WIDTH * 0.86);
  cabin.translate(-0.35, 1.25 + 0.31, 0);
  parts.push([cabin, 0.34]);
  const positions: number[] = [];
  const normals: number[] = [];
  const colors: number[] = [];
  const index: number[] = [];
  for (const [geometry, shade] of parts) {
    const offset = positions.length / 3;
    const p = geometry.getAttribute('position');
    const n = geometry.getAttribute('normal');
    for (let k = 0; k < p.count; k++) {
      positions.push(p.getX(k), p.getY(k), p.getZ(k));
      normals.push(n.getX(k), n.getY(k), n.getZ(k));
      // The cabin's top stays a little lighter than its windows.
      const top = n.getY(k) > 0.9 ? 1.6 : 1;
      colors.push(shade * top, shade * top, shade * top);
    }
    for (const i of geometry.getIndex()!.array) index.push(i + offset);
    geometry.dispose();
  }
  const merged = new THREE.BufferGeometry();
  merged.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  merged.setAttribute('normal', new THREE.Float32BufferAttribute(normals, 3));
  merged.setAttribute('color', new THREE.Float32BufferAttribute(colors, 3));
  merged.setIndex(index);
  return merged;
}

export interface Highlight {
  selected: number | null;
  policy: readonly number[];
  critic: readonly number[];
  edges: readonly { a: number; b: number; kind: 'policy' | 'critic' }[];
}

export class VehicleLayer {
  readonly group = new THREE.Group();
  readonly bodies: THREE.InstancedMesh;
  private readonly roofs: THREE.InstancedMesh;
  private readonly beacons: THREE.InstancedMesh;
  private readonly markers: THREE.InstancedMesh;
  private readonly disturbedRings: THREE.InstancedMesh;
  private readonly disturbedDiamonds: THREE.InstancedMesh;
  /** Vehicles marked disturbed by the last update. */
  readonly disturbed: number[] = [];
  private readonly halos: THREE.InstancedMesh;
  private readonly edges: LineSegments2;
  private readonly edgeGeometry: LineSegmentsGeometry;
  private readonly edgeMaterial: LineMaterial;
  private readonly edgePositions: Float32Array;
  private readonly edgeColors: Float32Array;
  private readonly roofVehicles: number[] = [];
  private readonly beaconVehicles: number[] = [];
  private lut = speedLut(30);
  private highlight: Highlight = { selected: null, policy: [], critic: [], edges: [] };
  private readonly haloColors = {
    selected: linearColor(COLORS.selected),
    policy: linearColor(COLORS.policy),
    critic: linearColor(COLORS.critic),
    leader: linearColor(COLORS.leader),
  };

  /** Per-vehicle centre (x, z) and heading of the last update, for picking, cameras and labels. */
  readonly centres: Float32Array;
  readonly headings: Float32Array;

  constructor(
    readonly count: number,
    vehicleKind: readonly number[],
  ) {
    const geometries: THREE.BufferGeometry[] = [];
    const materials: THREE.Material[] = [];
    const own = <G extends THREE.BufferGeometry, M extends THREE.Material>(g: G, m: M): [G, M] => {
      geometries.push(g);
      materials.push(m);
      return [g, m];
    };
    this.disposables = { geometries, materials };
    this.centres = new Float32Array(count * 2);
    this.headings = new Float32Array(count);

    this.bodies = new THREE.InstancedMesh(...own(bodyGeometry(), new THREE.MeshLambertMaterial({ vertexColors: true })), count);
    this.bodies.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
    this.bodies.setColorAt(0, new THREE.Color(1, 1, 1));
    this.bodies.instanceColor!.setUsage(THREE.DynamicDrawUsage);
    this.bodies.frustumCulled = false;
    this.group.add(this.bodies);

    vehicleKind.forEach((kind, v) => {
      if (kind === VehicleKindCode.agent) this.roofVehicles.push(v);
      if (kind === VehicleKindCode.leader) this.beaconVehicles.push(v);
    });
    const roofGeometry = new THREE.BoxGeometry(0.55, 0.16, BODY_WIDTH * 0.78);
    roofGeometry.translate(-0.1, 1.94, 0);
    this.roofs = new THREE.InstancedMesh(...own(roofGeometry, new THREE.MeshBasicMaterial({ color: COLORS.agentRoof })), Math.max(1, this.roofVehicles.length));
    this.roofs.count = this.roofVehicles.length;
    this.roofs.frustumCulled = false;
    this.group.add(this.roofs);

    const beaconGeometry = new THREE.CylinderGeometry(0.45, 0.45, 0.55, 16);
    beaconGeometry.translate(-0.35, 2.15, 0);
    this.beacons = new THREE.InstancedMesh(...own(beaconGeometry, new THREE.MeshBasicMaterial({ color: COLORS.leader })), Math.max(1, this.beaconVehicles.length));
    this.beacons.count = this.beaconVehicles.length;
    this.beacons.frustumCulled = false;
    this.group.add(this.beacons);

    const markerGeometry = new THREE.ConeGeometry(1.1, 2.2, 4);
    markerGeometry.rotateX(Math.PI);
    markerGeometry.translate(0, 5.2, 0);
    this.markers = new THREE.InstancedMesh(...own(markerGeometry, new THREE.MeshBasicMaterial({ color: COLORS.collision })), count);
    this.markers.count = 0;
    this.markers.frustumCulled = false;
    this.group.add(this.markers);

    // Outside the selection halo (radius up to 4.1 m), so a selected disturbed vehicle shows both.
    const ringGeometry = new THREE.RingGeometry(4.5, 5.2, 48);
    ringGeometry.rotateX(-Math.PI / 2);
    ringGeometry.translate(0, 0.1, 0);
    const disturbedMaterial = new THREE.MeshBasicMaterial({ color: COLORS.disturbed, transparent: true, opacity: 0.9, depthWrite: false });
    this.disturbedRings = new THREE.InstancedMesh(...own(ringGeometry, disturbedMaterial), count);
    this.disturbedRings.count = 0;
    this.disturbedRings.frustumCulled = false;
    this.disturbedRings.renderOrder = 6;
    this.group.add(this.disturbedRings);
    // Below the collision marker (which starts 4.1 m up), so a disturbed vehicle that collides shows both.
    const diamondGeometry = new THREE.OctahedronGeometry(0.75);
    diamondGeometry.scale(1, 1.4, 1);
    diamondGeometry.translate(0, 3.3, 0);
    this.disturbedDiamonds = new THREE.InstancedMesh(...own(diamondGeometry, new THREE.MeshBasicMaterial({ color: COLORS.disturbed })), count);
    this.disturbedDiamonds.count = 0;
    this.disturbedDiamonds.frustumCulled = false;
    this.group.add(this.disturbedDiamonds);

    const haloGeometry = new THREE.RingGeometry(2.75, 3.35, 40);
    haloGeometry.rotateX(-Math.PI / 2);
    haloGeometry.translate(0, 0.08, 0);
    const haloMaterial = new THREE.MeshBasicMaterial({ transparent: true, opacity: 0.95, depthWrite: false });
    this.halos = new THREE.InstancedMesh(...own(haloGeometry, haloMaterial), count * 2 + 2);
    this.halos.setColorAt(0, this.haloColors.selected);
    this.halos.count = 0;
    this.halos.frustumCulled = false;
    this.halos.renderOrder = 5;
    this.group.add(this.halos);

    const maxEdges = 4 * count + 8;
    this.edgePositions = new Float32Array(maxEdges * ARC_SEGMENTS * 6);
    this.edgeColors = new Float32Array(maxEdges * ARC_SEGMENTS * 6);
    this.edgeGeometry = new LineSegmentsGeometry();
    this.edgeGeometry.setPositions(this.edgePositions);
    this.edgeGeometry.setColors(this.edgeColors);
    this.edgeGeometry.instanceCount = 0;
    this.edgeMaterial = new LineMaterial({ linewidth: 3, vertexColors: true, transparent: true, opacity: 0.95, depthTest: false });
    materials.push(this.edgeMaterial);
    geometries.push(this.edgeGeometry);
    this.edges = new LineSegments2(this.edgeGeometry, this.edgeMaterial);
    this.edges.frustumCulled = false;
    this.edges.renderOrder = 10;
    this.group.add(this.edges);
  }

  private readonly disposables: { geometries: THREE.BufferGeometry[]; materials: THREE.Material[] };

  setSpeedScale(max: number): void {
    this.lut = speedLut(max);
  }

  setResolution(width: number, height: number): void {
    this.edgeMaterial.resolution.set(width, height);
  }

  setHighlight(highlight: Highlight): void {
    this.highlight = highlight;
  }

  /** Colours the bodies by speed. */
  updateColors(speeds: ArrayLike<number>, max: number): void {
    const colors = this.bodies.instanceColor!.array as Float32Array;
    const lut = this.lut;
    for (let v = 0; v < this.count; v++) {
      const k = Math.min(255, Math.max(0, Math.round((speeds[v] / max) * 255))) | 0;
      colors[3 * v] = lut[3 * k];
      colors[3 * v + 1] = lut[3 * k + 1];
      colors[3 * v + 2] = lut[3 * k + 2];
    }
    this.bodies.instanceColor!.needsUpdate = true;
  }

  /**
   * Places every vehicle: centre (x, z) in scene coordinates and heading (radians,
   * counterclockwise from east) per vehicle, then the parts that follow them.
   */
  updateTransforms(flags: ArrayLike<number> | null, time: number): void {
    const m = this.bodies.instanceMatrix.array as Float32Array;
    const { centres, headings } = this;
    for (let v = 0; v < this.count; v++) writeMatrix(m, v, centres[2 * v], centres[2 * v + 1], headings[v], 1);
    this.bodies.instanceMatrix.needsUpdate = true;
    this.bodies.boundingSphere = null;
    copyRows(this.roofs, this.roofVehicles, m);
    copyRows(this.beacons, this.beaconVehicles, m);

    // Collision markers, bobbing; disturbed vehicles' rings pulse and their diamonds turn.
    let markers = 0;
    this.disturbed.length = 0;
    if (flags) {
      const mm = this.markers.instanceMatrix.array as Float32Array;
      const rm = this.disturbedRings.instanceMatrix.array as Float32Array;
      const dm = this.disturbedDiamonds.instanceMatrix.array as Float32Array;
      const bob = 1 + 0.18 * Math.sin(time * 0.008);
      const pulse = 1 + 0.12 * Math.sin(time * 0.006);
      for (let v = 0; v < this.count; v++) {
        if ((flags[v] & FrameFlag.collision) !== 0) writeMatrix(mm, markers++, centres[2 * v], centres[2 * v + 1], time * 0.003, bob);
        if ((flags[v] & FrameFlag.disturbed) !== 0) {
          const k = this.disturbed.length;
          writeMatrix(rm, k, centres[2 * v], centres[2 * v + 1], 0, pulse);
          writeMatrix(dm, k, centres[2 * v], centres[2 * v + 1], time * 0.002, 1);
          this.disturbed.push(v);
        }
      }
      this.markers.instanceMatrix.needsUpdate = true;
      this.disturbedRings.instanceMatrix.needsUpdate = true;
      this.disturbedDiamonds.instanceMatrix.needsUpdate = true;
    }
    this.markers.count = markers;
    this.disturbedRings.count = this.disturbed.length;
    this.disturbedDiamonds.count = this.disturbed.length;

    this.updateHalos();
    this.updateEdges();
  }

  private updateHalos(): void {
    const { selected, policy, critic } = this.highlight;
    const hm = this.halos.instanceMatrix.array as Float32Array;
    const colors = this.halos.instanceColor!.array as Float32Array;
    let k = 0;
    const add = (v: number, color: THREE.Color, scale: number) => {
      if (v < 0 || v >= this.count) return;
      writeMatrix(hm, k, this.centres[2 * v], this.centres[2 * v + 1], 0, scale);
      colors[3 * k] = color.r;
      colors[3 * k + 1] = color.g;
      colors[3 * k + 2] = color.b;
      k++;
    };
    for (const v of this.beaconVehicles) add(v, this.haloColors.leader, 1);
    const inPolicy = new Set(policy);
    for (const v of critic) if (!inPolicy.has(v)) add(v, this.haloColors.critic, 1);
    for (const v of policy) if (v !== selected) add(v, this.haloColors.policy, 1);
    if (selected !== null) add(selected, this.haloColors.selected, 1.22);
    this.halos.count = k;
    this.halos.instanceMatrix.needsUpdate = true;
    this.halos.instanceColor!.needsUpdate = true;
  }

  private updateEdges(): void {
    const { edges } = this.highlight;
    const positions = this.edgePositions;
    const colors = this.edgeColors;
    const maxSegments = positions.length / 6;
    let s = 0;
    const policy = this.haloColors.policy;
    const critic = this.haloColors.critic;
    for (const edge of edges) {
      if (s + ARC_SEGMENTS > maxSegments) break;
      const ax = this.centres[2 * edge.a];
      const az = this.centres[2 * edge.a + 1];
      const bx = this.centres[2 * edge.b];
      const bz = this.centres[2 * edge.b + 1];
      const length = Math.hypot(bx - ax, bz - az);
      const lift = Math.min(7, 0.8 + 0.12 * length);
      const color = edge.kind === 'policy' ? policy : critic;
      let px = ax;
      let py = EDGE_HEIGHT;
      let pz = az;
      for (let k = 1; k <= ARC_SEGMENTS; k++) {
        const t = k / ARC_SEGMENTS;
        const x = ax + (bx - ax) * t;
        const z = az + (bz - az) * t;
        const y = EDGE_HEIGHT + lift * 4 * t * (1 - t);
        const o = s * 6;
        positions[o] = px;
        positions[o + 1] = py;
        positions[o + 2] = pz;
        positions[o + 3] = x;
        positions[o + 4] = y;
        positions[o + 5] = z;
        for (let c = 0; c < 2; c++) {
          colors[o + 3 * c] = color.r;
          colors[o + 3 * c + 1] = color.g;
          colors[o + 3 * c + 2] = color.b;
        }
        px = x;
        py = y;
        pz = z;
        s++;
      }
    }
    this.edgeGeometry.instanceCount = s;
    (this.edgeGeometry.getAttribute('instanceStart') as THREE.InterleavedBufferAttribute).data.needsUpdate = true;
    (this.edgeGeometry.getAttribute('instanceColorStart') as THREE.InterleavedBufferAttribute).data.needsUpdate = true;
  }

  dispose(): void {
    for (const g of this.disposables.geometries) g.dispose();
    for (const m of this.disposables.materials) m.dispose();
    this.bodies.dispose();
    this.roofs.dispose();
    this.beacons.dispose();
    this.markers.dispose();
    this.disturbedRings.dispose();
    this.disturbedDiamonds.dispose();
    this.halos.dispose();
  }
}

/** Writes a rotation about y by `heading` (radians from east, counterclockwise seen from above), uniform scale and translation (x, 0, z). */
function writeMatrix(m: Float32Array, row: number, x: number, z: number, heading: number, scale: number): void {
  const c = Math.cos(heading) * scale;
  const s = Math.sin(heading) * scale;
  const o = row * 16;
  m[o] = c;
  m[o + 1] = 0;
  m[o + 2] = -s;
  m[o + 3] = 0;
  m[o + 4] = 0;
  m[o + 5] = scale;
  m[o + 6] = 0;
  m[o + 7] = 0;
  m[o + 8] = s;
  m[o + 9] = 0;
  m[o + 10] = c;
  m[o + 11] = 0;
  m[o + 12] = x;
  m[o + 13] = 0;
  m[o + 14] = z;
  m[o + 15] = 1;
}

function copyRows(mesh: THREE.InstancedMesh, vehicles: readonly number[], source: Float32Array): void {
  if (vehicles.length === 0) return;
  const target = mesh.instanceMatrix.array as Float32Array;
  vehicles.forEach((v, k) => target.set(source.subarray(v * 16, v * 16 + 16), k * 16));
  mesh.instanceMatrix.needsUpdate = true;
}
