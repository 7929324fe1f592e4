import { describe, expect, it } from 'vitest';
import { envSeed, RngStreams } from '../../../src/main/sim/rng.ts';

describe('seeded random streams', () => {
  it('repeats exactly from the same seed and differs between seeds', () => {
    const a = new RngStreams(2);
    a.seed(0, 42);
    a.seed(1, 43);
    const b = new RngStreams(1);
    b.seed(0, 42);
    const fromA = Array.from({ length: 5 }, () => a.uniform(0));
    const fromB = Array.from({ length: 5 }, () => b.uniform(0));
    expect(fromA).toEqual(fromB);
    expect(a.uniform(1)).not.toBe(fromA[0]);
  });

  it('gives uniforms in [0, 1) and standard normals with the right moments', () => {
    const rng = new RngStreams(1);
    rng.seed(0, 7);
    let sum = 0;
    let sumSq = 0;
    const n = 100_000;
    for (let k = 0; k < n; k++) {
      const u = rng.uniform(0);
      expect(u >= 0 && u < 1).toBe(true);
      const z = rng.normal(0);
      sum += z;
      sumSq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.02);
  });

  it('draws integers over the whole inclusive range', () => {
    const rng = new RngStreams(1);
    rng.seed(0, 3);
    const seen = new Set<number>();
    for (let k = 0; k < 2000; k++) seen.add(rng.integer(0, 220, 270));
    expect(Math.min(...seen)).toBe(220);
    expect(Math.max(...seen)).toBe(270);
    expect(seen.size).toBe(51);
  });

  it('seeds copy 0 of a batch with the batch seed', () => {
    expect(envSeed(9, 0)).toBe(9);
    expect(envSeed(9, 1)).not.toBe(envSeed(10, 0));
  });
});
