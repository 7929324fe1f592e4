import { describe, expect, it } from 'vitest';
import { RunningNormaliser } from '../../../../src/main/rl/core/runningNormaliser.ts';

describe('RunningNormaliser', () => {
  it('keeps the mean and variance of every vector seen, batch by batch, and standardises by them (clipped)', () => {
    const normaliser = new RunningNormaliser(2, 3);
    // Two components, fed in batches of 3, 1 and 4 rows.
    const rows = [
      [0.2, 10],
      [0.4, 12],
      [0.3, 9],
      [0.9, 11],
      [0.1, 10],
      [0.5, 13],
      [0.35, 8],
      [0.25, 10],
    ];
    for (const [from, to] of [
      [0, 3],
      [3, 4],
      [4, 8],
    ]) {
      normaliser.update(rows.slice(from, to).flat(), to - from);
    }
    normaliser.update([], 0);
    const { count, mean, squares } = normaliser.arrays();
    expect(count[0]).toBe(8);
    for (const k of [0, 1]) {
      const column = rows.map((row) => row[k]);
      const m = column.reduce((a, b) => a + b, 0) / 8;
      expect(mean[k]).toBeCloseTo(m, 12);
      expect(squares[k]).toBeCloseTo(column.reduce((a, v) => a + (v - m) ** 2, 0), 10);
    }
    const std = [0, 1].map((k) => Math.sqrt(squares[k] / 8 + 1e-8));
    const values = Float64Array.of(0.6, 10.5, 5, -40);
    normaliser.apply(values, 2);
    expect(values[0]).toBeCloseTo((0.6 - mean[0]) / std[0], 12);
    expect(values[1]).toBeCloseTo((10.5 - mean[1]) / std[1], 12);
    // Far from the mean: clipped to +-3.
    expect(Array.from(values.subarray(2))).toEqual([3, -3]);
  });
});
