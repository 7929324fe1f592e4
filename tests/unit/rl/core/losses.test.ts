/**
 * The update's gradient evaluations (hand-written loss gradients, explicit backward passes:
 * the per-agent fused path and the batched one) against a plain tfjs autodiff formulation of
 * the same losses: values and every parameter's gradient must agree for both heads and both
 * policy losses, and for the critic.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tsImport } from 'tsx/esm/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { groupGradients, UPDATE_FORMULATIONS, type UpdateFormulation } from '../../../../src/main/rl/nn/formulation.ts';
import { initialParameters, MlpLayout } from '../../../../src/main/rl/nn/parameters.ts';
import { CATEGORICAL_SMOOTHING, headOutputSize, type PolicyHead } from '../../../../src/main/rl/core/distributions.ts';
import { evaluateValueLoss, PolicyLoss, PolicyStatistics, type ActorLoss, type PolicyRows } from '../../../../src/main/rl/core/losses.ts';

const SAMPLES = 48;
const AGENTS = 2; // one shared group of two agents: per-agent settings and old log stds index by row
const INPUT = 5;

// tfjs-core ships its gradient definitions only as unbundled ES modules (the full
// @tensorflow/tfjs package registers them); load the ones the reference formulas use.
const REFERENCE_KERNELS = ['BatchMatMul', 'Reshape', 'Cast', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Relu', 'Exp', 'Log', 'Square', 'Sqrt', 'Sum', 'Mean', 'Neg', 'Softmax', 'Minimum', 'Maximum', 'GatherV2'];

beforeAll(async () => {
  await selectBackend('wasm');
  for (const kernel of REFERENCE_KERNELS) {
    const module = (await tsImport(`@tensorflow/tfjs-core/dist/gradients/${kernel}_grad.js`, import.meta.url)) as Record<string, unknown>;
    for (const [name, config] of Object.entries(module)) {
      if (name.endsWith('GradConfig')) tf.registerGradient(config as tf.GradConfig);
    }
  }
});

function randomArray(rng: RngStreams, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (2 * rng.uniform(0) - 1) * scale);
}

interface Problem {
  layout: MlpLayout;
  params: Float32Array;
  inputs: Float32Array;
  rows: PolicyRows;
}

function policyProblem(head: PolicyHead, seed: number): Problem {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const rowCount = AGENTS * SAMPLES;
  const outputSize = headOutputSize(head);
  const logStdSize = head.kind === 'gaussian' ? head.actionSize : 0;
  const layout = new MlpLayout({ inputSize: INPUT, hiddenSizes: [16, 12], outputSize, extraSize: logStdSize });
  const params = initialParameters(layout, seed, -0.3);
  // Non-zero biases and varied log stds, so no gradient is trivially zero.
  for (let k = 0; k < params.length; k++) params[k] += 0.2 * (2 * rng.uniform(0) - 1);
  const inputs = randomArray(rng, rowCount * INPUT, 2);
  const actions =
    head.kind === 'gaussian'
      ? randomArray(rng, rowCount * head.actionSize, 1.5)
      : Float32Array.from({ length: rowCount }, () => rng.integer(0, 0, head.actionCount - 1));
  const rowIndex = Int32Array.from({ length: rowCount }, (_, r) => r);
  // The old policy: the current output perturbed, so ratios spread on both sides of the clip range.
  const perturbation = head.kind === 'gaussian' ? 0.2 : 0.5;
  const oldOutput = new Float32Array(rowCount * outputSize);
  const current = referenceForward(layout, params, inputs).arraySync() as number[][];
  current.forEach((row, r) => row.forEach((value, j) => (oldOutput[r * outputSize + j] = value + perturbation * (2 * rng.uniform(0) - 1))));
  return {
    layout,
    params,
    inputs,
    rows: {
      rowIndex,
      samplesPerAgent: SAMPLES,
      firstAgent: 0,
      actions,
      advantages: randomArray(rng, rowCount, 2),
      oldOutput,
      oldLogStd:
        head.kind === 'gaussian'
          ? Float32Array.from({ length: AGENTS * head.actionSize }, (_, k) => params[layout.extraOffset + (k % head.actionSize)] + 0.1 * (2 * rng.uniform(0) - 1))
          : null,
    },
  };
}

/** The layers as separate tensors in layout order (W1, b1, W2, b2, ..., extra). */
function parameterTensors(layout: MlpLayout, params: Float32Array): tf.Tensor[] {
  const tensors: tf.Tensor[] = [];
  for (const layer of layout.layers) {
    tensors.push(tf.tensor2d(params.slice(layer.weightOffset, layer.biasOffset), [layer.inputSize, layer.outputSize]));
    tensors.push(tf.tensor1d(params.slice(layer.biasOffset, layer.biasOffset + layer.outputSize)));
  }
  if (layout.shape.extraSize > 0) tensors.push(tf.tensor1d(params.slice(layout.extraOffset)));
  return tensors;
}

function mlp(layout: MlpLayout, tensors: tf.Tensor[], inputs: tf.Tensor2D): tf.Tensor2D {
  let h = inputs;
  layout.layers.forEach((_, l) => {
    const affine = tf.add(tf.matMul(h, tensors[2 * l] as tf.Tensor2D), tensors[2 * l + 1]) as tf.Tensor2D;
    h = l + 1 < layout.layers.length ? tf.relu(affine) : affine;
  });
  return h;
}

function referenceForward(layout: MlpLayout, params: Float32Array, inputs: Float32Array): tf.Tensor2D {
  return tf.tidy(() => mlp(layout, parameterTensors(layout, params), tf.tensor2d(inputs, [inputs.length / layout.shape.inputSize, layout.shape.inputSize])));
}

/** The policy loss written the obvious way with tfjs ops, for tf.grads. */
function referencePolicyLoss(problem: Problem, head: PolicyHead, loss: ActorLoss, tensors: tf.Tensor[]): tf.Scalar {
  const { layout, inputs, rows } = problem;
  const rowCount = AGENTS * SAMPLES;
  const outputSize = headOutputSize(head);
  const x = tf.tensor2d(inputs, [rowCount, INPUT]);
  const output = mlp(layout, tensors, x);
  const oldOutput = tf.tensor2d(rows.oldOutput, [rowCount, outputSize]);
  const advantages = tf.tensor1d(rows.advantages);
  const agentOfRow = Array.from({ length: rowCount }, (_, r) => Math.floor(r / SAMPLES));
  const perRow = (value: number | readonly number[]) =>
    tf.tensor1d(agentOfRow.map((agent) => (typeof value === 'number' ? value : value[agent])));
  let logRatio: tf.Tensor1D;
  let kl: tf.Tensor1D;
  let entropy: tf.Tensor1D;
  if (head.kind === 'gaussian') {
    const logStd = tensors[tensors.length - 1];
    const oldLogStd = tf.gather(tf.tensor2d(rows.oldLogStd as Float32Array, [AGENTS, head.actionSize]), agentOfRow);
    const actions = tf.tensor2d(rows.actions, [rowCount, head.actionSize]);
    const logDensity = (mean: tf.Tensor, logStdRows: tf.Tensor) =>
      tf.sum(tf.sub(tf.mul(-0.5, tf.div(tf.square(tf.sub(actions, mean)), tf.exp(tf.mul(2, logStdRows)))), logStdRows), 1);
    logRatio = tf.sub(logDensity(output, logStd), logDensity(oldOutput, oldLogStd)) as tf.Tensor1D;
    kl = tf.sum(
      tf.sub(
        tf.add(tf.sub(logStd, oldLogStd), tf.div(tf.add(tf.exp(tf.mul(2, oldLogStd)), tf.square(tf.sub(oldOutput, output))), tf.mul(2, tf.exp(tf.mul(2, logStd))))),
        0.5,
      ),
      1,
    ) as tf.Tensor1D;
    entropy = tf.mul(tf.ones([rowCount]), tf.sum(tf.add(logStd, 0.5 + 0.5 * Math.log(2 * Math.PI)))) as tf.Tensor1D;
  } else {
    const smooth = (logits: tf.Tensor) => tf.div(tf.add(tf.softmax(logits), CATEGORICAL_SMOOTHING), 1 + head.actionCount * CATEGORICAL_SMOOTHING);
    const p = smooth(output);
    const oldP = smooth(oldOutput);
    const chosen = tf.oneHot(tf.tensor1d(Array.from(rows.actions), 'int32'), head.actionCount);
    logRatio = tf.sub(tf.log(tf.sum(tf.mul(p, chosen), 1)), tf.log(tf.sum(tf.mul(oldP, chosen), 1))) as tf.Tensor1D;
    kl = tf.sum(tf.mul(oldP, tf.sub(tf.log(oldP), tf.log(p))), 1) as tf.Tensor1D;
    entropy = tf.neg(tf.sum(tf.mul(p, tf.log(p)), 1)) as tf.Tensor1D;
  }
  const ratio = tf.exp(logRatio);
  let perSample: tf.Tensor1D;
  if (loss.kind === 'ppo-clip') {
    const epsilon = perRow(loss.clipEpsilon);
    const clippedRatio = tf.minimum(tf.maximum(ratio, tf.sub(1, epsilon)), tf.add(1, epsilon));
    perSample = tf.neg(tf.minimum(tf.mul(ratio, advantages), tf.mul(clippedRatio, advantages))) as tf.Tensor1D;
  } else {
    perSample = tf.neg(
      tf.sub(
        tf.sub(tf.div(tf.mul(ratio, advantages), loss.agentCount), tf.mul(perRow(loss.beta1), tf.sqrt(tf.add(kl, 1e-8)))),
        tf.mul(perRow(loss.beta2), kl),
      ),
    ) as tf.Tensor1D;
  }
  return tf.sub(tf.mean(perSample), tf.mul(loss.entropyCoefficient ?? 0, tf.mean(entropy))) as tf.Scalar;
}

/** The reference gradient flattened into the layout's order. */
function referenceGradient(layout: MlpLayout, params: Float32Array, lossOf: (tensors: tf.Tensor[]) => tf.Scalar): { loss: number; gradient: Float32Array } {
  return tf.tidy(() => {
    const tensors = parameterTensors(layout, params);
    const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => lossOf(args))(tensors);
    const gradient = new Float32Array(layout.size);
    layout.layers.forEach((layer, l) => {
      gradient.set(grads[2 * l].dataSync(), layer.weightOffset);
      gradient.set(grads[2 * l + 1].dataSync(), layer.biasOffset);
    });
    if (layout.shape.extraSize > 0) gradient.set(grads[grads.length - 1].dataSync(), layout.extraOffset);
    return { loss: value.dataSync()[0], gradient };
  });
}

/** One gradient evaluation of a single group through `formulation`; the loss's dLoss/dOutput by hand. */
async function evaluationGradient(
  formulation: UpdateFormulation,
  layout: MlpLayout,
  params: Float32Array,
  inputs: Float32Array,
  rowCount: number,
  outputGradient: (output: Float32Array) => Float32Array,
): Promise<Float32Array> {
  const engine = groupGradients(formulation, layout, inputs, 1, rowCount, true);
  try {
    const gradient = new Float32Array(layout.size);
    const identity = Int32Array.from({ length: rowCount }, (_, r) => r);
    const [written] = await engine.step([params], [identity], [true], (_, output) => outputGradient(output), [gradient]);
    expect(written).toBe(true);
    return gradient;
  } finally {
    engine.dispose();
  }
}

async function fastPolicyGradient(problem: Problem, head: PolicyHead, loss: ActorLoss, formulation: UpdateFormulation): Promise<{ loss: number; gradient: Float32Array }> {
  const { layout, params, inputs, rows } = problem;
  const rowCount = AGENTS * SAMPLES;
  const dOutput = {
    output: new Float32Array(rowCount * headOutputSize(head)),
    logStd: head.kind === 'gaussian' ? new Float32Array(head.actionSize) : null,
  };
  const logStd = head.kind === 'gaussian' ? params.subarray(layout.extraOffset) : null;
  let value = NaN;
  const gradient = await evaluationGradient(formulation, layout, params, inputs, rowCount, (output) => {
    value = new PolicyLoss(head, loss, AGENTS).evaluate(rows, output, logStd, dOutput, null).loss;
    return dOutput.output;
  });
  if (dOutput.logStd !== null) gradient.set(dOutput.logStd, layout.extraOffset);
  return { loss: value, gradient };
}

function expectClose(actual: Float32Array, expected: Float32Array, relative = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  expect(scale).toBeGreaterThan(0);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(actual[k] - expected[k]) / scale);
  expect(worst).toBeLessThan(relative);
}

const HEADS: PolicyHead[] = [
  { kind: 'gaussian', actionSize: 2 },
  { kind: 'categorical', actionCount: 4 },
];
const LOSSES: ActorLoss[] = [
  { kind: 'ppo-clip', clipEpsilon: [0.1, 0.25], entropyCoefficient: 0.01 },
  { kind: 'dpo', agentCount: 3, beta1: [0.3, 0.05], beta2: 0.2, entropyCoefficient: 0.02 },
];

describe('policy gradients of both formulations equal tfjs autodiff', () => {
  for (const head of HEADS) {
    for (const loss of LOSSES) {
      it.each(UPDATE_FORMULATIONS)(`${head.kind} head, ${loss.kind} loss, %s`, async (formulation) => {
        const problem = policyProblem(head, head.kind === 'gaussian' ? 11 : 12);
        const fast = await fastPolicyGradient(problem, head, loss, formulation);
        const reference = referenceGradient(problem.layout, problem.params, (tensors) => referencePolicyLoss(problem, head, loss, tensors));
        expect(Math.abs(fast.loss - reference.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(reference.loss)));
        expectClose(fast.gradient, reference.gradient);
        // Every part of the network receives gradient (guards against a silently dropped layer).
        for (const layer of problem.layout.layers) {
          expect(fast.gradient.subarray(layer.weightOffset, layer.biasOffset).some((g) => g !== 0)).toBe(true);
        }
      });
    }
  }

  it('the PPO test data exercises both the clipped and the unclipped branch', () => {
    for (const head of HEADS) {
      const problem = policyProblem(head, head.kind === 'gaussian' ? 11 : 12);
      const output = referenceForward(problem.layout, problem.params, problem.inputs);
      const statistics = new PolicyStatistics(AGENTS);
      const logStd = head.kind === 'gaussian' ? problem.params.subarray(problem.layout.extraOffset) : null;
      new PolicyLoss(head, LOSSES[0], AGENTS).evaluate(problem.rows, output.dataSync() as Float32Array, logStd, null, statistics);
      output.dispose();
      for (const summary of statistics.summaries(0)) {
        expect(summary.clipFraction, head.kind).toBeGreaterThan(0.1);
        expect(summary.clipFraction, head.kind).toBeLessThan(0.9);
      }
    }
  });
});

describe('value gradients of both formulations equal tfjs autodiff', () => {
  it.each(UPDATE_FORMULATIONS)('MSE on returns, %s', async (formulation) => {
    const rng = new RngStreams(1);
    rng.seed(0, 5);
    const rows = 3 * SAMPLES;
    const layout = new MlpLayout({ inputSize: 7, hiddenSizes: [16, 16], outputSize: 1, extraSize: 0 });
    const params = initialParameters(layout, 5);
    const inputs = randomArray(rng, rows * 7, 2);
    const returns = randomArray(rng, rows, 3);
    const rowIndex = Int32Array.from({ length: rows }, (_, r) => r);
    const dOutput = new Float32Array(rows);
    let fastLoss = NaN;
    const gradient = await evaluationGradient(formulation, layout, params, inputs, rows, (output) => {
      fastLoss = evaluateValueLoss({ rowIndex, samplesPerAgent: SAMPLES, returns }, output, dOutput, null);
      return dOutput;
    });
    const reference = referenceGradient(layout, params, (tensors) =>
      tf.mean(tf.square(tf.sub(tf.reshape(mlp(layout, tensors, tf.tensor2d(inputs, [rows, 7])), [rows]), tf.tensor1d(returns)))) as tf.Scalar,
    );
    expect(Math.abs(fastLoss - reference.loss)).toBeLessThan(1e-4 * reference.loss);
    expectClose(gradient, reference.gradient);
  });
});
