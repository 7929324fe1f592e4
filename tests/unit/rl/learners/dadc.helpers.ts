import type { IterationResult } from '../../../../src/main/rl/core/iteration.ts';

/** d f / d values[k] by central differences (step 1e-6), values[k] restored after. */
export function centralDifference(values: Float64Array, k: number, f: () => number): number {
  const saved = values[k];
  values[k] = saved + 1e-6;
  const up = f();
  values[k] = saved - 1e-6;
  const down = f();
  values[k] = saved;
  return (up - down) / 2e-6;
}

/** An iteration's result without its timings (which differ from run to run). */
export const untimed = ({ metrics, ...rest }: IterationResult) => ({ ...rest, metrics: Object.fromEntries(Object.entries(metrics).filter(([name]) => !name.startsWith('time/'))) });
