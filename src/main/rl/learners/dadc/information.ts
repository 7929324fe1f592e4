/**
 * DADC's information structure: what every coordinator reads as the common information Z_t,
 * and what the team reward is. The local information is always the agent's own current
 * observation row (the prescription space reads it: coordinator.ts).
 *
 * - Tabular scenarios (mabc, demand-response; sim/tabular.ts) carry the structure in their
 *   observation: field 0 is the local information, the other fields the common information;
 *   every agent receives the team's reward R.
 * - Vehicle scenarios (the CACC platoon) get a delayed broadcast: every vehicle's observation
 *   reaches every other one step late, so Z_t = every agent's observation at step t - 1 (all
 *   zeros at an episode's first step, when nothing has been broadcast yet); the local
 *   information is the agent's own observation at t. The team reward is the sum of the
 *   agents' rewards, so DADC's returns are on the scale of every learner's eval/return.
 *   It lives here, on the learner's side, and not as a scenario parameter: the physics, the
 *   observations and the rewards stay exactly those the PPO family trains on, so returns
 *   compare directly; only what DADC's coordinators may read differs.
 */
import type { BatchedEnv } from '../../../sim/env.ts';
import type { TypedArray } from '../../../sim/snapshot.ts';
import { TabularEnv } from '../../../sim/tabular.ts';

export interface InformationStructure {
  /** Width of Z_t. */
  readonly commonWidth: number;
  /**
   * Takes note of the env's current state; call it on every state the coordinators act in
   * (after a reset and after every step). Calling it again on the same state changes nothing.
   */
  see(env: BatchedEnv): void;
  /** Z_t of agent `agent` in every copy into out [E, commonWidth] (the same for every agent). */
  common(env: BatchedEnv, agent: number, out: Float64Array): void;
  /** What it remembers between states (for exact resume). */
  arrays(): Record<string, TypedArray>;
}

/** The structure DADC uses on `env` with `copies` copies. */
export function informationOf(env: BatchedEnv, copies: number): InformationStructure {
  return env instanceof TabularEnv ? tabularInformation(env) : new DelayedBroadcast(env.spec.nAgents * env.spec.obsDim, copies);
}

/** The team reward of copy e's last step from per-agent `rewards` (raw or training): R on tabular scenarios, else the sum over agents. */
export function teamReward(env: BatchedEnv, rewards: Float64Array, e: number): number {
  const agents = env.spec.nAgents;
  if (env instanceof TabularEnv) return rewards[e * agents];
  let total = 0;
  for (let i = 0; i < agents; i++) total += rewards[e * agents + i];
  return total;
}

/** The team's return of an episode whose rewards summed over agents and steps to `total` (TrainingEnvs.addStep). */
export const teamReturn = (env: BatchedEnv, total: number): number => (env instanceof TabularEnv ? total / env.spec.nAgents : total);

/** Z_t = the common fields (all but field 0) of the agent's observation. */
function tabularInformation(env: TabularEnv): InformationStructure {
  const { obsDim, nAgents } = env.spec;
  const width = obsDim - 1;
  return {
    commonWidth: width,
    see: () => {},
    common(current, agent, out) {
      for (let e = 0; e < current.numEnvs; e++) {
        const from = (e * nAgents + agent) * obsDim + 1;
        for (let k = 0; k < width; k++) out[e * width + k] = current.obs[from + k];
      }
    },
    arrays: () => ({}),
  };
}

/** Z_t = every agent's observation of the previous step, row-major by agent (zeros at step 0). */
export class DelayedBroadcast implements InformationStructure {
  /** The broadcast received now: every agent's observation of the previous step, per copy. */
  private readonly delayed: Float64Array;
  /** The observations of the last state seen, broadcast at the next step. */
  private readonly lastSeen: Float64Array;
  /** env.steps of the last state seen per copy (-1: none). */
  private readonly seenStep: Float64Array;

  constructor(
    readonly commonWidth: number,
    private readonly copies: number,
  ) {
    this.delayed = new Float64Array(copies * commonWidth);
    this.lastSeen = new Float64Array(copies * commonWidth);
    this.seenStep = new Float64Array(copies).fill(-1);
  }

  see(env: BatchedEnv): void {
    const width = this.commonWidth;
    for (let e = 0; e < this.copies; e++) {
      const step = env.steps[e];
      // A first step is always fresh (the copy may have been reset to another episode).
      if (step === this.seenStep[e] && step !== 0) continue;
      const row = e * width;
      for (let k = 0; k < width; k++) {
        this.delayed[row + k] = step === 0 ? 0 : this.lastSeen[row + k];
        // A copy's observations are contiguous: agents in order, obsDim fields each.
        this.lastSeen[row + k] = env.obs[row + k];
      }
      this.seenStep[e] = step;
    }
  }

  common(_env: BatchedEnv, _agent: number, out: Float64Array): void {
    out.set(this.delayed);
  }

  arrays(): Record<string, TypedArray> {
    const { delayed, lastSeen, seenStep } = this;
    return { delayed, lastSeen, seenStep };
  }
}
