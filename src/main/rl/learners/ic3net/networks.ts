/**
 * IC3Net's networks, all agents batched ([n, B, width] activations, [n, in, out] per-agent
 * weights), in both variants:
 *
 * - `reference-code` (the DMPO authors' feed-forward version): enc = relu(obs W_enc + b),
 *   shared by all agents; hidden_i = enc_i + main_i(enc_i) + message_i(mean of enc_j over
 *   i's graph neighbours). Every gate is open: the reference code's gate head is never used,
 *   so it is left out here and the gate reads 1.
 * - `paper` (Singh, Jain, Sukhbaatar 2019): the same shared encoder, then per agent an LSTM
 *   over enc_i + C_i c_i, where the communication vector c_i is the mean of the previous
 *   hidden states of i's graph neighbours whose gate chose to send (zero when none did); a
 *   gate head (send / do not send) on the hidden state picks the next step's gate.
 *
 * Both put per-agent actor and value heads on the hidden state; a Gaussian actor has a
 * state-independent log std per agent (updated outside the tape: the loss gives its gradient).
 * Every parameter lives in one flat vector (one Adam, one checkpoint entry), initialised like
 * PyTorch's nn.Linear (uniform +-1/sqrt(fan_in)).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnvSpec } from '../../../sim/env.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { zeroMoments } from '../../nn/adam.ts';
import type { ParameterGroup } from '../../nn/parameters.ts';
import { headOutputSize, type PolicyHead } from '../../core/distributions.ts';
import { TensorTape, type Node } from './tensorTape.ts';

export type Ic3netVariant = 'reference-code' | 'paper';

/** Width of the encoder and of the hidden state (the reference code's 64). */
export const HIDDEN_SIZE = 64;

/** Index of the gate action that sends (the other, 0, stays silent). */
export const SEND = 1;

interface Slot {
  readonly offset: number;
  readonly shape: readonly number[];
  /** Fan-in of the initialisation bound; 0: filled with `fill`. */
  readonly fanIn: number;
  readonly fill?: number;
}

/** Per-agent slots [n, r, c] joined along rows (axis 1) or columns (axis 2) into one tensor. */
interface FusedGroup {
  readonly slots: readonly string[];
  readonly axis: 1 | 2;
}

/** The recurrent state of every agent in a batch of copies, [n, B, H] each; the gate [n, B, 1]. */
export interface RecurrentState {
  readonly hidden: tf.Tensor3D;
  readonly cell: tf.Tensor3D;
  /** 1 where the agent's last gate action was to send. */
  readonly gate: tf.Tensor3D;
}

/** The recurrent state as a forward pass reads it: hidden and cell as tape nodes (gradients flow back through time). */
export interface TapeState {
  readonly hidden: Node;
  readonly cell: Node;
  readonly gate: tf.Tensor;
}

/** One forward pass: head outputs and what the inspector shows, [n, B, width]. */
export interface Ic3netForward {
  readonly policy: Node;
  readonly value: Node;
  /** Gate logits [n, B, 2] (paper), or null (reference-code: always open). */
  readonly gateLogits: Node | null;
  /** The communication vector each agent received, [n, B, H]. */
  readonly message: Node;
  /** The hidden layer the actor and value heads read, [n, B, H]. */
  readonly features: Node;
  /** The state after this step (paper), or null. */
  readonly hidden: Node | null;
  readonly cell: Node | null;
}

export class Ic3netNetworks {
  readonly agents: number;
  readonly obsDim: number;
  readonly head: PolicyHead;
  readonly outputSize: number;
  /** Every parameter and its Adam state. */
  readonly parameters: ParameterGroup;
  /** Bumped by every change of the parameters, so the cached tensors are rebuilt. */
  version = 0;
  private readonly slots: Record<string, Slot> = {};
  private readonly logStdSlot: Slot | null;
  private readonly fused: Record<string, FusedGroup>;
  private cached: { version: number; tensors: Record<string, tf.Tensor>; parts: Record<string, tf.Tensor2D[]> } | null = null;
  /** Neighbour means ([n, n], rows sum to 1 or 0) and plain adjacency, with transposes. */
  private readonly meanMixing: tf.Tensor2D;
  private readonly meanMixingT: tf.Tensor2D;
  private readonly adjacency: tf.Tensor2D;
  private readonly adjacencyT: tf.Tensor2D;

  constructor(
    readonly spec: EnvSpec,
    readonly variant: Ic3netVariant,
    initialLogStd: number,
    seed: number,
  ) {
    if (spec.nAgents === 0) throw new Error(`scenario ${spec.scenario} with these parameters has no agents to train (preset uncontrolled?)`);
    const n = (this.agents = spec.nAgents);
    const d = (this.obsDim = spec.obsDim);
    const H = HIDDEN_SIZE;
    this.head = spec.action.kind === 'discrete' ? { kind: 'categorical', actionCount: spec.action.n } : { kind: 'gaussian', actionSize: 1 };
    const out = (this.outputSize = headOutputSize(this.head));
    let size = 0;
    const slot = (name: string, shape: number[], fanIn: number, fill?: number): Slot => {
      const entry = { offset: size, shape, fanIn, fill };
      size += shape.reduce((a, b) => a * b, 1);
      return (this.slots[name] = entry);
    };
    slot('encoderWeights', [d, H], d);
    slot('encoderBias', [H], d);
    if (variant === 'reference-code') {
      slot('mainWeights', [n, H, H], H);
      slot('mainBias', [n, 1, H], H);
      slot('messageWeights', [n, H, H], H);
      slot('messageBias', [n, 1, H], H);
    } else {
      slot('commWeights', [n, H, H], H);
      slot('lstmInputWeights', [n, H, 4 * H], H);
      slot('lstmHiddenWeights', [n, H, 4 * H], H);
      slot('lstmBias', [n, 1, 4 * H], H);
      slot('gateWeights', [n, H, 2], H);
      slot('gateBias', [n, 1, 2], H);
    }
    slot('actorWeights', [n, H, out], H);
    slot('actorBias', [n, 1, out], H);
    slot('valueWeights', [n, H, 1], H);
    slot('valueBias', [n, 1, 1], H);
    this.logStdSlot = this.head.kind === 'gaussian' ? slot('logStd', [n, 1], 0, initialLogStd) : null;
    // Slots a forward pass reads as one tensor (one product instead of two or three); the
    // flat vector, Adam and checkpoints keep the slots.
    const heads = variant === 'paper' ? ['actor', 'value', 'gate'] : ['actor', 'value'];
    this.fused = {
      headWeights: { slots: heads.map((head) => `${head}Weights`), axis: 2 },
      headBias: { slots: heads.map((head) => `${head}Bias`), axis: 2 },
      ...(variant === 'paper' ? { lstmWeights: { slots: ['lstmInputWeights', 'lstmHiddenWeights'], axis: 1 as const } } : {}),
    };
    this.parameters = { params: initialise(this.slots, size, seed), moments: zeroMoments(size) };
    const mixing = new Float32Array(n * n);
    const plain = new Float32Array(n * n);
    spec.graph.neighbours.forEach((list, i) => {
      for (const j of list) {
        mixing[i * n + j] = 1 / list.length;
        plain[i * n + j] = 1;
      }
    });
    this.meanMixing = tf.tensor2d(mixing, [n, n]);
    this.meanMixingT = tf.transpose(this.meanMixing);
    this.adjacency = tf.tensor2d(plain, [n, n]);
    this.adjacencyT = tf.transpose(this.adjacency);
  }

  get recurrent(): boolean {
    return this.variant === 'paper';
  }

  /** Agent i's Gaussian log std (params view), or null for categorical heads. */
  get logStd(): Float32Array | null {
    const slot = this.logStdSlot;
    return slot === null ? null : this.parameters.params.subarray(slot.offset, slot.offset + this.agents);
  }

  /** Offset of the log std in the flat vector (its gradient comes from the loss). */
  get logStdOffset(): number {
    return this.logStdSlot?.offset ?? -1;
  }

  /** The value head's weights [n, H, 1] and biases [n, 1, 1], adjacent in the flat vector: where they start and how many. */
  get valueHead(): { offset: number; size: number } {
    const { valueWeights, valueBias } = this.slots;
    const size = this.agents * (HIDDEN_SIZE + 1);
    if (valueBias.offset !== valueWeights.offset + this.agents * HIDDEN_SIZE) throw new Error('IC3Net: the value head is expected to lie in one piece of the flat vector');
    return { offset: valueWeights.offset, size };
  }

  /** A zero state for `copies` copies (kept: the caller disposes it). */
  zeroState(copies: number): RecurrentState {
    const zeros = (width: number) => tf.zeros([this.agents, copies, width]) as tf.Tensor3D;
    return { hidden: zeros(HIDDEN_SIZE), cell: zeros(HIDDEN_SIZE), gate: zeros(1) };
  }

  /**
   * One forward pass on observations [n, B, d]. The paper variant needs the previous state
   * (its gate [n, B, 1]) and `fresh` [1, B, 1], 0 where a copy starts an episode (its state
   * is cleared).
   * Parameter nodes come from `parameterNodes(tape)`.
   */
  forward(tape: TensorTape, params: Record<string, Node>, observations: tf.Tensor, state: TapeState | null, fresh: tf.Tensor | null): Ic3netForward {
    const encoded = tape.relu(tape.addBias(tape.matMul(tape.constant(observations), params.encoderWeights), params.encoderBias));
    // Actor, value and (paper) gate heads as one product: fewer, larger ops (docs/ic3net.md, "Speed").
    const out = this.outputSize;
    const heads = (hidden: Node) => {
      const all = tape.addBias(tape.matMul(hidden, params.headWeights), params.headBias);
      return { policy: tape.sliceLast(all, 0, out), value: tape.sliceLast(all, out, 1), gateLogits: this.recurrent ? tape.sliceLast(all, out + 1, 2) : null };
    };
    if (this.variant === 'reference-code') {
      const message = tape.mixAgents(encoded, this.meanMixing, this.meanMixingT);
      const main = tape.addBias(tape.matMul(encoded, params.mainWeights), params.mainBias);
      const sent = tape.addBias(tape.matMul(message, params.messageWeights), params.messageBias);
      const hidden = tape.add(tape.add(encoded, main), sent);
      return { ...heads(hidden), message, features: hidden, hidden: null, cell: null };
    }
    if (state === null || fresh === null) throw new Error('the paper variant needs its recurrent state');
    const H = HIDDEN_SIZE;
    const previous = tape.scale(state.hidden, fresh);
    const previousCell = tape.scale(state.cell, fresh);
    const gate = tf.mul(state.gate, fresh);
    // c_i = sum over sending neighbours of h_j, divided by how many sent (none: zero).
    const senders = tf.maximum(tf.reshape(tf.matMul(this.adjacency, tf.reshape(gate, [this.agents, -1])), gate.shape), 1);
    const message = tape.scale(tape.mixAgents(tape.scale(previous, gate), this.adjacency, this.adjacencyT), tf.reciprocal(senders));
    const input = tape.add(encoded, tape.matMul(message, params.commWeights));
    // [input, h] [W_input; W_hidden]: the LSTM's two products as one.
    const gates = tape.addBias(tape.matMul(tape.concatLast(input, previous), params.lstmWeights), params.lstmBias);
    const inputGate = tape.sigmoid(tape.sliceLast(gates, 0, H));
    const forgetGate = tape.sigmoid(tape.sliceLast(gates, H, H));
    const outputGate = tape.sigmoid(tape.sliceLast(gates, 2 * H, H));
    const candidate = tape.tanh(tape.sliceLast(gates, 3 * H, H));
    const cell = tape.add(tape.mul(forgetGate, previousCell), tape.mul(inputGate, candidate));
    const hidden = tape.mul(outputGate, tape.tanh(cell));
    return { ...heads(hidden), message, features: hidden, hidden, cell };
  }

  /**
   * The parameters as tape nodes (trainable on a recording tape), from cached tensors: every
   * slot outside a fused group, and each fused group as one tensor; per-agent weights also
   * split by agent (for the per-agent 2-D products, tensorTape.ts).
   */
  parameterNodes(tape: TensorTape): Record<string, Node> {
    if (this.cached === null || this.cached.version !== this.version) {
      this.disposeCache();
      const { params } = this.parameters;
      const tensors: Record<string, tf.Tensor> = {};
      const parts: Record<string, tf.Tensor2D[]> = {};
      const keep = (name: string, values: Float32Array, shape: readonly number[]) => {
        tensors[name] = tf.keep(tf.tensor(values, [...shape]));
        // [n, k, o] weights (not [n, 1, o] biases): each agent's [k, o].
        const [agents, rows, columns] = shape;
        if (shape.length === 3 && rows > 1) parts[name] = Array.from({ length: agents }, (_, i) => tf.keep(tf.tensor2d(values.subarray(i * rows * columns, (i + 1) * rows * columns), [rows, columns])));
      };
      const inGroup = new Set(Object.values(this.fused).flatMap((group) => group.slots));
      for (const [name, slot] of Object.entries(this.slots)) {
        if (slot === this.logStdSlot || inGroup.has(name)) continue;
        keep(name, params.subarray(slot.offset, slot.offset + slot.shape.reduce((a, b) => a * b, 1)), slot.shape);
      }
      for (const [name, group] of Object.entries(this.fused)) {
        const shape = this.fusedShape(group);
        const joined = new Float32Array(shape.reduce((a, b) => a * b, 1));
        this.walkFused(group, (at, offset, length) => joined.set(params.subarray(offset, offset + length), at));
        keep(name, joined, shape);
      }
      this.cached = { version: this.version, tensors, parts };
    }
    const nodes: Record<string, Node> = {};
    for (const [name, tensor] of Object.entries(this.cached.tensors)) nodes[name] = tape.parameter(tensor, this.cached.parts[name] ?? null);
    return nodes;
  }

  /** Adds the gradients the tape left on `nodes` into the flat gradient (log std excluded; fused groups back to their slots). */
  addGradients(nodes: Record<string, Node>, gradient: Float32Array): void {
    for (const [name, node] of Object.entries(nodes)) {
      if (node.grad === null) continue;
      const values = node.grad.dataSync();
      const group = this.fused[name];
      if (group === undefined) {
        const offset = this.slots[name].offset;
        for (let k = 0; k < values.length; k++) gradient[offset + k] += values[k];
      } else {
        this.walkFused(group, (at, offset, length) => {
          for (let k = 0; k < length; k++) gradient[offset + k] += values[at + k];
        });
      }
    }
  }

  /** [n, R, C] of a fused group: its slots' shapes joined along the group's axis. */
  private fusedShape(group: FusedGroup): number[] {
    const shapes = group.slots.map((name) => this.slots[name].shape);
    const shape = [...shapes[0]];
    shape[group.axis] = shapes.reduce((sum, s) => sum + s[group.axis], 0);
    return shape;
  }

  /** Calls visit(fused index, flat parameter index, length) for every contiguous run a fused group shares with its slots. */
  private walkFused(group: FusedGroup, visit: (at: number, offset: number, length: number) => void): void {
    const [agents, rows, columns] = this.fusedShape(group);
    let start = 0;
    for (const name of group.slots) {
      const slot = this.slots[name];
      const [, slotRows, slotColumns] = slot.shape;
      for (let i = 0; i < agents; i++) {
        if (group.axis === 1) visit((i * rows + start) * columns, slot.offset + i * slotRows * slotColumns, slotRows * slotColumns);
        else for (let r = 0; r < rows; r++) visit((i * rows + r) * columns + start, slot.offset + (i * rows + r) * slotColumns, slotColumns);
      }
      start += group.axis === 1 ? slotRows : slotColumns;
    }
  }

  /** The first non-finite parameter, named, or null. */
  nonFiniteParameter(): string | null {
    const { params } = this.parameters;
    for (const [name, slot] of Object.entries(this.slots)) {
      const size = slot.shape.reduce((a, b) => a * b, 1);
      if (!params.subarray(slot.offset, slot.offset + size).every(Number.isFinite)) return `IC3Net ${name} are not finite`;
    }
    return null;
  }

  private disposeCache(): void {
    if (this.cached) tf.dispose([...Object.values(this.cached.tensors), ...Object.values(this.cached.parts).flat()]);
    this.cached = null;
  }

  /** The parameters changed (an update, a restore): cached tensors are stale. */
  markChanged(): void {
    this.version += 1;
  }

  dispose(): void {
    this.disposeCache();
    tf.dispose([this.meanMixing, this.meanMixingT, this.adjacency, this.adjacencyT]);
  }
}

function initialise(slots: Record<string, Slot>, size: number, seed: number): Float32Array {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const params = new Float32Array(size);
  for (const slot of Object.values(slots)) {
    const count = slot.shape.reduce((a, b) => a * b, 1);
    const bound = slot.fanIn > 0 ? 1 / Math.sqrt(slot.fanIn) : 0;
    for (let k = slot.offset; k < slot.offset + count; k++) params[k] = slot.fanIn > 0 ? (2 * rng.uniform(0) - 1) * bound : (slot.fill ?? 0);
  }
  return params;
}
