/**
 * The two formulations of an update's gradient evaluations, and the one place that picks
 * between them per backend (shared/specs/algorithms.md, "GPU backends"):
 *
 * - 'per-agent': one group after another through the fused 2-D path (fastMlp.ts), the
 *   answer to per-op overhead and batched matMuls running a scalar loop on wasm and cpu;
 * - 'batched': every group at once, one batched op per layer (batchedMlp.ts), the answer to
 *   per-dispatch overhead on a GPU (webgpu, tfjs-node-gpu on CUDA).
 *
 * Both evaluate the same loss (the caller's dLoss/dOutput, computed once in losses.ts) on the
 * same rows and write gradients into the same flat layout, so the optimiser loop above them
 * is one, and a test can force either on any backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendReport } from './backend.ts';
import { batchedBackward, batchedForward, stackedParameters, type BatchedForward } from './batchedMlp.ts';
import { createMlpBatch, disposeMlpBatch, mlpForwardAsync, mlpGradient, readAndDispose, type MlpBatch } from './fastMlp.ts';
import type { MlpLayout } from './parameters.ts';

export const UPDATE_FORMULATIONS = ['per-agent', 'batched'] as const;
export type UpdateFormulation = (typeof UPDATE_FORMULATIONS)[number];

/** The formulation an update takes on `backend`: batched on a GPU, per-agent on a CPU. */
export function formulationFor(backend: Pick<BackendReport, 'backend' | 'device'>): UpdateFormulation {
  return backend.backend === 'webgpu' || (backend.backend === 'tensorflow' && backend.device === 'CUDA GPU') ? 'batched' : 'per-agent';
}

/**
 * dLoss/dOutput of group g from its network's output on the step's rows (row-major
 * [rows, outputSize]); null skips that group's backward pass (an early stop).
 */
export type OutputGradient = (group: number, output: Float32Array) => Float32Array | null;

/** Gradient evaluations of G groups of one layout on their own rows (group-major inputs, the same row count per group). */
export interface GroupGradients {
  /**
   * One evaluation of each group g with active[g], on its rows rowIndex[g] (the full batch:
   * all rows in order): forward pass, `outputGradient`, backward pass into gradients[g]
   * (the layers' part; extra parameters are the caller's). Returns whether each group's
   * gradient was written.
   */
  step(
    params: readonly Float32Array[],
    rowIndex: readonly Int32Array[],
    active: readonly boolean[],
    outputGradient: OutputGradient,
    gradients: readonly Float32Array[],
  ): Promise<boolean[]>;
  /** Each group's output on all its rows (null where not wanted[g]). */
  forward(params: readonly Float32Array[], wanted: readonly boolean[]): Promise<(Float32Array | null)[]>;
  dispose(): void;
}

/**
 * The gradient evaluations of `groups` groups whose rows are `inputs` ([groups, rows,
 * inputSize]); `fullBatch` keeps the full batch's input tensors for every step.
 */
export function groupGradients(formulation: UpdateFormulation, layout: MlpLayout, inputs: Float32Array, groups: number, rows: number, fullBatch: boolean): GroupGradients {
  const expected = groups * rows * layout.shape.inputSize;
  if (inputs.length !== expected) throw new Error(`inputs have ${inputs.length} values, expected ${expected}`);
  const source = { layout, inputs, groups, rows, fullBatch };
  return formulation === 'batched' ? new BatchedGradients(source) : new PerAgentGradients(source);
}

/** What a job's gradient evaluations read: see groupGradients. */
interface GroupInputs {
  readonly layout: MlpLayout;
  readonly inputs: Float32Array;
  readonly groups: number;
  readonly rows: number;
  readonly fullBatch: boolean;
}

/** Group g's rows of `inputs` in `rowIndex` order, written into `into` at group slot `slot`. */
function gatherRows(inputs: Float32Array, inputSize: number, rows: number, g: number, rowIndex: Int32Array, into: Float32Array, slot: number): void {
  const base = g * rows;
  const at = slot * rowIndex.length * inputSize;
  rowIndex.forEach((row, r) => into.set(inputs.subarray((base + row) * inputSize, (base + row + 1) * inputSize), at + r * inputSize));
}

class PerAgentGradients implements GroupGradients {
  private readonly inputSize: number;
  /** Per group, the full batch's tensors (kept across epochs: XNNPACK caches its packing of them). */
  private readonly full: MlpBatch[];

  constructor(private readonly source: GroupInputs) {
    this.inputSize = source.layout.shape.inputSize;
    this.full = source.fullBatch ? Array.from({ length: source.groups }, (_, g) => createMlpBatch(this.groupInputs(g), source.rows, this.inputSize)) : [];
  }

  async step(params: readonly Float32Array[], rowIndex: readonly Int32Array[], active: readonly boolean[], outputGradient: OutputGradient, gradients: readonly Float32Array[]): Promise<boolean[]> {
    const written = new Array<boolean>(this.source.groups).fill(false);
    for (let g = 0; g < this.source.groups; g++) {
      if (!active[g]) continue;
      const batch = this.full[g] ?? this.minibatch(g, rowIndex[g]);
      try {
        written[g] = await mlpGradient(this.source.layout, params[g], batch, (output) => outputGradient(g, output), gradients[g]);
      } finally {
        if (batch !== this.full[g]) disposeMlpBatch(batch);
      }
    }
    return written;
  }

  async forward(params: readonly Float32Array[], wanted: readonly boolean[]): Promise<(Float32Array | null)[]> {
    const outputs: (Float32Array | null)[] = [];
    for (let g = 0; g < this.source.groups; g++) {
      if (!wanted[g]) {
        outputs.push(null);
        continue;
      }
      const inputs = this.full[g]?.inputs ?? tf.tensor3d(this.groupInputs(g), [1, this.source.rows, this.inputSize]);
      try {
        outputs.push(await mlpForwardAsync(this.source.layout, params[g], inputs));
      } finally {
        if (inputs !== this.full[g]?.inputs) inputs.dispose();
      }
    }
    return outputs;
  }

  dispose(): void {
    this.full.forEach(disposeMlpBatch);
  }

  private groupInputs(g: number): Float32Array {
    return this.source.inputs.subarray(g * this.source.rows * this.inputSize, (g + 1) * this.source.rows * this.inputSize);
  }

  private minibatch(g: number, rowIndex: Int32Array): MlpBatch {
    const gathered = new Float32Array(rowIndex.length * this.inputSize);
    gatherRows(this.source.inputs, this.inputSize, this.source.rows, g, rowIndex, gathered, 0);
    return createMlpBatch(gathered, rowIndex.length, this.inputSize);
  }
}

class BatchedGradients implements GroupGradients {
  private readonly inputSize: number;
  private readonly outputSize: number;
  /** [groups, rows, inputSize], kept across epochs for the full batch. */
  private readonly full: tf.Tensor3D | null;
  /** Scratch: the stacked parameters, the gathered minibatch, dLoss/dOutput of all groups. */
  private readonly stacked: Float32Array;
  private readonly gathered: Float32Array;
  private readonly dOutput: Float32Array;

  constructor(private readonly source: GroupInputs) {
    const { layout, inputs, groups, rows, fullBatch } = source;
    this.inputSize = layout.shape.inputSize;
    this.outputSize = layout.shape.outputSize;
    this.full = fullBatch ? tf.tensor3d(inputs, [groups, rows, this.inputSize]) : null;
    this.stacked = new Float32Array(groups * layout.size);
    this.gathered = fullBatch ? new Float32Array(0) : new Float32Array(inputs.length);
    this.dOutput = new Float32Array(groups * rows * this.outputSize);
  }

  async step(params: readonly Float32Array[], rowIndex: readonly Int32Array[], active: readonly boolean[], outputGradient: OutputGradient, gradients: readonly Float32Array[]): Promise<boolean[]> {
    const count = rowIndex[0].length;
    const width = count * this.outputSize;
    const inputs = this.full ?? this.minibatch(rowIndex);
    const stacked = stackedParameters(this.source.layout, params, this.stacked);
    const written = new Array<boolean>(this.source.groups).fill(false);
    let forward: BatchedForward | null = null;
    let flat: tf.Tensor2D | null = null;
    try {
      forward = tf.tidy(() => {
        const { layerInputs, output } = batchedForward(this.source.layout, stacked, inputs);
        return { layerInputs: layerInputs.map((input) => tf.keep(input)), output: tf.keep(output) };
      });
      const output = await forward.output.data<'float32'>();
      const dOutput = this.dOutput.subarray(0, this.source.groups * width).fill(0);
      for (let g = 0; g < this.source.groups; g++) {
        const gradient = active[g] ? outputGradient(g, output.subarray(g * width, (g + 1) * width)) : null;
        if (gradient === null) continue;
        dOutput.set(gradient, g * width);
        written[g] = true;
      }
      const kept = forward;
      if (written.includes(true)) flat = tf.tidy(() => batchedBackward(this.source.layout, stacked, kept, tf.tensor3d(dOutput, [this.source.groups, count, this.outputSize])));
    } finally {
      // the full batch's inputs stay for later steps
      tf.dispose([stacked, ...(inputs === this.full ? [] : [inputs]), ...(forward === null ? [] : [forward.output, ...forward.layerInputs.slice(1)])]);
    }
    if (flat === null) return written;
    const layerSize = this.source.layout.extraOffset;
    const values = await readAndDispose(flat);
    written.forEach((wrote, g) => {
      if (wrote) gradients[g].set(values.subarray(g * layerSize, (g + 1) * layerSize), 0);
    });
    return written;
  }

  async forward(params: readonly Float32Array[], wanted: readonly boolean[]): Promise<(Float32Array | null)[]> {
    if (!wanted.includes(true)) return wanted.map(() => null);
    const width = this.source.rows * this.outputSize;
    const output = await readAndDispose(
      tf.tidy(() => {
        const inputs = this.full ?? tf.tensor3d(this.source.inputs, [this.source.groups, this.source.rows, this.inputSize]);
        return batchedForward(this.source.layout, stackedParameters(this.source.layout, params, this.stacked), inputs).output;
      }),
    );
    return wanted.map((want, g) => (want ? output.subarray(g * width, (g + 1) * width) : null));
  }

  dispose(): void {
    this.full?.dispose();
  }

  /** [groups, count, inputSize]: every group's rows of this step, one upload. */
  private minibatch(rowIndex: readonly Int32Array[]): tf.Tensor3D {
    const count = rowIndex[0].length;
    for (let g = 0; g < this.source.groups; g++) gatherRows(this.source.inputs, this.inputSize, this.source.rows, g, rowIndex[g], this.gathered, g);
    return tf.tensor3d(this.gathered.subarray(0, this.source.groups * count * this.inputSize), [this.source.groups, count, this.inputSize]);
  }
}
