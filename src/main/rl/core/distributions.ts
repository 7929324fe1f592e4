/**
 * The policies' action distributions, each piece of maths written once: the categorical
 * head's smoothed softmax, the Gaussian head's log-ratio and KL, sampling and the greedy
 * action. Everything here is plain float64 JavaScript over a few values per sample.
 */

export type PolicyHead =
  | { readonly kind: 'gaussian'; readonly actionSize: number }
  | { readonly kind: 'categorical'; readonly actionCount: number };

/** Categorical probabilities are (softmax + 1e-5) renormalised, like the DMPO reference, so no action's probability reaches 0. */
export const CATEGORICAL_SMOOTHING = 1e-5;

/** Head outputs per sample: Gaussian means or categorical logits. */
export function headOutputSize(head: PolicyHead): number {
  return head.kind === 'gaussian' ? head.actionSize : head.actionCount;
}

/** Values of an action per sample in the actions buffer: the vector, or one index. */
export function actionWidth(head: PolicyHead): number {
  return head.kind === 'gaussian' ? head.actionSize : 1;
}

/** Distribution parameters stored per agent: categorical probabilities, or Gaussian mean and std. */
export function actionParamWidth(head: PolicyHead): number {
  return head.kind === 'categorical' ? head.actionCount : 2 * head.actionSize;
}

/**
 * The smoothed categorical probabilities of logits[at .. at + size): p = norm * (q + eps)
 * with q = softmax(logits) and norm = 1 / (1 + size * eps), into out[to ..]; q itself into
 * `softmax` (from 0) when given, for the gradient through the softmax.
 */
export function smoothedSoftmax(
  logits: ArrayLike<number>,
  at: number,
  size: number,
  out: Float64Array,
  to = 0,
  softmax: Float64Array | null = null,
): void {
  const norm = 1 / (1 + size * CATEGORICAL_SMOOTHING);
  let max = -Infinity;
  for (let k = 0; k < size; k++) max = Math.max(max, logits[at + k]);
  let sum = 0;
  for (let k = 0; k < size; k++) {
    const e = Math.exp(logits[at + k] - max);
    out[to + k] = e;
    sum += e;
  }
  for (let k = 0; k < size; k++) {
    const q = out[to + k] / sum;
    if (softmax !== null) softmax[k] = q;
    out[to + k] = norm * (q + CATEGORICAL_SMOOTHING);
  }
}

/** log(pi(a) / pi_old(a)) and KL(pi_old || pi) of one Gaussian action dimension. */
export interface GaussianTerms {
  logRatio: number;
  kl: number;
}

/**
 * One dimension's terms for a Gaussian with mean `mean`, log std `logStd` (variance
 * exp(2 logStd), passed in so callers compute it once per batch) against the old one.
 */
export function gaussianTerms(
  action: number,
  mean: number,
  logStd: number,
  variance: number,
  oldMean: number,
  oldLogStd: number,
  oldVariance: number,
  out: GaussianTerms,
): void {
  const gap = action - mean;
  const oldGap = action - oldMean;
  const meanShift = oldMean - mean;
  out.logRatio = (-0.5 * gap * gap) / variance - logStd + (0.5 * oldGap * oldGap) / oldVariance + oldLogStd;
  out.kl = logStd - oldLogStd + (oldVariance + meanShift * meanShift) / (2 * variance) - 0.5;
}

const probabilityScratch = new Float64Array(64);

/** An action index drawn from the smoothed categorical of logits[at .. at + width) with one uniform draw. */
export function sampleCategorical(logits: ArrayLike<number>, at: number, width: number, uniform: number): number {
  smoothedSoftmax(logits, at, width, probabilityScratch);
  let cumulative = 0;
  for (let a = 0; a < width - 1; a++) {
    cumulative += probabilityScratch[a];
    if (uniform < cumulative) return a;
  }
  return width - 1;
}

/** The most probable action: the first largest logit. */
export function argmax(values: ArrayLike<number>, at: number, width: number): number {
  let best = 0;
  for (let a = 1; a < width; a++) if (values[at + a] > values[at + best]) best = a;
  return best;
}
