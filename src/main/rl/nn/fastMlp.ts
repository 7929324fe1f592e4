/**
 * Forward and backward passes of one MLP (one agent's, or one shared group's) on a batch,
 * written for the wasm backend's fast path (see shared/notes/tfjs-wasm-performance.md):
 *
 * - Every matMul is rank 3 with batch 1 and neither operand transposed: the only form wasm
 *   sends to XNNPACK. Backward matMuls take explicitly transposed operands instead.
 * - Forward layers call the _FusedMatMul kernel directly (matMul + 1-D bias + ReLU in one
 *   pass); tf.fused.matMul would unfuse whenever gradients are being recorded.
 * - No autodiff tape at all: the loss supplies dLoss/dOutput (computed by hand), and the
 *   backward pass below is explicit.
 * - XNNPACK packs the right operand of every matMul (about as costly as the multiply for a
 *   [rows, 64] operand) and caches the packing per tensor. So the right operand is a small
 *   weight matrix where possible; the first layer's gradient multiplies by the (constant,
 *   hence cached across epochs) inputs; and bias gradients reuse the packing of the same
 *   layer's weight-gradient matMul instead of a reduction (reductions over rows transpose).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MlpLayout } from './parameters.ts';

/** A batch's input-side tensors; the full batch keeps one across all epochs. */
export interface MlpBatch {
  readonly rows: number;
  /** [1, rows, inputSize]. */
  readonly inputs: tf.Tensor3D;
  /** [1, rows, inputSize + 1]: inputs and a column of ones, so one matMul yields the first layer's weight and bias gradients. */
  readonly augmentedInputs: tf.Tensor3D;
  /** [1, 1, rows] of ones: column sums as a matMul. */
  readonly ones: tf.Tensor3D;
}

/** Builds the tensors of `rows` input rows (row-major [rows, inputSize]); dispose with disposeMlpBatch. */
export function createMlpBatch(inputs: Float32Array, rows: number, inputSize: number): MlpBatch {
  const augmented = new Float32Array(rows * (inputSize + 1));
  for (let r = 0; r < rows; r++) {
    augmented.set(inputs.subarray(r * inputSize, (r + 1) * inputSize), r * (inputSize + 1));
    augmented[r * (inputSize + 1) + inputSize] = 1;
  }
  return {
    rows,
    inputs: tf.tensor3d(inputs.subarray(0, rows * inputSize), [1, rows, inputSize]),
    augmentedInputs: tf.tensor3d(augmented, [1, rows, inputSize + 1]),
    ones: tf.ones([1, 1, rows]),
  };
}

export function disposeMlpBatch(batch: MlpBatch): void {
  tf.dispose([batch.inputs, batch.augmentedInputs, batch.ones]);
}

/** The network's output for the batch inputs ([1, rows, inputSize]), row-major [rows, outputSize]. */
export function mlpForward(layout: MlpLayout, params: Float32Array, inputs: tf.Tensor3D): Float32Array {
  const output = tf.tidy(() => forwardLayers(layout, params, inputs).output);
  try {
    return output.dataSync() as Float32Array;
  } finally {
    output.dispose();
  }
}

/**
 * mlpForward read back asynchronously: the form the update uses, since the webgpu backend
 * cannot read synchronously under Node (its dataSync needs a browser's OffscreenCanvas).
 */
export async function mlpForwardAsync(layout: MlpLayout, params: Float32Array, inputs: tf.Tensor3D): Promise<Float32Array> {
  return readAndDispose(tf.tidy(() => forwardLayers(layout, params, inputs).output));
}

/**
 * One gradient evaluation: forward pass, `outputGradient` (dLoss/dOutput by hand, row-major
 * [rows, outputSize]), backward pass. Writes the layers' gradients into `gradient` (the flat
 * layout; extra parameters are left to the caller). When `outputGradient` returns null (an
 * early stop) the backward pass is skipped and the result is false. Two reads per call
 * (the output, then every gradient in one flat tensor): each read is a device round trip on
 * a GPU backend.
 */
export async function mlpGradient(
  layout: MlpLayout,
  params: Float32Array,
  batch: MlpBatch,
  outputGradient: (output: Float32Array) => Float32Array | null,
  gradient: Float32Array,
): Promise<boolean> {
  const forward = tf.tidy(() => {
    const { layerInputs, output } = forwardLayers(layout, params, batch.inputs);
    return { layerInputs: layerInputs.slice(1).map((input) => tf.keep(input)), output: tf.keep(output) };
  });
  let flat: tf.Tensor1D;
  try {
    const dOutput = outputGradient(await forward.output.data<'float32'>());
    if (dOutput === null) return false;
    flat = tf.tidy(() => backwardLayers(layout, params, batch, forward.layerInputs, dOutput));
  } finally {
    tf.dispose([forward.output, ...forward.layerInputs]);
  }
  const values = await readAndDispose(flat);
  // values: per layer from the last down to the second, weight then bias gradient; then the first layer's combined block
  let at = 0;
  const layers = layout.layers;
  for (let l = layers.length - 1; l > 0; l--) {
    const { weightOffset, biasOffset, inputSize, outputSize } = layers[l];
    gradient.set(values.subarray(at, at + inputSize * outputSize), weightOffset);
    at += inputSize * outputSize;
    gradient.set(values.subarray(at, at + outputSize), biasOffset);
    at += outputSize;
  }
  // [hidden, inputSize + 1]: the first layer's weight gradient transposed, then its bias gradient
  const first = layers[0];
  const width = first.inputSize + 1;
  for (let o = 0; o < first.outputSize; o++) {
    for (let i = 0; i < first.inputSize; i++) gradient[first.weightOffset + i * first.outputSize + o] = values[at + o * width + i];
    gradient[first.biasOffset + o] = values[at + o * width + first.inputSize];
  }
  return true;
}

/** Backward pass from dLoss/dOutput; every gradient flattened into one tensor (order: see mlpGradient). Call inside tf.tidy. */
function backwardLayers(layout: MlpLayout, params: Float32Array, batch: MlpBatch, hiddenInputs: tf.Tensor3D[], dOutput: Float32Array): tf.Tensor1D {
  const layers = layout.layers;
  const pieces: tf.Tensor[] = [];
  // dLoss / d(pre-activation) of the layer being processed, [1, rows, outputSize of it]
  let dPre: tf.Tensor3D = tf.tensor3d(dOutput, [1, batch.rows, layout.shape.outputSize]);
  for (let l = layers.length - 1; l > 0; l--) {
    const layer = layers[l];
    const input = hiddenInputs[l - 1];
    pieces.push(matMul(tf.transpose(input, [0, 2, 1]), dPre), matMul(batch.ones, dPre));
    const dInput = matMul(dPre, transposedWeights(params, layer.weightOffset, layer.inputSize, layer.outputSize));
    // ReLU backward: the layer input is a ReLU output, positive exactly where it passed
    dPre = tf.mul(dInput, tf.step(input));
  }
  pieces.push(matMul(tf.transpose(dPre, [0, 2, 1]), batch.augmentedInputs));
  return tf.concat(pieces.map((piece) => tf.reshape(piece, [-1])));
}

/** Reads a tensor back asynchronously (the only read webgpu offers under Node), then frees it. */
export async function readAndDispose(tensor: tf.Tensor): Promise<Float32Array> {
  try {
    return await tensor.data<'float32'>();
  } finally {
    tensor.dispose();
  }
}

/** Forward pass; keeps every layer's input for the backward pass. Call inside tf.tidy. */
function forwardLayers(
  layout: MlpLayout,
  params: Float32Array,
  inputs: tf.Tensor3D,
): { layerInputs: tf.Tensor3D[]; output: tf.Tensor3D } {
  const layerInputs: tf.Tensor3D[] = [];
  let h = inputs;
  layout.layers.forEach((layer, l) => {
    layerInputs.push(h);
    const weights = tf.tensor3d(
      params.subarray(layer.weightOffset, layer.weightOffset + layer.inputSize * layer.outputSize),
      [1, layer.inputSize, layer.outputSize],
    );
    const bias = tf.tensor1d(params.subarray(layer.biasOffset, layer.biasOffset + layer.outputSize));
    h = matMul(h, weights, bias, l + 1 < layout.layers.length ? 'relu' : 'linear');
  });
  return { layerInputs, output: h };
}

/** [1, out, in] copy of the [in, out] weights at `offset`: backward matMuls stay non-transposed. */
function transposedWeights(params: Float32Array, offset: number, inputSize: number, outputSize: number): tf.Tensor3D {
  const transposed = new Float32Array(inputSize * outputSize);
  for (let i = 0; i < inputSize; i++) {
    for (let o = 0; o < outputSize; o++) transposed[o * inputSize + i] = params[offset + i * outputSize + o];
  }
  return tf.tensor3d(transposed, [1, outputSize, inputSize]);
}

/** a [1, m, k] x b [1, k, n] (+ bias [n], then activation) through the _FusedMatMul kernel. */
function matMul(a: tf.Tensor3D, b: tf.Tensor3D, bias?: tf.Tensor1D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor3D {
  const inputs: tf.NamedTensorMap = bias === undefined ? { a, b } : { a, b, bias };
  return tf.engine().runKernel(tf._FusedMatMul, inputs, { transposeA: false, transposeB: false, activation }) as tf.Tensor3D;
}
