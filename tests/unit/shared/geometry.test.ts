import { describe, expect, it } from 'vitest';
import {
  CONFLICT_ZONE_HALF_LENGTH,
  FIGURE_EIGHT_CONFLICT_ZONES,
  FIGURE_EIGHT_LENGTH,
  FIGURE_EIGHT_LOOP_LENGTH,
  FIGURE_EIGHT_SEGMENTS,
  figureEightPoint,
  placeOnRoad,
  ringPoint,
  ringRadius,
  ringSegments,
  straightPoint,
  type RoadPoint,
} from '../../../src/shared/geometry.ts';

/** SUMO heading of the displacement a -> b. */
const headingOf = (a: RoadPoint, b: RoadPoint) => ((Math.atan2(b.x - a.x, b.y - a.y) * 180) / Math.PI + 360) % 360;
/** Smallest difference between two headings in degrees. */
const angleDiff = (a: number, b: number) => Math.abs(((a - b + 540) % 360) - 180);

/** Walks a road in steps of `ds`: consecutive points must be ds apart and headed along the motion. */
function expectContinuous(point: (s: number) => RoadPoint, length: number, ds: number): void {
  let previous = point(0);
  for (let s = ds; s <= length + 1e-9; s += ds) {
    const current = point(s);
    const step = Math.hypot(current.x - previous.x, current.y - previous.y);
    expect(step).toBeLessThanOrEqual(ds + 1e-9);
    expect(step).toBeGreaterThan(ds * 0.999);
    const mid = point(s - ds / 2);
    expect(angleDiff(mid.angleDeg, headingOf(previous, current))).toBeLessThan(0.5);
    expect(current.angleDeg).toBeGreaterThanOrEqual(0);
    expect(current.angleDeg).toBeLessThan(360);
    previous = current;
  }
}

describe('ring geometry', () => {
  it('puts every position on the circle of circumference L', () => {
    for (const length of [220, 230, 270]) {
      const radius = ringRadius(length);
      expect(2 * Math.PI * radius).toBeCloseTo(length, 12);
      for (let s = 0; s < length; s += 7.3) {
        const p = ringPoint(s, length);
        expect(Math.hypot(p.x, p.y)).toBeCloseTo(radius, 10);
      }
    }
  });

  it("starts at the bottom heading east and drives counterclockwise, like Flow's ring", () => {
    const length = 230;
    const r = ringRadius(length);
    const start = ringPoint(0, length);
    expect(start.x).toBeCloseTo(0, 12);
    expect(start.y).toBeCloseTo(-r, 12);
    expect(start.angleDeg).toBeCloseTo(90, 10);
    const quarter = ringPoint(length / 4, length);
    expect(quarter.x).toBeCloseTo(r, 10);
    expect(quarter.angleDeg).toBeCloseTo(0, 10);
    expectContinuous((s) => ringPoint(s, length), length, 0.5);
    const wrapped = ringPoint(length + 10, length);
    const inside = ringPoint(10, length);
    expect(wrapped.x).toBeCloseTo(inside.x, 10);
    expect(wrapped.y).toBeCloseTo(inside.y, 10);
  });

  it('segments: four quarter arcs covering the ring', () => {
    const segments = ringSegments(240);
    expect(segments.map((s) => s.edge)).toEqual(['bottom', 'right', 'top', 'left']);
    expect(segments.reduce((sum, s) => sum + s.length, 0)).toBeCloseTo(240, 12);
  });
});

describe('figure-eight geometry', () => {
  it('has the spec length: two 3/4 loops of radius 30 and four 30 m straights', () => {
    expect(FIGURE_EIGHT_LOOP_LENGTH).toBeCloseTo(141.37, 2);
    expect(FIGURE_EIGHT_LENGTH).toBeCloseTo(402.74, 2);
    expect(FIGURE_EIGHT_SEGMENTS.reduce((sum, s) => sum + s.length, 0)).toBeCloseTo(FIGURE_EIGHT_LENGTH, 12);
    expect(FIGURE_EIGHT_SEGMENTS.map((s) => s.edge)).toEqual(['bottom', 'top', 'upper_ring', 'right', 'left', 'lower_ring']);
    let start = 0;
    for (const segment of FIGURE_EIGHT_SEGMENTS) {
      expect(segment.start).toBeCloseTo(start, 12);
      start += segment.length;
    }
  });

  it('is one continuous closed route', () => {
    expectContinuous(figureEightPoint, FIGURE_EIGHT_LENGTH, 0.25);
    const start = figureEightPoint(0);
    const end = figureEightPoint(FIGURE_EIGHT_LENGTH - 1e-9);
    expect(Math.hypot(end.x - start.x, end.y - start.y)).toBeLessThan(1e-6);
    expect(start).toEqual({ x: 0, y: -30, angleDeg: 0 });
  });

  it('passes through the crossing at (0, 0) once per stream: north on the vertical, west on the horizontal', () => {
    const [vertical, horizontal] = FIGURE_EIGHT_CONFLICT_ZONES;
    expect(vertical.crossing).toBeCloseTo(30, 12);
    expect(horizontal.crossing).toBeCloseTo(90 + FIGURE_EIGHT_LOOP_LENGTH, 12);
    const v = figureEightPoint(vertical.crossing);
    const h = figureEightPoint(horizontal.crossing);
    for (const p of [v, h]) {
      expect(p.x).toBeCloseTo(0, 10);
      expect(p.y).toBeCloseTo(0, 10);
    }
    expect(v.angleDeg).toBeCloseTo(0, 10);
    expect(h.angleDeg).toBeCloseTo(270, 10);
    // The loops: the upper one turns right (clockwise) round (30, 30), the lower one left round (-30, -30).
    const upper = figureEightPoint(60 + FIGURE_EIGHT_LOOP_LENGTH / 3);
    expect(Math.hypot(upper.x - 30, upper.y - 30)).toBeCloseTo(30, 10);
    expect(upper.x).toBeCloseTo(30, 10);
    expect(upper.y).toBeCloseTo(60, 10);
    expect(upper.angleDeg).toBeCloseTo(90, 10);
    const lower = figureEightPoint(120 + FIGURE_EIGHT_LOOP_LENGTH + (2 * FIGURE_EIGHT_LOOP_LENGTH) / 3);
    expect(Math.hypot(lower.x + 30, lower.y + 30)).toBeCloseTo(30, 10);
    expect(lower.x).toBeCloseTo(-30, 10);
    expect(lower.y).toBeCloseTo(-60, 10);
    expect(lower.angleDeg).toBeCloseTo(90, 10);
    // Only those two route positions come near the crossing.
    for (let s = 0; s < FIGURE_EIGHT_LENGTH; s += 0.5) {
      const p = figureEightPoint(s);
      if (Math.hypot(p.x, p.y) < 1) {
        expect(Math.min(Math.abs(s - vertical.crossing), Math.abs(s - horizontal.crossing))).toBeLessThan(1);
      }
    }
  });

  it('conflict zones: 9.4 m centred on the crossing, on straights', () => {
    for (const zone of FIGURE_EIGHT_CONFLICT_ZONES) {
      expect(zone.exit - zone.entry).toBeCloseTo(2 * CONFLICT_ZONE_HALF_LENGTH, 12);
      expect((zone.entry + zone.exit) / 2).toBeCloseTo(zone.crossing, 12);
      const entry = figureEightPoint(zone.entry);
      expect(Math.hypot(entry.x, entry.y)).toBeCloseTo(4.7, 10);
    }
  });
});

describe('straight road and placement', () => {
  it('CACC drives east along y = 0', () => {
    expect(straightPoint(123.5)).toEqual({ x: 123.5, y: 0, angleDeg: 90 });
  });

  it("placeOnRoad gives SUMO lanes named after Flow's edges", () => {
    expect(placeOnRoad('ring', 240, 10).lane).toBe('bottom_0');
    expect(placeOnRoad('ring', 240, 70).lane).toBe('right_0');
    expect(placeOnRoad('ring', 240, 239.9).lane).toBe('left_0');
    const onRing = placeOnRoad('ring', 240, 100);
    expect({ x: onRing.x, y: onRing.y, angleDeg: onRing.angleDeg }).toEqual(ringPoint(100, 240));
    expect(placeOnRoad('figure-eight', FIGURE_EIGHT_LENGTH, 45).lane).toBe('top_0');
    expect(placeOnRoad('figure-eight', FIGURE_EIGHT_LENGTH, 100).lane).toBe('upper_ring_0');
    expect(placeOnRoad('figure-eight', FIGURE_EIGHT_LENGTH, 400).lane).toBe('lower_ring_0');
    expect(placeOnRoad('cacc-catchup', Infinity, 55)).toEqual({ x: 55, y: 0, angleDeg: 90, lane: 'road_0' });
  });
});
