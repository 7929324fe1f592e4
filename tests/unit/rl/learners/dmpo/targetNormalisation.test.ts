/** DMPO's local models on standardised targets (targetNormalisation.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RealEpisode } from '../../../../../src/main/rl/learners/dmpo/episodes.ts';
import { withTensorScope } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import type { ModelSystem } from '../../../../../src/main/rl/learners/dmpo/gcnLayout.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import { AgentGraph } from '../../../../../src/main/sim/graph.ts';
import { rngFrom } from './dmpo.helpers.ts';

beforeAll(async () => {
  await selectBackend('wasm');
});

const SYSTEM: ModelSystem = { graph: AgentGraph.chain(3), obsDim: 2, action: { kind: 'continuous', low: -1, high: 1 } };

/**
 * Vehicle-like episodes in the environments' units: a speed in [0, 1] that the action moves
 * by at most 0.02 a step and a position that moves by 0.005 x speed, so one step changes a
 * state by ~1e-2 of its range or less, and a reward of 1000 x speed, a thousand times the
 * state's scale (as the figure eight's reward in m/s against observations in [0, 1]).
 */
function vehicleEpisode(length: number, seed: number): RealEpisode {
  const rng = rngFrom(seed);
  const n = SYSTEM.graph.n;
  const observations = new Float32Array((length + 1) * n * 2);
  const actions = new Float32Array(length * n);
  const rewards = new Float32Array(length * n);
  for (let i = 0; i < n; i++) {
    observations[i * 2] = 0.2 + 0.6 * rng.uniform(0);
    observations[i * 2 + 1] = 0.5 * rng.uniform(0);
  }
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < n; i++) {
      const speed = observations[(t * n + i) * 2];
      const action = 2 * rng.uniform(0) - 1;
      const next = Math.min(1, Math.max(0, speed + 0.02 * action));
      actions[t * n + i] = action;
      rewards[t * n + i] = 1000 * speed;
      observations[((t + 1) * n + i) * 2] = next;
      observations[((t + 1) * n + i) * 2 + 1] = observations[(t * n + i) * 2 + 1] + 0.005 * speed;
    }
  }
  return { length, observations, actions, rewards, terminals: new Uint8Array(length * n) };
}

/** MSE of the "nothing changes" prediction s_t = s_0 over the validation windows' steps: what a model must beat. */
function unchangedStateMse(models: LocalModels): number {
  const windows = models.episodes.sampleWindows(256, models.config.windowSteps, rngFrom(5), 0);
  const stateSize = SYSTEM.graph.n * SYSTEM.obsDim;
  let squares = 0;
  for (let t = 0; t < windows.steps; t++) {
    for (let w = 0; w < windows.windows; w++) {
      for (let k = 0; k < stateSize; k++) squares += (windows.nextObservations[(t * windows.windows + w) * stateSize + k] - windows.startObservations[w * stateSize + k]) ** 2;
    }
  }
  return squares / (windows.steps * windows.windows * stateSize);
}

function fittedModels(): LocalModels {
  const models = new LocalModels(SYSTEM, { seed: 3, learningRate: 2e-3, windowsPerBatch: 32, rewardCoefficient: 1, modelErrorThreshold: 0 });
  for (let e = 0; e < 4; e++) models.addEpisode(vehicleEpisode(200, 10 + e));
  return models;
}

/** Population mean and variance of `values`. */
function moments(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, variance: values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length };
}

describe('DMPO local models: standardised targets', () => {
  it('weighs each state feature by 1 / Var(delta) + c / (Var(s) + Var(delta)), c making the second terms average 1 in standardised units, and the reward by coefficient / Var(r)', async () => {
    const models = new LocalModels(SYSTEM, { seed: 3, rewardCoefficient: 2.5, modelErrorThreshold: 0 });
    const episodes = [vehicleEpisode(120, 10), vehicleEpisode(80, 11)];
    for (const episode of episodes) models.addEpisode(episode);
    await models.train(0);
    const n = SYSTEM.graph.n;
    const d = SYSTEM.obsDim;
    const { lossWeights } = models.targets;
    for (let i = 0; i < n; i++) {
      const next: number[][] = [[], []];
      const deltas: number[][] = [[], []];
      const rewards: number[] = [];
      for (const episode of episodes) {
        for (let t = 0; t < episode.length; t++) {
          for (let f = 0; f < d; f++) {
            const after = episode.observations[((t + 1) * n + i) * d + f];
            next[f].push(after);
            deltas[f].push(after - episode.observations[(t * n + i) * d + f]);
          }
          rewards.push(episode.rewards[t * n + i]);
        }
      }
      const deltaVariance = deltas.map((values) => moments(values).variance);
      const spread = next.map((values, f) => moments(values).variance + deltaVariance[f]);
      // The speed moves by ~2% of its spread a step, the position by less: their ratios differ, so the two terms are not proportional.
      const ratios = spread.map((value, f) => deltaVariance[f] / value);
      expect(ratios[0] / ratios[1]).toBeGreaterThan(2);
      const scale = d / (ratios[0] + ratios[1]);
      for (let f = 0; f < d; f++) expect(lossWeights.state[i * d + f] / (1 / deltaVariance[f] + scale / spread[f])).toBeCloseTo(1, 3);
      expect(lossWeights.reward[i] / (2.5 / moments(rewards).variance)).toBeCloseTo(1, 3);
    }
  });

  it('learns both the small state deltas and a reward 1000x the state scale', async () => {
    const models = fittedModels();
    // Measured: reward error 0.10 after 400 steps (1/sigma^2 weights alone: under 0.05; the
    // spread term alone: 0.32 after 400 steps, 0.011 after 800, state error 6e-6, state MSE
    // 0.0015 of "nothing changes"). The spread term adds weight to the speed's change, not to
    // the position's, which is a multiple of the speed like the reward: the reward comes later.
    const report = await models.train(800);
    // Raw-unit targets (the old loss) left the state error above the "nothing changes" baseline here: the reward took the trunk.
    expect(report.stateMse).toBeLessThan(0.3 * unchangedStateMse(models));
    expect(report.stateError).toBeLessThan(0.01);
    expect(report.rewardError).toBeLessThan(0.05);
  }, 120_000);

  it('keeps the fitted model when new episodes move the statistics, and resumes it exactly from a snapshot', async () => {
    const models = fittedModels();
    await models.train(30);
    const rows = 16;
    const observations = vehicleEpisode(rows, 99).observations.subarray(0, rows * SYSTEM.graph.n * 2);
    const actions = Float32Array.from({ length: rows * SYSTEM.graph.n }, (_, k) => Math.sin(k));
    const predict = (target: LocalModels) => withTensorScope(() => target.gcn.predict(target.gcn.buildWeights(target.parameters, false), observations, actions, rows));
    const before = predict(models);
    // Faster vehicles: every statistic moves; the next train() recomputes them before its first step.
    const faster = vehicleEpisode(200, 50);
    for (let k = 0; k < faster.rewards.length; k++) faster.rewards[k] = 3 * faster.rewards[k] + 400;
    models.addEpisode(faster);
    await models.train(0);
    const after = predict(models);
    for (let k = 0; k < before.nextObservations.length; k++) expect(after.nextObservations[k]).toBeCloseTo(before.nextObservations[k], 5);
    for (let k = 0; k < before.rewards.length; k++) expect(Math.abs(after.rewards[k] - before.rewards[k])).toBeLessThan(1e-3 * Math.abs(before.rewards[k]) + 1e-2);

    const snapshot = models.snapshot();
    const resumed = new LocalModels(SYSTEM, models.config);
    resumed.restoreSnapshot(snapshot);
    const [a, b] = await Promise.all([models.train(5), resumed.train(5)]);
    expect(b.loss).toBe(a.loss);
    resumed.parameters.forEach((params, i) => expect(Array.from(params)).toEqual(Array.from(models.parameters[i])));
  }, 120_000);

  it('takes a checkpoint written before standardised targets as the raw-unit model it holds, and keeps it at the next fit', async () => {
    const models = fittedModels();
    await models.train(20);
    const { meta, arrays } = models.snapshot();
    // The old layout: the same entries without targets.*; its trained weights were the raw-unit ones.
    const old = Object.fromEntries(Object.entries(arrays).filter(([name]) => !name.startsWith('targets.')));
    const restored = new LocalModels(SYSTEM, models.config);
    restored.restoreSnapshot({ meta, arrays: old });
    restored.parameters.forEach((params, i) => expect(Array.from(params)).toEqual(Array.from(arrays[`${i}.params`])));
    const rows = 8;
    const observations = vehicleEpisode(rows, 98).observations.subarray(0, rows * SYSTEM.graph.n * 2);
    const actions = new Float32Array(rows * SYSTEM.graph.n).fill(0.5);
    const predict = () => withTensorScope(() => restored.gcn.predict(restored.gcn.buildWeights(restored.parameters, false), observations, actions, rows));
    const before = predict();
    await restored.train(0);
    const after = predict();
    for (let k = 0; k < before.nextObservations.length; k++) expect(after.nextObservations[k]).toBeCloseTo(before.nextObservations[k], 5);
    for (let k = 0; k < before.rewards.length; k++) expect(Math.abs(after.rewards[k] - before.rewards[k])).toBeLessThan(1e-3 * Math.abs(before.rewards[k]) + 1e-2);
  }, 60_000);
});
