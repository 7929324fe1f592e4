/**
 * Forward and backward passes of G parameter groups' MLPs (one layout, one weight set per
 * group) in one batched op per layer: the GPU formulation of shared/specs/algorithms.md
 * ("GPU backends"). On a GPU per-dispatch overhead, not arithmetic, limits the per-agent
 * path (fastMlp.ts: ~4 kernels per layer and group); here a layer of all groups is one
 * batched matMul over stacked weights [G, in, out], whatever G is.
 *
 * The groups' flat vectors (parameters.ts) stay the truth: every call uploads them as one
 * [G, size] tensor and slices it into layers, so there is no second copy of a network to
 * keep in step. Agents whose neighbourhood is smaller (a platoon end) arrive with
 * zero-padded inputs (NeighbourhoodGather), so the weights reading the padding get exactly
 * zero gradient. The backward pass is written out (tfjs-core registers no gradients under
 * Node), with transposed batched matMuls: on a GPU transposes cost nothing extra.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MlpLayout } from './parameters.ts';

/** Layer inputs kept for the backward pass, and the output [G, rows, outputSize]. */
export interface BatchedForward {
  readonly layerInputs: tf.Tensor3D[];
  readonly output: tf.Tensor3D;
}

/** The groups' flat vectors stacked row by row into `into` ([G, layout.size]) and uploaded. */
export function stackedParameters(layout: MlpLayout, params: readonly Float32Array[], into: Float32Array): tf.Tensor2D {
  params.forEach((vector, g) => into.set(vector, g * layout.size));
  return tf.tensor2d(into, [params.length, layout.size]);
}

/** Forward pass of every group on its rows: inputs [G, rows, inputSize]. Call inside tf.tidy. */
export function batchedForward(layout: MlpLayout, stacked: tf.Tensor2D, inputs: tf.Tensor3D): BatchedForward {
  const layerInputs: tf.Tensor3D[] = [];
  let h = inputs;
  layout.layers.forEach((layer, l) => {
    layerInputs.push(h);
    // Not tf.fused.matMul: wasm's fused kernel refuses a per-group (rank > 1) bias.
    const weights = layerWeights(stacked, layer.weightOffset, layer.inputSize, layer.outputSize);
    const bias = tf.reshape(tf.slice(stacked, [0, layer.biasOffset], [-1, layer.outputSize]), [-1, 1, layer.outputSize]);
    const affine: tf.Tensor3D = tf.add(tf.matMul(h, weights), bias);
    h = l + 1 < layout.layers.length ? tf.relu(affine) : affine;
  });
  return { layerInputs, output: h };
}

/**
 * Backward pass from dLoss/dOutput ([G, rows, outputSize]): every group's layer gradients
 * as [G, layout.extraOffset], each row in the flat layout's order (per layer the weight
 * gradient [in, out], then the bias gradient). Call inside tf.tidy.
 */
export function batchedBackward(layout: MlpLayout, stacked: tf.Tensor2D, forward: BatchedForward, dOutput: tf.Tensor3D): tf.Tensor2D {
  const layers = layout.layers;
  const groups = dOutput.shape[0];
  const pieces: tf.Tensor2D[] = new Array<tf.Tensor2D>(layers.length);
  // dLoss / d(pre-activation) of the layer being processed
  let dPre = dOutput;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const input = forward.layerInputs[l];
    const dWeights: tf.Tensor2D = tf.reshape(tf.matMul(input, dPre, true, false), [groups, layer.inputSize * layer.outputSize]);
    pieces[l] = tf.concat([dWeights, tf.sum<tf.Tensor2D>(dPre, 1)], 1);
    if (l > 0) {
      const dInput = tf.matMul(dPre, layerWeights(stacked, layer.weightOffset, layer.inputSize, layer.outputSize), false, true);
      // ReLU backward: the layer input is a ReLU output, positive exactly where it passed
      dPre = tf.mul(dInput, tf.step(input));
    }
  }
  return tf.concat(pieces, 1);
}

function layerWeights(stacked: tf.Tensor2D, offset: number, inputSize: number, outputSize: number): tf.Tensor3D {
  return tf.reshape(tf.slice(stacked, [0, offset], [-1, inputSize * outputSize]), [-1, inputSize, outputSize]);
}
