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
 * Zero padding costs a few wasted multiply-adds; each saved op saves ~5-15 us.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActionSpace } from '../../../sim/env.ts';
import type { AgentGraph } from '../../../sim/graph.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { initialParameters, MlpLayout } from '../../nn/parameters.ts';

export interface GcnArchitecture {
  /** Units of the node encoder h_j = ReLU(W s_j + b). Spec: 8. */
  readonly nodeEncoderSize: number;
  /** ReLU hidden layers of each edge MLP. Spec: [16, 16]. */
  readonly edgeHiddenSizes: readonly number[];
  /** Output size of an edge MLP (linear): the message. Spec: 12. */
  readonly messageSize: number;
  /** ReLU hidden layers of the node MLP. Spec: [16, 16]. */
  readonly nodeHiddenSizes: readonly number[];
  /** ReLU output of the node MLP, input of the three heads. Spec: 8. */
  readonly nodeOutputSize: number;
  /** Size of a discrete action's learned embedding (continuous actions enter raw). Spec: 4. */
  readonly actionEmbeddingSize: number;
}

export const SPEC_ARCHITECTURE: GcnArchitecture = {
  nodeEncoderSize: 8,
  edgeHiddenSizes: [16, 16],
  messageSize: 12,
  nodeHiddenSizes: [16, 16],
  nodeOutputSize: 8,
  actionEmbeddingSize: 4,
};

/** What the models are of: the agent graph and each agent's observation and action. */
export interface ModelSystem {
  readonly graph: AgentGraph;
  readonly obsDim: number;
  /** One action per agent: a discrete index or a continuous value (the environment's contract). */
  readonly action: ActionSpace;
}

/** A named run of one agent's flat parameter vector, row-major. */
export interface ParameterSegment {
  readonly name: string;
  readonly offset: number;
  readonly shape: readonly number[];
}

/** One piece of an agent's model: an MLP layout placed at an offset of its flat vector. */
interface Block {
  readonly offset: number;
  readonly layout: MlpLayout;
}

/** Where each piece of one agent's model sits in its flat parameter vector. */
export class AgentLayout {
  /** N_i^1 without i, in the gather order (by distance, then index). */
  readonly neighbours: readonly number[];
  /** Slot 0 encodes the agent itself, slot k + 1 its neighbour k. */
  readonly encoders: readonly Block[];
  readonly edges: readonly Block[];
  /** Offset of the [actionCount, actionEmbeddingSize] embedding table; -1 for continuous actions. */
  readonly embeddingOffset: number;
  readonly node: Block;
  /** Columns: state delta (obsDim), reward, done logit. */
  readonly head: Block;
  readonly size: number;

  constructor(graph: AgentGraph, agent: number, obsDim: number, action: ActionSpace, architecture: GcnArchitecture) {
    const a = architecture;
    this.neighbours = graph.neighbourhood(agent, 1).slice(1);
    let offset = 0;
    const block = (inputSize: number, hiddenSizes: readonly number[], outputSize: number): Block => {
      const layout = new MlpLayout({ inputSize, hiddenSizes, outputSize, extraSize: 0 });
      const placed = { offset, layout };
      offset += layout.size;
      return placed;
    };
    this.encoders = Array.from({ length: this.neighbours.length + 1 }, () => block(obsDim, [], a.nodeEncoderSize));
    this.edges = this.neighbours.map(() => block(2 * a.nodeEncoderSize, a.edgeHiddenSizes, a.messageSize));
    if (action.kind === 'discrete') {
      this.embeddingOffset = offset;
      offset += action.n * a.actionEmbeddingSize;
    } else {
      this.embeddingOffset = -1;
    }
    const actionFeatures = action.kind === 'discrete' ? a.actionEmbeddingSize : 1;
    this.node = block(a.messageSize + actionFeatures, a.nodeHiddenSizes, a.nodeOutputSize);
    this.head = block(a.nodeOutputSize, [], obsDim + 2);
    this.size = offset;
  }
}

/** One dense layer as tensors: y = act(x @ weight + bias); `transposed` serves the backward pass. */
interface Dense {
  readonly weight: tf.Tensor3D;
  readonly bias: tf.Tensor1D | null;
  readonly transposed: tf.Tensor3D | null;
  readonly relu: boolean;
}

/** One agent's model as tensors, padded and stacked as described in the file header. */
interface AgentTensors {
  /** Encoders, then the block-diagonal edge layers; empty for an agent without neighbours. */
  readonly edgePath: readonly Dense[];
  /** Node layer 0's message rows, stacked once per edge (no bias); null without neighbours. */
  readonly message: Dense | null;
  /** Node layer 0's action rows at this agent's columns of the joint action input, with node layer 0's bias. */
  readonly action: Dense;
  /** Node layers 1 and up. */
  readonly nodeLayers: readonly Dense[];
  /** The three heads at this agent's columns of the joint output. */
  readonly head: Dense;
}

/** The model's output for a batch of rows: row-major [rows, n * obsDim], [rows, n], [rows, n]. */
export interface ModelPrediction {
  readonly nextObservations: Float32Array;
  readonly rewards: Float32Array;
  readonly doneProbabilities: Float32Array;
}

/**
 * Open-loop training windows: `steps` consecutive real transitions from `windows` start
 * states. Layouts are step-major so that each step is one contiguous block.
 */
export interface WindowBatch {
  readonly windows: number;
  readonly steps: number;
  /** [windows, n, obsDim]. */
  readonly startObservations: Float32Array;
  /** [steps, windows, n]: the real actions. */
  readonly actions: Float32Array;
  /** [steps, windows, n, obsDim]: the real next observations. */
  readonly nextObservations: Float32Array;
  /** [steps, windows, n]. */
  readonly rewards: Float32Array;
  /** [steps, windows, n]: 1 where the transition ended the episode for real. */
  readonly terminals: Float32Array;
}

/** The model's errors on a window batch (means over steps, windows, agents and features). */
export interface WindowErrors {
  readonly stateMse: number;
  /** Variance of the target observations per feature (pooled over steps, windows, agents), averaged over features. */
  readonly stateVariance: number;
  readonly rewardMse: number;
  readonly rewardVariance: number;
  /** Binary cross-entropy of the done predictions. */
  readonly doneLoss: number;
  /** MSE(s) + rewardCoefficient * MSE(r) + BCE(d): the training loss. */
  readonly loss: number;
}

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
    return this.layouts.map((layout, agent) => this.agentTensors(layout, agent, parameters[agent], withTransposes));
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
  evaluate(parameters: readonly Float32Array[], batch: WindowBatch, rewardCoefficient: number): WindowErrors {
    const outputs = withTensorScope(() => {
      const weights = this.buildWeights(parameters, false);
      return this.roll(weights, batch).outputs.map((output) => output.dataSync() as Float32Array);
    });
    return this.lossTerms(batch, outputs, rewardCoefficient, null);
  }

  /**
   * Loss and its gradient for every agent's parameters: forward roll over the window,
   * dLoss/dOutput in plain arithmetic, then the backward pass through time and through the
   * neighbours' predicted states (they are the other agents' outputs of the same roll, so a
   * neighbour's later error reaches agent i's weights, as in the reference's joint model).
   */
  lossAndGradients(parameters: readonly Float32Array[], batch: WindowBatch, rewardCoefficient: number): { errors: WindowErrors; gradients: Float32Array[] } {
    const gradients = this.layouts.map((layout) => new Float32Array(layout.size));
    const errors = withTensorScope(() => {
      const weights = this.buildWeights(parameters, true);
      const forward = this.roll(weights, batch);
      const outputGradients = forward.outputs.map(() => new Float32Array(batch.windows * this.outputWidth));
      const outputValues = forward.outputs.map((output) => output.dataSync() as Float32Array);
      const errors = this.lossTerms(batch, outputValues, rewardCoefficient, outputGradients);
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
    readback.add(columnSum(ones, dOutputStack), (sums) => this.layouts.forEach((_, i) => this.scatterHeadBias(i, gradients[i], sums)));
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
      readback.add(weightGradient(actionsT, node0Pre), (padded) => this.scatterAction(i, parameters[i], target, padded));
      readback.add(columnSum(ones, node0Pre), setAt(layout.node.offset + node0.biasOffset));
      if (agent.message !== null) {
        const pathLength = agent.edgePath.length;
        readback.add(weightGradient(edgeInputT(pathLength), node0Pre), (stacked) => this.scatterMessage(layout, target, stacked));
        for (let l = 0; l < pathLength; l++) {
          const pre = edgePre(l);
          readback.add(weightGradient(edgeInputT(l), pre), (weight) => this.scatterEdgeLayer(i, l, target, weight, 'weight'));
          readback.add(columnSum(ones, pre), (bias) => this.scatterEdgeLayer(i, l, target, bias, 'bias'));
        }
      }
      agent.nodeLayers.forEach((_, l) => {
        const pre = nodePre(l + 1);
        const layer = layout.node.layout.layers[l + 1];
        readback.add(weightGradient(nodeInputT(l), pre), setAt(layout.node.offset + layer.weightOffset));
        readback.add(columnSum(ones, pre), setAt(layout.node.offset + layer.biasOffset));
      });
      readback.add(weightGradient(nodeInputT(agent.nodeLayers.length), dOutputStack), (padded) => this.scatterHead(i, target, padded));
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

  /**
   * Loss terms from the outputs of every step; with `outputGradients`, also writes
   * dLoss/dOutput per step ([rows, outputWidth], the state part before the recurrent terms).
   */
  private lossTerms(batch: WindowBatch, outputs: readonly Float32Array[], rewardCoefficient: number, outputGradients: Float32Array[] | null): WindowErrors {
    const { agents, obsDim, outputWidth } = this;
    const rows = batch.windows;
    const stateColumns = agents * obsDim;
    const stateCount = batch.steps * rows * stateColumns;
    const agentCount = batch.steps * rows * agents;
    const stateVariance = meanFeatureVariance(batch.nextObservations, obsDim);
    const rewardVariance = meanFeatureVariance(batch.rewards, 1);
    let stateSse = 0;
    let rewardSse = 0;
    let doneSum = 0;
    // The predicted state after step t: the start state plus the predicted deltas so far.
    const predicted = batch.startObservations.slice();
    for (let t = 0; t < batch.steps; t++) {
      const output = outputs[t];
      const gradient = outputGradients?.[t];
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < stateColumns; k++) {
          predicted[r * stateColumns + k] += output[r * outputWidth + k];
          const error = predicted[r * stateColumns + k] - batch.nextObservations[(t * rows + r) * stateColumns + k];
          stateSse += error * error;
          if (gradient !== undefined) gradient[r * outputWidth + k] = (2 * error) / stateCount;
        }
        for (let i = 0; i < agents; i++) {
          const target = (t * rows + r) * agents + i;
          const rewardError = output[r * outputWidth + stateColumns + i] - batch.rewards[target];
          rewardSse += rewardError * rewardError;
          const logit = output[r * outputWidth + stateColumns + agents + i];
          const label = batch.terminals[target];
          doneSum += softplus(logit) - label * logit;
          if (gradient !== undefined) {
            gradient[r * outputWidth + stateColumns + i] = (2 * rewardCoefficient * rewardError) / agentCount;
            gradient[r * outputWidth + stateColumns + agents + i] = (sigmoid(logit) - label) / agentCount;
          }
        }
      }
    }
    const stateMse = stateSse / stateCount;
    const rewardMse = rewardSse / agentCount;
    const doneLoss = doneSum / agentCount;
    return { stateMse, stateVariance, rewardMse, rewardVariance, doneLoss, loss: stateMse + rewardCoefficient * rewardMse + doneLoss };
  }

  private agentTensors(layout: AgentLayout, agent: number, params: Float32Array, withTransposes: boolean): AgentTensors {
    const { obsDim, agents, actionWidth, architecture } = this;
    const degree = layout.neighbours.length;
    const make = (weight: Float32Array, rows: number, columns: number, bias: Float32Array | null, relu: boolean): Dense => ({
      weight: tf.tensor3d(weight, [1, rows, columns]),
      bias: bias === null ? null : tf.tensor1d(bias),
      transposed: withTransposes ? tf.tensor3d(transpose(weight, rows, columns), [1, columns, rows]) : null,
      relu,
    });
    const encoderSize = architecture.nodeEncoderSize;
    const nodeLayers = layout.node.layout.layers;
    const node0 = nodeLayers[0];
    const nodeWidth = node0.outputSize;

    // Node layer 0, action rows: embedding table x action rows (discrete) or the action row itself.
    const actionRows = this.actionRowsOfNode0(layout, params);
    const action = new Float32Array(agents * actionWidth * nodeWidth);
    action.set(actionRows, agent * actionWidth * nodeWidth);
    const node0Bias = params.subarray(layout.node.offset + node0.biasOffset, layout.node.offset + node0.biasOffset + nodeWidth);

    const edgePath: Dense[] = [];
    let message: Dense | null = null;
    if (degree > 0) {
      // All encoders of the agent's edges in one matrix over the joint state: edge k's input
      // columns are [h_self, h_neighbour k].
      const stateColumns = agents * obsDim;
      const edgeInput = 2 * encoderSize;
      const encoder = new Float32Array(stateColumns * degree * edgeInput);
      const encoderBias = new Float32Array(degree * edgeInput);
      for (let k = 0; k < degree; k++) {
        const place = (slot: number, node: number, column: number): void => {
          const block = layout.encoders[slot];
          const layer = block.layout.layers[0];
          for (let d = 0; d < obsDim; d++) {
            for (let e = 0; e < encoderSize; e++) {
              encoder[(node * obsDim + d) * degree * edgeInput + column + e] = params[block.offset + layer.weightOffset + d * encoderSize + e];
            }
          }
          encoderBias.set(params.subarray(block.offset + layer.biasOffset, block.offset + layer.biasOffset + encoderSize), column);
        };
        place(0, agent, k * edgeInput);
        place(k + 1, layout.neighbours[k], k * edgeInput + encoderSize);
      }
      edgePath.push(make(encoder, stateColumns, degree * edgeInput, encoderBias, true));
      const edgeLayers = layout.edges[0].layout.layers;
      edgeLayers.forEach((shape, l) => {
        const rows = degree * shape.inputSize;
        const columns = degree * shape.outputSize;
        const weight = new Float32Array(rows * columns);
        const bias = new Float32Array(columns);
        layout.edges.forEach((block, k) => {
          const layer = block.layout.layers[l];
          for (let r = 0; r < shape.inputSize; r++) {
            const from = block.offset + layer.weightOffset + r * shape.outputSize;
            weight.set(params.subarray(from, from + shape.outputSize), (k * shape.inputSize + r) * columns + k * shape.outputSize);
          }
          bias.set(params.subarray(block.offset + layer.biasOffset, block.offset + layer.biasOffset + shape.outputSize), k * shape.outputSize);
        });
        edgePath.push(make(weight, rows, columns, bias, l + 1 < edgeLayers.length));
      });
      // Node layer 0, message rows, once per edge: the matMul sums the messages.
      const messageSize = architecture.messageSize;
      const messageRows = params.subarray(layout.node.offset + node0.weightOffset, layout.node.offset + node0.weightOffset + messageSize * nodeWidth);
      const stacked = new Float32Array(degree * messageSize * nodeWidth);
      for (let k = 0; k < degree; k++) stacked.set(messageRows, k * messageSize * nodeWidth);
      message = make(stacked, degree * messageSize, nodeWidth, null, true);
    }

    const nodeDense = nodeLayers.slice(1).map((layer) =>
      make(
        params.slice(layout.node.offset + layer.weightOffset, layout.node.offset + layer.weightOffset + layer.inputSize * layer.outputSize),
        layer.inputSize,
        layer.outputSize,
        params.slice(layout.node.offset + layer.biasOffset, layout.node.offset + layer.biasOffset + layer.outputSize),
        true,
      ),
    );

    // Heads at this agent's columns of the joint output.
    const headLayer = layout.head.layout.layers[0];
    const head = new Float32Array(headLayer.inputSize * this.outputWidth);
    const headBias = new Float32Array(this.outputWidth);
    for (let o = 0; o < obsDim + 2; o++) {
      const column = this.outputColumn(agent, o);
      for (let r = 0; r < headLayer.inputSize; r++) head[r * this.outputWidth + column] = params[layout.head.offset + headLayer.weightOffset + r * (obsDim + 2) + o];
      headBias[column] = params[layout.head.offset + headLayer.biasOffset + o];
    }
    return {
      edgePath,
      message,
      // The forward adds the message matMul before the ReLU, so this matMul itself is linear.
      action: { weight: tf.tensor3d(action, [1, agents * actionWidth, nodeWidth]), bias: tf.tensor1d(node0Bias.slice()), transposed: null, relu: false },
      nodeLayers: nodeDense,
      head: make(head, headLayer.inputSize, this.outputWidth, headBias, false),
    };
  }

  /** Column of the joint output that holds agent `agent`'s head output `o` (state features, reward, done). */
  private outputColumn(agent: number, o: number): number {
    const { agents, obsDim } = this;
    if (o < obsDim) return agent * obsDim + o;
    return agents * obsDim + (o - obsDim) * agents + agent;
  }

  /** Node layer 0's weights for the action input, [actionWidth, nodeWidth]: embedding x rows, or the raw rows. */
  private actionRowsOfNode0(layout: AgentLayout, params: Float32Array): Float32Array {
    const node0 = layout.node.layout.layers[0];
    const nodeWidth = node0.outputSize;
    const firstActionRow = layout.node.offset + node0.weightOffset + this.architecture.messageSize * nodeWidth;
    if (layout.embeddingOffset < 0) return params.slice(firstActionRow, firstActionRow + nodeWidth);
    const embedding = params.subarray(layout.embeddingOffset, layout.embeddingOffset + this.actionWidth * this.architecture.actionEmbeddingSize);
    return multiply(embedding, params.subarray(firstActionRow, firstActionRow + this.architecture.actionEmbeddingSize * nodeWidth), this.actionWidth, this.architecture.actionEmbeddingSize, nodeWidth);
  }

  /** Gradients of node layer 0's action rows (and of the embedding), from the padded action matrix's gradient. */
  private scatterAction(agent: number, params: Float32Array, target: Float32Array, padded: Float32Array): void {
    const layout = this.layouts[agent];
    const node0 = layout.node.layout.layers[0];
    const nodeWidth = node0.outputSize;
    const rowsGradient = padded.subarray(agent * this.actionWidth * nodeWidth, (agent + 1) * this.actionWidth * nodeWidth);
    const firstActionRow = layout.node.offset + node0.weightOffset + this.architecture.messageSize * nodeWidth;
    if (layout.embeddingOffset < 0) {
      target.set(rowsGradient, firstActionRow);
      return;
    }
    // rows = E @ W_a, so dE = dRows @ W_a^T and dW_a = E^T @ dRows.
    const embeddingSize = this.architecture.actionEmbeddingSize;
    const embedding = params.subarray(layout.embeddingOffset, layout.embeddingOffset + this.actionWidth * embeddingSize);
    const actionWeights = params.subarray(firstActionRow, firstActionRow + embeddingSize * nodeWidth);
    target.set(multiply(rowsGradient, transpose(actionWeights, embeddingSize, nodeWidth), this.actionWidth, nodeWidth, embeddingSize), layout.embeddingOffset);
    target.set(multiply(transpose(embedding, this.actionWidth, embeddingSize), rowsGradient, embeddingSize, this.actionWidth, nodeWidth), firstActionRow);
  }

  /** Node layer 0's message rows appear once per edge: their gradient is the sum of the blocks. */
  private scatterMessage(layout: AgentLayout, target: Float32Array, stacked: Float32Array): void {
    const node0 = layout.node.layout.layers[0];
    const blockSize = this.architecture.messageSize * node0.outputSize;
    const offset = layout.node.offset + node0.weightOffset;
    for (let k = 0; k < layout.neighbours.length; k++) {
      for (let q = 0; q < blockSize; q++) target[offset + q] += stacked[k * blockSize + q];
    }
  }

  /**
   * Weight or bias gradient of layer l of the edge path (0: the padded encoders, then the
   * block-diagonal edge layers) into the agent's flat layout.
   */
  private scatterEdgeLayer(agent: number, l: number, target: Float32Array, values: Float32Array, part: 'weight' | 'bias'): void {
    const layout = this.layouts[agent];
    const degree = layout.neighbours.length;
    if (l === 0) {
      const { obsDim } = this;
      const encoderSize = this.architecture.nodeEncoderSize;
      const edgeInput = 2 * encoderSize;
      const columns = degree * edgeInput;
      // The self encoder serves every edge: its gradient sums over them.
      const gather = (slot: number, node: number, column: number): void => {
        const block = layout.encoders[slot];
        const layer = block.layout.layers[0];
        if (part === 'bias') {
          for (let e = 0; e < encoderSize; e++) target[block.offset + layer.biasOffset + e] += values[column + e];
          return;
        }
        for (let d = 0; d < obsDim; d++) {
          for (let e = 0; e < encoderSize; e++) target[block.offset + layer.weightOffset + d * encoderSize + e] += values[(node * obsDim + d) * columns + column + e];
        }
      };
      for (let k = 0; k < degree; k++) {
        gather(0, agent, k * edgeInput);
        gather(k + 1, layout.neighbours[k], k * edgeInput + encoderSize);
      }
      return;
    }
    const shape = layout.edges[0].layout.layers[l - 1];
    const columns = degree * shape.outputSize;
    layout.edges.forEach((block, k) => {
      const layer = block.layout.layers[l - 1];
      if (part === 'bias') {
        target.set(values.subarray(k * shape.outputSize, (k + 1) * shape.outputSize), block.offset + layer.biasOffset);
        return;
      }
      for (let r = 0; r < shape.inputSize; r++) {
        const from = (k * shape.inputSize + r) * columns + k * shape.outputSize;
        target.set(values.subarray(from, from + shape.outputSize), block.offset + layer.weightOffset + r * shape.outputSize);
      }
    });
  }

  /** The head weights' gradient: this agent's columns of the padded head's gradient. */
  private scatterHead(agent: number, target: Float32Array, padded: Float32Array): void {
    const layout = this.layouts[agent];
    const headLayer = layout.head.layout.layers[0];
    const outputs = this.obsDim + 2;
    for (let o = 0; o < outputs; o++) {
      const column = this.outputColumn(agent, o);
      for (let r = 0; r < headLayer.inputSize; r++) target[layout.head.offset + headLayer.weightOffset + r * outputs + o] = padded[r * this.outputWidth + column];
    }
  }

  /** The head bias gradient: this agent's columns of the joint output gradient's column sums. */
  private scatterHeadBias(agent: number, target: Float32Array, outputSums: Float32Array): void {
    const layout = this.layouts[agent];
    const biasOffset = layout.head.offset + layout.head.layout.layers[0].biasOffset;
    for (let o = 0; o < this.obsDim + 2; o++) target[biasOffset + o] = outputSums[this.outputColumn(agent, o)];
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

/** Splits each row of a [rows, width] array at `at`: left [rows, at], right [rows, width - at]. */
function splitColumns(values: Float32Array, rows: number, width: number, at: number): { left: Float32Array; right: Float32Array } {
  const left = new Float32Array(rows * at);
  const right = new Float32Array(rows * (width - at));
  for (let r = 0; r < rows; r++) {
    left.set(values.subarray(r * width, r * width + at), r * at);
    right.set(values.subarray(r * width + at, (r + 1) * width), r * (width - at));
  }
  return { left, right };
}

/** Population variance of each of `features` interleaved features, averaged over features. */
function meanFeatureVariance(values: Float32Array, features: number): number {
  const count = values.length / features;
  let total = 0;
  for (let f = 0; f < features; f++) {
    let sum = 0;
    for (let k = f; k < values.length; k += features) sum += values[k];
    const mean = sum / count;
    let squares = 0;
    for (let k = f; k < values.length; k += features) squares += (values[k] - mean) ** 2;
    total += squares / count;
  }
  return total / features;
}

/** Row-major [rows, columns] -> [columns, rows]. */
function transpose(values: ArrayLike<number>, rows: number, columns: number): Float32Array {
  const result = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
  return result;
}

/** [m, k] x [k, n] on plain arrays (tiny: embedding tables). */
function multiply(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float32Array {
  const result = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < k; q++) {
      const aiq = a[i * k + q];
      for (let j = 0; j < n; j++) result[i * n + j] += aiq * b[q * n + j];
    }
  }
  return result;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Seed of one block of one agent's parameters: unrelated streams per block (RngStreams hashes its seed). */
function blockSeed(seed: number, agent: number, block: number): number {
  return seed + (agent * 64 + block + 1) * 1_000_003;
}
