/**
 * The string-stability readout of a disturbance, computed here only (the CLI prints it, the
 * renderer can plot it): how a speed disturbance of one vehicle travels along the string of
 * vehicles behind it, amplified or damped.
 *
 * Definitions (pure arithmetic on a recorded episode; no Node, no simulator):
 * - Reference: each vehicle's pre-disturbance equilibrium is its mean speed and mean gap over
 *   the `referenceRows` recorded states up to and including the state the disturbance starts
 *   from (default 50 rows = 5 s; fewer when the disturbance starts earlier).
 * - Deviation: speed (gap) minus its reference, per state from the start to the end of the
 *   series. A follower's peak is the largest absolute deviation there (the L-infinity norm
 *   of the usual definition of string stability: ||e_i|| <= ||e_(i-1)|| for every follower).
 *   The head's peak is taken while the disturbance acts (rows start .. start + duration):
 *   it is the input the string responds to. Later the head may deviate again, on a closed
 *   road when the wave comes back round to it; counting that would compare the wave with
 *   itself and hide a ring's growth from a small brake into a stop-and-go wave.
 * - Amplification of a follower: its peak speed deviation over its predecessor's in the string.
 * - Verdict: `amplified` when the tail's peak speed deviation exceeds the head's (the ratio
 *   tail/head, which is also the product of the followers' ratios), else `damped`; `no response`
 *   when the head's own peak stays within the tolerance, `no followers` when the string is the
 *   head alone.
 * - Recovery: the time from the start until every speed of the string is within `tolerance`
 *   (default 0.1 m/s) of its reference and stays there to the end of the series; null (not
 *   recovered) when the last state is still outside.
 */

export interface StringSeries {
  /** Speed (m/s) per recorded state and vehicle, row-major [rows, nVehicles]; row t is the state after t steps. */
  readonly speed: ArrayLike<number>;
  /** Gap (m) to the vehicle ahead, same layout; NaN where a vehicle has none (CACC's leader). */
  readonly gap: ArrayLike<number>;
  readonly nVehicles: number;
  /** Seconds between rows. */
  readonly dt: number;
}

export interface StringQuery {
  /** The string head to tail: order[0] is the disturbed vehicle, each next one follows the one before. */
  readonly order: readonly number[];
  /** Row of the state the disturbance starts from (its first disturbed step leads from it). */
  readonly start: number;
  /** Steps the disturbance acts on. */
  readonly duration: number;
  readonly referenceRows?: number;
  /** m/s. */
  readonly tolerance?: number;
}

export interface VehicleResponse {
  vehicle: number;
  referenceSpeed: number;
  /** NaN where the vehicle has no gap. */
  referenceGap: number;
  peakSpeedDeviation: number;
  peakGapDeviation: number;
  /** Peak speed deviation over the predecessor's; NaN for the head. */
  amplification: number;
  /** Deviation from the reference per row from `start` to the end of the series (for plots). */
  speedDeviation: Float64Array;
  gapDeviation: Float64Array;
}

/**
 * amplified / damped: the tail's peak speed deviation over the head's is above / at most 1.
 * no response: the disturbed vehicle itself stayed within the tolerance. not followed: its
 * first follower did (it kept its speed whatever the vehicle ahead did, as an uncontrolled
 * platoon does, so nothing travels down the string and the gap takes the whole disturbance).
 * no followers: nothing behind the disturbed vehicle.
 */
export type StringVerdict = 'amplified' | 'damped' | 'no response' | 'not followed' | 'no followers';

export interface StringStabilityReadout {
  start: number;
  /** Rows [from, to] the references are the means over. */
  reference: { from: number; to: number };
  tolerance: number;
  /** Head first, then the followers in string order. */
  vehicles: VehicleResponse[];
  /** Tail's peak speed deviation over the head's; NaN without followers. */
  tailToHead: number;
  /** Largest follower amplification: at most 1 when every follower damps (strict string stability); NaN without followers. */
  maxAmplification: number;
  verdict: StringVerdict;
  /** Seconds from the start until every speed stays within the tolerance; null when not recovered. */
  recoveryTime: number | null;
}

export const DEFAULT_REFERENCE_ROWS = 50;
export const DEFAULT_RECOVERY_TOLERANCE = 0.1;

function mean(values: ArrayLike<number>, nVehicles: number, vehicle: number, from: number, to: number): number {
  let sum = 0;
  for (let t = from; t <= to; t++) sum += values[t * nVehicles + vehicle];
  return sum / (to - from + 1);
}

/** Deviations of one vehicle's values from `reference`, rows start..end, and their peak magnitude (NaN values are no deviation). */
function deviations(values: ArrayLike<number>, nVehicles: number, vehicle: number, start: number, rows: number, reference: number): Float64Array {
  const out = new Float64Array(rows - start);
  for (let t = start; t < rows; t++) out[t - start] = values[t * nVehicles + vehicle] - reference;
  return out;
}

/** Largest magnitude among the first `length` deviations; NaN when all are NaN (no gap). */
function peak(deviation: Float64Array, length = deviation.length): number {
  let max = NaN;
  for (let i = 0; i < length && i < deviation.length; i++) {
    const d = Math.abs(deviation[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? max : d;
  }
  return max;
}

export function stringStability(series: StringSeries, query: StringQuery): StringStabilityReadout {
  const { nVehicles, dt } = series;
  const rows = Math.floor(series.speed.length / nVehicles);
  const { order, start } = query;
  const tolerance = query.tolerance ?? DEFAULT_RECOVERY_TOLERANCE;
  const referenceRows = query.referenceRows ?? DEFAULT_REFERENCE_ROWS;
  if (!Number.isInteger(start) || start < 0 || start >= rows) throw new RangeError(`disturbance start ${start} is outside the ${rows} recorded rows`);
  if (order.length === 0) throw new RangeError('the string needs at least its head (the disturbed vehicle)');
  const reference = { from: Math.max(0, start - referenceRows + 1), to: start };

  const vehicles = order.map((vehicle, i): VehicleResponse => {
    const referenceSpeed = mean(series.speed, nVehicles, vehicle, reference.from, reference.to);
    const referenceGap = mean(series.gap, nVehicles, vehicle, reference.from, reference.to);
    const speedDeviation = deviations(series.speed, nVehicles, vehicle, start, rows, referenceSpeed);
    const gapDeviation = deviations(series.gap, nVehicles, vehicle, start, rows, referenceGap);
    const window = i === 0 ? query.duration + 1 : undefined;
    return { vehicle, referenceSpeed, referenceGap, peakSpeedDeviation: peak(speedDeviation, window), peakGapDeviation: peak(gapDeviation, window), amplification: NaN, speedDeviation, gapDeviation };
  });
  for (let i = 1; i < vehicles.length; i++) vehicles[i].amplification = vehicles[i].peakSpeedDeviation / vehicles[i - 1].peakSpeedDeviation;

  const head = vehicles[0].peakSpeedDeviation;
  const tailToHead = vehicles.length > 1 ? vehicles[vehicles.length - 1].peakSpeedDeviation / head : NaN;
  const verdict: StringVerdict =
    vehicles.length === 1 ? 'no followers' : head <= tolerance ? 'no response' : vehicles[1].peakSpeedDeviation <= tolerance ? 'not followed' : tailToHead > 1 ? 'amplified' : 'damped';

  // The last row where some speed is outside the tolerance; recovery is the row after it.
  let lastOutside = start - 1;
  for (let t = rows - 1; t >= start && lastOutside < start; t--) {
    if (vehicles.some((v) => Math.abs(v.speedDeviation[t - start]) > tolerance)) lastOutside = t;
  }
  const recoveryTime = lastOutside === rows - 1 ? null : Math.max(0, lastOutside + 1 - start) * dt;

  return {
    start,
    reference,
    tolerance,
    vehicles,
    tailToHead,
    maxAmplification: vehicles.length > 1 ? Math.max(...vehicles.slice(1).map((v) => v.amplification)) : NaN,
    verdict,
    recoveryTime,
  };
}

/** A readout as plain JSON for the api (no typed arrays, null for NaN), its deviation series thinned for plotting. */
export interface StringStabilitySummary {
  verdict: StringVerdict;
  tailToHead: number | null;
  maxAmplification: number | null;
  recoveryTime: number | null;
  tolerance: number;
  /** Head first, then the followers in string order. */
  vehicles: { vehicle: number; referenceSpeed: number; peakSpeedDeviation: number; peakGapDeviation: number | null; amplification: number | null }[];
  /** Speed deviation per vehicle (same order) at every `seriesDt` seconds from the start. */
  speedDeviation: number[][];
  seriesDt: number;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The summary of a readout of a series with `dt` seconds between rows, with at most `maxPoints` points per deviation series. */
export function summariseReadout(readout: StringStabilityReadout, dt: number, maxPoints = 200): StringStabilitySummary {
  const rows = readout.vehicles[0]?.speedDeviation.length ?? 0;
  const stride = Math.max(1, Math.ceil(rows / maxPoints));
  return {
    verdict: readout.verdict,
    tailToHead: finiteOrNull(readout.tailToHead),
    maxAmplification: finiteOrNull(readout.maxAmplification),
    recoveryTime: readout.recoveryTime,
    tolerance: readout.tolerance,
    vehicles: readout.vehicles.map((v) => ({
      vehicle: v.vehicle,
      referenceSpeed: v.referenceSpeed,
      peakSpeedDeviation: v.peakSpeedDeviation,
      peakGapDeviation: finiteOrNull(v.peakGapDeviation),
      amplification: finiteOrNull(v.amplification),
    })),
    speedDeviation: readout.vehicles.map((v) => Array.from({ length: Math.ceil(rows / stride) }, (_, i) => v.speedDeviation[i * stride])),
    seriesDt: stride * dt,
  };
}
