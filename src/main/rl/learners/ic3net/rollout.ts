/**
 * IC3Net's rollout: the stochastic policy (actions and, in the paper variant, gates sampled
 * from their heads) on the training copies, agent-major [n, T, E] like the core's
 * RolloutBuffer, plus what truncated BPTT replays: every step's fresh mask and the recurrent
 * state the rollout started from. Values come from the value head while acting; GAE is the
 * core's computeGae.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sampleHeadActions } from '../../core/actorCritic.ts';
import { computeGae } from '../../core/advantages.ts';
import { sampleCategorical } from '../../core/distributions.ts';
import type { TrainingEnvs } from '../../core/rollout.ts';
import { HIDDEN_SIZE, SEND, type RecurrentState } from './networks.ts';
import { disposeState, forwardStep, freshMask, stateAfter, type Ic3netPolicy } from './policy.ts';

export class Ic3netRollout {
  /** [n, T, E, d] each agent's own observation. */
  readonly observations: Float32Array;
  readonly actions: Float32Array;
  /** [n, T, E, H] the hidden layer the heads read at each step (what the value head is fitted on). */
  readonly features: Float32Array;
  /** [n, T, E] 1 where the agent chose to send (paper; all 1 for reference-code). */
  readonly gates: Float32Array;
  readonly rewards: Float32Array;
  readonly values: Float32Array;
  readonly truncationValues: Float32Array;
  readonly lastValues: Float32Array;
  /** [n, T, E] GAE advantages and value targets (after `advantages`). */
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /**
   * [T, E] 1 where copy e was already collided before step t (env.collided): a frozen state,
   * where the actions change nothing (CACC, up to the next multiple of 60 steps).
   */
  readonly frozen: Uint8Array;
  /** [T, E] 0 where a copy started an episode at step t (its state was cleared). */
  readonly fresh: Float32Array;
  /** The recurrent state before step 0 (paper): hidden and cell [n, E, H], gate [n, E]. */
  readonly startHidden: Float32Array;
  readonly startCell: Float32Array;
  readonly startGate: Float32Array;
  private readonly stepObservations: Float32Array;

  constructor(
    readonly agents: number,
    readonly steps: number,
    readonly envs: number,
    readonly obsDim: number,
  ) {
    const rows = agents * steps * envs;
    this.observations = new Float32Array(rows * obsDim);
    this.actions = new Float32Array(rows);
    this.features = new Float32Array(rows * HIDDEN_SIZE);
    this.gates = new Float32Array(rows).fill(1);
    this.rewards = new Float32Array(rows);
    this.values = new Float32Array(rows);
    this.truncationValues = new Float32Array(rows);
    this.lastValues = new Float32Array(agents * envs);
    this.advantages = new Float32Array(rows);
    this.returns = new Float32Array(rows);
    this.terminated = new Uint8Array(steps * envs);
    this.truncated = new Uint8Array(steps * envs);
    this.frozen = new Uint8Array(steps * envs);
    this.fresh = new Float32Array(steps * envs);
    this.startHidden = new Float32Array(agents * envs * HIDDEN_SIZE);
    this.startCell = new Float32Array(agents * envs * HIDDEN_SIZE);
    this.startGate = new Float32Array(agents * envs);
    this.stepObservations = new Float32Array(agents * envs * obsDim);
  }

  /** Samples per agent. */
  get samples(): number {
    return this.steps * this.envs;
  }

  /**
   * Fills the rollout with the stochastic policy from the training state `state` (paper;
   * null for reference-code); returns the raw returns of the episodes that ended and the
   * state after the last step (the old one is disposed).
   */
  collect(envs: TrainingEnvs, policy: Ic3netPolicy, state: RecurrentState | null, learningReward: (reward: number) => number): { episodes: number[]; state: RecurrentState | null } {
    const { env } = envs;
    const { networks } = policy;
    const { agents, steps, envs: copies, obsDim } = this;
    const finished: number[] = [];
    const envActions = new Float64Array(copies * agents);
    const stepGates = new Float32Array(agents * copies).fill(1);
    const fresh = new Float32Array(copies);
    if (state !== null) {
      this.startHidden.set(state.hidden.dataSync());
      this.startCell.set(state.cell.dataSync());
      this.startGate.set(state.gate.dataSync());
    }
    for (let t = 0; t < steps; t++) {
      const row = t * copies;
      policy.gather.gatherAgentMajor(env.obs, obsDim, copies, this.stepObservations, copies, 0);
      policy.gather.gatherAgentMajor(env.obs, obsDim, copies, this.observations, steps * copies, row);
      this.fresh.set(freshMask(env, fresh), row);
      this.frozen.set(env.collided, row);
      const step = forwardStep(networks, this.stepObservations, copies, state, networks.recurrent ? fresh : null);
      sampleHeadActions(networks.head, agents, step.policy, envs.sampler, copies, steps, t, this.actions, envActions);
      for (let i = 0; i < agents; i++) {
        for (let e = 0; e < copies; e++) {
          const k = i * steps * copies + row + e;
          this.values[k] = step.values[i * copies + e];
          this.features.set(step.features.subarray((i * copies + e) * HIDDEN_SIZE, (i * copies + e + 1) * HIDDEN_SIZE), k * HIDDEN_SIZE);
          if (step.gateLogits === null) continue;
          const gate = sampleCategorical(step.gateLogits, 2 * (i * copies + e), 2, envs.sampler.uniform(0)) === SEND ? 1 : 0;
          stepGates[i * copies + e] = gate;
          this.gates[k] = gate;
        }
      }
      const next = stateAfter(step, stepGates, agents);
      disposeState(state);
      state = next;
      env.step(envActions);
      for (let e = 0; e < copies; e++) {
        const flag = row + e;
        this.terminated[flag] = env.terminated[e];
        this.truncated[flag] = env.truncated[e];
        for (let i = 0; i < agents; i++) this.rewards[i * steps * copies + flag] = learningReward(env.reward[e * agents + i]);
        const ended = envs.addStep(e);
        if (ended !== null) finished.push(ended);
      }
      if (env.truncated.includes(1)) {
        // V(s_T) of a truncated copy: its final state, read before the reset.
        const values = this.bootstrapValues(policy, env, state);
        for (let e = 0; e < copies; e++) {
          if (env.truncated[e] !== 1) continue;
          for (let i = 0; i < agents; i++) this.truncationValues[i * steps * copies + row + e] = values[i * copies + e];
        }
      }
      envs.resetEnded();
    }
    this.lastValues.set(this.bootstrapValues(policy, envs.env, state));
    return { episodes: finished, state };
  }

  /** GAE advantages and value targets of the filled rollout (truncation-aware, core/advantages.ts). */
  computeAdvantages(gamma: number, lambda: number): void {
    const { agents, steps, envs, rewards, values, lastValues, terminated, truncated, truncationValues } = this;
    computeGae({ agents, steps, envs, rewards, values, lastValues, terminated, truncated, truncationValues, gamma, lambda }, this.advantages, this.returns);
  }

  /** Values [n, E] of the copies' current observations after the state `state` (not advanced). */
  private bootstrapValues(policy: Ic3netPolicy, env: TrainingEnvs['env'], state: RecurrentState | null): Float32Array {
    const { networks } = policy;
    const copies = this.envs;
    const fresh = freshMask(env, new Float32Array(copies));
    policy.gather.gatherAgentMajor(env.obs, this.obsDim, copies, this.stepObservations, copies, 0);
    const step = forwardStep(networks, this.stepObservations, copies, state, networks.recurrent ? fresh : null);
    tf.dispose([...(step.hidden ? [step.hidden] : []), ...(step.cell ? [step.cell] : [])]);
    return step.values;
  }
}
