/**
 * Metric curves of the Compare tab as typed arrays (never per-point reactive objects):
 * conversion from the api's columns, TensorBoard-style smoothing, and the aggregation of a
 * group of runs into a mean line with a spread band.
 *
 * Missing values (the api's null, stored NaN) are NaN throughout and stay gaps: smoothing
 * leaves them NaN, interpolation never bridges them, aggregation skips runs that have no
 * value at a point.
 */
import type { MetricColumns } from '../../shared/api.ts';

/** What the x-axis measures. */
export type XAxis = 'envSteps' | 'iteration' | 'wallTimeS';
export const X_AXES: readonly { id: XAxis; label: string; title: string }[] = [
  { id: 'envSteps', label: 'Env steps', title: 'Environment steps' },
  { id: 'iteration', label: 'Iteration', title: 'Iteration' },
  { id: 'wallTimeS', label: 'Wall time', title: 'Wall time (s)' },
];

/** One metric series of one run. */
export interface RunCurve {
  runId: number;
  metric: string;
  iteration: Float64Array;
  envSteps: Float64Array;
  wallTimeS: Float64Array;
  /** The stored values; NaN where the run stored NaN or infinity. */
  value: Float64Array;
}

export function curveFromColumns(columns: MetricColumns): RunCurve {
  const value = new Float64Array(columns.value.length);
  for (let k = 0; k < value.length; k++) value[k] = columns.value[k] ?? Number.NaN;
  return {
    runId: columns.runId,
    metric: columns.name,
    iteration: Float64Array.from(columns.iteration),
    envSteps: Float64Array.from(columns.envSteps),
    wallTimeS: Float64Array.from(columns.wallTimeS),
    value,
  };
}

export function xOf(curve: RunCurve, axis: XAxis): Float64Array {
  return curve[axis];
}

/** Largest smoothing weight the slider offers (1 would freeze the curve at its first value). */
export const MAX_SMOOTHING = 0.99;

/**
 * Exponential moving average with TensorBoard's debiasing: s_k = w s_{k-1} + (1 - w) y_k,
 * divided by 1 - w^n (n finite values so far), so the curve starts at the first value
 * instead of creeping up from 0. Non-finite values stay NaN (gaps) and leave the average
 * untouched, as in TensorBoard; weight 0 returns the values as they are.
 */
export function emaSmooth(values: Float64Array, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING);
  let last = 0;
  let count = 0;
  for (let k = 0; k < values.length; k++) {
    const y = values[k];
    if (!Number.isFinite(y)) {
      out[k] = Number.NaN;
      continue;
    }
    if (w === 0) {
      out[k] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    count++;
    out[k] = last / (1 - w ** count);
  }
  return out;
}

/** Most points of a group's common grid (about one per pixel column of a wide chart). */
export const MAX_GRID_POINTS = 1000;

/**
 * The common x grid of a group: evenly spaced over the union of the runs' x ranges, with as
 * many points as the longest run (at most MAX_GRID_POINTS). Runs logged at the same x
 * values (the same iterations, or the same env steps per iteration) land exactly on it.
 */
export function commonGrid(xs: readonly Float64Array[]): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let longest = 0;
  for (const x of xs) {
    if (x.length === 0) continue;
    lo = Math.min(lo, x[0]);
    hi = Math.max(hi, x[x.length - 1]);
    longest = Math.max(longest, x.length);
  }
  if (longest === 0) return new Float64Array(0);
  if (hi <= lo) return Float64Array.of(lo);
  const n = Math.min(Math.max(longest, 2), MAX_GRID_POINTS);
  const grid = new Float64Array(n);
  for (let k = 0; k < n; k++) grid[k] = lo + ((hi - lo) * k) / (n - 1);
  grid[n - 1] = hi;
  return grid;
}

/**
 * Linear interpolation of (x, y) at each grid point; x must be non-decreasing. NaN outside
 * the run's x range (no extrapolation) and wherever a neighbouring value is NaN (a gap).
 */
export function interpolateOnto(x: Float64Array, y: Float64Array, grid: Float64Array): Float64Array {
  const out = new Float64Array(grid.length).fill(Number.NaN);
  const n = x.length;
  if (n === 0) return out;
  let i = 0;
  for (let g = 0; g < grid.length; g++) {
    const at = grid[g];
    if (at < x[0] || at > x[n - 1]) continue;
    while (i < n - 2 && x[i + 1] < at) i++;
    if (at === x[i] || n === 1) {
      out[g] = at === x[i] ? y[i] : Number.NaN;
      continue;
    }
    if (at === x[i + 1]) {
      out[g] = y[i + 1];
      continue;
    }
    const span = x[i + 1] - x[i];
    out[g] = span > 0 ? y[i] + ((y[i + 1] - y[i]) * (at - x[i])) / span : Number.NaN;
  }
  return out;
}

/** How a group's spread shows: the lowest to the highest run, or the mean ± one standard deviation. */
export type BandKind = 'minmax' | 'std';
export const BAND_KINDS: readonly { id: BandKind; label: string; hint: string }[] = [
  { id: 'minmax', label: 'Min–max', hint: 'The band spans the lowest to the highest run at each x' },
  { id: 'std', label: '±1 std', hint: 'The band is the mean ± one sample standard deviation across runs (n − 1)' },
];

export interface GroupAggregate {
  x: Float64Array;
  mean: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  /** Runs with a value at each grid point. */
  count: Uint16Array;
}

/**
 * Mean and spread of a group's curves on their common grid. Each curve is interpolated onto
 * the grid first (see interpolateOnto); at each point only the runs with a value count, so
 * a run that stops early ends its share of the mean instead of dragging it to NaN.
 */
export function aggregateGroup(curves: readonly { x: Float64Array; y: Float64Array }[], band: BandKind): GroupAggregate {
  const x = commonGrid(curves.map((curve) => curve.x));
  const n = x.length;
  const ys = curves.map((curve) => interpolateOnto(curve.x, curve.y, x));
  const mean = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const count = new Uint16Array(n);
  for (let k = 0; k < n; k++) {
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let c = 0;
    for (const y of ys) {
      const v = y[k];
      if (Number.isNaN(v)) continue;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      c++;
    }
    count[k] = c;
    if (c === 0) {
      mean[k] = lo[k] = hi[k] = Number.NaN;
      continue;
    }
    mean[k] = sum / c;
    if (band === 'minmax') {
      lo[k] = min;
      hi[k] = max;
      continue;
    }
    // Two passes (mean, then squared deviations): no cancellation on large returns.
    let squares = 0;
    for (const y of ys) if (!Number.isNaN(y[k])) squares += (y[k] - mean[k]) ** 2;
    const std = c > 1 ? Math.sqrt(squares / (c - 1)) : 0;
    lo[k] = mean[k] - std;
    hi[k] = mean[k] + std;
  }
  return { x, mean, lo, hi, count };
}

/** Index of the x value nearest to `at` in a non-decreasing array (-1 when empty). */
export function nearestIndex(x: Float64Array, at: number): number {
  if (x.length === 0) return -1;
  let lo = 0;
  let hi = x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < at) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && Math.abs(x[lo - 1] - at) <= Math.abs(x[lo] - at) ? lo - 1 : lo;
}
