/**
 * A trained policy as evaluation, stored episodes, run policies and the divergence guard use
 * it, whatever the learner: acting on any batch of copies of its scenario.
 */
import { COMMUNICATION_WIDTH } from '../../../shared/communication.ts';
import type { BatchedEnv, EnvSpec } from '../../sim/env.ts';
import type { PolicyHead } from './distributions.ts';

/** Actor head outputs of one step, [n, E, out], and the Gaussian log std per agent. */
export interface PolicyOutput {
  output: Float32Array;
  logStd: Float32Array | null;
}

/**
 * A learner's policy as evaluation, stored episodes and run policies use it: it acts on any
 * batch of copies of the scenario it was trained on.
 */
export interface TrainedPolicy {
  /** The scenario's agents and observations it was built for. */
  readonly spec: EnvSpec;
  /** How its action distribution is stored in frames (categorical logits or Gaussian mean and log std). */
  readonly head: PolicyHead;
  /**
   * The policy as evaluated and deployed, on every copy of `env` (a copy of its scenario):
   * writes the actions [E, n] and returns the head outputs [n, E, width] behind them. A
   * policy with memory (recurrent, common-information) starts afresh in copies whose
   * env.steps is 0.
   */
  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput;
  /** Each agent's value estimate in every copy of `env`, [n, E] (NaN where the learner has none). */
  values(env: BatchedEnv): Float32Array;
  /**
   * Policies whose agents talk (IC3Net): what each agent sent and received in the last decide
   * on `env`, [n, E, COMMUNICATION_WIDTH] (src/shared/communication.ts). Absent for the others.
   */
  communication?(env: BatchedEnv): Float32Array;
  /** The first non-finite trainable parameter, described ("actor weights of agent 3 are not finite"), or null. */
  nonFiniteParameter(): string | null;
  dispose(): void;
}

/** Width of a policy's per-agent communication record in stored episodes (0: it does not communicate). */
export function communicationWidth(policy: Pick<TrainedPolicy, 'communication'>): number {
  return policy.communication === undefined ? 0 : COMMUNICATION_WIDTH;
}
