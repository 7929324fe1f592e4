/**
 * Flat parameter vectors for per-agent MLPs, and their initialisation.
 *
 * One network's parameters live in one Float32Array: layer by layer the weight matrix
 * [in, out] (row-major) then the bias [out], then any extra parameters (a Gaussian actor's
 * log std). Flat vectors make Adam one loop, checkpoints one copy and worker transfers one
 * buffer; the fast update path views them as tensors without reshuffling.
 */
import { RngStreams } from '../../sim/rng.ts';
import { restoreArrays, type SnapshotArrays } from '../../sim/snapshot.ts';
import type { AdamMoments } from './adam.ts';

/** One set of trainable parameters (an agent's own, or the one shared by all) and its Adam state. */
export interface ParameterGroup {
  params: Float32Array;
  moments: AdamMoments;
}

export interface MlpShape {
  readonly inputSize: number;
  /** ReLU hidden layers, e.g. [64, 64]. */
  readonly hiddenSizes: readonly number[];
  readonly outputSize: number;
  /** Parameters after the layers that are not part of any layer (a Gaussian log std). */
  readonly extraSize: number;
}

export interface DenseLayerSlot {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Offset of the [inputSize, outputSize] weight matrix in the flat vector. */
  readonly weightOffset: number;
  /** Offset of the [outputSize] bias. */
  readonly biasOffset: number;
}

export class MlpLayout {
  readonly layers: readonly DenseLayerSlot[];
  readonly extraOffset: number;
  /** Total number of parameters. */
  readonly size: number;

  constructor(readonly shape: MlpShape) {
    const sizes = [shape.inputSize, ...shape.hiddenSizes, shape.outputSize];
    if (sizes.some((size) => !Number.isInteger(size) || size < 1)) {
      throw new Error(`bad MLP sizes ${sizes.join('-')}`);
    }
    const layers: DenseLayerSlot[] = [];
    let offset = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inputSize = sizes[l];
      const outputSize = sizes[l + 1];
      layers.push({ inputSize, outputSize, weightOffset: offset, biasOffset: offset + inputSize * outputSize });
      offset += inputSize * outputSize + outputSize;
    }
    this.layers = layers;
    this.extraOffset = offset;
    this.size = offset + shape.extraSize;
  }

  /** Multiply-adds of one forward pass for one sample (the basis of FLOP counts). */
  get multiplyAddsPerSample(): number {
    return this.layers.reduce((sum, layer) => sum + layer.inputSize * layer.outputSize, 0);
  }
}

/**
 * Parameters initialised like PyTorch's nn.Linear (weights and biases uniform in
 * +-1/sqrt(fan_in)), so hyperparameters tuned on the reference code carry over; extra
 * parameters are set to `extraValue`. Same seed, same parameters, on every machine.
 */
export function initialParameters(layout: MlpLayout, seed: number, extraValue = 0): Float32Array {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const params = new Float32Array(layout.size);
  for (const layer of layout.layers) {
    const bound = 1 / Math.sqrt(layer.inputSize);
    const end = layer.biasOffset + layer.outputSize;
    for (let k = layer.weightOffset; k < end; k++) params[k] = (2 * rng.uniform(0) - 1) * bound;
  }
  params.fill(extraValue, layout.extraOffset);
  return params;
}

/**
 * Checkpoint arrays of parameter groups: `${g}.params`, `${g}.adam1`, `${g}.adam2` (live
 * views, not copies); their Adam step counts go beside them in the checkpoint's meta.
 */
export function parameterGroupArrays(groups: readonly ParameterGroup[]): Record<string, Float32Array> {
  const arrays: Record<string, Float32Array> = {};
  groups.forEach((group, g) => {
    arrays[`${g}.params`] = group.params;
    arrays[`${g}.adam1`] = group.moments.first;
    arrays[`${g}.adam2`] = group.moments.second;
  });
  return arrays;
}

/** Restores what parameterGroupArrays saved, and the Adam step counts; `misfit(name)` is the error of an entry that does not fit. */
export function restoreParameterGroups(groups: readonly ParameterGroup[], arrays: SnapshotArrays, adamSteps: readonly number[], misfit: (name: string) => string): void {
  restoreArrays(parameterGroupArrays(groups), arrays, misfit);
  groups.forEach((group, g) => (group.moments.step = adamSteps[g]));
}
