/**
 * IC3Net acting: one forward step of every agent on a batch of copies (training rollouts and
 * evaluation share it), and the trained policy as evaluation, stored episodes and run
 * policies use it. The paper variant keeps each copy's LSTM state and gate from one decide
 * to the next and clears them where a copy starts an episode (env.steps is 0); each decide's
 * gates and messages are what communication() reports to the inspector and stored episodes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchedEnv, EnvSpec } from '../../../sim/env.ts';
import { NeighbourhoodGather } from '../../../sim/graph.ts';
import { greedyActions } from '../../core/actorCritic.ts';
import { COMMUNICATION_FIELDS, COMMUNICATION_WIDTH } from '../../../../shared/communication.ts';
import { argmax, smoothedSoftmax, type PolicyHead } from '../../core/distributions.ts';
import type { PolicyOutput, TrainedPolicy } from '../../core/trainedPolicy.ts';
import { HIDDEN_SIZE, SEND, type Ic3netNetworks, type RecurrentState } from './networks.ts';
import { TensorTape } from './tensorTape.ts';

/** What one step computed for every agent in every copy ([n, B, width] row-major). */
export interface StepResult {
  readonly policy: PolicyOutput;
  /** [n, B]. */
  readonly values: Float32Array;
  /** [n, B, 2] gate logits (paper), or null. */
  readonly gateLogits: Float32Array | null;
  /** [n, B, H]: the communication vector each agent received. */
  readonly message: Float32Array;
  /** [n, B, H]: the hidden layer the heads read. */
  readonly features: Float32Array;
  /** The LSTM state after the step (paper; kept tensors the caller owns), or null. */
  readonly hidden: tf.Tensor3D | null;
  readonly cell: tf.Tensor3D | null;
}

/**
 * One forward step on observations [n, B, d] (agent-major), without recording gradients;
 * `fresh` [B] is 0 where a copy starts an episode (paper variant).
 */
export function forwardStep(networks: Ic3netNetworks, observations: Float32Array, copies: number, state: RecurrentState | null, fresh: Float32Array | null): StepResult {
  const tape = new TensorTape(false);
  const { agents, obsDim } = networks;
  // [policy, value, message, features] and, for the paper variant, [gate logits, hidden, cell]
  const tensors = tf.tidy(() => {
    const obs = tf.tensor3d(observations, [agents, copies, obsDim]);
    const freshMask = fresh === null ? null : tf.tensor3d(fresh, [1, copies, 1]);
    const tapeState = state === null ? null : { hidden: tape.constant(state.hidden), cell: tape.constant(state.cell), gate: state.gate };
    const forward = networks.forward(tape, networks.parameterNodes(tape), obs, tapeState, freshMask);
    const recurrent = forward.gateLogits === null ? [] : [forward.gateLogits.value, forward.hidden!.value, forward.cell!.value];
    return [forward.policy.value, forward.value.value, forward.message.value, forward.features.value, ...recurrent];
  });
  const read = (k: number) => tensors[k].dataSync() as Float32Array;
  const recurrent = tensors.length > 4;
  const step: StepResult = {
    policy: { output: read(0), logStd: networks.logStd?.slice() ?? null },
    values: read(1),
    message: read(2),
    features: read(3),
    gateLogits: recurrent ? read(4) : null,
    hidden: recurrent ? (tensors[5] as tf.Tensor3D) : null,
    cell: recurrent ? (tensors[6] as tf.Tensor3D) : null,
  };
  // The paper variant's features are its hidden state, which the caller keeps.
  tf.dispose(tensors.slice(0, 5).filter((tensor) => tensor !== step.hidden));
  return step;
}

/** The state after a step whose agents chose `gates` [n, B] (1: send); disposes nothing. */
export function stateAfter(step: StepResult, gates: Float32Array, agents: number): RecurrentState | null {
  if (step.hidden === null || step.cell === null) return null;
  return { hidden: step.hidden, cell: step.cell, gate: tf.tensor3d(gates, [agents, gates.length / agents, 1]) };
}

export function disposeState(state: RecurrentState | null): void {
  if (state !== null) tf.dispose([state.hidden, state.cell, state.gate]);
}

/** [B] masks from env.steps: 0 where a copy is at the start of an episode, else 1. */
export function freshMask(env: BatchedEnv, into: Float32Array): Float32Array {
  for (let e = 0; e < env.numEnvs; e++) into[e] = env.steps[e] === 0 ? 0 : 1;
  return into;
}

export class Ic3netPolicy implements TrainedPolicy {
  readonly spec: EnvSpec;
  readonly head: PolicyHead;
  /** Each agent's own observation, agent-major. */
  readonly gather: NeighbourhoodGather;
  /** The deployed policy's state per copy of the env it last acted on (paper variant). */
  private state: RecurrentState | null = null;
  private stateCopies = 0;
  /** The deployed gates of the last decide [n, copies] (1: send at the next step), paper variant. */
  private gates: Float32Array | null = null;
  /** The values of the last decide, returned by values() on the same env. */
  private lastValues: { env: BatchedEnv; values: Float32Array } | null = null;
  /** What the last decide's agents sent (gates in effect) and computed, for communication(). */
  private lastStep: { env: BatchedEnv; step: StepResult; sent: Float32Array } | null = null;

  constructor(readonly networks: Ic3netNetworks) {
    this.spec = networks.spec;
    this.head = networks.head;
    this.gather = new NeighbourhoodGather(this.spec.graph, 0);
  }

  /** Every agent's own observation in every copy, agent-major [n, E, d]. */
  observations(env: BatchedEnv): Float32Array {
    const out = new Float32Array(this.networks.agents * env.numEnvs * env.spec.obsDim);
    this.gather.gatherAgentMajor(env.obs, env.spec.obsDim, env.numEnvs, out, env.numEnvs, 0);
    return out;
  }

  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const copies = env.numEnvs;
    const { agents } = this.networks;
    if (this.networks.recurrent && this.stateCopies !== copies) {
      disposeState(this.state);
      this.state = this.networks.zeroState(copies);
      this.stateCopies = copies;
      this.gates = null;
    }
    const fresh = this.networks.recurrent ? freshMask(env, new Float32Array(copies)) : null;
    const step = forwardStep(this.networks, this.observations(env), copies, this.state, fresh);
    greedyActions(this.head, agents, step.policy, copies, actions);
    // Reference-code: every gate open. Paper: the gates chosen at the last step, cleared where a copy starts afresh.
    const sent = new Float32Array(agents * copies).fill(1);
    if (step.gateLogits !== null) {
      for (let k = 0; k < sent.length; k++) sent[k] = this.gates === null ? 0 : this.gates[k] * fresh![k % copies];
      const gates = new Float32Array(agents * copies);
      for (let k = 0; k < gates.length; k++) gates[k] = argmax(step.gateLogits, 2 * k, 2);
      const previous = this.state;
      this.state = stateAfter(step, gates, agents);
      this.gates = gates;
      disposeState(previous);
    }
    this.lastValues = { env, values: step.values };
    this.lastStep = { env, step, sent };
    return step.policy;
  }

  /** What each agent sent and received in the last decide on `env`, [n, E, COMMUNICATION_WIDTH] (shared/communication.ts). */
  communication(env: BatchedEnv): Float32Array {
    const last = this.lastStep;
    if (last === null || last.env !== env) throw new Error('IC3Net communication is read after a decide on the same env');
    const { step, sent } = last;
    const rows = sent.length;
    const out = new Float32Array(rows * COMMUNICATION_WIDTH);
    const field = (name: (typeof COMMUNICATION_FIELDS)[number]) => COMMUNICATION_FIELDS.indexOf(name);
    const probabilities = new Float64Array(2);
    for (let k = 0; k < rows; k++) {
      const at = k * COMMUNICATION_WIDTH;
      let norm = 0;
      for (let h = k * HIDDEN_SIZE; h < (k + 1) * HIDDEN_SIZE; h++) norm += step.message[h] * step.message[h];
      out[at + field('sent')] = sent[k];
      out[at + field('messageNorm')] = Math.sqrt(norm);
      if (step.gateLogits === null) {
        out[at + field('gate')] = 1;
        out[at + field('sendProbability')] = 1;
      } else {
        smoothedSoftmax(step.gateLogits, 2 * k, 2, probabilities, 0);
        out[at + field('gate')] = argmax(step.gateLogits, 2 * k, 2) === SEND ? 1 : 0;
        out[at + field('sendProbability')] = probabilities[SEND];
      }
    }
    return out;
  }

  /** The values of the last decide on `env`; otherwise a fresh step (from the kept state, not advancing it). */
  values(env: BatchedEnv): Float32Array {
    if (this.lastValues !== null && this.lastValues.env === env) return this.lastValues.values;
    const copies = env.numEnvs;
    const state = this.networks.recurrent && this.stateCopies === copies ? this.state : this.networks.recurrent ? this.networks.zeroState(copies) : null;
    const fresh = this.networks.recurrent ? freshMask(env, new Float32Array(copies)) : null;
    const step = forwardStep(this.networks, this.observations(env), copies, state, fresh);
    if (state !== this.state) disposeState(state);
    tf.dispose([...(step.hidden ? [step.hidden] : []), ...(step.cell ? [step.cell] : [])]);
    return step.values;
  }

  nonFiniteParameter(): string | null {
    return this.networks.nonFiniteParameter();
  }

  /** Forgets the deployed state (after the parameters changed, the next decide starts afresh). */
  reset(): void {
    disposeState(this.state);
    this.state = null;
    this.stateCopies = 0;
    this.gates = null;
    this.lastValues = null;
    this.lastStep = null;
  }

  dispose(): void {
    this.reset();
    this.networks.dispose();
  }
}

