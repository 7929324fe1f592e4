import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { DmpoSac } from '../../../../src/main/rl/learners/dmpoSac/dmpoSac.ts';
import { EnsembleModels } from '../../../../src/main/rl/learners/dmpoSac/ensembleModel.ts';
import { branchIntoReplay } from '../../../../src/main/rl/learners/dmpoSac/modelBranches.ts';
import { ReplayBuffer } from '../../../../src/main/rl/learners/dsac/replay.ts';
import { SacAgents } from '../../../../src/main/rl/learners/dsac/sacAgents.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import type { EnvSpec } from '../../../../src/main/sim/env.ts';
import { AgentGraph } from '../../../../src/main/sim/graph.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';
import { straightAndResumed } from './resume.helpers.ts';

// The backend's self-check can take a while on a busy machine.
beforeAll(async () => {
  await selectBackend('auto');
}, 120_000);

/** Learning starts in the third iteration; tiny models, batches and branches keep each iteration cheap. */
const SMALL = { numEnvs: 2, rolloutSteps: 40, learningStarts: 200, updatesPerStep: 0.05, batchSize: 32, replaySize: 1000, ensembleSize: 2, modelUpdatesPerStep: 0.05, nTraj: 64, modelRolloutLength: 2, modelReplaySize: 200 };
const make = (settings: Record<string, number> = SMALL, seed = 5) =>
  new DmpoSac({ learner: 'dmpo-sac', scenario: 'cacc-catchup', scenarioParams: { horizon: 50 }, config: resolveLearnerConfig('dmpo-sac', 'cacc-catchup', 'default', settings), seed });

/** Three agents on a chain with two state features and four actions. */
const CHAIN = { scenario: 'cacc-catchup', nAgents: 3, obsDim: 2, action: { kind: 'discrete', n: 4 }, graph: AgentGraph.chain(3) } as unknown as EnvSpec;

function rngOf(seed: number): RngStreams {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  return rng;
}

describe('ensemble models', () => {
  it('learn a simple networked dynamic and report falling held-out errors', async () => {
    // s_i' = s_i + 0.2 (a_i - 1.5) + 0.1 s_{i+1}, r_i = a_i / 4 - s_i0: both need the agent's own action, the state change a neighbour.
    const replay = new ReplayBuffer(600, 3, 2);
    const rng = rngOf(2);
    for (let k = 0; k < 600; k++) {
      const obs = Array.from({ length: 6 }, () => 2 * rng.uniform(0) - 1);
      const actions = [0, 1, 2].map(() => Math.floor(rng.uniform(0) * 4));
      const next = obs.map((s, at) => {
        const i = Math.floor(at / 2);
        return s + 0.2 * (actions[i] - 1.5) + (i < 2 ? 0.1 * obs[at + 2] : 0);
      });
      replay.addStep(obs, actions, actions.map((a, i) => a / 4 - obs[2 * i]), [0], next, 1);
    }
    const models = new EnsembleModels(CHAIN, { members: 2, learningRate: 3e-3, rewardCoefficient: 1, gradientClipNorm: 5, seed: 1 });
    const heldOut = Int32Array.from({ length: 100 }, (_, k) => 500 + k);
    const before = models.validate(replay, heldOut);
    const draws = rngOf(3);
    await models.train(replay, 300, 64, (indices) => indices.forEach((_, b) => (indices[b] = Math.floor(draws.uniform(0) * 500))));
    const after = models.validate(replay, heldOut);
    expect(after.stateError).toBeLessThan(0.05);
    expect(after.rewardError).toBeLessThan(0.1);
    expect(after.stateError).toBeLessThan(before.stateError / 5);
    expect(models.nonFiniteParameter()).toBeNull();
  });

  it('branch until a predicted done or the branch length, from real states, into the model replay', () => {
    const models = new EnsembleModels(CHAIN, { members: 3, learningRate: 1e-3, rewardCoefficient: 1, gradientClipNorm: 5, seed: 1 });
    const policy = new SacAgents(CHAIN, { kappa: 1, hiddenSizes: [8], initialAlpha: 0.1, seed: 1 });
    const real = new ReplayBuffer(10, 3, 2);
    for (let k = 0; k < 10; k++) real.addStep([k, k, k, k, k, k], [0, 1, 2], [0, 0, 0], [0], [k, k, k, k, k, k], 1);
    const doneBias = (logit: number) => {
      const { layers } = models.network.layout;
      const last = layers[layers.length - 1];
      for (const group of models.network.groups) group.params[last.biasOffset + 3] = logit;
    };
    const branch = (length: number) => {
      const into = new ReplayBuffer(100, 3, 2);
      return { into, stored: branchIntoReplay(models, policy, real, into, { branches: 20, length, rng: rngOf(4), stream: 0, environmentReward: null }) };
    };
    doneBias(-50);
    const long = branch(3);
    expect(long.stored).toBe(60);
    expect(long.into.terminated.subarray(0, 60).every((d) => d === 0)).toBe(true);
    // Each first step starts from a stored real state: all of one agent's features equal.
    for (let r = 0; r < 20; r++) expect(Number.isInteger(long.into.obs[r * 6]) && long.into.obs[r * 6] === long.into.obs[r * 6 + 5]).toBe(true);
    // A branch's second step starts where its first ended.
    expect(Array.from(long.into.obs.subarray(20 * 6, 21 * 6))).toEqual(Array.from(long.into.nextObs.subarray(0, 6)));
    doneBias(50);
    const short = branch(3);
    expect(short.stored).toBe(20);
    expect(short.into.terminated.subarray(0, 20).every((d) => d === 1)).toBe(true);
  });

  it('end a branch row with the mean done probability of its agents, not with a draw per agent', () => {
    const models = new EnsembleModels(CHAIN, { members: 2, learningRate: 1e-3, rewardCoefficient: 1, gradientClipNorm: 5, seed: 1 });
    const policy = new SacAgents(CHAIN, { kappa: 1, hiddenSizes: [8], initialAlpha: 0.1, seed: 1 });
    const real = new ReplayBuffer(10, 3, 2);
    for (let k = 0; k < 10; k++) real.addStep([k, k, k, k, k, k], [0, 1, 2], [0, 0, 0], [0], [k, k, k, k, k, k], 1);
    // The done output is its bias alone: agent 0's models say 0.3, the others' 0.
    const { layers } = models.network.layout;
    const last = layers[layers.length - 1];
    models.network.groups.forEach((group, g) => {
      for (let h = 0; h < last.inputSize; h++) group.params[last.weightOffset + h * last.outputSize + 3] = 0;
      group.params[last.biasOffset + 3] = g < 2 ? Math.log(0.3 / 0.7) : -50;
    });
    const into = new ReplayBuffer(4000, 3, 2);
    expect(branchIntoReplay(models, policy, real, into, { branches: 4000, length: 1, rng: rngOf(6), stream: 0, environmentReward: null })).toBe(4000);
    const ended = into.terminated.reduce((sum, d) => sum + d, 0) / 4000;
    // Mean 0.1 (binomial sd 0.005); a draw per agent would end 0.3 of the rows.
    expect(ended).toBeGreaterThan(0.085);
    expect(ended).toBeLessThan(0.115);
  });
});

describe('dmpo-sac on cacc-catchup', () => {
  it('trains its models on older real data, branches once learning starts, updates on mixed batches without leaking tensors', async () => {
    const learner = make();
    const first = await learner.iterate();
    expect('model/stateError' in first.metrics).toBe(false);
    const second = await learner.iterate();
    expect(second.metrics['model/steps']).toBe(4);
    for (const key of ['model/stateError', 'model/rewardError']) expect(Number.isFinite(second.metrics[key]), key).toBe(true);
    expect(second.metrics['sac/updates']).toBe(0);
    expect(learner.modelReplay.size).toBe(0);
    const tensors = tf.memory().numTensors;
    const third = await learner.iterate();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(third.metrics['model/branchTransitions']).toBeGreaterThanOrEqual(64);
    expect(learner.modelReplay.size).toBe(Math.min(200, third.metrics['model/branchTransitions']));
    expect(third.metrics['sac/updates']).toBe(4);
    for (const key of ['loss/actor', 'loss/critic', 'entropy', 'alpha', 'q/mean']) expect(Number.isFinite(third.metrics[key]), key).toBe(true);
    await learner.iterate();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Number.isFinite(evaluatePolicy(learner, 1).meanReturn)).toBe(true);
    expect(learner.policy.nonFiniteParameter()).toBeNull();
    learner.dispose();
  });

  it('continues bit-identically after a checkpoint (replays, models, optimisers, random streams)', async () => {
    const { straight, resumed, pairs } = await straightAndResumed(make, 3, 2);
    for (const [a, b] of pairs) {
      expect(b.envSteps).toBe(a.envSteps);
      for (const key of ['loss/actor', 'loss/critic', 'alpha', 'model/stateError', 'model/rewardError', 'model/branchTransitions', 'train/episodeReturn']) {
        if (Number.isNaN(a.metrics[key])) expect(b.metrics[key], key).toBeNaN();
        else expect(b.metrics[key], key).toBe(a.metrics[key]);
      }
    }
    expect(Array.from(resumed.models.network.groups[5].params)).toEqual(Array.from(straight.models.network.groups[5].params));
    expect(Array.from(resumed.modelReplay.obs)).toEqual(Array.from(straight.modelReplay.obs));
    expect(Array.from(resumed.policy.actor.groups[2].params)).toEqual(Array.from(straight.policy.actor.groups[2].params));
  });

  it('refuses a checkpoint of another learner or without its models, by name', async () => {
    const learner = make();
    await learner.iterate();
    const state = learner.state();
    expect(() => make().restore({ ...state, meta: { ...state.meta, learner: 'dsac' } })).toThrow(/checkpoint is of learner dsac, not dmpo-sac/);
    const arrays = { ...state.arrays };
    delete arrays['model.3.params'];
    expect(() => make().restore({ ...state, arrays })).toThrow(/checkpoint entry 3.params does not fit/);
  });

  it('trains on CACC only, and reads the model fields it shares with dmpo', () => {
    expect(() => resolveLearnerConfig('dmpo-sac', 'ring')).toThrow(/learner dmpo-sac trains on cacc-catchup, cacc-slowdown only, not ring/);
    expect(resolveLearnerConfig('dmpo-sac', 'cacc-catchup', 'paper')).toMatchObject({ realRatio: 0, modelRolloutLength: 1, ensembleSize: 7, lrModel: 3e-4 });
    expect(resolveLearnerConfig('dmpo-sac', 'cacc-slowdown', 'reference-code')).toMatchObject({ kappa: 2, updatesPerStep: 20, modelUpdatesPerStep: 10 });
    expect(() => resolveLearnerConfig('dmpo-sac', 'cacc-catchup', 'default', { realRatio: 2 })).toThrow(/realRatio/);
    expect(() => make({ ...SMALL, replaySize: 80 })).toThrow('learner dmpo-sac: replaySize 80 must exceed rolloutSteps x numEnvs = 80');
  });
});
