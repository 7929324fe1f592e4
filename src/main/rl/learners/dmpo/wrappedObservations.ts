/**
 * Circular observation fields (EnvSpec.wrappedObs: a position along a closed road as a
 * fraction of its length) for DMPO's residual local models, which predict s' = s + delta.
 * When a vehicle passes the route's start its observed position jumps from ~1 to ~0: as a
 * residual target that is a delta of ~-1 on a step where the vehicle moved a few decimetres,
 * an impossible jump the model cannot foresee from its inputs (a vehicle at 0.999 may or may
 * not pass the point in one step). Fitting it costs a squared error of ~1 per crossing, a
 * thousand times a normal step's, which dominates the loss and the gradient clipping, and the
 * error stays in the rest of the open-loop window. So:
 * - the training targets of a window are unwrapped relative to its start (each step moves a
 *   wrapped field by its shortest circular difference), so the model learns the smooth motion;
 * - the states a branched rollout feeds back are wrapped into [0, 1), as the environment
 *   wraps its own, so the policy and the model only ever see positions in the real range.
 */
import type { WindowBatch } from './gcnLoss.ts';

/** `delta` moved onto the circle of circumference 1: the shortest difference, in [-0.5, 0.5]. */
function circularDifference(delta: number): number {
  return delta - Math.round(delta);
}

/**
 * Rewrites window `w`'s next observations in `batch` so every wrapped field moves by its
 * circular difference from the window's start state instead of jumping back by a lap; the
 * other fields are left as they are. Layouts as in WindowBatch.
 */
export function unwrapWindowTargets(batch: WindowBatch, w: number, agents: number, obsDim: number, wrappedObs: readonly number[]): void {
  if (wrappedObs.length === 0) return;
  const stateSize = agents * obsDim;
  const { windows, steps, startObservations, nextObservations } = batch;
  for (let i = 0; i < agents; i++) {
    for (const field of wrappedObs) {
      const column = i * obsDim + field;
      let previousRaw = startObservations[w * stateSize + column];
      let previousTarget = previousRaw;
      for (let t = 0; t < steps; t++) {
        const at = (t * windows + w) * stateSize + column;
        const raw = nextObservations[at];
        previousTarget += circularDifference(raw - previousRaw);
        previousRaw = raw;
        nextObservations[at] = previousTarget;
      }
    }
  }
}

/** Wraps every wrapped field of the joint states `states` ([rows, agents, obsDim]) into [0, 1), in place. */
export function wrapStates(states: Float32Array, obsDim: number, wrappedObs: readonly number[]): void {
  for (let row = 0; row < states.length; row += obsDim) {
    for (const field of wrappedObs) {
      const value = states[row + field];
      states[row + field] = value - Math.floor(value);
    }
  }
}
