/**
 * The two-layer ReLU network of the LTDE paper (eq. 4.3), on plain typed arrays:
 * f(x; W) = (1/sqrt(M)) sum_m b_m ReLU(x . W_m), width M, output signs b_m drawn once from
 * {-1, 1} and fixed; only W is trained, each row initialised from N(0, I/d). Its gradient is
 * the feature map phi_W(x) (eq. 4.6): row m is (b_m/sqrt(M)) 1{x . W_m > 0} x. Training
 * steps are projected back onto the infinity-norm ball of radius R/sqrt(M) around the
 * initial weights, and the critic keeps a running average of its iterates (Algorithm 1).
 */
import type { RngStreams } from '../../sim/rng.ts';

export interface TwoLayerNet {
  inputDim: number;
  width: number;
  /** Rows W_m, [width, inputDim]. */
  weights: Float64Array;
  initial: Float64Array;
  signs: Float64Array;
}

export function createTwoLayerNet(inputDim: number, width: number, rng: RngStreams, stream = 0): TwoLayerNet {
  const weights = new Float64Array(width * inputDim);
  const scale = 1 / Math.sqrt(inputDim);
  for (let k = 0; k < weights.length; k++) weights[k] = rng.normal(stream) * scale;
  const signs = Float64Array.from({ length: width }, () => (rng.uniform(stream) < 0.5 ? -1 : 1));
  return { inputDim, width, weights, initial: weights.slice(), signs };
}

/** f(x; W) for x = input[offset .. offset + inputDim). */
export function evaluateTwoLayer(net: TwoLayerNet, input: ArrayLike<number>, offset = 0): number {
  const { width, signs } = net;
  let sum = 0;
  for (let m = 0; m < width; m++) {
    const pre = preActivation(net, input, offset, m);
    if (pre > 0) sum += signs[m] * pre;
  }
  return sum / Math.sqrt(width);
}

/** Row m's pre-activation W_m . x at x = input[offset ..]. */
function preActivation(net: TwoLayerNet, input: ArrayLike<number>, offset: number, m: number): number {
  const { inputDim, weights } = net;
  let pre = 0;
  for (let j = 0; j < inputDim; j++) pre += input[offset + j] * weights[m * inputDim + j];
  return pre;
}

/** gradient += scale * phi_W(x): the gradient of f at x, scaled (an accumulation, no allocation). */
export function addFeatures(net: TwoLayerNet, input: ArrayLike<number>, offset: number, scale: number, gradient: Float64Array): void {
  const { inputDim, width, signs } = net;
  const factor = scale / Math.sqrt(width);
  for (let m = 0; m < width; m++) {
    if (preActivation(net, input, offset, m) <= 0) continue;
    const row = factor * signs[m];
    for (let j = 0; j < inputDim; j++) gradient[m * inputDim + j] += row * input[offset + j];
  }
}

/** out[j] += scale * df/dx_j at x = input[offset ..]: (scale/sqrt(M)) sum of b_m W_mj over the rows active at x. */
export function addInputGradient(net: TwoLayerNet, input: ArrayLike<number>, offset: number, scale: number, out: Float64Array): void {
  const { inputDim, width, weights, signs } = net;
  const factor = scale / Math.sqrt(width);
  for (let m = 0; m < width; m++) {
    if (preActivation(net, input, offset, m) <= 0) continue;
    const row = factor * signs[m];
    for (let j = 0; j < inputDim; j++) out[j] += row * weights[m * inputDim + j];
  }
}

/** W <- Proj_B(W + step * direction), B = {W : |W - W(0)|_inf <= radius / sqrt(M)} (eqs. 4.11-4.12 and Algorithm 2, line 10). */
export function projectedStep(net: TwoLayerNet, direction: Float64Array, step: number, radius: number): void {
  const bound = radius / Math.sqrt(net.width);
  for (let k = 0; k < net.weights.length; k++) {
    const moved = net.weights[k] + step * direction[k];
    net.weights[k] = Math.min(net.initial[k] + bound, Math.max(net.initial[k] - bound, moved));
  }
}

/** The running average of eq. 4.13 after iterate t (from 0): average <- (t+1)/(t+2) average + 1/(t+2) W(t+1). */
export function averageInto(average: TwoLayerNet, net: TwoLayerNet, t: number): void {
  const keep = (t + 1) / (t + 2);
  for (let k = 0; k < net.weights.length; k++) average.weights[k] = keep * average.weights[k] + (1 - keep) * net.weights[k];
}

/** A copy sharing the signs and initial weights (the averaged critic starts at W(0)). */
export function cloneTwoLayer(net: TwoLayerNet): TwoLayerNet {
  return { ...net, weights: net.weights.slice() };
}
