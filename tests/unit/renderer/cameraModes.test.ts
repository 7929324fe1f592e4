import { describe, expect, it } from 'vitest';
import { fitDistance, type Vec3 } from '../../../src/renderer/scene/cameraModes.ts';

/** Straight down onto the ground: right is +x, up is -z, back is +y. */
const TOP = { right: [1, 0, 0] as Vec3, up: [0, 0, -1] as Vec3, back: [0, 1, 0] as Vec3 };
const square = (half: number): Vec3[] => [[-half, 0, -half], [half, 0, -half], [-half, 0, half], [half, 0, half]];

describe('fitDistance', () => {
  it('is bound by the height of a wide viewport and the width of a narrow one', () => {
    const tan = Math.tan(Math.PI / 8) / 1.06; // half of a 45 degree vertical field of view, with the margin
    expect(fitDistance(square(100), TOP, 45, 2)).toBeCloseTo(100 / tan, 6);
    expect(fitDistance(square(100), TOP, 45, 0.5)).toBeCloseTo(100 / (tan * 0.5), 6);
  });

  it('keeps every point inside the view frustum it computes', () => {
    const back: Vec3 = [0, 1.55 / Math.hypot(1.55, 2.05), 2.05 / Math.hypot(1.55, 2.05)];
    const right: Vec3 = [1, 0, 0];
    const up: Vec3 = [0, back[2], -back[1]];
    const points: Vec3[] = [...square(120), [0, 3, 120]];
    const aspect = 1100 / 420;
    const d = fitDistance(points, { right, up, back }, 45, aspect);
    const tanV = Math.tan(Math.PI / 8);
    const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    for (const p of points) {
      const depth = d - dot(p, back);
      expect(Math.abs(dot(p, up)) / depth).toBeLessThanOrEqual(tanV);
      expect(Math.abs(dot(p, right)) / depth).toBeLessThanOrEqual(tanV * aspect);
    }
  });
});
