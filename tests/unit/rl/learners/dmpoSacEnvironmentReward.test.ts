import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DmpoSac } from '../../../../src/main/rl/learners/dmpoSac/dmpoSac.ts';
import { EnvironmentReward } from '../../../../src/main/rl/learners/dmpoSac/environmentReward.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { CACC_COLLISION } from '../../../../src/main/sim/cacc.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';
import { straightAndResumed } from './resume.helpers.ts';

// The backend's self-check can take a while on a busy machine.
beforeAll(async () => {
  await selectBackend('auto');
}, 120_000);

const SMALL = { numEnvs: 2, rolloutSteps: 40, learningStarts: 200, updatesPerStep: 0.05, batchSize: 32, replaySize: 1000, ensembleSize: 2, modelUpdatesPerStep: 0.05, nTraj: 64, modelRolloutLength: 2, modelReplaySize: 200 };
const make = (settings: Record<string, number | string> = {}, seed = 5) =>
  new DmpoSac({ learner: 'dmpo-sac', scenario: 'cacc-catchup', scenarioParams: { horizon: 50 }, config: resolveLearnerConfig('dmpo-sac', 'cacc-catchup', 'default', { ...SMALL, modelReward: 'environment', ...settings }), seed });

/**
 * Steps of `episodes` slow-down episodes under uniformly random actions (training rewards:
 * the safety term included), each with the states before and after it and the simulator's
 * rewards; random actions collide in most slow-down episodes.
 */
function randomTransitions(episodes: number) {
  const env = createEnv('cacc-slowdown', { horizon: 300 }, 1);
  env.training = true;
  const { nAgents, obsDim } = env.spec;
  const rng = new RngStreams(1);
  rng.seed(0, 11);
  const obs: number[] = [];
  const nextObs: number[] = [];
  const rewards: number[] = [];
  const collided: boolean[] = [];
  const actions = new Float64Array(nAgents);
  for (let episode = 0; episode < episodes; episode++) {
    env.resetEnv(0, 100 + episode);
    while (!env.allDone()) {
      obs.push(...env.obs);
      for (let i = 0; i < nAgents; i++) actions[i] = rng.integer(0, 0, 3);
      env.step(actions);
      nextObs.push(...env.obs);
      rewards.push(...env.reward);
      collided.push(env.collided[0] === 1);
    }
  }
  return { nAgents, obsDim, rows: collided.length, obs: Float64Array.from(obs), nextObs: Float64Array.from(nextObs), rewards, collided };
}

/** The steps grouped into held decisions of k steps (their discounted learning rewards, x 1/1000), as DSAC's collector stores them. */
function heldDecisions(data: ReturnType<typeof randomTransitions>, k: number, gamma: number) {
  const width = data.nAgents * data.obsDim;
  const obs: number[] = [];
  const nextObs: number[] = [];
  const rewards: number[] = [];
  let collided = 0;
  for (let start = 0; start + k <= data.rows; start += k) {
    const last = start + k - 1;
    // Decisions within one episode only: the states must chain (an episode's first state follows another's last otherwise).
    let chained = true;
    for (let t = start + 1; t <= last; t++) chained &&= data.obs.subarray(t * width, (t + 1) * width).every((v, j) => v === data.nextObs[(t - 1) * width + j]);
    if (!chained) continue;
    obs.push(...data.obs.subarray(start * width, (start + 1) * width));
    nextObs.push(...data.nextObs.subarray(last * width, (last + 1) * width));
    for (let i = 0; i < data.nAgents; i++) {
      let sum = 0;
      for (let t = start; t <= last; t++) sum += gamma ** (t - start) * (data.rewards[t * data.nAgents + i] / 1000);
      rewards.push(sum);
    }
    if (data.collided[last]) collided++;
  }
  return { rows: obs.length / width, obs: Float64Array.from(obs), nextObs: Float64Array.from(nextObs), rewards, collided };
}

describe("DMPO-SAC's environment reward rule (modelReward 'environment')", () => {
  it('gives the simulator’s own reward and collision of real one-step transitions, exactly where the observation holds the state', () => {
    const data = randomTransitions(6);
    const rule = new EnvironmentReward({ agents: data.nAgents, obsDim: data.obsDim, actionRepeat: 1, gamma: 0.99, learningReward: (r) => r, safetyCost: true });
    const rewards = new Float32Array(data.rows * data.nAgents);
    const done = new Float32Array(data.rows);
    rule.score(data.obs, data.nextObs, data.rows, rewards, done);
    let exact = 0;
    let clipped = 0;
    for (let r = 0; r < data.rows; r++) {
      expect(done[r], `row ${r}`).toBeCloseTo(data.collided[r] ? 1 / CACC_COLLISION.endPeriod : 0, 7);
      for (let i = 0; i < data.nAgents; i++) {
        const k = r * data.nAgents + i;
        const truth = data.rewards[k];
        // Feature 1, the leader speed difference, is clipped at +-2 (10 m/s): then the headway is not recoverable.
        if (Math.abs(data.nextObs[k * data.obsDim + 1]) >= 2 && !data.collided[r]) {
          clipped++;
          continue;
        }
        exact++;
        // Float32 output; the state goes through the observation's scaling and back (a few ulps).
        expect(Math.abs(rewards[k] - truth), `row ${r} agent ${i}: ${rewards[k]} against ${truth}`).toBeLessThanOrEqual(Math.max(1e-3, Math.abs(truth) * 1e-6));
      }
    }
    expect(data.collided.filter(Boolean).length).toBeGreaterThan(50);
    expect(exact).toBeGreaterThan(20 * clipped);
  });

  it('sums a held decision’s discounted learning rewards along the line to the predicted state, collision steps from the estimated collision step', () => {
    // One agent at v 15, u 0; `closing` m/s slower than its leader's speed (v_lead - v = -closing); the observed headway h.
    const observation = (h: number, closing: number) => [0, -closing / 5, 0, (h - closing * 0.1 - 20) / 20, 0];
    const rule = new EnvironmentReward({ agents: 1, obsDim: 5, actionRepeat: 4, gamma: 0.5, learningReward: (r) => r / 1000, safetyCost: false });
    const rewards = new Float32Array(1);
    const done = new Float32Array(1);
    // No collision: h 20 -> 12 on the line, 18, 16, 14, 12 (-(h - 20)^2 / 1000 each).
    rule.score(observation(20, 0), observation(12, 0), 1, rewards, done);
    expect(rewards[0]).toBeCloseTo(-(4 + 0.5 * 16 + 0.25 * 36 + 0.125 * 64) / 1000, 6);
    expect(done[0]).toBe(0);
    // h 20 -> 0 closing at 100 m/s (10 m a step): the collision came at step 2; step 1 at h 10, then -1 a step.
    rule.score(observation(20, 100), observation(0, 100), 1, rewards, done);
    expect(rewards[0]).toBeCloseTo(-0.1 + (0.5 + 0.25 + 0.125) * -1, 6);
    expect(done[0]).toBeCloseTo(4 / 60, 7);
    // Closing at 50 m/s: 4 steps, h 15, 10, 5 on the way, step 4 collides.
    rule.score(observation(20, 50), observation(0, 50), 1, rewards, done);
    expect(rewards[0]).toBeCloseTo(-0.025 + 0.5 * -0.1 + 0.25 * -0.225 + 0.125 * -1, 6);
    // A collided start (frozen platoon): every step -1.
    rule.score(observation(0.5, 0), observation(0.5, 0), 1, rewards, done);
    expect(rewards[0]).toBeCloseTo(-(1 + 0.5 + 0.25 + 0.125), 6);
  });

  it('scores real held decisions (10 steps) within a fraction of a per cent of their reward variance', () => {
    const data = randomTransitions(3);
    const decisions = heldDecisions(data, 10, 0.99);
    const rule = new EnvironmentReward({ agents: data.nAgents, obsDim: data.obsDim, actionRepeat: 10, gamma: 0.99, learningReward: (r) => r / 1000, safetyCost: true });
    const rewards = new Float32Array(decisions.rows * data.nAgents);
    rule.score(decisions.obs, decisions.nextObs, decisions.rows, rewards, new Float32Array(decisions.rows));
    const mean = decisions.rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const variance = decisions.rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / rewards.length;
    const mse = decisions.rewards.reduce((a, b, k) => a + (b - rewards[k]) ** 2, 0) / rewards.length;
    expect(decisions.collided).toBeGreaterThan(3);
    // Measured 0.03-0.05% (docs/dmpo-sac.md); the line through all 10 steps, whatever the collision, gave 8.5% on catch-up.
    expect(mse / variance).toBeLessThan(0.005);
  });

  it("rejects a scenario other than CACC's observation", () => {
    expect(() => new EnvironmentReward({ agents: 2, obsDim: 3, actionRepeat: 1, gamma: 0.99, learningReward: (r) => r, safetyCost: false })).toThrow(/reads CACC's 5 observation features, got 3/);
  });
});

describe("dmpo-sac with modelReward 'environment'", () => {
  it('scores its real one-step transitions as the simulator did (floor error ~0), branches without leaking tensors', async () => {
    // One control step per decision, so the rule applies to real transitions exactly (float32 replay rows).
    const learner = make({ actionRepeat: 1 });
    await learner.iterate();
    const second = await learner.iterate();
    expect(second.metrics['model/rewardFloorError']).toBeLessThan(1e-6);
    expect(Number.isFinite(second.metrics['model/rewardError'])).toBe(true);
    const tensors = tf.memory().numTensors;
    const third = await learner.iterate();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(third.metrics['model/branchTransitions']).toBeGreaterThanOrEqual(64);
    expect(third.metrics['sac/updates']).toBe(4);
    // The branches' rewards are the rule's: each reward of the model replay is what the rule gives its row.
    const { modelReplay } = learner;
    const rows = modelReplay.size;
    const rewards = new Float32Array(rows * 8);
    learner.environmentReward!.score(modelReplay.obs, modelReplay.nextObs, rows, rewards, new Float32Array(rows));
    expect(Array.from(modelReplay.rewards.subarray(0, rows * 8))).toEqual(Array.from(rewards));
    learner.dispose();
  });

  it('continues bit-identically after a checkpoint', async () => {
    const { straight, resumed, pairs } = await straightAndResumed(() => make(), 3, 2);
    for (const [a, b] of pairs) {
      for (const key of ['loss/critic', 'model/rewardError', 'model/rewardFloorError', 'model/branchTransitions']) {
        if (Number.isNaN(a.metrics[key])) expect(b.metrics[key], key).toBeNaN();
        else expect(b.metrics[key], key).toBe(a.metrics[key]);
      }
    }
    expect(Array.from(resumed.modelReplay.rewards)).toEqual(Array.from(straight.modelReplay.rewards));
    expect(Array.from(resumed.policy.actor.groups[2].params)).toEqual(Array.from(straight.policy.actor.groups[2].params));
  });

  it('leaves the default on the learned reward', () => {
    expect(resolveLearnerConfig('dmpo-sac', 'cacc-catchup').modelReward).toBe('learned');
  });
});
