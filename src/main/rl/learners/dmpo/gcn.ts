/**
 * The DMPO local models of all agents as one networked graph-convolutional model: agent i's
 * model p_i(s_i', r_i, d_i | s_{N_i^1}, a_i), with its own weights, predicts its own next
 * observation, reward and termination from the observations of its one-hop neighbourhood and
 * its own action. One graph-convolution layer:
 *
 *   h_j   = ReLU(W_ij s_j + b_ij)                 for every node j of N_i^1 (self included)
 *   m_ij  = EdgeMLP_ij([h_i, h_j])                for every neighbour j (2E -> 16 -> 16 -> 12)
 *   z_i   = NodeMLP_i([sum_j m_ij, embed_i(a_i)])  (-> 16 -> 16 -> 8, ReLU throughout)
 *   s_i'  = s_i + Linear(z_i),  r_i = Linear(z_i),  d_i = sigmoid(Linear(z_i))
 *
 * Where the spec is silent, the DMPO reference code (GraphConvolutionalModel) decides:
 * - Agent i's local graph is the star of edges (i, j), j in N_i^1 \ {i}. With one convolution
 *   layer an edge between two neighbours j, k only feeds the predictions of j and k, never
 *   i's, so it belongs to their models, not to i's.
 * - The reference encodes every node with that node's own encoder and owns one edge MLP per
 *   undirected edge, shared by both ends. Here every agent holds its own copy of each piece
 *   its prediction uses: one encoder per node of N_i^1 (the reference's node-wise encoders)
 *   and one edge MLP per incident edge. The function class of p_i is exactly the reference's;
 *   only the weight sharing between neighbouring agents is gone (no weight is shared).
 * - Edge inputs are ordered [h_self, h_neighbour] (the reference orders by agent index; for
 *   an MLP owned by one edge that is a permutation of its first layer, nothing more).
 * - Messages are summed, as in the reference; a chain end simply has fewer edges.
 * - A discrete action's embedding is a learned table per agent (nn.Embedding, N(0, 1) init);
 *   linear layers start like PyTorch's nn.Linear (uniform +-1/sqrt(fan_in)).
 *
 * Computation (see shared/notes/tfjs-wasm-performance.md and bench/rl-dmpo-model.ts): per
 * agent 2-D `_FusedMatMul` kernels (matMul + 1-D bias + ReLU in one XNNPACK call, measured
 * ~15-20 GFLOP/s here against ~2 GFLOP/s for a 3-D batched matMul over stacked agent
 * weights; a whole model step of all agents ran 2-8x faster than the stacked formulation on
 * 64 to 2048 rows), with a hand-written backward pass (tfjs-core registers no gradients
 * under Node; every backward matMul takes pre-transposed weights so it stays on XNNPACK),
 * from which every weight gradient is one matMul summed over the window's steps. To keep the op
 * count low, all agents' observations live in one [rows, n * obsDim] tensor in the
 * environment's own layout, and selections are folded into zero-padded weights:
 * - the encoders of all of agent i's edges are one [n * obsDim, K_i * 2E] matrix, so a
 *   single matMul on the joint state yields every edge input [h_i, h_j] side by side;
 * - the K_i edge MLPs run as one block-diagonal MLP (K_i <= 2 in every scenario);
 * - the node MLP's first layer stacks its message rows once per edge, so the message sum is
 *   part of that matMul, and its action rows sit at agent i's columns of the joint action
 *   input (one-hot of every agent's discrete action, or every agent's continuous action);
 * - every head writes agent i's columns of one joint output [rows, n * (obsDim + 2)]:
 *   state deltas in the environment's observation layout, then rewards, then done logits.
 * Zero padding costs a few wasted multiply-adds; each saved op saves ~5-15 us. The layout of
 * each agent's flat vector is gcnLayout.ts; the packing into padded tensors and of their
 * gradients back is gcnPacking.ts; this file runs the model forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RngStreams } from '../../../sim/rng.ts';
import { initialParameters } from '../../nn/parameters.ts';
import { AgentLayout, blockSeed, SPEC_ARCHITECTURE, type Block, type GcnArchitecture, type ModelSystem, type ParameterSegment } from './gcnLayout.ts';
import { sigmoid, splitColumns, windowLoss, type LossWeights, type WindowBatch, type WindowErrors } from './gcnLoss.ts';
import { GcnPacking, type AgentTensors, type Dense } from './gcnPacking.ts';

/** The model's output for a batch of rows: row-major [rows, n * obsDim], [rows, n], [rows, n]. */
export interface ModelPrediction {
  readonly nextObservations: Float32Array;
  readonly rewards: Float32Array;
  readonly doneProbabilities: Float32Array;
}

export type { WindowBatch, WindowErrors };

/** Keeps the reported ratio finite on constant data (the reference code's guard). */
const VARIANCE_GUARD = 1e-7;

/** MSE / variance with the guard: the relative errors DMPO reports and stops on. */
export function relativeError(mse: number, variance: number): number {
  return mse / (variance + VARIANCE_GUARD);
}

/** Per-step forward record of one agent: the layer outputs the backward pass needs. */
interface AgentTrace {
  readonly edgeOutputs: tf.Tensor3D[];
  readonly nodeOutputs: tf.Tensor3D[];
}

/** An open-loop roll: per step, the joint state and action inputs, the joint output, and every agent's trace. */
interface RollRecord {
  readonly states: tf.Tensor3D[];
  readonly actionInputs: tf.Tensor3D[];
  readonly outputs: tf.Tensor3D[];
  readonly traces: AgentTrace[][];
}

/** The backward pass: per step, dLoss/d(joint output); per agent and step, dLoss/d(pre-activation) of each layer. */
interface BackwardRecord {
  readonly dOutputs: tf.Tensor3D[];
  readonly nodePre: tf.Tensor3D[][][];
  readonly edgePre: tf.Tensor3D[][][];
}

export class NetworkedGcn {
  readonly agents: number;
  readonly obsDim: number;
  readonly layouts: readonly AgentLayout[];
  /** Width of one agent's part of the joint action input: one-hot width, or 1 for a continuous action. */
  readonly actionWidth: number;
  /** Columns of the joint output: n * obsDim state deltas, n rewards, n done logits. */
  readonly outputWidth: number;
  /** How each agent's flat vector becomes padded matrices (shared with the batched formulation, gcnBatched.ts). */
  readonly packing: GcnPacking;

  constructor(
    readonly system: ModelSystem,
    readonly architecture: GcnArchitecture = SPEC_ARCHITECTURE,
  ) {
    const { graph, obsDim, action } = system;
    if (!Number.isInteger(obsDim) || obsDim < 1) throw new Error(`obsDim must be a positive integer, got ${obsDim}`);
    this.agents = graph.n;
    this.obsDim = obsDim;
    this.layouts = Array.from({ length: graph.n }, (_, i) => new AgentLayout(graph, i, obsDim, action, architecture));
    this.actionWidth = action.kind === 'discrete' ? action.n : 1;
    this.outputWidth = graph.n * (obsDim + 2);
    this.packing = new GcnPacking(this.layouts, this.agents, obsDim, this.actionWidth, this.outputWidth, architecture);
  }

  /**
   * Fresh parameters, one flat vector per agent, deterministic in `seed`: linear layers like
   * PyTorch's nn.Linear, embeddings N(0, 1) like nn.Embedding.
   */
  initialParameters(seed: number): Float32Array[] {
    return this.layouts.map((layout, agent) => {
      const params = new Float32Array(layout.size);
      const blocks = [...layout.encoders, ...layout.edges, layout.node, layout.head];
      blocks.forEach((block, b) => params.set(initialParameters(block.layout, blockSeed(seed, agent, b)), block.offset));
      if (layout.embeddingOffset >= 0) {
        const rng = new RngStreams(1);
        rng.seed(0, blockSeed(seed, agent, blocks.length));
        const size = this.actionWidth * this.architecture.actionEmbeddingSize;
        for (let k = 0; k < size; k++) params[layout.embeddingOffset + k] = rng.normal(0);
      }
      return params;
    });
  }

  /** The named segments of agent `agent`'s flat vector (for inspection, checkpoints and tests). */
  segments(agent: number): ParameterSegment[] {
    const layout = this.layouts[agent];
    const segments: ParameterSegment[] = [];
    const addBlock = (name: string, block: Block): void => {
      block.layout.layers.forEach((layer, l) => {
        const prefix = block.layout.layers.length > 1 ? `${name}.layer${l}` : name;
        segments.push({ name: `${prefix}.weight`, offset: block.offset + layer.weightOffset, shape: [layer.inputSize, layer.outputSize] });
        segments.push({ name: `${prefix}.bias`, offset: block.offset + layer.biasOffset, shape: [layer.outputSize] });
      });
    };
    layout.encoders.forEach((block, slot) => addBlock(slot === 0 ? 'encoder.self' : `encoder.agent${layout.neighbours[slot - 1]}`, block));
    layout.edges.forEach((block, k) => addBlock(`edge.agent${layout.neighbours[k]}`, block));
    if (layout.embeddingOffset >= 0) {
      segments.push({ name: 'actionEmbedding', offset: layout.embeddingOffset, shape: [this.actionWidth, this.architecture.actionEmbeddingSize] });
    }
    addBlock('node', layout.node);
    addBlock('head', layout.head);
    return segments;
  }

  /**
   * Builds every agent's tensors from the flat parameters; `withTransposes` adds what the
   * backward pass needs. Call inside a tensor scope (withTensorScope or tf.tidy), which frees them.
   */
  buildWeights(parameters: readonly Float32Array[], withTransposes: boolean): AgentTensors[] {
    return this.layouts.map((layout, agent) => this.packing.agentTensors(layout, agent, parameters[agent], withTransposes));
  }

  /**
   * One model step for all agents on `rows` joint states. `states` is [1, rows, n * obsDim],
   * `actionInputs` [1, rows, n * actionWidth] (see encodeActions). Returns the joint output
   * [1, rows, outputWidth] and the next joint state; with `traces`, records what the
   * backward pass needs. Call inside a tensor scope.
   */
  step(
    weights: readonly AgentTensors[],
    states: tf.Tensor3D,
    actionInputs: tf.Tensor3D,
    traces?: AgentTrace[],
  ): { output: tf.Tensor3D; next: tf.Tensor3D } {
    const contributions = weights.map((agent) => {
      const trace: AgentTrace = { edgeOutputs: [], nodeOutputs: [] };
      traces?.push(trace);
      let nodeInput = dense(actionInputs, agent.action);
      if (agent.message !== null) {
        let x = states;
        for (const layer of agent.edgePath) {
          x = dense(x, layer);
          trace.edgeOutputs.push(x);
        }
        nodeInput = tf.add(nodeInput, fusedMatMul(x, agent.message.weight));
      }
      let z: tf.Tensor3D = tf.relu(nodeInput);
      trace.nodeOutputs.push(z);
      for (const layer of agent.nodeLayers) {
        z = dense(z, layer);
        trace.nodeOutputs.push(z);
      }
      return dense(z, agent.head);
    });
    const output = contributions.length === 1 ? contributions[0] : (tf.addN(contributions) as tf.Tensor3D);
    const rows = states.shape[1];
    const next = tf.add(states, tf.slice(output, [0, 0, 0], [1, rows, this.agents * this.obsDim])) as tf.Tensor3D;
    return { output, next };
  }

  /** One step on plain arrays (no gradients): observations [rows, n, obsDim], actions [rows, n]. */
  predict(weights: readonly AgentTensors[], observations: Float32Array, actions: ArrayLike<number>, rows: number): ModelPrediction {
    const { agents, obsDim } = this;
    const values = withTensorScope(() => {
      const states = tf.tensor3d(observations, [1, rows, agents * obsDim]);
      const actionInputs = tf.tensor3d(this.encodeActions(actions, rows), [1, rows, agents * this.actionWidth]);
      return this.step(weights, states, actionInputs).output.dataSync() as Float32Array;
    });
    const prediction = { nextObservations: new Float32Array(rows * agents * obsDim), rewards: new Float32Array(rows * agents), doneProbabilities: new Float32Array(rows * agents) };
    const width = this.outputWidth;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < agents * obsDim; k++) prediction.nextObservations[r * agents * obsDim + k] = observations[r * agents * obsDim + k] + values[r * width + k];
      for (let i = 0; i < agents; i++) {
        prediction.rewards[r * agents + i] = values[r * width + agents * obsDim + i];
        prediction.doneProbabilities[r * agents + i] = sigmoid(values[r * width + agents * (obsDim + 1) + i]);
      }
    }
    return prediction;
  }

  /**
   * The joint action input [rows, n * actionWidth] of actions [rows, n]: a one-hot block per
   * agent for discrete actions (an embedding lookup as a matMul), the raw value otherwise.
   */
  encodeActions(actions: ArrayLike<number>, rows: number): Float32Array {
    const n = this.agents;
    if (actions.length !== rows * n) throw new Error(`expected ${rows * n} actions ([${rows}, ${n}]), got ${actions.length}`);
    if (this.system.action.kind === 'continuous') return Float32Array.from(actions);
    const width = this.actionWidth;
    const encoded = new Float32Array(rows * n * width);
    for (let k = 0; k < rows * n; k++) {
      const a = actions[k];
      if (!Number.isInteger(a) || a < 0 || a >= width) throw new Error(`action ${a} is not an index below ${width}`);
      encoded[k * width + a] = 1;
    }
    return encoded;
  }

  /** The model's errors on a batch, rolled open-loop from the start states on the real actions. */
  evaluate(parameters: readonly Float32Array[], batch: WindowBatch, lossWeights: LossWeights): WindowErrors {
    const outputs = withTensorScope(() => {
      const weights = this.buildWeights(parameters, false);
      return this.roll(weights, batch).outputs.map((output) => output.dataSync() as Float32Array);
    });
    return windowLoss(this, batch, outputs, lossWeights, null);
  }

  /**
   * Loss and its gradient for every agent's parameters: forward roll over the window,
   * dLoss/dOutput in plain arithmetic, then the backward pass through time and through the
   * neighbours' predicted states (they are the other agents' outputs of the same roll, so a
   * neighbour's later error reaches agent i's weights, as in the reference's joint model).
   */
  lossAndGradients(parameters: readonly Float32Array[], batch: WindowBatch, lossWeights: LossWeights): { errors: WindowErrors; gradients: Float32Array[] } {
    const gradients = this.layouts.map((layout) => new Float32Array(layout.size));
    const errors = withTensorScope(() => {
      const weights = this.buildWeights(parameters, true);
      const forward = this.roll(weights, batch);
      const outputGradients = forward.outputs.map(() => new Float32Array(batch.windows * this.outputWidth));
      const outputValues = forward.outputs.map((output) => output.dataSync() as Float32Array);
      const errors = windowLoss(this, batch, outputValues, lossWeights, outputGradients);
      const backward = this.backwardThroughTime(weights, forward.traces, outputGradients, batch.windows);
      this.readWeightGradients(weights, parameters, forward, backward, gradients);
      return errors;
    });
    return { errors, gradients };
  }

  /**
   * The backward pass over all steps, last first, from the direct loss gradients of every
   * step's output. Call inside a tensor scope.
   */
  private backwardThroughTime(weights: readonly AgentTensors[], traces: readonly AgentTrace[][], outputGradients: readonly Float32Array[], rows: number): BackwardRecord {
    const { agents, obsDim, outputWidth } = this;
    const steps = outputGradients.length;
    const stateColumns = agents * obsDim;
    const direct = outputGradients.map((g) => splitColumns(g, rows, outputWidth, stateColumns));
    const record: BackwardRecord = { dOutputs: new Array(steps), nodePre: weights.map(() => []), edgePre: weights.map(() => []) };
    // dNext: dLoss/d(joint state after step t), all paths.
    let dNext = tf.tensor3d(direct[steps - 1].left, [1, rows, stateColumns]);
    for (let t = steps - 1; t >= 0; t--) {
      const dOutput = tf.concat([dNext, tf.tensor3d(direct[t].right, [1, rows, outputWidth - stateColumns])], 2);
      record.dOutputs[t] = dOutput;
      const stateGradients: tf.Tensor3D[] = [];
      weights.forEach((agent, i) => {
        const { nodePre, edgePre, dStates } = agentBackward(agent, traces[t][i], dOutput, t > 0);
        record.nodePre[i][t] = nodePre;
        record.edgePre[i][t] = edgePre;
        if (dStates !== null) stateGradients.push(dStates);
      });
      if (t > 0) {
        // The state after step t-1 fed step t's encoders, the residual, and the loss directly.
        dNext = tf.addN([tf.tensor3d(direct[t - 1].left, [1, rows, stateColumns]), dNext, ...stateGradients]);
      }
    }
    return record;
  }

  /**
   * Every weight gradient, summed over the steps with one matMul per layer, written into
   * `gradients` (the agents' flat layouts). The joint state, action and output gradients
   * are shared by all agents, so they are stacked once; all results come back in one
   * transfer. Call inside a tensor scope.
   */
  private readWeightGradients(weights: readonly AgentTensors[], parameters: readonly Float32Array[], forward: RollRecord, backward: BackwardRecord, gradients: Float32Array[]): void {
    const readback = new Readback();
    const statesT = transposedSteps(forward.states);
    const actionsT = transposedSteps(forward.actionInputs);
    const dOutputStack = stackSteps(backward.dOutputs);
    // One row of ones serves every bias gradient (all are sums over the same stacked rows).
    const ones: tf.Tensor3D = tf.ones([1, 1, dOutputStack.shape[1]]);
    readback.add(columnSum(ones, dOutputStack), (sums) => this.layouts.forEach((_, i) => this.packing.scatterHeadBias(i, gradients[i], sums)));
    weights.forEach((agent, i) => {
      const layout = this.layouts[i];
      const target = gradients[i];
      const nodePre = (l: number): tf.Tensor3D => stackSteps(backward.nodePre[i].map((perStep) => perStep[l]));
      const edgePre = (l: number): tf.Tensor3D => stackSteps(backward.edgePre[i].map((perStep) => perStep[l]));
      const nodeInputT = (l: number): tf.Tensor3D => transposedSteps(forward.traces.map((perStep) => perStep[i].nodeOutputs[l]));
      const edgeInputT = (l: number): tf.Tensor3D => (l === 0 ? statesT : transposedSteps(forward.traces.map((perStep) => perStep[i].edgeOutputs[l - 1])));
      const setAt = (offset: number) => (values: Float32Array) => target.set(values, offset);

      const node0 = layout.node.layout.layers[0];
      const node0Pre = nodePre(0);
      readback.add(weightGradient(actionsT, node0Pre), (padded) => this.packing.scatterAction(i, parameters[i], target, padded));
      readback.add(columnSum(ones, node0Pre), setAt(layout.node.offset + node0.biasOffset));
      if (agent.message !== null) {
        const pathLength = agent.edgePath.length;
        readback.add(weightGradient(edgeInputT(pathLength), node0Pre), (stacked) => this.packing.scatterMessage(layout, target, stacked));
        for (let l = 0; l < pathLength; l++) {
          const pre = edgePre(l);
          readback.add(weightGradient(edgeInputT(l), pre), (weight) => this.packing.scatterEdgeLayer(i, l, target, weight, 'weight'));
          readback.add(columnSum(ones, pre), (bias) => this.packing.scatterEdgeLayer(i, l, target, bias, 'bias'));
        }
      }
      agent.nodeLayers.forEach((_, l) => {
        const pre = nodePre(l + 1);
        const layer = layout.node.layout.layers[l + 1];
        readback.add(weightGradient(nodeInputT(l), pre), setAt(layout.node.offset + layer.weightOffset));
        readback.add(columnSum(ones, pre), setAt(layout.node.offset + layer.biasOffset));
      });
      readback.add(weightGradient(nodeInputT(agent.nodeLayers.length), dOutputStack), (padded) => this.packing.scatterHead(i, target, padded));
    });
    readback.flush();
  }

  /** Rolls the model open-loop over the batch's steps, keeping every step's inputs, outputs and traces. Call inside a tensor scope. */
  private roll(weights: readonly AgentTensors[], batch: WindowBatch): RollRecord {
    const { agents, obsDim } = this;
    const rows = batch.windows;
    const outputs: tf.Tensor3D[] = [];
    const states: tf.Tensor3D[] = [tf.tensor3d(batch.startObservations, [1, rows, agents * obsDim])];
    const actionInputs: tf.Tensor3D[] = [];
    const traces: AgentTrace[][] = [];
    for (let t = 0; t < batch.steps; t++) {
      const actions = batch.actions.subarray(t * rows * agents, (t + 1) * rows * agents);
      actionInputs.push(tf.tensor3d(this.encodeActions(actions, rows), [1, rows, agents * this.actionWidth]));
      const stepTraces: AgentTrace[] = [];
      const { output, next } = this.step(weights, states[t], actionInputs[t], stepTraces);
      traces.push(stepTraces);
      outputs.push(output);
      if (t + 1 < batch.steps) states.push(next);
    }
    return { outputs, states, actionInputs, traces };
  }

}

/**
 * Backward pass of one agent at one step: dOutput is dLoss/d(joint output). Returns
 * dLoss/d(pre-activation) of every node layer and every edge-path layer, and (when asked)
 * this agent's part of dLoss/d(joint state) through its encoders.
 */
function agentBackward(
  agent: AgentTensors,
  trace: AgentTrace,
  dOutput: tf.Tensor3D,
  needStates: boolean,
): { nodePre: tf.Tensor3D[]; edgePre: tf.Tensor3D[]; dStates: tf.Tensor3D | null } {
  const nodePre: tf.Tensor3D[] = new Array(trace.nodeOutputs.length);
  let d = fusedMatMul(dOutput, required(agent.head.transposed));
  for (let l = trace.nodeOutputs.length - 1; l >= 0; l--) {
    nodePre[l] = reluBackward(d, trace.nodeOutputs[l]);
    if (l > 0) d = fusedMatMul(nodePre[l], required(agent.nodeLayers[l - 1].transposed));
  }
  if (agent.message === null) return { nodePre, edgePre: [], dStates: null };
  const edgePre: tf.Tensor3D[] = new Array(agent.edgePath.length);
  d = fusedMatMul(nodePre[0], required(agent.message.transposed));
  for (let l = agent.edgePath.length - 1; l >= 0; l--) {
    const layer = agent.edgePath[l];
    edgePre[l] = layer.relu ? reluBackward(d, trace.edgeOutputs[l]) : d;
    if (l > 0 || needStates) d = fusedMatMul(edgePre[l], required(layer.transposed));
  }
  return { nodePre, edgePre, dStates: needStates ? d : null };
}

/** Runs `body` and frees every tensor it created (tf.tidy for results that are not tensors). */
export function withTensorScope<T>(body: () => T): T {
  tf.engine().startScope();
  try {
    return body();
  } finally {
    tf.engine().endScope();
  }
}

/** The steps' [1, rows, width] tensors stacked by rows: [1, steps * rows, width]. */
function stackSteps(steps: readonly tf.Tensor3D[]): tf.Tensor3D {
  return steps.length === 1 ? steps[0] : tf.concat([...steps], 1);
}

/** [1, width, steps * rows]: the steps' inputs stacked and transposed, the left operand of a weight gradient. */
function transposedSteps(steps: readonly tf.Tensor3D[]): tf.Tensor3D {
  return tf.transpose(stackSteps(steps), [0, 2, 1]);
}

/** Sum over steps of input^T @ dPre as one matMul: the [1, in, out] weight gradient. */
function weightGradient(transposedInputs: tf.Tensor3D, stackedPre: tf.Tensor3D): tf.Tensor3D {
  return fusedMatMul(transposedInputs, stackedPre);
}

/**
 * Column sums over all rows (a bias gradient) as a matMul with a row of ones; it follows the
 * weight gradient of the same dPre, whose packing XNNPACK then reuses.
 */
function columnSum(ones: tf.Tensor3D, stackedPre: tf.Tensor3D): tf.Tensor3D {
  return fusedMatMul(ones, stackedPre);
}

/** Gradient tensors read back to plain arrays once all are computed (one read each: on wasm a read is a plain copy, cheaper than reshaping and concatenating them first). */
class Readback {
  private readonly tensors: tf.Tensor[] = [];
  private readonly consumers: ((values: Float32Array) => void)[] = [];

  add(tensor: tf.Tensor, consume: (values: Float32Array) => void): void {
    this.tensors.push(tensor);
    this.consumers.push(consume);
  }

  /** Reads every added tensor and hands each its values, in the order added. */
  flush(): void {
    this.tensors.forEach((tensor, k) => this.consumers[k](tensor.dataSync() as Float32Array));
  }
}

function dense(x: tf.Tensor3D, layer: Dense): tf.Tensor3D {
  return fusedMatMul(x, layer.weight, layer.bias ?? undefined, layer.relu ? 'relu' : 'linear');
}

/** dLoss/d(pre-activation) of a ReLU layer from dLoss/d(output) and the output itself. */
function reluBackward(dOutput: tf.Tensor3D, output: tf.Tensor3D): tf.Tensor3D {
  return tf.mul(dOutput, tf.step(output));
}

/** a [1, m, k] x b [1, k, n] (+ bias [n], then activation) through the _FusedMatMul kernel (XNNPACK on wasm). */
function fusedMatMul(a: tf.Tensor3D, b: tf.Tensor3D, bias?: tf.Tensor1D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor3D {
  const inputs: tf.NamedTensorMap = bias === undefined ? { a, b } : { a, b, bias };
  return tf.engine().runKernel(tf._FusedMatMul, inputs, { transposeA: false, transposeB: false, activation }) as tf.Tensor3D;
}

function required(tensor: tf.Tensor3D | null): tf.Tensor3D {
  if (tensor === null) throw new Error('weights were built without the transposes the backward pass needs');
  return tensor;
}
