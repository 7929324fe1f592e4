/**
 * The DMPO local models in the batched formulation (formulation.ts): all agents' models run
 * as one model with a leading agent axis, so every layer of every agent is one batched op
 * per step, forward and backward, whatever the number of agents. On a GPU per-dispatch
 * overhead, not arithmetic, limits the per-agent path (gcn.ts: a few kernels per layer,
 * agent and step); here a layer costs the same handful of dispatches for 2 or 200 agents.
 *
 * The model and its padding are gcn.ts's: each agent's padded matrices (gcnPacking.ts) are
 * stacked into [n, rows, columns] tensors, zero-padded to the largest neighbourhood (a
 * chain end has one edge, a middle agent two). A padded edge's weights are zero, so its
 * encoder outputs, hidden units and message are exactly zero, change nothing, and give its
 * weights exactly zero gradient; only each agent's own block of a stacked gradient is
 * scattered back into its flat vector (gcnPacking.ts, as for the per-agent path). The joint
 * state and action are shared by all agents and broadcast over the agent axis; the agents'
 * contributions to the joint output (each writes only its own columns) are summed.
 *
 * Every read is asynchronous (`await data()`: tfjs-webgpu cannot read synchronously under
 * Node), and everything one call computes comes back in one read per pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readAndDispose } from '../../nn/fastMlp.ts';
import { withTensorScope, type NetworkedGcn, type WindowBatch, type WindowErrors } from './gcn.ts';
import { splitColumns, windowLoss, type LossWeights } from './gcnLoss.ts';
import type { AgentArrays, DenseArrays } from './gcnPacking.ts';

/** One layer of every agent: weight [n, rows, columns], bias [n, 1, columns]; `sizes[i]`: agent i's own block, top left. */
interface StackedDense {
  readonly weight: tf.Tensor3D;
  readonly bias: tf.Tensor3D | null;
  readonly relu: boolean;
  readonly sizes: { readonly rows: number; readonly columns: number }[];
}

/** All agents' models stacked; `edgePath` and `message` are absent when no agent has a neighbour. */
interface StackedModel {
  readonly edgePath: StackedDense[];
  readonly message: StackedDense | null;
  readonly action: StackedDense;
  readonly nodeLayers: StackedDense[];
  readonly head: StackedDense;
}

/** One step's layer outputs, [n, rows, width] each, kept for the backward pass. */
interface StepTrace {
  readonly edgeOutputs: tf.Tensor3D[];
  readonly nodeOutputs: tf.Tensor3D[];
}

/** An open-loop roll: per step the joint state and action inputs ([1, rows, width]), the joint output and the layer outputs. */
interface BatchedRoll {
  readonly model: StackedModel;
  readonly states: tf.Tensor3D[];
  readonly actionInputs: tf.Tensor3D[];
  readonly outputs: tf.Tensor3D[];
  readonly traces: StepTrace[];
}

/** The batched formulation of NetworkedGcn's evaluate and lossAndGradients: same model, same loss, same gradients. */
export class BatchedGcn {
  constructor(readonly gcn: NetworkedGcn) {}

  /** The model's errors on a batch, rolled open-loop from the start states on the real actions. */
  async evaluate(parameters: readonly Float32Array[], batch: WindowBatch, lossWeights: LossWeights): Promise<WindowErrors> {
    const { roll, outputs } = await this.forward(parameters, batch);
    disposeRoll(roll);
    return windowLoss(this.gcn, batch, outputs, lossWeights, null);
  }

  /** Loss and its gradient for every agent's parameters, as NetworkedGcn.lossAndGradients computes them. */
  async lossAndGradients(parameters: readonly Float32Array[], batch: WindowBatch, lossWeights: LossWeights): Promise<{ errors: WindowErrors; gradients: Float32Array[] }> {
    const { gcn } = this;
    const { roll, outputs } = await this.forward(parameters, batch);
    try {
      const outputGradients = outputs.map(() => new Float32Array(batch.windows * gcn.outputWidth));
      const errors = windowLoss(gcn, batch, outputs, lossWeights, outputGradients);
      const values = await readAndDispose(tf.tidy(() => this.weightGradients(roll, outputGradients, batch.windows)));
      return { errors, gradients: this.scatter(parameters, roll.model, values) };
    } finally {
      disposeRoll(roll);
    }
  }

  /** The open-loop roll (kept: the caller disposes it) and the joint output of every step, read in one transfer. */
  private async forward(parameters: readonly Float32Array[], batch: WindowBatch): Promise<{ roll: BatchedRoll; outputs: Float32Array[] }> {
    const roll = withTensorScope(() => {
      const roll = this.roll(parameters, batch);
      rollTensors(roll).forEach((tensor) => tf.keep(tensor));
      return roll;
    });
    try {
      const values = await readAndDispose(tf.concat(roll.outputs, 0));
      const width = batch.windows * this.gcn.outputWidth;
      return { roll, outputs: roll.outputs.map((_, t) => values.subarray(t * width, (t + 1) * width)) };
    } catch (error) {
      disposeRoll(roll);
      throw error;
    }
  }

  /** The stacked model and its open-loop roll over the batch's steps. Call inside a tensor scope. */
  private roll(parameters: readonly Float32Array[], batch: WindowBatch): BatchedRoll {
    const { gcn } = this;
    const rows = batch.windows;
    const stateColumns = gcn.agents * gcn.obsDim;
    const model = this.stackedModel(parameters);
    const states: tf.Tensor3D[] = [tf.tensor3d(batch.startObservations, [1, rows, stateColumns])];
    const actionInputs: tf.Tensor3D[] = [];
    const outputs: tf.Tensor3D[] = [];
    const traces: StepTrace[] = [];
    for (let t = 0; t < batch.steps; t++) {
      const actions = batch.actions.subarray(t * rows * gcn.agents, (t + 1) * rows * gcn.agents);
      actionInputs.push(tf.tensor3d(gcn.encodeActions(actions, rows), [1, rows, gcn.agents * gcn.actionWidth]));
      const trace: StepTrace = { edgeOutputs: [], nodeOutputs: [] };
      const output = step(model, states[t], actionInputs[t], trace);
      traces.push(trace);
      outputs.push(output);
      if (t + 1 < batch.steps) states.push(tf.add(states[t], tf.slice(output, [0, 0, 0], [1, rows, stateColumns])));
    }
    return { model, states, actionInputs, outputs, traces };
  }

  /** Every agent's padded matrices (gcnPacking.ts), stacked and zero-padded to the largest. */
  private stackedModel(parameters: readonly Float32Array[]): StackedModel {
    const { gcn } = this;
    const arrays: AgentArrays[] = gcn.layouts.map((layout, agent) => gcn.packing.agentArrays(layout, agent, parameters[agent]));
    const withEdges = arrays.filter((agent) => agent.message !== null);
    const edgeLayers = withEdges.length === 0 ? 0 : withEdges[0].edgePath.length;
    return {
      edgePath: Array.from({ length: edgeLayers }, (_, l) => stackDense(arrays.map((agent) => agent.edgePath[l] ?? null))),
      message: withEdges.length === 0 ? null : stackDense(arrays.map((agent) => agent.message)),
      action: stackDense(arrays.map((agent) => agent.action)),
      nodeLayers: arrays[0].nodeLayers.map((_, l) => stackDense(arrays.map((agent) => agent.nodeLayers[l]))),
      head: stackDense(arrays.map((agent) => agent.head)),
    };
  }

  /**
   * The backward pass through time (as NetworkedGcn's, every agent at once), then every
   * weight and bias gradient summed over the steps, one batched matMul or sum per layer,
   * flattened into one [n, total] tensor in `gradientPieces` order. Call inside tf.tidy.
   */
  private weightGradients(roll: BatchedRoll, outputGradients: readonly Float32Array[], rows: number): tf.Tensor2D {
    const { gcn } = this;
    const { model, traces } = roll;
    const steps = outputGradients.length;
    const stateColumns = gcn.agents * gcn.obsDim;
    const direct = outputGradients.map((g) => splitColumns(g, rows, gcn.outputWidth, stateColumns));
    const dOutputs: tf.Tensor3D[] = new Array<tf.Tensor3D>(steps);
    const nodePre: tf.Tensor3D[][] = new Array<tf.Tensor3D[]>(steps);
    const edgePre: tf.Tensor3D[][] = new Array<tf.Tensor3D[]>(steps);
    // dNext: dLoss/d(joint state after step t), all paths.
    let dNext: tf.Tensor3D = tf.tensor3d(direct[steps - 1].left, [1, rows, stateColumns]);
    for (let t = steps - 1; t >= 0; t--) {
      dOutputs[t] = tf.concat([dNext, tf.tensor3d(direct[t].right, [1, rows, gcn.outputWidth - stateColumns])], 2);
      const backward = stepBackward(model, traces[t], dOutputs[t], t > 0);
      nodePre[t] = backward.nodePre;
      edgePre[t] = backward.edgePre;
      if (t > 0) {
        // The state after step t-1 fed step t's encoders, the residual, and the loss directly.
        const directLoss = tf.tensor3d(direct[t - 1].left, [1, rows, stateColumns]);
        dNext = backward.dStates === null ? tf.add(directLoss, dNext) : tf.addN([directLoss, dNext, backward.dStates]);
      }
    }
    const overSteps = (perStep: readonly tf.Tensor3D[]): tf.Tensor3D => (perStep.length === 1 ? perStep[0] : tf.concat([...perStep], 1));
    const dOutputStack = overSteps(dOutputs);
    const agents = gcn.agents;
    const pieces: tf.Tensor2D[] = [];
    // input^T @ dPre summed over the steps' rows: [n, in, out], one row per agent; the bias: dPre's column sums.
    const addLayer = (inputs: tf.Tensor3D, pre: tf.Tensor3D, withBias: boolean): void => {
      const weight = tf.matMul(inputs, pre, true, false);
      pieces.push(tf.reshape(tf.broadcastTo(weight, [agents, inputs.shape[2], pre.shape[2]]), [agents, -1]));
      if (withBias) pieces.push(tf.reshape(tf.broadcastTo(tf.sum(pre, 1), [agents, pre.shape[2]]), [agents, -1]));
    };
    const node0Pre = overSteps(nodePre.map((perStep) => perStep[0]));
    addLayer(overSteps(roll.actionInputs), node0Pre, true);
    if (model.message !== null) {
      const pathLength = model.edgePath.length;
      addLayer(overSteps(traces.map((trace) => trace.edgeOutputs[pathLength - 1])), node0Pre, false);
      for (let l = 0; l < pathLength; l++) {
        const inputs = l === 0 ? overSteps(roll.states) : overSteps(traces.map((trace) => trace.edgeOutputs[l - 1]));
        addLayer(inputs, overSteps(edgePre.map((perStep) => perStep[l])), true);
      }
    }
    model.nodeLayers.forEach((_, l) => addLayer(overSteps(traces.map((trace) => trace.nodeOutputs[l])), overSteps(nodePre.map((perStep) => perStep[l + 1])), true));
    addLayer(overSteps(traces.map((trace) => trace.nodeOutputs[model.nodeLayers.length])), dOutputStack, true);
    return tf.concat(pieces, 1);
  }

  /** Each agent's flat gradient from its row of the read gradients, through gcnPacking's scatters. */
  private scatter(parameters: readonly Float32Array[], model: StackedModel, values: Float32Array): Float32Array[] {
    const { gcn } = this;
    const { packing } = gcn;
    const total = values.length / gcn.agents;
    return gcn.layouts.map((layout, i) => {
      const target = new Float32Array(layout.size);
      let at = i * total;
      // This agent's top-left block of the next [rows, columns] piece, and the first `count` of the bias after it.
      const weightOf = (layer: StackedDense): Float32Array => {
        const [, rows, columns] = layer.weight.shape;
        const own = block(values.subarray(at, at + rows * columns), columns, layer.sizes[i].rows, layer.sizes[i].columns);
        at += rows * columns;
        return own;
      };
      const biasOf = (layer: StackedDense): Float32Array => {
        const columns = layer.weight.shape[2];
        const own = values.slice(at, at + layer.sizes[i].columns);
        at += columns;
        return own;
      };
      const node0 = layout.node.layout.layers[0];
      packing.scatterAction(i, parameters[i], target, weightOf(model.action));
      target.set(biasOf(model.action), layout.node.offset + node0.biasOffset);
      if (model.message !== null) {
        const message = weightOf(model.message);
        if (layout.neighbours.length > 0) packing.scatterMessage(layout, target, message);
        model.edgePath.forEach((layer, l) => {
          const weight = weightOf(layer);
          const bias = biasOf(layer);
          if (layout.neighbours.length === 0) return;
          packing.scatterEdgeLayer(i, l, target, weight, 'weight');
          packing.scatterEdgeLayer(i, l, target, bias, 'bias');
        });
      }
      model.nodeLayers.forEach((layer, l) => {
        const shape = layout.node.layout.layers[l + 1];
        target.set(weightOf(layer), layout.node.offset + shape.weightOffset);
        target.set(biasOf(layer), layout.node.offset + shape.biasOffset);
      });
      packing.scatterHead(i, target, weightOf(model.head));
      packing.scatterHeadBias(i, target, biasOf(model.head));
      return target;
    });
  }
}

/** One model step of every agent: the joint output [1, rows, outputWidth], the layer outputs into `trace`. */
function step(model: StackedModel, states: tf.Tensor3D, actionInputs: tf.Tensor3D, trace: StepTrace): tf.Tensor3D {
  let nodeInput = dense(actionInputs, model.action);
  if (model.message !== null) {
    let x = states;
    for (const layer of model.edgePath) {
      x = dense(x, layer);
      trace.edgeOutputs.push(x);
    }
    nodeInput = tf.add(nodeInput, tf.matMul(x, model.message.weight));
  }
  let z: tf.Tensor3D = tf.relu(nodeInput);
  trace.nodeOutputs.push(z);
  for (const layer of model.nodeLayers) {
    z = dense(z, layer);
    trace.nodeOutputs.push(z);
  }
  // Each agent's head writes only its own columns: the joint output is the sum over agents.
  return tf.sum(dense(z, model.head), 0, true);
}

/**
 * Backward pass of every agent at one step from dLoss/d(joint output): dLoss/d(pre-activation)
 * of every node and edge-path layer ([n, rows, width]) and, when asked, dLoss/d(joint state)
 * through the encoders, summed over the agents.
 */
function stepBackward(model: StackedModel, trace: StepTrace, dOutput: tf.Tensor3D, needStates: boolean): { nodePre: tf.Tensor3D[]; edgePre: tf.Tensor3D[]; dStates: tf.Tensor3D | null } {
  const nodePre: tf.Tensor3D[] = new Array<tf.Tensor3D>(trace.nodeOutputs.length);
  let d: tf.Tensor3D = tf.matMul(dOutput, model.head.weight, false, true);
  for (let l = trace.nodeOutputs.length - 1; l >= 0; l--) {
    nodePre[l] = tf.mul(d, tf.step(trace.nodeOutputs[l]));
    if (l > 0) d = tf.matMul(nodePre[l], model.nodeLayers[l - 1].weight, false, true);
  }
  if (model.message === null) return { nodePre, edgePre: [], dStates: null };
  const edgePre: tf.Tensor3D[] = new Array<tf.Tensor3D>(model.edgePath.length);
  d = tf.matMul(nodePre[0], model.message.weight, false, true);
  for (let l = model.edgePath.length - 1; l >= 0; l--) {
    const layer = model.edgePath[l];
    edgePre[l] = layer.relu ? tf.mul(d, tf.step(trace.edgeOutputs[l])) : d;
    if (l > 0 || needStates) d = tf.matMul(edgePre[l], layer.weight, false, true);
  }
  return { nodePre, edgePre, dStates: needStates ? tf.sum<tf.Tensor3D>(d, 0, true) : null };
}

/** x [1 or n, rows, in] through one layer of every agent: [n, rows, out]. Not fused: wasm's fused kernel refuses a per-agent bias. */
function dense(x: tf.Tensor3D, layer: StackedDense): tf.Tensor3D {
  const affine: tf.Tensor3D = tf.matMul(x, layer.weight);
  const biased: tf.Tensor3D = layer.bias === null ? affine : tf.add(affine, layer.bias);
  return layer.relu ? tf.relu(biased) : biased;
}

/** The agents' layers (null: an agent without that layer) stacked, each zero-padded to the largest, top left. */
function stackDense(layers: readonly (DenseArrays | null)[]): StackedDense {
  const present = layers.filter((layer): layer is DenseArrays => layer !== null);
  const rows = Math.max(...present.map((layer) => layer.rows));
  const columns = Math.max(...present.map((layer) => layer.columns));
  const weight = new Float32Array(layers.length * rows * columns);
  const withBias = present[0].bias !== null;
  const bias = new Float32Array(withBias ? layers.length * columns : 0);
  layers.forEach((layer, i) => {
    if (layer === null) return;
    for (let r = 0; r < layer.rows; r++) weight.set(layer.weight.subarray(r * layer.columns, (r + 1) * layer.columns), (i * rows + r) * columns);
    if (layer.bias !== null) bias.set(layer.bias, i * columns);
  });
  return {
    weight: tf.tensor3d(weight, [layers.length, rows, columns]),
    bias: withBias ? tf.tensor3d(bias, [layers.length, 1, columns]) : null,
    relu: present[0].relu,
    sizes: layers.map((layer) => ({ rows: layer?.rows ?? 0, columns: layer?.columns ?? 0 })),
  };
}

/** The top-left [rows, columns] block of a row-major matrix `width` columns wide. */
function block(values: Float32Array, width: number, rows: number, columns: number): Float32Array {
  const own = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) own.set(values.subarray(r * width, r * width + columns), r * columns);
  return own;
}

/** Every tensor a roll holds: the stacked model, the steps' inputs and outputs, the layer outputs. */
function rollTensors(roll: BatchedRoll): tf.Tensor[] {
  const { model } = roll;
  const layers = [...model.edgePath, ...(model.message === null ? [] : [model.message]), model.action, ...model.nodeLayers, model.head];
  return [
    ...layers.flatMap((layer) => (layer.bias === null ? [layer.weight] : [layer.weight, layer.bias])),
    ...roll.states,
    ...roll.actionInputs,
    ...roll.outputs,
    ...roll.traces.flatMap((trace) => [...trace.edgeOutputs, ...trace.nodeOutputs]),
  ];
}

function disposeRoll(roll: BatchedRoll): void {
  tf.dispose(rollTensors(roll));
}
