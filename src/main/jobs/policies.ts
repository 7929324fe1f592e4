/**
 * The fixed policies of a live simulation (the CLI's --policy language): idle, random
 * (uniform over the action space, from the seed's own stream) and constant:K (a trained
 * run's policy, run:RUN_ID, is in runPolicy.ts). Same draws
 * as `headway simulate`, so a UI simulation and the CLI give the same trajectory for the
 * same scenario, seed and policy.
 */
import type { ActionSpaceInfo, FieldError, PolicySpec } from '../../shared/api.ts';
import type { ActionSpace } from '../sim/env.ts';
import { RngStreams } from '../sim/rng.ts';

/** Offset between the episode seed and the random policy's stream (the CLI's). */
export const POLICY_SEED_OFFSET = 0x5eed;

/** Writes one step's actions into `out` ([nAgents]). */
export type Policy = (step: number, out: Float64Array) => void;

/** A problem with K for this action space, as a field error; null when it is fine. */
export function checkPolicy(spec: PolicySpec, space: ActionSpace | ActionSpaceInfo): FieldError | null {
  if (spec.kind !== 'constant') return null;
  const value = spec.value;
  if (space.kind === 'discrete') {
    if (Number.isInteger(value) && value >= 0 && value < space.n) return null;
    return { field: 'policy', message: `policy constant:${value}: K must be an action index from 0 to ${space.n - 1}` };
  }
  if (Number.isFinite(value)) return null;
  return { field: 'policy', message: `policy constant:${value}: K must be a finite acceleration in m/s^2` };
}

/** The policies that need no run store (run:RUN_ID is restored by runPolicy.ts). */
export type FixedPolicySpec = Exclude<PolicySpec, { kind: 'run' }>;

export function makePolicy(spec: FixedPolicySpec, space: ActionSpace, seed: number): Policy {
  switch (spec.kind) {
    case 'idle':
      return (_t, out) => out.fill(0);
    case 'constant':
      return (_t, out) => out.fill(spec.value);
    case 'random': {
      const rng = new RngStreams(1);
      rng.seed(0, seed + POLICY_SEED_OFFSET);
      return space.kind === 'discrete'
        ? (_t, out) => {
            for (let i = 0; i < out.length; i++) out[i] = rng.integer(0, 0, space.n - 1);
          }
        : (_t, out) => {
            for (let i = 0; i < out.length; i++) out[i] = space.low + (space.high - space.low) * rng.uniform(0);
          };
    }
  }
}
