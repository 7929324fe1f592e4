/**
 * The fixed policies of a live simulation (the CLI's --policy language): idle (no control
 * input: zero acceleration, CACC's action 0), human (on the ring and the figure eight the
 * automated vehicles drive as the humans do: Flow's IDM without noise, clipped to the
 * action range), random (uniform over the action space, from the seed's own stream) and
 * constant:K (a trained run's policy, run:RUN_ID, is in runPolicy.ts). Same draws
 * as `headway simulate`, so a UI simulation and the CLI give the same trajectory for the
 * same scenario, seed and policy.
 */
import type { ActionSpaceInfo, FieldError, PolicySpec } from '../../shared/api.ts';
import type { ActionSpace, BatchedEnv, EnvSpec } from '../sim/env.ts';
import { humanAccel } from '../sim/idm.ts';
import { RngStreams } from '../sim/rng.ts';

/** Offset between the episode seed and the random policy's stream (the CLI's). */
export const POLICY_SEED_OFFSET = 0x5eed;

/** Writes one step's actions into `out` ([nAgents]). */
export type Policy = (step: number, out: Float64Array) => void;

/** A problem with the policy on this scenario (K for its action space; human off the loops), as a field error; null when it is fine. */
export function checkPolicy(spec: PolicySpec, env: Pick<EnvSpec, 'scenario' | 'closedRoad'> & { action: ActionSpace | ActionSpaceInfo }): FieldError | null {
  if (spec.kind === 'human') {
    return env.closedRoad ? null : { field: 'policy', message: `policy human: ${env.scenario}'s platoon has no human-driver model (its vehicles follow the OVM with the gains the action picks); choose idle, random, constant:K or a trained run` };
  }
  if (spec.kind !== 'constant') return null;
  const space = env.action;
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

/** The policy acting on copy 0 of `env`. */
export function makePolicy(spec: FixedPolicySpec, env: BatchedEnv, seed: number): Policy {
  const space = env.spec.action;
  switch (spec.kind) {
    case 'idle':
      return (_t, out) => out.fill(0);
    case 'human':
      return humanPolicy(env);
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

/** Each automated vehicle's IDM acceleration behind the vehicle ahead of it (closed roads: vehicle v follows v + 1). */
function humanPolicy(env: BatchedEnv): Policy {
  const { agentVehicle, nVehicles, action } = env.spec;
  if (action.kind !== 'continuous') throw new Error('the human policy needs accelerations');
  const { low, high } = action;
  return (_t, out) => {
    for (let i = 0; i < out.length; i++) {
      const v = agentVehicle[i];
      const a = humanAccel(env.speed[v], env.speed[(v + 1) % nVehicles], env.gap[v]);
      out[i] = a < low ? low : a > high ? high : a;
    }
  };
}
