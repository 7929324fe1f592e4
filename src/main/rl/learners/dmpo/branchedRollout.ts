/**
 * Branched model rollouts (Janner et al., MBPO): short synthetic trajectories that start from
 * real states and continue in the learned models under the current policy, laid out like a
 * real rollout so a learner trains on them exactly as on environment data.
 */
import type { RngStreams } from '../../../sim/rng.ts';
import type { RealEpisode } from './episodes.ts';
import { withTensorScope, type NetworkedGcn } from './gcn.ts';

/**
 * Actions of every agent for a batch of joint observations: `observations` is [batch, n,
 * obsDim] (the environment's layout; each agent's policy gathers its own N^1 from it; do not
 * modify it), the result [batch, n] discrete indices or continuous values.
 */
export type ModelPolicy = (observations: Float32Array, batch: number) => ArrayLike<number>;

export interface BranchedRolloutOptions {
  /** nTraj: start states, i.e. rollouts run side by side (the batch B). */
  readonly trajectories: number;
  /** T: model steps per rollout. */
  readonly steps: number;
}

/** Synthetic transitions in a rollout buffer's layout: step-major, then rollout, then agent. */
export interface ModelRollout {
  readonly steps: number;
  readonly batch: number;
  /** [T, B, n, obsDim]: the observation each action was chosen on. */
  readonly observations: Float32Array;
  /** [T, B, n]. */
  readonly actions: Float32Array;
  /** [T, B, n]: the models' predicted rewards. */
  readonly rewards: Float32Array;
  /**
   * [T, B, n]: 1 where the rollout ended for real at that step (then row t + 1 holds a fresh
   * start state, as a reset environment would). Equal across the agents of a rollout.
   */
  readonly dones: Uint8Array;
  /** [B, n, obsDim]: the state after the last step, to bootstrap V(s_T) (the rollout is truncated there). */
  readonly finalObservations: Float32Array;
}

/**
 * Rolls `options.trajectories` branches for `options.steps` steps. Start states (and the
 * states that replace ended rollouts) are drawn uniformly from the states of `episode` at
 * which a transition was taken. Each agent's done is a Bernoulli draw of its predicted
 * probability; a rollout ends when any agent's draw ends it, because all agents of an
 * environment end together (a collision ends the episode for the whole platoon).
 */
export function branchedRollout(
  gcn: NetworkedGcn,
  parameters: readonly Float32Array[],
  episode: RealEpisode,
  policy: ModelPolicy,
  options: BranchedRolloutOptions,
  rng: RngStreams,
  stream: number,
): ModelRollout {
  const { trajectories: batch, steps } = options;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`trajectories must be a positive integer, got ${batch}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  const agents = gcn.agents;
  const stateSize = agents * gcn.obsDim;
  const rollout = {
    steps,
    batch,
    observations: new Float32Array(steps * batch * stateSize),
    actions: new Float32Array(steps * batch * agents),
    rewards: new Float32Array(steps * batch * agents),
    dones: new Uint8Array(steps * batch * agents),
    finalObservations: new Float32Array(batch * stateSize),
  };
  const drawStart = (target: Float32Array, b: number): void => {
    const t = rng.integer(stream, 0, episode.length - 1);
    target.set(episode.observations.subarray(t * stateSize, (t + 1) * stateSize), b * stateSize);
  };
  let current: Float32Array = new Float32Array(batch * stateSize);
  for (let b = 0; b < batch; b++) drawStart(current, b);
  withTensorScope(() => {
    const weights = gcn.buildWeights(parameters, false);
    for (let t = 0; t < steps; t++) {
      const observations = rollout.observations.subarray(t * batch * stateSize, (t + 1) * batch * stateSize);
      observations.set(current);
      const actions = policy(observations, batch);
      if (actions.length !== batch * agents) throw new Error(`the policy returned ${actions.length} actions, expected ${batch * agents} ([${batch}, ${agents}])`);
      rollout.actions.set(actions, t * batch * agents);
      const prediction = gcn.predict(weights, observations, actions, batch);
      rollout.rewards.set(prediction.rewards, t * batch * agents);
      current = prediction.nextObservations;
      for (let b = 0; b < batch; b++) {
        let ended = false;
        // Every agent draws, so the random stream does not depend on where the first end falls.
        for (let i = 0; i < agents; i++) if (rng.uniform(stream) < prediction.doneProbabilities[b * agents + i]) ended = true;
        if (ended) {
          rollout.dones.fill(1, (t * batch + b) * agents, (t * batch + b + 1) * agents);
          drawStart(current, b);
        }
      }
    }
  });
  rollout.finalObservations.set(current);
  return rollout;
}
