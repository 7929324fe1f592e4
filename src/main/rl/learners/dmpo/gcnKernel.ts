/**
 * The DMPO local models (gcn.ts's header describes them) forward and backward in plain
 * typed-array JavaScript, straight on each agent's flat parameter vector (gcnLayout.ts):
 * the formulation the models fit and roll out with on the CPU backends (wasm, cpu).
 *
 * Why not tfjs there: the layers are tiny (8 to 16 units), so a tfjs op costs its fixed
 * ~14 us (shared/notes/tfjs-wasm-performance.md) more than its arithmetic, and the padded
 * joint matrices that keep the op count down (gcnPacking.ts) multiply mostly zeros (the
 * ring's head writes 5 of 110 columns). Here every agent touches only its own
 * neighbourhood's columns, the self encoder runs once for all its edges, a discrete
 * action's node-layer row is a table lookup, and a ReLU's zero inputs are skipped. Sums run
 * in float64 and activations are stored in float32: the numbers agree with the tfjs
 * formulations to float32 rounding (tests/unit/rl/learners/dmpo/gcnKernel.test.ts).
 *
 * Buffers are kept between calls and grow to the largest batch seen: no allocation per step.
 */
import type { AgentLayout, Block } from './gcnLayout.ts';
import { sigmoid, windowLoss, type WindowBatch, type WindowErrors } from './gcnLoss.ts';
import type { ModelPrediction, NetworkedGcn } from './gcn.ts';

/** One agent's activations over all steps and rows of a call, [steps * rows, width] each. */
interface AgentActivations {
  /** Per encoder slot (0: the agent itself, k + 1: neighbour k): ReLU(W s + b), width 8. */
  readonly encoded: Float32Array[];
  /** Per edge: the two ReLU hidden layers of its MLP. */
  readonly edgeHidden1: Float32Array[];
  readonly edgeHidden2: Float32Array[];
  /** The summed messages of all edges: node layer 0's message input. */
  readonly message: Float32Array;
  /** Node layers' ReLU outputs (the last is z, the heads' input). */
  readonly node: Float32Array[];
}

/** The backward pass's per-step gradients of one layer width, [rows, width]; reused by every agent. */
interface Scratch {
  readonly head: Float32Array;
  readonly node: Float32Array[];
  readonly message: Float32Array;
  readonly edgeHidden2: Float32Array;
  readonly edgeHidden1: Float32Array;
  readonly encoded: Float32Array[];
}

export class GcnKernel {
  readonly agents: number;
  readonly obsDim: number;
  private readonly stateColumns: number;
  private readonly outputWidth: number;
  private readonly discrete: boolean;
  private readonly actionWidth: number;
  private readonly nodeWidths: readonly number[];
  private readonly embeddingSize: number;
  /** Rows x steps the buffers hold. */
  private capacity = 0;
  private activations: AgentActivations[] = [];
  /** Joint states entering each step, [steps * rows, n * obsDim]. */
  private states = new Float32Array(0);
  /** Joint outputs of each step, [steps * rows, outputWidth] (gcn.ts's column layout). */
  private outputs = new Float32Array(0);
  /** dLoss/dOutput per step; its state part becomes dLoss/d(state after the step), all paths. */
  private outputGradients = new Float32Array(0);
  private scratch: Scratch | null = null;
  /** Node layer 0's row per action value (discrete: embedding x action rows), per agent. */
  private readonly actionTables: Float32Array[];
  /** dLoss/d(action table) per agent, summed over a call's rows (discrete actions). */
  private actionTableGradients: Float64Array[] = [];
  /** Each agent's parameters with every layer's weight matrix transposed ([outputs, inputs]) in place: the forward pass's dot products read them in order. */
  private readonly transposedWeights: Float64Array[];

  constructor(private readonly gcn: NetworkedGcn) {
    this.agents = gcn.agents;
    this.obsDim = gcn.obsDim;
    this.stateColumns = gcn.agents * gcn.obsDim;
    this.outputWidth = gcn.outputWidth;
    this.discrete = gcn.system.action.kind === 'discrete';
    this.actionWidth = gcn.actionWidth;
    this.embeddingSize = gcn.architecture.actionEmbeddingSize;
    this.nodeWidths = gcn.layouts[0].node.layout.layers.map((layer) => layer.outputSize);
    this.actionTables = gcn.layouts.map(() => new Float32Array(this.actionWidth * this.nodeWidths[0]));
    this.transposedWeights = gcn.layouts.map((layout) => new Float64Array(layout.size));
  }

  /** The model's errors on a batch, rolled open-loop from the start states on the real actions (NetworkedGcn.evaluate). */
  evaluate(parameters: readonly Float32Array[], batch: WindowBatch, rewardCoefficient: number): WindowErrors {
    this.roll(parameters, batch.startObservations, batch.actions, batch.windows, batch.steps);
    return windowLoss(this.gcn, batch, this.stepViews(this.outputs, batch), rewardCoefficient, null);
  }

  /** Loss and its gradient for every agent's parameters (NetworkedGcn.lossAndGradients: same loss, same backward through time). */
  lossAndGradients(parameters: readonly Float32Array[], batch: WindowBatch, rewardCoefficient: number): { errors: WindowErrors; gradients: Float32Array[] } {
    const { windows: rows, steps } = batch;
    this.roll(parameters, batch.startObservations, batch.actions, rows, steps);
    const errors = windowLoss(this.gcn, batch, this.stepViews(this.outputs, batch), rewardCoefficient, this.stepViews(this.outputGradients, batch));
    const sums = this.gcn.layouts.map((layout) => new Float64Array(layout.size));
    this.backward(parameters, batch.actions, rows, steps, sums);
    const gradients = sums.map((sum, i) => this.finishGradient(i, parameters[i], sum));
    return { errors, gradients };
  }

  /** One step on plain arrays (NetworkedGcn.predict): observations [rows, n, obsDim], actions [rows, n]. */
  predict(parameters: readonly Float32Array[], observations: Float32Array, actions: ArrayLike<number>, rows: number): ModelPrediction {
    const { agents, stateColumns, outputWidth } = this;
    if (actions.length !== rows * agents) throw new Error(`expected ${rows * agents} actions ([${rows}, ${agents}]), got ${actions.length}`);
    this.roll(parameters, observations, actions, rows, 1);
    const prediction = { nextObservations: new Float32Array(rows * stateColumns), rewards: new Float32Array(rows * agents), doneProbabilities: new Float32Array(rows * agents) };
    const output = this.outputs;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < stateColumns; k++) prediction.nextObservations[r * stateColumns + k] = observations[r * stateColumns + k] + output[r * outputWidth + k];
      for (let i = 0; i < agents; i++) {
        prediction.rewards[r * agents + i] = output[r * outputWidth + stateColumns + i];
        prediction.doneProbabilities[r * agents + i] = sigmoid(output[r * outputWidth + stateColumns + agents + i]);
      }
    }
    return prediction;
  }

  /** Per-step [rows, outputWidth] views of a joint buffer, as windowLoss takes them. */
  private stepViews(buffer: Float32Array, batch: WindowBatch): Float32Array[] {
    const size = batch.windows * this.outputWidth;
    return Array.from({ length: batch.steps }, (_, t) => buffer.subarray(t * size, (t + 1) * size));
  }

  /** Forward over `steps` steps from `start` [rows, n * obsDim] on `actions` [steps, rows, n], recording every activation. */
  private roll(parameters: readonly Float32Array[], start: Float32Array, actions: ArrayLike<number>, rows: number, steps: number): void {
    if (this.discrete) {
      for (let k = 0; k < rows * steps * this.agents; k++) {
        const a = actions[k];
        if (!Number.isInteger(a) || a < 0 || a >= this.actionWidth) throw new Error(`action ${a} is not an index below ${this.actionWidth}`);
      }
    }
    this.ensureCapacity(rows * steps);
    const { agents, stateColumns, outputWidth, states, outputs } = this;
    states.set(start.subarray(0, rows * stateColumns));
    this.gcn.layouts.forEach((layout, i) => {
      this.fillActionTable(layout, i, parameters[i]);
      transposeWeights(layout, parameters[i], this.transposedWeights[i]);
    });
    for (let t = 0; t < steps; t++) {
      const stateOffset = t * rows * stateColumns;
      const outputOffset = t * rows * outputWidth;
      for (let i = 0; i < agents; i++) this.agentForward(i, parameters[i], this.transposedWeights[i], actions, t, rows, stateOffset, outputOffset);
      if (t + 1 < steps) {
        // Residual: the next state is this state plus the predicted deltas.
        const next = stateOffset + rows * stateColumns;
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < stateColumns; k++) states[next + r * stateColumns + k] = states[stateOffset + r * stateColumns + k] + outputs[outputOffset + r * outputWidth + k];
        }
      }
    }
  }

  private agentForward(agent: number, params: Float32Array, transposed: Float64Array, actions: ArrayLike<number>, t: number, rows: number, stateOffset: number, outputOffset: number): void {
    const layout = this.gcn.layouts[agent];
    const act = this.activations[agent];
    const { obsDim, stateColumns, outputWidth, agents, states, outputs } = this;
    const degree = layout.neighbours.length;
    const nodeLayers = layout.node.layout.layers;
    const messageSize = nodeLayers[0].inputSize - (this.discrete ? this.embeddingSize : 1);
    const at = (width: number): number => t * rows * width;
    const nodes = [agent, ...layout.neighbours];
    for (let s = 0; s <= degree; s++) {
      const encoder = layout.encoders[s];
      const width = encoder.layout.layers[0].outputSize;
      dense(states, stateOffset + nodes[s] * obsDim, stateColumns, rows, params, transposed, encoder, 0, act.encoded[s], at(width), true);
    }
    const message = act.message;
    const messageAt = at(messageSize);
    message.fill(0, messageAt, messageAt + rows * messageSize);
    layout.edges.forEach((edge, k) => {
      const [first, second, last] = edge.layout.layers;
      const encoderWidth = first.inputSize / 2;
      // Edge input [h_self, h_neighbour]: the first layer's two row blocks on the two encodings.
      const hidden1 = act.edgeHidden1[k];
      setBias(hidden1, at(first.outputSize), rows, params, edge.offset + first.biasOffset, first.outputSize);
      multiplyAdd(act.encoded[0], at(encoderWidth), encoderWidth, rows, transposed, edge.offset + first.weightOffset, first.inputSize, encoderWidth, first.outputSize, hidden1, at(first.outputSize));
      multiplyAdd(act.encoded[k + 1], at(encoderWidth), encoderWidth, rows, transposed, edge.offset + first.weightOffset + encoderWidth, first.inputSize, encoderWidth, first.outputSize, hidden1, at(first.outputSize));
      relu(hidden1, at(first.outputSize), rows * first.outputSize);
      dense(hidden1, at(first.outputSize), first.outputSize, rows, params, transposed, edge, 1, act.edgeHidden2[k], at(second.outputSize), true);
      // The message of every edge adds into one sum (the node layer's input).
      multiplyAdd(act.edgeHidden2[k], at(second.outputSize), second.outputSize, rows, transposed, edge.offset + last.weightOffset, last.inputSize, last.inputSize, last.outputSize, message, messageAt);
      for (let r = 0; r < rows; r++) for (let o = 0; o < messageSize; o++) message[messageAt + r * messageSize + o] += params[edge.offset + last.biasOffset + o];
    });
    // Node layer 0: messages, the action's row, bias, ReLU.
    const node0 = nodeLayers[0];
    const width0 = node0.outputSize;
    const node0Out = act.node[0];
    const node0At = at(width0);
    setBias(node0Out, node0At, rows, params, layout.node.offset + node0.biasOffset, width0);
    if (degree > 0) multiplyAdd(message, messageAt, messageSize, rows, transposed, layout.node.offset + node0.weightOffset, node0.inputSize, messageSize, width0, node0Out, node0At);
    const table = this.actionTables[agent];
    for (let r = 0; r < rows; r++) {
      const a = actions[(t * rows + r) * agents + agent];
      const row = node0At + r * width0;
      if (this.discrete) for (let o = 0; o < width0; o++) node0Out[row + o] += table[a * width0 + o];
      else for (let o = 0; o < width0; o++) node0Out[row + o] += a * table[o];
    }
    relu(node0Out, node0At, rows * width0);
    for (let l = 1; l < nodeLayers.length; l++) {
      dense(act.node[l - 1], at(nodeLayers[l].inputSize), nodeLayers[l].inputSize, rows, params, transposed, layout.node, l, act.node[l], at(nodeLayers[l].outputSize), true);
    }
    // Heads: this agent's columns of the joint output.
    const head = layout.head.layout.layers[0];
    const z = act.node[nodeLayers.length - 1];
    const zAt = at(head.inputSize);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < head.outputSize; o++) {
        let sum = params[layout.head.offset + head.biasOffset + o];
        for (let q = 0; q < head.inputSize; q++) sum += z[zAt + r * head.inputSize + q] * params[layout.head.offset + head.weightOffset + q * head.outputSize + o];
        outputs[outputOffset + r * outputWidth + this.gcn.packing.outputColumn(agent, o)] = sum;
      }
    }
  }

  /**
   * The backward pass through time, last step first (NetworkedGcn's): per step every agent's
   * layers, then dLoss/d(state entering the step) = the direct loss term of the step before
   * + the residual path + every encoder's input gradient. Weight gradients sum into `sums`.
   */
  private backward(parameters: readonly Float32Array[], actions: ArrayLike<number>, rows: number, steps: number, sums: Float64Array[]): void {
    const { stateColumns, outputWidth, outputGradients } = this;
    for (let t = steps - 1; t >= 0; t--) {
      const outputAt = t * rows * outputWidth;
      // dStates: the gradient of the state entering step t, collected from the encoders.
      const dStates = t > 0 ? outputGradients.subarray(outputAt - rows * outputWidth, outputAt) : null;
      for (let i = 0; i < this.agents; i++) this.agentBackward(i, parameters[i], actions, t, rows, outputAt, dStates, sums[i]);
      if (dStates !== null) {
        // The residual: the state entering step t reaches step t's output state unchanged.
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < stateColumns; k++) dStates[r * outputWidth + k] += outputGradients[outputAt + r * outputWidth + k];
        }
      }
    }
  }

  private agentBackward(agent: number, params: Float32Array, actions: ArrayLike<number>, t: number, rows: number, outputAt: number, dStates: Float32Array | null, sum: Float64Array): void {
    const layout = this.gcn.layouts[agent];
    const act = this.activations[agent];
    const scratch = this.scratch!;
    const { obsDim, stateColumns, outputWidth, states, outputGradients } = this;
    const at = (width: number): number => t * rows * width;
    const nodeLayers = layout.node.layout.layers;
    const degree = layout.neighbours.length;
    // Heads: gather this agent's output columns.
    const head = layout.head.layout.layers[0];
    const dHead = scratch.head;
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < head.outputSize; o++) dHead[r * head.outputSize + o] = outputGradients[outputAt + r * outputWidth + this.gcn.packing.outputColumn(agent, o)];
    }
    const last = nodeLayers.length - 1;
    let dOut = scratch.node[last];
    denseBackward(act.node[last], at(head.inputSize), rows, params, layout.head, 0, dHead, sum, dOut);
    for (let l = last; l >= 1; l--) {
      reluMask(dOut, act.node[l], at(nodeLayers[l].outputSize), rows * nodeLayers[l].outputSize);
      denseBackward(act.node[l - 1], at(nodeLayers[l].inputSize), rows, params, layout.node, l, dOut, sum, scratch.node[l - 1]);
      dOut = scratch.node[l - 1];
    }
    // Node layer 0: dOut is dLoss/d(its ReLU output).
    const node0 = nodeLayers[0];
    const width0 = node0.outputSize;
    reluMask(dOut, act.node[0], at(width0), rows * width0);
    biasGradient(dOut, rows, width0, sum, layout.node.offset + node0.biasOffset);
    this.actionGradient(agent, params, actions, t, rows, dOut, sum);
    if (degree === 0) return;
    const messageSize = node0.inputSize - (this.discrete ? this.embeddingSize : 1);
    weightGradient(act.message, at(messageSize), messageSize, messageSize, rows, dOut, width0, sum, layout.node.offset + node0.weightOffset);
    const dMessage = scratch.message;
    multiplyTransposed(dOut, rows, params, layout.node.offset + node0.weightOffset, messageSize, width0, dMessage);
    layout.encoders.forEach((encoder, s) => scratch.encoded[s].fill(0, 0, rows * encoder.layout.layers[0].outputSize));
    layout.edges.forEach((edge, k) => {
      const [first, second, third] = edge.layout.layers;
      const encoderWidth = first.inputSize / 2;
      denseBackward(act.edgeHidden2[k], at(second.outputSize), rows, params, edge, 2, dMessage, sum, scratch.edgeHidden2);
      reluMask(scratch.edgeHidden2, act.edgeHidden2[k], at(second.outputSize), rows * third.inputSize);
      denseBackward(act.edgeHidden1[k], at(first.outputSize), rows, params, edge, 1, scratch.edgeHidden2, sum, scratch.edgeHidden1);
      const dHidden1 = scratch.edgeHidden1;
      reluMask(dHidden1, act.edgeHidden1[k], at(first.outputSize), rows * first.outputSize);
      biasGradient(dHidden1, rows, first.outputSize, sum, edge.offset + first.biasOffset);
      // The first layer's two row blocks: self encoding, neighbour encoding.
      for (const [block, slot] of [[0, 0], [1, k + 1]] as const) {
        const weightAt = edge.offset + first.weightOffset + block * encoderWidth * first.outputSize;
        weightGradient(act.encoded[slot], at(encoderWidth), encoderWidth, encoderWidth, rows, dHidden1, first.outputSize, sum, weightAt);
        multiplyTransposedAdd(dHidden1, rows, params, weightAt, encoderWidth, first.outputSize, scratch.encoded[slot]);
      }
    });
    const nodes = [agent, ...layout.neighbours];
    layout.encoders.forEach((encoder, s) => {
      const layer = encoder.layout.layers[0];
      const dEncoded = scratch.encoded[s];
      reluMask(dEncoded, act.encoded[s], at(layer.outputSize), rows * layer.outputSize);
      weightGradient(states, t * rows * stateColumns + nodes[s] * obsDim, stateColumns, obsDim, rows, dEncoded, layer.outputSize, sum, encoder.offset + layer.weightOffset);
      biasGradient(dEncoded, rows, layer.outputSize, sum, encoder.offset + layer.biasOffset);
      if (dStates === null) return;
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < obsDim; d++) {
          let value = 0;
          for (let o = 0; o < layer.outputSize; o++) value += dEncoded[r * layer.outputSize + o] * params[encoder.offset + layer.weightOffset + d * layer.outputSize + o];
          dStates[r * outputWidth + nodes[s] * obsDim + d] += value;
        }
      }
    });
  }

  /** Sums dLoss/d(node layer 0's action row) per action value (discrete) or its product with the action (continuous). */
  private actionGradient(agent: number, params: Float32Array, actions: ArrayLike<number>, t: number, rows: number, dNode0: Float32Array, sum: Float64Array): void {
    const layout = this.gcn.layouts[agent];
    const node0 = layout.node.layout.layers[0];
    const width0 = node0.outputSize;
    const firstActionRow = layout.node.offset + node0.weightOffset + (node0.inputSize - (this.discrete ? this.embeddingSize : 1)) * width0;
    // Discrete: accumulate into the rows' gradient per action value, turned into the embedding's and the action rows' at the end.
    const target = this.discrete ? this.actionTableGradients[agent] : null;
    for (let r = 0; r < rows; r++) {
      const a = actions[(t * rows + r) * this.agents + agent];
      if (target !== null) for (let o = 0; o < width0; o++) target[a * width0 + o] += dNode0[r * width0 + o];
      else for (let o = 0; o < width0; o++) sum[firstActionRow + o] += a * dNode0[r * width0 + o];
    }
  }

  /** Node layer 0's action rows of `params` as a table per action value: embedding x rows (discrete), or the one raw row. */
  private fillActionTable(layout: AgentLayout, agent: number, params: Float32Array): void {
    const node0 = layout.node.layout.layers[0];
    const width0 = node0.outputSize;
    const firstActionRow = layout.node.offset + node0.weightOffset + (node0.inputSize - (this.discrete ? this.embeddingSize : 1)) * width0;
    const table = this.actionTables[agent];
    if (!this.discrete) {
      table.set(params.subarray(firstActionRow, firstActionRow + width0));
      return;
    }
    for (let a = 0; a < this.actionWidth; a++) {
      for (let o = 0; o < width0; o++) {
        let value = 0;
        for (let e = 0; e < this.embeddingSize; e++) value += params[layout.embeddingOffset + a * this.embeddingSize + e] * params[firstActionRow + e * width0 + o];
        table[a * width0 + o] = value;
      }
    }
  }

  /** The float32 gradient of agent `agent`: the sums, plus (discrete) the embedding's and the action rows' from the table's gradient. */
  private finishGradient(agent: number, params: Float32Array, sum: Float64Array): Float32Array {
    if (this.discrete) {
      const layout = this.gcn.layouts[agent];
      const node0 = layout.node.layout.layers[0];
      const width0 = node0.outputSize;
      const size = this.embeddingSize;
      const firstActionRow = layout.node.offset + node0.weightOffset + (node0.inputSize - size) * width0;
      const dTable = this.actionTableGradients[agent];
      // table = E @ W_a, so dE = dTable @ W_a^T and dW_a = E^T @ dTable.
      for (let a = 0; a < this.actionWidth; a++) {
        for (let e = 0; e < size; e++) {
          let dE = 0;
          for (let o = 0; o < width0; o++) {
            dE += dTable[a * width0 + o] * params[firstActionRow + e * width0 + o];
            sum[firstActionRow + e * width0 + o] += params[layout.embeddingOffset + a * size + e] * dTable[a * width0 + o];
          }
          sum[layout.embeddingOffset + a * size + e] += dE;
        }
      }
      dTable.fill(0);
    }
    return Float32Array.from(sum);
  }

  /** Grows the buffers to hold `rowSteps` rows (rows x steps). */
  private ensureCapacity(rowSteps: number): void {
    if (rowSteps <= this.capacity) return;
    const n = rowSteps;
    this.capacity = n;
    this.activations = this.gcn.layouts.map((layout) => ({
      encoded: layout.encoders.map((block) => new Float32Array(n * block.layout.layers[0].outputSize)),
      edgeHidden1: layout.edges.map((block) => new Float32Array(n * block.layout.layers[0].outputSize)),
      edgeHidden2: layout.edges.map((block) => new Float32Array(n * block.layout.layers[1].outputSize)),
      message: new Float32Array(n * layout.node.layout.layers[0].inputSize),
      node: layout.node.layout.layers.map((layer) => new Float32Array(n * layer.outputSize)),
    }));
    this.states = new Float32Array(n * this.stateColumns);
    this.outputs = new Float32Array(n * this.outputWidth);
    this.outputGradients = new Float32Array(n * this.outputWidth);
    const widest = (blocks: Block[], layer: number): number => Math.max(0, ...blocks.map((block) => block.layout.layers[layer].outputSize));
    const layouts = this.gcn.layouts;
    const maxDegree = Math.max(...layouts.map((layout) => layout.neighbours.length));
    const encoderWidth = widest(layouts.flatMap((layout) => layout.encoders), 0);
    this.scratch = {
      head: new Float32Array(n * (this.obsDim + 2)),
      node: this.nodeWidths.map((width) => new Float32Array(n * width)),
      message: new Float32Array(n * layouts[0].node.layout.layers[0].inputSize),
      edgeHidden2: new Float32Array(n * widest(layouts.flatMap((layout) => layout.edges), 1)),
      edgeHidden1: new Float32Array(n * widest(layouts.flatMap((layout) => layout.edges), 0)),
      encoded: Array.from({ length: maxDegree + 1 }, () => new Float32Array(n * encoderWidth)),
    };
    this.actionTableGradients = layouts.map(() => new Float64Array(this.actionWidth * this.nodeWidths[0]));
  }
}

/** Every layer's weights of one agent's flat vector, transposed into the same offsets of `target`. */
function transposeWeights(layout: AgentLayout, params: Float32Array, target: Float64Array): void {
  for (const block of [...layout.encoders, ...layout.edges, layout.node, layout.head]) {
    for (const layer of block.layout.layers) {
      const at = block.offset + layer.weightOffset;
      for (let q = 0; q < layer.inputSize; q++) for (let o = 0; o < layer.outputSize; o++) target[at + o * layer.inputSize + q] = params[at + q * layer.outputSize + o];
    }
  }
}

/** y[r, :] = x[r, :] @ W + b (then ReLU) for layer `layer` of `block`; x rows at xAt + r * xStride. */
function dense(x: Float32Array, xAt: number, xStride: number, rows: number, params: Float32Array, transposed: Float64Array, block: Block, layer: number, y: Float32Array, yAt: number, applyRelu: boolean): void {
  const shape = block.layout.layers[layer];
  setBias(y, yAt, rows, params, block.offset + shape.biasOffset, shape.outputSize);
  multiplyAdd(x, xAt, xStride, rows, transposed, block.offset + shape.weightOffset, shape.inputSize, shape.inputSize, shape.outputSize, y, yAt);
  if (applyRelu) relu(y, yAt, rows * shape.outputSize);
}

function setBias(y: Float32Array, yAt: number, rows: number, params: Float32Array, biasAt: number, width: number): void {
  for (let r = 0; r < rows; r++) for (let o = 0; o < width; o++) y[yAt + r * width + o] = params[biasAt + o];
}

/**
 * y[r, :] += x[r, :] @ W, from W^T: output o's weights at transposed[weightAt + o * stride],
 * `inputs` of them (a row block of a wider layer has stride > inputs). Four outputs at a
 * time, their sums in registers: the inner loop only loads.
 */
function multiplyAdd(x: Float32Array, xAt: number, xStride: number, rows: number, transposed: Float64Array, weightAt: number, stride: number, inputs: number, outputs: number, y: Float32Array, yAt: number): void {
  const blocked = outputs - (outputs % 4);
  for (let r = 0; r < rows; r++) {
    const xRow = xAt + r * xStride;
    const yRow = yAt + r * outputs;
    let o = 0;
    for (; o < blocked; o += 4) {
      const w0 = weightAt + o * stride;
      const w1 = w0 + stride;
      const w2 = w1 + stride;
      const w3 = w2 + stride;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let q = 0; q < inputs; q++) {
        const value = x[xRow + q];
        s0 += value * transposed[w0 + q];
        s1 += value * transposed[w1 + q];
        s2 += value * transposed[w2 + q];
        s3 += value * transposed[w3 + q];
      }
      y[yRow + o] += s0;
      y[yRow + o + 1] += s1;
      y[yRow + o + 2] += s2;
      y[yRow + o + 3] += s3;
    }
    for (; o < outputs; o++) {
      const w = weightAt + o * stride;
      let sum = 0;
      for (let q = 0; q < inputs; q++) sum += x[xRow + q] * transposed[w + q];
      y[yRow + o] += sum;
    }
  }
}

function relu(y: Float32Array, from: number, count: number): void {
  for (let k = from; k < from + count; k++) if (y[k] < 0) y[k] = 0;
}

/** dy[k] = 0 where the layer's ReLU output y was 0 (dy is [rows, width] from 0; y's rows start at yAt). */
function reluMask(dy: Float32Array, y: Float32Array, yAt: number, count: number): void {
  for (let k = 0; k < count; k++) if (y[yAt + k] <= 0) dy[k] = 0;
}

/**
 * Backward of layer `layer` of `block` given dLoss/d(its pre-activation) `dy` [rows, width]:
 * its weight and bias gradients into `sum`, dLoss/d(its input) into dx.
 */
function denseBackward(x: Float32Array, xAt: number, rows: number, params: Float32Array, block: Block, layer: number, dy: Float32Array, sum: Float64Array, dx: Float32Array): void {
  const shape = block.layout.layers[layer];
  weightGradient(x, xAt, shape.inputSize, shape.inputSize, rows, dy, shape.outputSize, sum, block.offset + shape.weightOffset);
  biasGradient(dy, rows, shape.outputSize, sum, block.offset + shape.biasOffset);
  multiplyTransposed(dy, rows, params, block.offset + shape.weightOffset, shape.inputSize, shape.outputSize, dx);
}

/**
 * sum[W] += x^T @ dy: the weight gradient [inputs, outputs] summed over the rows (x rows at
 * xAt + r * xStride); four outputs at a time, their sums in registers.
 */
function weightGradient(x: Float32Array, xAt: number, xStride: number, inputs: number, rows: number, dy: Float32Array, outputs: number, sum: Float64Array, weightAt: number): void {
  const blocked = outputs - (outputs % 4);
  for (let q = 0; q < inputs; q++) {
    const wRow = weightAt + q * outputs;
    let o = 0;
    for (; o < blocked; o += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let r = 0; r < rows; r++) {
        const value = x[xAt + r * xStride + q];
        const d = r * outputs + o;
        s0 += value * dy[d];
        s1 += value * dy[d + 1];
        s2 += value * dy[d + 2];
        s3 += value * dy[d + 3];
      }
      sum[wRow + o] += s0;
      sum[wRow + o + 1] += s1;
      sum[wRow + o + 2] += s2;
      sum[wRow + o + 3] += s3;
    }
    for (; o < outputs; o++) {
      let total = 0;
      for (let r = 0; r < rows; r++) total += x[xAt + r * xStride + q] * dy[r * outputs + o];
      sum[wRow + o] += total;
    }
  }
}

function biasGradient(dy: Float32Array, rows: number, width: number, sum: Float64Array, biasAt: number): void {
  for (let r = 0; r < rows; r++) for (let o = 0; o < width; o++) sum[biasAt + o] += dy[r * width + o];
}

/** dx[r, :] = dy[r, :] @ W^T. */
function multiplyTransposed(dy: Float32Array, rows: number, params: Float32Array, weightAt: number, inputs: number, outputs: number, dx: Float32Array): void {
  dx.fill(0, 0, rows * inputs);
  multiplyTransposedAdd(dy, rows, params, weightAt, inputs, outputs, dx);
}

/** dx[r, :] += dy[r, :] @ W^T. */
function multiplyTransposedAdd(dy: Float32Array, rows: number, params: Float32Array, weightAt: number, inputs: number, outputs: number, dx: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < inputs; q++) {
      let value = 0;
      const wRow = weightAt + q * outputs;
      for (let o = 0; o < outputs; o++) value += dy[r * outputs + o] * params[wRow + o];
      dx[r * inputs + q] += value;
    }
  }
}
