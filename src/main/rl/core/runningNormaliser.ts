/**
 * Running per-component mean and variance of a stream of vectors (Chan et al.'s parallel
 * update of Welford's sums, a batch at a time), and the standardisation (x - mean) / std they
 * give, clipped. Inputs that vary by a few hundredths (DADC's share ON in demand response)
 * reach a tanh network as differences of a few thousandths of its units unless standardised.
 */
import type { TypedArray } from '../../sim/snapshot.ts';

export class RunningNormaliser {
  /** [count] */
  private readonly count = new Float64Array(1);
  private readonly mean: Float64Array;
  /** Sum of squared deviations from the mean, per component. */
  private readonly squares: Float64Array;

  constructor(
    readonly width: number,
    /** Standardised values are clipped to +-clip. */
    private readonly clip = 5,
  ) {
    this.mean = new Float64Array(width);
    this.squares = new Float64Array(width);
  }

  /** Adds `rows` vectors of width `width` (row-major in values) to the statistics. */
  update(values: ArrayLike<number>, rows: number): void {
    if (rows === 0) return;
    const { width } = this;
    for (let k = 0; k < width; k++) {
      let batchMean = 0;
      for (let r = 0; r < rows; r++) batchMean += values[r * width + k] / rows;
      let batchSquares = 0;
      for (let r = 0; r < rows; r++) batchSquares += (values[r * width + k] - batchMean) ** 2;
      const total = this.count[0] + rows;
      const delta = batchMean - this.mean[k];
      this.squares[k] += batchSquares + (delta * delta * this.count[0] * rows) / total;
      this.mean[k] += (delta * rows) / total;
    }
    this.count[0] += rows;
  }

  /** Standardises `rows` vectors in place: (x - mean) / sqrt(variance + 1e-8), clipped to +-clip. */
  apply(values: Float64Array, rows: number): void {
    const { width } = this;
    const count = Math.max(1, this.count[0]);
    for (let k = 0; k < width; k++) {
      const scale = 1 / Math.sqrt(this.squares[k] / count + 1e-8);
      for (let r = 0; r < rows; r++) {
        const i = r * width + k;
        values[i] = Math.min(this.clip, Math.max(-this.clip, (values[i] - this.mean[k]) * scale));
      }
    }
  }

  /** The statistics, for a checkpoint (live views). */
  arrays(): Record<string, TypedArray> {
    return { count: this.count, mean: this.mean, squares: this.squares };
  }
}
