/**
 * A disturbance as the simulator schedules it (src/main/sim/disturbances.ts has what each
 * kind does): one vehicle, from state `start` for `duration` control steps. Shared because
 * stored episodes keep their schedule (replays mark the disturbed vehicles, forks rebuild
 * the state with it).
 */
export const DISTURBANCE_KINDS = ['brake', 'hold', 'stop', 'dip'] as const;
export type DisturbanceKind = (typeof DISTURBANCE_KINDS)[number];

interface Timing {
  vehicle: number;
  /** First step the disturbance acts on. */
  start: number;
  /** Steps it acts on (at least 1). */
  duration: number;
}

export type Disturbance = Timing &
  ({ kind: 'brake'; accel: number } | { kind: 'hold'; speed: number } | { kind: 'stop' } | { kind: 'dip'; depth: number });

/** True when `disturbance` acted on the step that led to state `step` (what a live frame flags as disturbed). */
export function disturbedAt(disturbance: Disturbance, step: number): boolean {
  return step > disturbance.start && step <= disturbance.start + disturbance.duration;
}

/** Sets `bit` in flags[v] for each vehicle v a disturbance of the schedule acted on in the step that led to state `step`, and clears it elsewhere. */
export function markDisturbed(schedule: readonly Disturbance[], step: number, flags: Uint8Array, bit: number): void {
  for (let v = 0; v < flags.length; v++) flags[v] &= ~bit;
  for (const d of schedule) if (disturbedAt(d, step) && d.vehicle < flags.length) flags[d.vehicle] |= bit;
}
