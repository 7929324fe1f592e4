/**
 * DMPO local models: shapes and the residual, the hand-written gradient against a plain
 * tfjs autodiff formulation of the same model and loss, tensor hygiene, fits on real
 * cacc-catchup and ring data, and branched rollouts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tsImport } from 'tsx/esm/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import { recordEpisodes, type RealEpisode } from '../../../../../src/main/rl/learners/dmpo/episodes.ts';
import { NetworkedGcn, relativeError, withTensorScope, type WindowBatch } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import type { ModelSystem } from '../../../../../src/main/rl/learners/dmpo/gcnLayout.ts';
import { uniformLossWeights } from '../../../../../src/main/rl/learners/dmpo/gcnLoss.ts';
import { LocalModels, type LocalModelConfig } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { AgentGraph } from '../../../../../src/main/sim/graph.ts';
import { createEnv } from '../../../../../src/main/sim/index.ts';
import { resolveLearnerConfig } from '../../../../../src/shared/learners.ts';
import { randomEpisode, rngFrom, setSegment, unevenLossWeights } from './dmpo.helpers.ts';

// tfjs-core ships its gradient definitions only as unbundled ES modules; the autodiff
// reference needs these.
const REFERENCE_KERNELS = ['BatchMatMul', 'Reshape', 'Slice', 'Concat', 'Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'Relu', 'Square', 'Sum', 'Softplus'];

beforeAll(async () => {
  await selectBackend('wasm');
  for (const kernel of REFERENCE_KERNELS) {
    const module = (await tsImport(`@tensorflow/tfjs-core/dist/gradients/${kernel}_grad.js`, import.meta.url)) as Record<string, unknown>;
    for (const [name, config] of Object.entries(module)) {
      if (name.endsWith('GradConfig')) tf.registerGradient(config as tf.GradConfig);
    }
  }
  // Importing the gradient modules through tsx takes over 10 s on a loaded machine.
}, 60_000);

const DISCRETE = { kind: 'discrete', n: 3 } as const;
const CONTINUOUS = { kind: 'continuous', low: -1, high: 1 } as const;

/** Random discrete or uniform continuous actions for every agent of every copy. */
function randomActions(env: ReturnType<typeof createEnv>, seed: number): (observations: Float64Array, actions: Float64Array) => void {
  const rng = rngFrom(seed);
  const action = env.spec.action;
  return (_observations, actions) => {
    for (let k = 0; k < actions.length; k++) {
      actions[k] = action.kind === 'discrete' ? rng.integer(0, 0, action.n - 1) : action.low + (action.high - action.low) * rng.uniform(0);
    }
  };
}

/**
 * DMPO's default preset on cacc-catchup: the learning reward the models learn and the model
 * training settings. (With the DMPO code's scaling clip(r / 100, -5, 5) the 10x-weighted
 * reward has ~7x the state variance on random-action data and takes the 8-unit trunk for
 * itself: the state error then stays near 0.25 for thousands of steps.)
 */
const CACC_DEFAULT = resolveLearnerConfig('dmpo', 'cacc-catchup', 'default');
const caccLearningReward = (reward: number): number => {
  const clip = Number(CACC_DEFAULT.rewardClip);
  return Math.min(clip, Math.max(-clip, reward * Number(CACC_DEFAULT.rewardScale)));
};

/** Index of the done logit among the head's outputs (state delta, reward, done). */
const DONE_OUTPUT = 3;

/**
 * The model and loss written plainly, per agent with slices, concatenations and tfjs
 * autodiff: h_j = ReLU(W s_j + b) per node of N_i^1, messages EdgeMLP([h_i, h_j]) summed,
 * NodeMLP([messages, embedding or raw action]), heads, open-loop over the window.
 */
function referenceLoss(gcn: NetworkedGcn, parameters: readonly tf.Tensor1D[], batch: WindowBatch, rewardCoefficient: number): tf.Scalar {
  const { agents: n, obsDim: d } = gcn;
  const rows = batch.windows;
  const segments = gcn.layouts.map((_, i) => gcn.segments(i));
  const param = (i: number, name: string): tf.Tensor => {
    const segment = segments[i].find((s) => s.name === name);
    if (segment === undefined) throw new Error(`no segment ${name}`);
    return tf.reshape(tf.slice(parameters[i], segment.offset, segment.shape.reduce((a, b) => a * b, 1)), [...segment.shape]);
  };
  const linear = (x: tf.Tensor2D, i: number, prefix: string): tf.Tensor2D => tf.add(tf.matMul(x, param(i, `${prefix}.weight`) as tf.Tensor2D), param(i, `${prefix}.bias`));
  const agentRows = (values: Float32Array, width: number, i: number): tf.Tensor2D =>
    tf.tensor2d(Float32Array.from({ length: rows * width }, (_, k) => values[(Math.floor(k / width) * n + i) * width + (k % width)]), [rows, width]);
  let states = Array.from({ length: n }, (_, i) => agentRows(batch.startObservations, d, i));
  const terms: tf.Scalar[] = [];
  for (let t = 0; t < batch.steps; t++) {
    const stepSlice = (values: Float32Array, width: number) => values.subarray(t * rows * n * width, (t + 1) * rows * n * width);
    const next = states.map((state, i) => {
      const neighbours = gcn.layouts[i].neighbours;
      const hSelf = tf.relu(linear(state, i, 'encoder.self'));
      let features: tf.Tensor2D;
      const actions = agentRows(stepSlice(batch.actions, 1), 1, i);
      if (gcn.system.action.kind === 'discrete') {
        const oneHot = tf.tensor2d(Float32Array.from({ length: rows * gcn.actionWidth }, (_, k) => (actions.dataSync()[Math.floor(k / gcn.actionWidth)] === k % gcn.actionWidth ? 1 : 0)), [rows, gcn.actionWidth]);
        features = tf.matMul(oneHot, param(i, 'actionEmbedding') as tf.Tensor2D);
      } else {
        features = actions;
      }
      let message: tf.Tensor2D = tf.zeros([rows, gcn.architecture.messageSize]);
      for (const j of neighbours) {
        const h = tf.relu(linear(states[j], i, `encoder.agent${j}`));
        let x = tf.concat([hSelf, h], 1);
        x = tf.relu(linear(x, i, `edge.agent${j}.layer0`));
        x = tf.relu(linear(x, i, `edge.agent${j}.layer1`));
        message = tf.add(message, linear(x, i, `edge.agent${j}.layer2`));
      }
      let z = tf.concat([message, features], 1);
      for (let l = 0; l < 3; l++) z = tf.relu(linear(z, i, `node.layer${l}`));
      const out = linear(z, i, 'head');
      const predicted: tf.Tensor2D = tf.add(state, tf.slice(out, [0, 0], [rows, d]));
      const reward = tf.slice(out, [0, d], [rows, 1]);
      const logit = tf.slice(out, [0, d + 1], [rows, 1]);
      const label = agentRows(stepSlice(batch.terminals, 1), 1, i);
      terms.push(tf.div(tf.sum(tf.square(tf.sub(predicted, agentRows(stepSlice(batch.nextObservations, d), d, i)))), batch.steps * rows * n * d));
      terms.push(tf.mul(rewardCoefficient / (batch.steps * rows * n), tf.sum(tf.square(tf.sub(reward, agentRows(stepSlice(batch.rewards, 1), 1, i))))));
      terms.push(tf.div(tf.sum(tf.sub(tf.softplus(logit), tf.mul(label, logit))), batch.steps * rows * n));
      return predicted;
    });
    states = next;
  }
  return tf.addN(terms);
}

describe('DMPO local models: the model', () => {
  it('predicts the next state as a residual on the current one, with the right shapes', () => {
    const system = { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE };
    const models = new LocalModels(system, { seed: 4 });
    const rows = 5;
    const observations = Float32Array.from({ length: rows * 3 * 2 }, (_, k) => Math.sin(k));
    const actions = Float32Array.from({ length: rows * 3 }, (_, k) => k % 3);
    const predict = () => withTensorScope(() => models.gcn.predict(models.gcn.buildWeights(models.parameters, false), observations, actions, rows));

    const trained = predict();
    expect(trained.nextObservations).toHaveLength(rows * 3 * 2);
    expect(trained.rewards).toHaveLength(rows * 3);
    expect(trained.doneProbabilities).toHaveLength(rows * 3);
    expect(Array.from(trained.nextObservations).some((v, k) => Math.abs(v - observations[k]) > 1e-3)).toBe(true);

    // Zero state heads: the prediction is exactly the current state (s' = s + Linear(z)).
    for (let i = 0; i < 3; i++) {
      // head.weight is [8, obsDim + 2]: zero the state columns of every row.
      setSegment(models, i, 'head.weight', (k, current) => (k % 4 < 2 ? 0 : current));
      setSegment(models, i, 'head.bias', (k, current) => (k < 2 ? 0 : current));
    }
    const residual = predict();
    expect(Array.from(residual.nextObservations)).toEqual(Array.from(observations));
    expect(Array.from(residual.doneProbabilities).every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('gives every agent its own weights over its own neighbourhood', () => {
    const models = new LocalModels({ graph: AgentGraph.chain(3), obsDim: 2, action: CONTINUOUS }, { seed: 1 });
    expect(models.segments(0).filter((s) => s.name.startsWith('edge.') && s.name.endsWith('layer0.weight')).map((s) => s.name)).toEqual(['edge.agent1.layer0.weight']);
    expect(models.segments(1).filter((s) => s.name.startsWith('encoder.') && s.name.endsWith('.weight')).map((s) => s.name)).toEqual([
      'encoder.self.weight',
      'encoder.agent0.weight',
      'encoder.agent2.weight',
    ]);
    expect(models.parameters[0]).not.toEqual(models.parameters[2].subarray(0, models.parameters[0].length));
  });

  const gradientCases: { name: string; system: ModelSystem }[] = [
    { name: 'chain, discrete actions', system: { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE } },
    { name: 'cycle, continuous actions', system: { graph: AgentGraph.cycle(4), obsDim: 3, action: CONTINUOUS } },
    { name: 'one agent without neighbours', system: { graph: AgentGraph.chain(1), obsDim: 2, action: DISCRETE } },
  ];
  for (const { name, system } of gradientCases) {
    it(`matches a plain autodiff formulation: loss and every gradient (${name})`, () => {
      const gcn = new NetworkedGcn(system);
      const parameters = gcn.initialParameters(7);
      const episode = randomEpisode(system, 8, 3);
      const fifo = new LocalModels(system, { bufferEpisodes: 1 }).episodes;
      fifo.add(episode);
      const batch = fifo.sampleWindows(5, 3, rngFrom(9), 0);
      const { errors, gradients } = gcn.lossAndGradients(parameters, batch, uniformLossWeights(gcn, 10));

      const reference = tf.tidy(() => {
        const inputs = parameters.map((p) => tf.tensor1d(p));
        const { value, grads } = tf.valueAndGrads((...params: tf.Tensor[]) => referenceLoss(gcn, params as tf.Tensor1D[], batch, 10))(inputs);
        return [value, ...grads];
      });
      const [value, ...referenceGradients] = reference.map((t) => t.dataSync() as Float32Array);
      tf.dispose(reference);

      expect(errors.loss).toBeCloseTo(value[0], 4);
      expect(gcn.evaluate(parameters, batch, uniformLossWeights(gcn, 10)).loss).toBeCloseTo(errors.loss, 5);
      gradients.forEach((gradient, i) => {
        const scale = Math.max(...referenceGradients[i].map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let k = 0; k < gradient.length; k++) expect(Math.abs(gradient[k] - referenceGradients[i][k])).toBeLessThan(1e-4 * scale + 1e-6);
      });
    });
  }

  it('has a gradient along which the loss falls as predicted (finite differences)', () => {
    const system = { graph: AgentGraph.cycle(3), obsDim: 2, action: DISCRETE };
    const gcn = new NetworkedGcn(system);
    const parameters = gcn.initialParameters(2);
    const fifo = new LocalModels(system).episodes;
    fifo.add(randomEpisode(system, 8, 5));
    const batch = fifo.sampleWindows(6, 4, rngFrom(1), 0);
    const lossWeights = unevenLossWeights(gcn);
    const { errors, gradients } = gcn.lossAndGradients(parameters, batch, lossWeights);
    const squaredNorm = gradients.reduce((sum, g) => sum + g.reduce((s, v) => s + v * v, 0), 0);
    const epsilon = 1e-3 / Math.sqrt(squaredNorm);
    const moved = (sign: number) => gcn.evaluate(parameters.map((p, i) => p.map((v, k) => v + sign * epsilon * gradients[i][k])), batch, lossWeights).loss;
    const slope = (moved(1) - moved(-1)) / (2 * epsilon);
    expect(slope / squaredNorm).toBeGreaterThan(0.95);
    expect(slope / squaredNorm).toBeLessThan(1.05);
    expect(errors.loss).toBeGreaterThan(0);
  });
});

describe('DMPO local models: training', () => {
  it('leaks no tensors across training, validation and rollouts, and is deterministic in its seed', async () => {
    const system = { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE };
    const config: Partial<LocalModelConfig> = { seed: 11, windowsPerBatch: 8, validateEvery: 3 };
    const run = async () => {
      const models = new LocalModels(system, config);
      models.addEpisode(randomEpisode(system, 20, 1));
      const counts: number[] = [];
      for (let k = 0; k < 3; k++) {
        await models.train(7);
        await models.validate();
        models.branchedRollout(() => new Float32Array(4 * 3), { trajectories: 4, steps: 3 });
        counts.push(tf.memory().numTensors);
      }
      return { counts, parameters: models.parameters.map((p) => Array.from(p)) };
    };
    const before = tf.memory().numTensors;
    const first = await run();
    expect(first.counts).toEqual([before, before, before]);
    expect((await run()).parameters).toEqual(first.parameters);
  });

  it('learns cacc-catchup from random-action episodes with the default preset: validation state error about 10% of the variance', async () => {
    const env = createEnv('cacc-catchup', {}, 15);
    const episodes = recordEpisodes(env, 21, randomActions(env, 2), caccLearningReward);
    const models = LocalModels.forEnv(env.spec, {
      seed: 3,
      learningRate: Number(CACC_DEFAULT.lrModel),
      windowsPerBatch: Number(CACC_DEFAULT.modelBatchWindows),
      rewardCoefficient: Number(CACC_DEFAULT.modelRewardCoef),
      modelErrorThreshold: 0,
    });
    for (const episode of episodes) models.addEpisode(episode);
    const before = await models.validate();
    // Measured here (confirmation windows): 0.054 after 600 steps, the acceleration field at
    // 0.31 of its variance, reward error 0.61 (state weights 1/sigma^2 + c / (Var + sigma^2));
    // with 1/sigma^2 alone 0.107, the acceleration at 0.62, reward 0.48; raw-unit targets 0.07
    // after 1000 steps (targetNormalisation.ts, docs/dmpo-figure-eight.md).
    const report = await models.train(600);
    expect(before.stateError).toBeGreaterThan(0.5);
    expect(report.stateError).toBeLessThan(0.07);
    // The validation is one 256-window draw; a large fresh one confirms it was no fluke.
    const confirmation = models.gcn.evaluate(models.parameters, models.episodes.sampleWindows(1024, 4, rngFrom(77), 0), uniformLossWeights(models.gcn, 1));
    expect(relativeError(confirmation.stateMse, confirmation.stateVariance)).toBeLessThan(0.07);
    expect(relativeError(confirmation.rewardMse, confirmation.rewardVariance)).toBeLessThan(0.7);
  }, 240_000);

  it('fits the ring (continuous actions)', async () => {
    const env = createEnv('ring', { horizon: 400 }, 3);
    const models = LocalModels.forEnv(env.spec, { seed: 5, learningRate: 2e-3, windowsPerBatch: 32, modelErrorThreshold: 0 });
    for (const episode of recordEpisodes(env, 8, randomActions(env, 4))) models.addEpisode(episode);
    const before = await models.validate();
    // Measured: state error 8.5 before, 4e-5 after 200 steps; reward error 0.025.
    const report = await models.train(200);
    expect(report.stateError).toBeLessThan(Math.min(1e-3, before.stateError / 1000));
    expect(report.rewardError).toBeLessThan(0.1);
  });
});

describe('DMPO local models: branched rollouts', () => {
  const system = { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE };
  const policy = (observations: Float32Array, batch: number) => Float32Array.from({ length: batch * 3 }, (_, k) => (observations[k * 2] > 0 ? 1 : (k % 3)));

  async function trainedModels(): Promise<{ models: LocalModels; episode: RealEpisode }> {
    const models = new LocalModels(system, { seed: 2, windowsPerBatch: 16 });
    const episode = randomEpisode(system, 30, 6);
    models.addEpisode(episode);
    await models.train(20);
    return { models, episode };
  }

  it('produces finite transitions in the rollout-buffer layout', async () => {
    const { models } = await trainedModels();
    const rollout = models.branchedRollout(policy, { trajectories: 16, steps: 5 });
    expect(rollout.observations).toHaveLength(5 * 16 * 3 * 2);
    expect(rollout.actions).toHaveLength(5 * 16 * 3);
    expect(rollout.rewards).toHaveLength(5 * 16 * 3);
    expect(rollout.dones).toHaveLength(5 * 16 * 3);
    expect(rollout.finalObservations).toHaveLength(16 * 3 * 2);
    for (const values of [rollout.observations, rollout.rewards, rollout.finalObservations]) expect(values.every(Number.isFinite)).toBe(true);
    expect(Array.from(rollout.actions.subarray(0, 3))).toEqual(Array.from(policy(rollout.observations.subarray(0, 6), 1)));
  });

  it('continues in the model while no rollout ends', async () => {
    const { models } = await trainedModels();
    for (let i = 0; i < 3; i++) setSegment(models, i, 'head.bias', (k, current) => (k === DONE_OUTPUT ? -50 : current));
    const rollout = models.branchedRollout(policy, { trajectories: 8, steps: 4 });
    expect(rollout.dones.every((d) => d === 0)).toBe(true);
    const rowSize = 8 * 3 * 2;
    for (let t = 0; t + 1 < 4; t++) {
      const prediction = withTensorScope(() =>
        models.gcn.predict(models.gcn.buildWeights(models.parameters, false), rollout.observations.subarray(t * rowSize, (t + 1) * rowSize), rollout.actions.subarray(t * 24, (t + 1) * 24), 8),
      );
      Array.from(prediction.nextObservations).forEach((v, k) => expect(rollout.observations[(t + 1) * rowSize + k]).toBeCloseTo(v, 5));
    }
  });

  it('restarts an ended rollout from a real state, with the done on every agent', async () => {
    const { models, episode } = await trainedModels();
    // Agent 1 alone predicts certain termination: every rollout ends at every step.
    setSegment(models, 1, 'head.bias', (k, current) => (k === DONE_OUTPUT ? 50 : current));
    const rollout = models.branchedRollout(policy, { trajectories: 8, steps: 4 });
    expect(rollout.dones.every((d) => d === 1)).toBe(true);
    const realStates = new Set<string>();
    for (let t = 0; t < episode.length; t++) realStates.add(Array.from(episode.observations.subarray(t * 6, (t + 1) * 6)).join(','));
    for (let row = 0; row < 4 * 8; row++) expect(realStates.has(Array.from(rollout.observations.subarray(row * 6, (row + 1) * 6)).join(','))).toBe(true);
  });
});
