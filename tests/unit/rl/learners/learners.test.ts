import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeGae, normalisePerAgent, aggregateNeighbourAdvantages } from '../../../../src/main/rl/core/advantages.ts';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { straightAndResumed } from './resume.helpers.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { createOnPolicyLearner } from '../../../../src/main/rl/learners/index.ts';
import { createUpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import type { UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { PPO_FAMILY, resolveLearnerConfig, type LearnerId } from '../../../../src/shared/learners.ts';
import { SCENARIO_IDS } from '../../../../src/shared/scenarios.ts';

let trainer: UpdatePool;
beforeAll(async () => {
  await selectBackend('auto');
  trainer = await createUpdatePool({ threads: 1 });
});
afterAll(async () => trainer.close());

/** Small budgets; DMPO's models train a few steps on short branches so both paths run. */
const SMALL: Record<string, number> = { numEnvs: 2, rolloutSteps: 64, epochs: 2, criticEpochs: 2 };
const SMALL_DMPO: Record<string, number> = { ...SMALL, nTraj: 16, modelRolloutLength: 5, modelSteps: 20, modelStepsWarmup: 20, modelWarmupEpisodes: 1, innerIterations: 3, modelUsage: 1 };
const settingsOf = (learner: LearnerId) => (learner === 'dmpo' ? SMALL_DMPO : SMALL);

describe('GAE', () => {
  it('bootstraps truncation from V(s_T), terminations from 0, and never across episodes', () => {
    // One agent, one copy, 4 steps: episode ends by truncation after step 1, by termination after step 3.
    const input = {
      agents: 1,
      steps: 4,
      envs: 1,
      rewards: Float32Array.from([1, 1, 1, 1]),
      values: Float32Array.from([0.5, 0.5, 0.5, 0.5]),
      lastValues: Float32Array.from([9]),
      terminated: Uint8Array.from([0, 0, 0, 1]),
      truncated: Uint8Array.from([0, 1, 0, 0]),
      truncationValues: Float32Array.from([0, 2, 0, 0]),
      gamma: 0.9,
      lambda: 0.5,
    };
    const advantages = new Float32Array(4);
    const returns = new Float32Array(4);
    computeGae(input, advantages, returns);
    const d1 = 1 + 0.9 * 2 - 0.5; // truncated: bootstrap from V(s_T) = 2, no carry
    const d0 = 1 + 0.9 * 0.5 - 0.5;
    const d3 = 1 - 0.5; // terminated
    const d2 = 1 + 0.9 * 0.5 - 0.5;
    expect(advantages[1]).toBeCloseTo(d1, 6);
    expect(advantages[0]).toBeCloseTo(d0 + 0.45 * d1, 6);
    expect(advantages[3]).toBeCloseTo(d3, 6);
    expect(advantages[2]).toBeCloseTo(d2 + 0.45 * d3, 6);
    expect(returns[0]).toBeCloseTo(advantages[0] + 0.5, 6);
  });

  it('aggregates neighbour advantages as the mean value or the sum', () => {
    const own = Float32Array.from([1, 2, 10, 20, 100, 200]); // 3 agents x 2 samples
    const hoods = [[0, 1], [1, 0, 2], [2, 1]];
    const mean = new Float32Array(6);
    aggregateNeighbourAdvantages(own, hoods, 2, 'mean-value', mean);
    [11 / 3, 22 / 3, 111 / 3, 222 / 3, 110 / 3, 220 / 3].forEach((x, k) => expect(mean[k]).toBeCloseTo(x, 4));
    const sum = new Float32Array(6);
    aggregateNeighbourAdvantages(own, hoods, 2, 'sum-advantage', sum);
    expect(Array.from(sum)).toEqual([11, 22, 111, 222, 110, 220]);
    normalisePerAgent(sum, 3);
    expect(Array.from(sum.subarray(0, 2)).map((x) => Math.round(x * 1e4) / 1e4)).toEqual([-1, 1]);
  });
});

describe('checkpoint state codec', () => {
  it('round-trips meta and typed arrays of every kind', () => {
    const state = { meta: { a: 1, b: [1, 2] }, arrays: { f: Float32Array.from([1.5, -2]), d: Float64Array.from([Math.PI]), u: Uint8Array.from([7, 8, 9]), i: Int32Array.from([-3]) } };
    const decoded = decodeState(encodeState(state));
    expect(decoded.meta).toEqual(state.meta);
    for (const [name, array] of Object.entries(state.arrays)) expect(Array.from(decoded.arrays[name])).toEqual(Array.from(array));
    expect(() => decodeState(new Uint8Array(16))).toThrow(/not a Headway learner checkpoint/);
  });
});

describe('every learner of the PPO family on every scenario', () => {
  for (const learner of PPO_FAMILY) {
    for (const scenario of SCENARIO_IDS) {
      it(`${learner} x ${scenario}: two iterations end to end, finite metrics, no tensor leak`, async () => {
        const config = resolveLearnerConfig(learner, scenario, 'default', settingsOf(learner));
        // Demand response with 10 loads: the same code paths as 100, a tenth of the time.
        const scenarioParams = { horizon: 50, ...(scenario === 'demand-response' && { agents: 10 }) };
        const agent = createOnPolicyLearner({ learner, scenario, scenarioParams, config, seed: 3 }, trainer);
        await agent.iterate();
        const tensors = tf.memory().numTensors;
        const result = await agent.iterate();
        expect(tf.memory().numTensors).toBe(tensors);
        expect(result.iteration).toBe(2);
        expect(result.envSteps).toBe(2 * 2 * 64);
        for (const key of ['loss/actor', 'loss/critic', 'kl', 'entropy', 'tv/central']) expect(Number.isFinite(result.metrics[key]), key).toBe(true);
        expect(result.metrics['train/episodes']).toBeGreaterThan(0);
        if (learner === 'dmpo') {
          expect(result.metrics['dmpo/modelUpdates']).toBeGreaterThan(0);
          expect(Number.isFinite(result.metrics['model/stateError'])).toBe(true);
        }
        const evaluation = evaluatePolicy(agent, 2);
        expect(evaluation.episodes).toHaveLength(2);
        expect(Number.isFinite(evaluation.meanReturn)).toBe(true);
        expect(tf.memory().numTensors).toBe(tensors);
        agent.dispose();
      });
    }
  }
});

describe('checkpoint and resume', () => {
  it.each([
    ['dpo', ['loss/actor', 'loss/critic', 'kl', 'dpo/beta1', 'train/episodeReturn']],
    ['dmpo', ['loss/actor', 'loss/critic', 'kl', 'model/stateError', 'train/episodeReturn']],
  ] as const)('a restored %s learner continues exactly as the uninterrupted one', async (learner, keys) => {
    const make = () =>
      createOnPolicyLearner(
        { learner, scenario: 'ring', scenarioParams: { horizon: 100 }, config: resolveLearnerConfig(learner, 'ring', 'default', { ...settingsOf(learner), rolloutSteps: 60 }), seed: 5 },
        trainer,
      );
    const { straight, resumed, pairs } = await straightAndResumed(make);
    for (const [a, b] of pairs) {
      expect(b.iteration).toBe(a.iteration);
      for (const key of keys) {
        if (Number.isNaN(a.metrics[key])) expect(b.metrics[key]).toBeNaN();
        else expect(Math.abs(b.metrics[key] - a.metrics[key])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(a.metrics[key])));
      }
    }
    expect(evaluatePolicy(resumed, 1).meanReturn).toBeCloseTo(evaluatePolicy(straight, 1).meanReturn, 6);
  });
});

describe('joint ratio (JR-PPO)', () => {
  const make = (ratio: 'joint' | 'independent', scenario: 'ring' | 'cacc-catchup', params: Record<string, unknown>) =>
    createOnPolicyLearner(
      {
        learner: 'ippo',
        scenario,
        scenarioParams: params,
        config: resolveLearnerConfig('ippo', scenario, 'default', { numEnvs: 2, rolloutSteps: 64, epochs: 3, criticEpochs: 1, minibatches: 1, targetKl: 0, ratio }),
        seed: 8,
      },
      trainer,
    );

  it('with one agent takes exactly the independent PPO-clip steps', async () => {
    const joint = make('joint', 'ring', { preset: 'flow-1av', warmup: 0, horizon: 100 });
    const independent = make('independent', 'ring', { preset: 'flow-1av', warmup: 0, horizon: 100 });
    await joint.iterate();
    await independent.iterate();
    const a = joint.policy.networks.actor.groups[0].params;
    const b = independent.policy.networks.actor.groups[0].params;
    let largest = 0;
    for (let k = 0; k < a.length; k++) largest = Math.max(largest, Math.abs(a[k] - b[k]));
    expect(largest).toBeLessThan(1e-5);
    const initial = make('independent', 'ring', { preset: 'flow-1av', warmup: 0, horizon: 100 }).policy.networks.actor.groups[0].params;
    expect(a.some((x, k) => Math.abs(x - initial[k]) > 1e-4)).toBe(true);
  });

  it('couples the agents through the product of their ratios and reports it', async () => {
    const learner = make('joint', 'cacc-catchup', { horizon: 50 });
    const { metrics } = await learner.iterate();
    expect(metrics['joint/epochs']).toBe(3);
    expect(metrics['joint/ratioMin']).toBeLessThanOrEqual(1);
    expect(metrics['joint/ratioMax']).toBeGreaterThanOrEqual(1);
    // The joint ratio spreads wider than any single agent's ratio.
    expect(metrics['joint/ratioMax']).toBeGreaterThanOrEqual(metrics['ratio/max']);
    expect(Number.isFinite(metrics['loss/actor']) && metrics.kl > 0).toBe(true);
  });
});

describe('truncated episodes across updates on one rollout', () => {
  it('bootstrap every update from the same V(s_T), also when DMPO skips the real data for whole iterations', async () => {
    // 50-step episodes in 100-step rollouts: two truncations per copy per rollout.
    const settings = { ...SMALL_DMPO, rolloutSteps: 100, innerIterations: 2 };
    const learner = createOnPolicyLearner(
      { learner: 'dmpo', scenario: 'cacc-catchup', scenarioParams: { horizon: 50 }, config: resolveLearnerConfig('dmpo', 'cacc-catchup', 'default', settings), seed: 4 },
      trainer,
    );
    const config = learner.setup.config as { modelUsage: number };
    await learner.iterate(); // models not ready yet: real data
    await learner.iterate(); // models ready, modelUsage 1: every inner update on model data
    await learner.iterate();
    config.modelUsage = 0; // real data again: its truncations are this rollout's, whatever came before
    const result = await learner.iterate();
    expect(Number.isFinite(result.metrics['loss/critic'])).toBe(true);
    const buffer = learner.run.rollout;
    const truncatedAt = (values: Float32Array) => Array.from(buffer.truncated.keys()).filter((flag) => buffer.truncated[flag] === 1).map((flag) => values[flag]);
    buffer.evaluateValues();
    const first = truncatedAt(buffer.truncationValues);
    buffer.evaluateValues();
    expect(first).toHaveLength(2 * 2);
    expect(truncatedAt(buffer.truncationValues)).toEqual(first);
    learner.dispose();
  });
});
