/**
 * Packing of the DMPO local models' flat parameter vectors into the padded, stacked tensors
 * of the networked forward pass (gcn.ts's header says how), and of the padded tensors'
 * gradients back into each agent's flat layout.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AgentLayout, GcnArchitecture } from './gcnLayout.ts';

/** One dense layer as tensors: y = act(x @ weight + bias); `transposed` serves the backward pass. */
export interface Dense {
  readonly weight: tf.Tensor3D;
  readonly bias: tf.Tensor1D | null;
  readonly transposed: tf.Tensor3D | null;
  readonly relu: boolean;
}

/** One agent's model as tensors, padded and stacked as described in the file header. */
export interface AgentTensors {
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

/** One dense layer as plain arrays: weight row-major [rows, columns], bias [columns]. */
export interface DenseArrays {
  readonly weight: Float32Array;
  readonly rows: number;
  readonly columns: number;
  readonly bias: Float32Array | null;
  readonly relu: boolean;
}

/** One agent's padded model as plain arrays, in AgentTensors' structure. */
export interface AgentArrays {
  readonly edgePath: readonly DenseArrays[];
  readonly message: DenseArrays | null;
  readonly action: DenseArrays;
  readonly nodeLayers: readonly DenseArrays[];
  readonly head: DenseArrays;
}

/** The shapes packing needs: the agents' layouts and the joint input and output widths. */
export class GcnPacking {
  constructor(
    readonly layouts: readonly AgentLayout[],
    readonly agents: number,
    readonly obsDim: number,
    /** Width of one agent's part of the joint action input: one-hot width, or 1 for a continuous action. */
    readonly actionWidth: number,
    /** Columns of the joint output: n * obsDim state deltas, n rewards, n done logits. */
    readonly outputWidth: number,
    readonly architecture: GcnArchitecture,
  ) {}

  /** Agent `agent`'s model as padded tensors from its flat vector; `withTransposes` adds what the backward pass needs. */
  agentTensors(layout: AgentLayout, agent: number, params: Float32Array, withTransposes: boolean): AgentTensors {
    const arrays = this.agentArrays(layout, agent, params);
    const dense = (layer: DenseArrays, transposed: boolean): Dense => ({
      weight: tf.tensor3d(layer.weight, [1, layer.rows, layer.columns]),
      bias: layer.bias === null ? null : tf.tensor1d(layer.bias),
      transposed: transposed ? tf.tensor3d(transpose(layer.weight, layer.rows, layer.columns), [1, layer.columns, layer.rows]) : null,
      relu: layer.relu,
    });
    return {
      edgePath: arrays.edgePath.map((layer) => dense(layer, withTransposes)),
      message: arrays.message === null ? null : dense(arrays.message, withTransposes),
      // The backward pass stops at node layer 0's action rows: no transpose.
      action: dense(arrays.action, false),
      nodeLayers: arrays.nodeLayers.map((layer) => dense(layer, withTransposes)),
      head: dense(arrays.head, withTransposes),
    };
  }

  /** Agent `agent`'s model as padded arrays from its flat vector (see the file header of gcn.ts). */
  agentArrays(layout: AgentLayout, agent: number, params: Float32Array): AgentArrays {
    const { obsDim, agents, actionWidth, architecture } = this;
    const degree = layout.neighbours.length;
    const make = (weight: Float32Array, rows: number, columns: number, bias: Float32Array | null, relu: boolean): DenseArrays => ({ weight, rows, columns, bias, relu });
    const encoderSize = architecture.nodeEncoderSize;
    const nodeLayers = layout.node.layout.layers;
    const node0 = nodeLayers[0];
    const nodeWidth = node0.outputSize;

    // Node layer 0, action rows: embedding table x action rows (discrete) or the action row itself.
    const actionRows = this.actionRowsOfNode0(layout, params);
    const action = new Float32Array(agents * actionWidth * nodeWidth);
    action.set(actionRows, agent * actionWidth * nodeWidth);
    const node0Bias = params.subarray(layout.node.offset + node0.biasOffset, layout.node.offset + node0.biasOffset + nodeWidth);

    const edgePath: DenseArrays[] = [];
    let message: DenseArrays | null = null;
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
      action: make(action, agents * actionWidth, nodeWidth, node0Bias.slice(), false),
      nodeLayers: nodeDense,
      head: make(head, headLayer.inputSize, this.outputWidth, headBias, false),
    };
  }

  /** Column of the joint output that holds agent `agent`'s head output `o` (state features, reward, done). */
  outputColumn(agent: number, o: number): number {
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
  scatterAction(agent: number, params: Float32Array, target: Float32Array, padded: Float32Array): void {
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
  scatterMessage(layout: AgentLayout, target: Float32Array, stacked: Float32Array): void {
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
  scatterEdgeLayer(agent: number, l: number, target: Float32Array, values: Float32Array, part: 'weight' | 'bias'): void {
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
  scatterHead(agent: number, target: Float32Array, padded: Float32Array): void {
    const layout = this.layouts[agent];
    const headLayer = layout.head.layout.layers[0];
    const outputs = this.obsDim + 2;
    for (let o = 0; o < outputs; o++) {
      const column = this.outputColumn(agent, o);
      for (let r = 0; r < headLayer.inputSize; r++) target[layout.head.offset + headLayer.weightOffset + r * outputs + o] = padded[r * this.outputWidth + column];
    }
  }

  /** The head bias gradient: this agent's columns of the joint output gradient's column sums. */
  scatterHeadBias(agent: number, target: Float32Array, outputSums: Float32Array): void {
    const layout = this.layouts[agent];
    const biasOffset = layout.head.offset + layout.head.layout.layers[0].biasOffset;
    for (let o = 0; o < this.obsDim + 2; o++) target[biasOffset + o] = outputSums[this.outputColumn(agent, o)];
  }
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
