/**
 * Road geometry of every scenario, for the 3D view, the time-space diagram and the SUMO FCD
 * export. Pure data and functions (no imports from src/main), so the renderer, the CLI and
 * the simulator share one definition of the roads.
 *
 * Coordinates are metres, x east and y north. Positions are a vehicle's front bumper
 * measured along its road, the same quantity the simulator's `position` buffer holds (and
 * what SUMO's FCD x/y describe). `angleDeg` is SUMO's heading convention (0 = north,
 * clockwise, in [0, 360)), so exported FCD files open in SUMO's tools unchanged. Lane ids
 * follow Flow's edge names (`<edge>_0`), which is what Flow's plotting scripts group by.
 */
import type { ScenarioId } from './scenarios.ts';

export interface RoadPoint {
  x: number;
  y: number;
  /** Heading, SUMO convention: 0 = north, clockwise, [0, 360). */
  angleDeg: number;
}

export interface RoadPlacement extends RoadPoint {
  /** SUMO lane id of the edge the position lies on. */
  lane: string;
}

interface SegmentBase {
  /** Flow's edge name. */
  edge: string;
  /** Route position where the segment starts (m). */
  start: number;
  length: number;
}
export interface LineSegment extends SegmentBase {
  kind: 'line';
  from: { x: number; y: number };
  to: { x: number; y: number };
}
export interface ArcSegment extends SegmentBase {
  kind: 'arc';
  centre: { x: number; y: number };
  radius: number;
  /** Polar angle of the segment's start point seen from the centre (rad, counterclockwise from east). */
  startAngle: number;
  /** Signed turn (rad): positive = counterclockwise (left turn), negative = clockwise. */
  sweep: number;
}
export type RoadSegment = LineSegment | ArcSegment;

/** SUMO heading of the direction (dx, dy). */
function headingDeg(dx: number, dy: number): number {
  const deg = (Math.atan2(dx, dy) * 180) / Math.PI;
  return deg < 0 ? deg + 360 : deg;
}

/** Writes the point `along` metres into `segment` (0 <= along <= length). */
function pointOnSegment(segment: RoadSegment, along: number, out: RoadPoint): RoadPoint {
  if (segment.kind === 'line') {
    const dx = segment.to.x - segment.from.x;
    const dy = segment.to.y - segment.from.y;
    const f = along / segment.length;
    out.x = segment.from.x + f * dx;
    out.y = segment.from.y + f * dy;
    out.angleDeg = headingDeg(dx, dy);
    return out;
  }
  const direction = Math.sign(segment.sweep);
  const theta = segment.startAngle + (direction * along) / segment.radius;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  out.x = segment.centre.x + segment.radius * c;
  out.y = segment.centre.y + segment.radius * s;
  // The tangent of a counterclockwise turn is (-sin, cos); clockwise flips it.
  out.angleDeg = headingDeg(-direction * s, direction * c);
  return out;
}

/** Position modulo a loop length, in [0, length). */
function wrap(position: number, length: number): number {
  const p = position % length;
  return p < 0 ? p + length : p;
}

function segmentAt(segments: readonly RoadSegment[], position: number): RoadSegment {
  for (let i = segments.length - 1; i > 0; i--) if (position >= segments[i].start) return segments[i];
  return segments[0];
}

// ---------------------------------------------------------------------------------------
// Ring

/** Flow's ring edges, each a quarter of the ring, in driving order. */
const RING_EDGES = ['bottom', 'right', 'top', 'left'] as const;

/** Radius of a ring road of circumference `length`. */
export function ringRadius(length: number): number {
  return length / (2 * Math.PI);
}

/**
 * The ring as Flow lays it out: centred on the origin, position 0 at the bottom (0, -R),
 * driving counterclockwise, split into Flow's four quarter edges bottom, right, top, left.
 */
export function ringSegments(length: number): RoadSegment[] {
  const radius = ringRadius(length);
  const quarter = length / 4;
  return RING_EDGES.map((edge, i) => ({
    kind: 'arc',
    edge,
    start: i * quarter,
    length: quarter,
    centre: { x: 0, y: 0 },
    radius,
    startAngle: -Math.PI / 2 + (i * Math.PI) / 2,
    sweep: Math.PI / 2,
  }));
}

/** Point of ring position `position` (wrapped into [0, length)) on a ring of circumference `length`. */
export function ringPoint(position: number, length: number, out: RoadPoint = { x: 0, y: 0, angleDeg: 0 }): RoadPoint {
  const radius = ringRadius(length);
  const theta = -Math.PI / 2 + wrap(position, length) / radius;
  out.x = radius * Math.cos(theta);
  out.y = radius * Math.sin(theta);
  out.angleDeg = headingDeg(-Math.sin(theta), Math.cos(theta));
  return out;
}

// ---------------------------------------------------------------------------------------
// Figure eight

/** Loop radius of Flow's figure eight (m). */
export const FIGURE_EIGHT_RADIUS = 30;
/** One 3/4-circle loop: 3*pi*r/2 = 141.37 m. */
export const FIGURE_EIGHT_LOOP_LENGTH = (3 * Math.PI * FIGURE_EIGHT_RADIUS) / 2;
/** The four straights, each r long. */
const STRAIGHT = FIGURE_EIGHT_RADIUS;
/** Route length, 2*141.37 + 4*30 = 402.74 m (SUMO's junction lanes ignored, as in the spec). */
export const FIGURE_EIGHT_LENGTH = 2 * FIGURE_EIGHT_LOOP_LENGTH + 4 * STRAIGHT;

/**
 * The route in driving order, starting at (0, -30): up the vertical road through the
 * crossing, clockwise round the upper loop, west along the horizontal road through the
 * crossing, counterclockwise round the lower loop, back to the start.
 */
export const FIGURE_EIGHT_SEGMENTS: readonly RoadSegment[] = (() => {
  const r = FIGURE_EIGHT_RADIUS;
  const loop = FIGURE_EIGHT_LOOP_LENGTH;
  const parts: RoadSegment[] = [];
  let start = 0;
  const add = (segment: Omit<LineSegment, 'start'> | Omit<ArcSegment, 'start'>): void => {
    parts.push({ ...segment, start } as RoadSegment);
    start += segment.length;
  };
  add({ kind: 'line', edge: 'bottom', length: STRAIGHT, from: { x: 0, y: -r }, to: { x: 0, y: 0 } });
  add({ kind: 'line', edge: 'top', length: STRAIGHT, from: { x: 0, y: 0 }, to: { x: 0, y: r } });
  add({ kind: 'arc', edge: 'upper_ring', length: loop, centre: { x: r, y: r }, radius: r, startAngle: Math.PI, sweep: (-3 * Math.PI) / 2 });
  add({ kind: 'line', edge: 'right', length: STRAIGHT, from: { x: r, y: 0 }, to: { x: 0, y: 0 } });
  add({ kind: 'line', edge: 'left', length: STRAIGHT, from: { x: 0, y: 0 }, to: { x: -r, y: 0 } });
  add({ kind: 'arc', edge: 'lower_ring', length: loop, centre: { x: -r, y: -r }, radius: r, startAngle: Math.PI / 2, sweep: (3 * Math.PI) / 2 });
  return parts;
})();

/** Half the length of the crossing conflict zone on each stream (SUMO's 9.4 m internal crossing lanes). */
export const CONFLICT_ZONE_HALF_LENGTH = 4.7;

export interface ConflictZone {
  /** The stream crossing here: vertical (bottom -> top, SUMO's major road) or horizontal (right -> left). */
  stream: 'vertical' | 'horizontal';
  /** Route position of the crossing point (0, 0) on this stream. */
  crossing: number;
  /** Route positions where the zone begins and ends on this stream. */
  entry: number;
  exit: number;
}

/** The crossing's conflict zone on each stream, as route intervals; the vertical stream first. */
export const FIGURE_EIGHT_CONFLICT_ZONES: readonly [ConflictZone, ConflictZone] = [
  { stream: 'vertical', crossing: STRAIGHT },
  { stream: 'horizontal', crossing: 3 * STRAIGHT + FIGURE_EIGHT_LOOP_LENGTH },
].map(({ stream, crossing }) => ({
  stream,
  crossing,
  entry: crossing - CONFLICT_ZONE_HALF_LENGTH,
  exit: crossing + CONFLICT_ZONE_HALF_LENGTH,
})) as [ConflictZone, ConflictZone];

/** Point of route position `position` (wrapped into the route) on the figure eight. */
export function figureEightPoint(position: number, out: RoadPoint = { x: 0, y: 0, angleDeg: 0 }): RoadPoint {
  const p = wrap(position, FIGURE_EIGHT_LENGTH);
  const segment = segmentAt(FIGURE_EIGHT_SEGMENTS, p);
  return pointOnSegment(segment, Math.min(p - segment.start, segment.length), out);
}

// ---------------------------------------------------------------------------------------
// CACC straight road

/** The CACC road: a straight line along the x axis, driving east. */
export function straightPoint(position: number, out: RoadPoint = { x: 0, y: 0, angleDeg: 0 }): RoadPoint {
  out.x = position;
  out.y = 0;
  out.angleDeg = 90;
  return out;
}

// ---------------------------------------------------------------------------------------

/**
 * Where a vehicle at `position` is in scenario `scenario`, with its SUMO lane id: what an
 * FCD export row needs. `roadLength` is the copy's road length (the ring's varies per
 * episode; the figure eight's is fixed; CACC's is unused).
 */
export function placeOnRoad(scenario: ScenarioId, roadLength: number, position: number): RoadPlacement {
  const out: RoadPlacement = { x: 0, y: 0, angleDeg: 0, lane: '' };
  switch (scenario) {
    case 'ring': {
      ringPoint(position, roadLength, out);
      const quarter = Math.min(3, Math.floor(wrap(position, roadLength) / (roadLength / 4)));
      out.lane = `${RING_EDGES[quarter]}_0`;
      return out;
    }
    case 'figure-eight':
      figureEightPoint(position, out);
      out.lane = `${segmentAt(FIGURE_EIGHT_SEGMENTS, wrap(position, FIGURE_EIGHT_LENGTH)).edge}_0`;
      return out;
    case 'cacc-catchup':
    case 'cacc-slowdown':
      straightPoint(position, out);
      out.lane = 'road_0';
      return out;
    case 'network-routing':
      throw new Error('network-routing moves vehicle mass over links, not vehicles along a road: it has no road placement');
    case 'mabc':
    case 'demand-response':
      throw new Error(`${scenario} has no road: its trajectories are tables of agent and channel or load states (CSV, JSONL), not vehicle positions`);
  }
}
