import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { straightAndResumed } from './resume.helpers.ts';
import { Dsac } from '../../../../src/main/rl/learners/dsac/dsac.ts';
import { ReplayBuffer } from '../../../../src/main/rl/learners/dsac/replay.ts';
import { SacAgents } from '../../../../src/main/rl/learners/dsac/sacAgents.ts';
import { SacBatch, sacUpdate } from '../../../../src/main/rl/learners/dsac/sacUpdate.ts';
import { evaluateGroups } from '../../../../src/main/rl/nn/agentNetworks.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import type { EnvSpec } from '../../../../src/main/sim/env.ts';
import { AgentGraph } from '../../../../src/main/sim/graph.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

/** Learning starts in the second iteration; small batches keep each update cheap. */
const SMALL = { numEnvs: 2, rolloutSteps: 40, actionRepeat: 1, learningStarts: 100, updatesPerStep: 0.1, batchSize: 32, replaySize: 1000 };
const make = (settings: Record<string, number> = SMALL, seed = 5) =>
  new Dsac({ learner: 'dsac', scenario: 'cacc-catchup', scenarioParams: { horizon: 50 }, config: resolveLearnerConfig('dsac', 'cacc-catchup', 'default', settings), seed });

describe('replay buffer', () => {
  it('keeps the last capacity transitions in a ring and draws only stored ones', () => {
    const replay = new ReplayBuffer(3, 2, 1);
    for (let k = 0; k < 4; k++) replay.addStep([k, k], [k % 4, 1], [k, -k], [k === 3 ? 1 : 0], [k + 0.5, k + 0.5], 1);
    expect(replay.size).toBe(3);
    expect(replay.cursor).toBe(1);
    expect(Array.from(replay.obs)).toEqual([3, 3, 1, 1, 2, 2]);
    expect(Array.from(replay.terminated)).toEqual([1, 0, 0]);
    const rng = new RngStreams(1);
    rng.seed(0, 1);
    const indices = new Int32Array(50);
    replay.sampleIndices(rng, indices);
    expect(indices.every((i) => i >= 0 && i < 3)).toBe(true);
    expect(new Set(indices).size).toBe(3);
  });

  it('refuses a checkpoint whose entries do not fit, writing nothing', () => {
    const replay = new ReplayBuffer(4, 2, 1);
    replay.addStep([1, 2], [0, 1], [0, 0], [0], [1, 2], 1);
    const saved = replay.snapshot();
    const other = new ReplayBuffer(4, 2, 1);
    expect(() => other.restore({ ...saved, actions: new Uint8Array(3) }, 1, 1, (name) => `misfit ${name}`)).toThrow(/misfit replay.actions/);
    expect(other.size).toBe(0);
    other.restore(saved, 1, 1, (name) => name);
    expect(Array.from(other.obs.subarray(0, 2))).toEqual([1, 2]);
  });
});

describe('n-step rows', () => {
  // Two copies, one agent, obsDim 1. Copy 0: states 0 -> 1 -> 2 -> 3, terminated on the third
  // step. Copy 1: 10 -> 11, reset (horizon) to 20 -> 21 -> 22. Reward = 100 x copy + step.
  const filled = () => {
    const replay = new ReplayBuffer(8, 1, 1, 2);
    const steps = [
      { obs: [0, 10], next: [1, 11], terminated: [0, 0] },
      { obs: [1, 20], next: [2, 21], terminated: [0, 0] },
      { obs: [2, 21], next: [3, 22], terminated: [1, 0] },
    ];
    steps.forEach((step, t) => replay.addStep(step.obs, [0, 1], [t, 100 + t], step.terminated, step.next, 2));
    return replay;
  };

  it('follow a copy while its stored states continue, stopping at a reset, a terminal state and the newest step', () => {
    const replay = filled();
    // Slots: step t, copy e at 2t + e.
    expect([0, 1, 2, 3, 4, 5].map((k) => replay.successor(k))).toEqual([2, -1, 4, 5, -1, -1]);
    // Steps 3 and 4 wrap the ring (slots 6, 7, then 0, 1). Step 4 ends in the state step 1
    // starts from, but step 1 is older: the newest step has no successor.
    replay.addStep([9, 9], [0, 0], [0, 0], [0, 0], [9, 9], 2);
    replay.addStep([9, 9], [0, 0], [0, 0], [0, 0], [1, 9], 2);
    expect([replay.successor(6), replay.successor(0)]).toEqual([0, -1]);
  });

  it('sum the discounted rewards up to nSteps and bootstrap from the last state with gamma^m', () => {
    const spec = { scenario: 'cacc-catchup', nAgents: 1, obsDim: 1, action: { kind: 'discrete', n: 4 }, graph: AgentGraph.chain(1) } as unknown as EnvSpec;
    const agents = new SacAgents(spec, { kappa: 1, hiddenSizes: [4], initialAlpha: 0.1, seed: 1 });
    const batch = new SacBatch(agents, 64);
    const rng = new RngStreams(1);
    rng.seed(0, 1);
    batch.draw(filled(), rng, { gamma: 0.5, nSteps: 3 });
    const expected: Record<number, { reward: number; next: number; terminated: number; discount: number }> = {
      0: { reward: 0 + 0.5 * 1 + 0.25 * 2, next: 3, terminated: 1, discount: 0.125 },
      1: { reward: 100, next: 11, terminated: 0, discount: 0.5 },
      2: { reward: 1 + 0.5 * 2, next: 3, terminated: 1, discount: 0.25 },
      3: { reward: 101 + 0.5 * 102, next: 22, terminated: 0, discount: 0.25 },
      4: { reward: 2, next: 3, terminated: 1, discount: 0.5 },
      5: { reward: 102, next: 22, terminated: 0, discount: 0.5 },
    };
    expect(new Set(batch.indices).size).toBe(6);
    batch.indices.forEach((index, b) => {
      const row = expected[index];
      expect([batch.rewards[b], batch.nextObs[b], batch.terminated[b], batch.discounts[b]], `slot ${index}`).toEqual([row.reward, row.next, row.terminated, row.discount]);
    });
    // One step is the plain transition.
    batch.draw(filled(), rng, { gamma: 0.5 });
    batch.indices.forEach((index, b) => expect(batch.rewards[b]).toBe(index % 2 === 0 ? index / 2 : 100 + (index - 1) / 2));
  });
});

describe('sacUpdate', () => {
  it('learns each agent’s best action of a one-step game, through its neighbourhood-sum critic', async () => {
    // Three agents on a chain, one-step episodes: agent i earns 1 for action (i + 1) mod 4.
    const spec = { scenario: 'cacc-catchup', nAgents: 3, obsDim: 2, action: { kind: 'discrete', n: 4 }, graph: AgentGraph.chain(3) } as unknown as EnvSpec;
    const agents = new SacAgents(spec, { kappa: 1, hiddenSizes: [16, 16], initialAlpha: 0.05, seed: 1 });
    const replay = new ReplayBuffer(500, 3, 2);
    const rng = new RngStreams(1);
    rng.seed(0, 3);
    for (let k = 0; k < 500; k++) {
      const obs = Array.from({ length: 6 }, () => rng.uniform(0));
      const actions = [0, 1, 2].map(() => Math.floor(rng.uniform(0) * 4));
      replay.addStep(obs, actions, actions.map((a, i) => (a === (i + 1) % 4 ? 1 : 0)), [1], obs, 1);
    }
    const batch = new SacBatch(agents, 32);
    const settings = { batchSize: 32, gamma: 0.99, lrActor: 3e-3, lrCritic: 3e-3, lrAlpha: 3e-4, tau: 0.05, gradientClipNorm: 5, targetEntropy: 0.2 };
    let stats = await sacUpdate(agents, replay, batch, settings, rng);
    const initialEntropy = stats.entropy;
    for (let u = 0; u < 150; u++) stats = await sacUpdate(agents, replay, batch, settings, rng);
    const logits = evaluateGroups(agents.actor, new Float32Array(3 * agents.actorInputSize).fill(0.5), 1, 3);
    const greedy = [0, 1, 2].map((i) => Array.from(logits.subarray(4 * i, 4 * i + 4)).indexOf(Math.max(...logits.subarray(4 * i, 4 * i + 4))));
    expect(greedy).toEqual([1, 2, 3]);
    expect(stats.entropy).toBeLessThan(initialEntropy);
    // Each critic regresses its neighbourhood's summed reward: about 1 for the agent's own best action, plus a neighbour's.
    expect(stats.q).toBeGreaterThan(0.2);
    expect(stats.criticLoss).toBeLessThan(0.1);
  });
});

describe('dsac on cacc-catchup', () => {
  it('collects, then updates: finite metrics, no tensor leak, a policy that evaluates', async () => {
    const learner = make();
    const first = await learner.iterate();
    expect(first.metrics['sac/updates']).toBe(0);
    expect('loss/actor' in first.metrics).toBe(false);
    expect(learner.replay.size).toBe(80);
    const tensors = tf.memory().numTensors;
    const second = await learner.iterate();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(second.envSteps).toBe(160);
    expect(second.metrics['sac/updates']).toBe(8);
    for (const key of ['loss/actor', 'loss/critic', 'entropy', 'alpha', 'q/mean', 'q/target']) expect(Number.isFinite(second.metrics[key]), key).toBe(true);
    expect(second.metrics.entropy).toBeGreaterThan(0);
    expect(second.metrics.entropy).toBeLessThanOrEqual(Math.log(4) + 1e-6);
    const evaluation = evaluatePolicy(learner, 2);
    expect(Number.isFinite(evaluation.meanReturn)).toBe(true);
    const values = learner.policy.values(learner.envs.env);
    expect(values).toHaveLength(8 * 2);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(learner.policy.nonFiniteParameter()).toBeNull();
    learner.dispose();
  });

  it('moves the temperature toward the target entropy', async () => {
    // A target far below the initial near-uniform policy's entropy: alpha must fall.
    const learner = make({ ...SMALL, targetEntropy: 0.01, lrAlpha: 0.01, initialAlpha: 1 });
    await learner.iterate();
    await learner.iterate();
    const alphas = Array.from(learner.policy.logAlpha, Math.exp);
    expect(Math.max(...alphas)).toBeLessThan(1);
    learner.dispose();
  });

  // The second: held decisions (an iteration ends inside one) and n-step rows.
  it.each([
    ['one step per decision', SMALL],
    ['decisions held 5 steps, 3-decision targets', { ...SMALL, rolloutSteps: 42, actionRepeat: 5, nSteps: 3 }],
  ])('continues bit-identically after a checkpoint (replay, targets, alpha, Adam, random streams): %s', async (_, settings) => {
    const tensors = tf.memory().numTensors;
    const { straight, resumed, pairs } = await straightAndResumed(() => make(settings));
    expect(tf.memory().numTensors).toBe(tensors);
    for (const [a, b] of pairs) {
      expect(b.iteration).toBe(a.iteration);
      expect(b.envSteps).toBe(a.envSteps);
      for (const key of ['loss/actor', 'loss/critic', 'alpha', 'entropy', 'q/mean', 'train/episodeReturn']) {
        if (Number.isNaN(a.metrics[key])) expect(b.metrics[key], key).toBeNaN();
        else expect(b.metrics[key], key).toBe(a.metrics[key]);
      }
    }
    expect(Array.from(resumed.policy.actor.groups[3].params)).toEqual(Array.from(straight.policy.actor.groups[3].params));
    expect(Array.from(resumed.policy.targets[1].groups[0].params)).toEqual(Array.from(straight.policy.targets[1].groups[0].params));
    expect(evaluatePolicy(resumed, 1).meanReturn).toBe(evaluatePolicy(straight, 1).meanReturn);
  });

  it('holds each decision actionRepeat steps: one replay transition per decision, its rewards discounted over the steps', async () => {
    const learner = make({ ...SMALL, actionRepeat: 5, learningStarts: 0, rewardScale: 1 });
    const { env } = learner.envs;
    // Copy 0's raw rewards, step by step, as the learner's own collection sees them.
    const rewards: number[] = [];
    const step = env.step.bind(env);
    env.step = (actions) => {
      const ended = step(actions);
      rewards.push(env.reward[0]);
      return ended;
    };
    await learner.iterate();
    expect(learner.replay.size).toBe((2 * 40) / 5);
    const { gamma } = learner.setup.config;
    // Copy 0's first decision is slot 0; its successor (the next decision) is slot 2.
    const first = rewards.slice(0, 5).reduce((sum, r, k) => sum + gamma ** k * r, 0);
    expect(learner.replay.rewards[0]).toBeCloseTo(first, 3);
    expect(learner.replay.successor(0)).toBe(2);
    learner.dispose();
    expect(() => make({ ...SMALL, actionRepeat: 7 })).toThrow(/actionRepeat 7 does not divide the scenario's horizon of 50 steps/);
  });

  it('deploys the held policy: a copy keeps its actions between decisions, whatever its state', () => {
    const env = createEnv('cacc-catchup', { horizon: 50 }, 2);
    for (let e = 0; e < 2; e++) env.resetEnv(e, 7 + e);
    const options = { kappa: 2, hiddenSizes: [16], initialAlpha: 0.1, seed: 3 };
    const held = new SacAgents(env.spec, { ...options, actionRepeat: 3 });
    const every = new SacAgents(env.spec, options);
    const rng = new RngStreams(1);
    rng.seed(0, 9);
    const actions = new Float64Array(16);
    const fresh = new Float64Array(16);
    let previous = new Float64Array(16);
    let changedBetweenDecisions = 0;
    for (let t = 0; t < 12; t++) {
      // Random states, so the greedy action changes from step to step.
      for (let k = 0; k < env.obs.length; k++) env.obs[k] = 4 * rng.uniform(0) - 2;
      held.decide(env, actions);
      every.decide(env, fresh);
      if (t % 3 === 0) expect(Array.from(actions)).toEqual(Array.from(fresh));
      else {
        expect(Array.from(actions)).toEqual(Array.from(previous));
        if (Array.from(fresh).some((a, k) => a !== previous[k])) changedBetweenDecisions += 1;
      }
      previous = actions.slice();
      env.step(actions);
    }
    expect(changedBetweenDecisions).toBeGreaterThan(0);
  });

  it('refuses a checkpoint of another learner or shape by name', async () => {
    const learner = make();
    await learner.iterate();
    const state = learner.state();
    expect(() => make().restore({ ...state, meta: { ...state.meta, learner: 'dppo' } })).toThrow(/checkpoint is of learner dppo, not dsac/);
    const arrays = { ...state.arrays };
    delete arrays.logAlpha;
    expect(() => make().restore({ ...state, arrays })).toThrow(/checkpoint entry logAlpha does not fit/);
  });

  it('refuses a scenario with continuous actions, naming it', () => {
    expect(() => resolveLearnerConfig('dsac', 'ring', 'default', SMALL)).toThrow(/learner dsac trains on cacc-catchup, cacc-slowdown only, not ring/);
    // Built around the catalogue's check, the networks refuse it too.
    const config = resolveLearnerConfig('dsac', 'cacc-catchup', 'default', SMALL);
    expect(() => new Dsac({ learner: 'dsac', scenario: 'ring', scenarioParams: {}, config, seed: 1 })).toThrow(/scenario ring has continuous actions/);
  });
});
