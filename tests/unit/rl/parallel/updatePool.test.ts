import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORICAL_SMOOTHING, smoothedSoftmax } from '../../../../src/main/rl/core/distributions.ts';
import { AgentNetworks, type AgentNetworksConfig } from '../../../../src/main/rl/nn/agentNetworks.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import type { ActorBatch, CriticBatch } from '../../../../src/main/rl/core/batches.ts';
import type { ActorLoss } from '../../../../src/main/rl/core/losses.ts';
import { createUpdatePool, splitGroups, type UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';

const AGENTS = 5;
const SAMPLES = 96;
const gaussian: AgentNetworksConfig = { agents: AGENTS, actorInputSize: 6, criticInputSize: 10, head: { kind: 'gaussian', actionSize: 1 }, seed: 21 };
const categorical: AgentNetworksConfig = { ...gaussian, head: { kind: 'categorical', actionCount: 3 }, seed: 22 };

const nativeInstalled = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((name) => {
  try {
    createRequire(import.meta.url).resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
});

let local: UpdatePool;

beforeAll(async () => {
  await selectBackend('wasm');
  local = await createUpdatePool({ threads: 1, backend: 'wasm' });
});

afterAll(async () => {
  await local.close();
});

function random(rng: RngStreams, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (2 * rng.uniform(0) - 1) * scale);
}

/** Data as a rollout would record it: actions drawn from the networks' current policy. */
function batches(networks: AgentNetworks, seed: number): { actor: ActorBatch; critic: CriticBatch } {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const rows = AGENTS * SAMPLES;
  const observations = random(rng, rows * networks.actor.layout.shape.inputSize, 2);
  const oldOutput = networks.evaluateActor(observations, SAMPLES);
  const head = networks.head;
  let actions: Float32Array;
  let oldLogStd: Float32Array | undefined;
  if (head.kind === 'gaussian') {
    oldLogStd = Float32Array.from(networks.actor.groups.map((g) => g.params[networks.actor.layout.extraOffset]));
    actions = Float32Array.from(oldOutput, (mean, k) => mean + Math.exp(oldLogStd![Math.floor(k / SAMPLES)]) * rng.normal(0));
  } else {
    actions = Float32Array.from({ length: rows }, () => rng.integer(0, 0, head.actionCount - 1));
  }
  const advantages = random(rng, rows, 1.5);
  const criticObservations = random(rng, rows * networks.critic.layout.shape.inputSize, 2);
  // returns that depend on the input, so a critic update has something to learn
  const returns = Float32Array.from({ length: rows }, (_, r) => criticObservations[r * networks.critic.layout.shape.inputSize] + 0.1 * rng.normal(0));
  return {
    actor: { samples: SAMPLES, observations, actions, advantages, oldOutput, oldLogStd },
    critic: { samples: SAMPLES, observations: criticObservations, returns },
  };
}

const ppo: ActorLoss = { kind: 'ppo-clip', clipEpsilon: 0.2, entropyCoefficient: 0.01 };

describe('rollout inference', () => {
  for (const shareParameters of [false, true]) {
    it(`stacked batched forward equals the per-agent fast path (shared: ${shareParameters})`, () => {
      for (const config of [gaussian, categorical]) {
        const networks = new AgentNetworks({ ...config, shareParameters });
        const rng = new RngStreams(1);
        rng.seed(0, 1);
        const observations = random(rng, AGENTS * 4 * config.actorInputSize, 2);
        const actor = networks.actorForward(tf.tensor3d(observations, [AGENTS, 4, config.actorInputSize]));
        expect(actor.output.shape).toEqual([AGENTS, 4, config.head.kind === 'gaussian' ? 1 : 3]);
        const expectedOutput = networks.evaluateActor(observations, 4);
        actor.output.dataSync().forEach((v, k) => expect(v).toBeCloseTo(expectedOutput[k], 5));
        if (config.head.kind === 'gaussian') expect(Array.from(actor.logStd!.dataSync())).toEqual(Array(AGENTS).fill(-0.5));
        else expect(actor.logStd).toBeNull();
        tf.dispose([actor.output, actor.logStd ?? []]);
        networks.dispose();
      }
    });
  }

  it('smooths categorical probabilities by 1e-5 and keeps them normalised', () => {
    const logits = [0, 50, 0, 1, 2, 3];
    const probabilities = [0, 1].map((row) => {
      const out = new Float64Array(3);
      smoothedSoftmax(logits, 3 * row, 3, out);
      return Array.from(out);
    });
    for (const row of probabilities) expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
    expect(probabilities[0][0]).toBeCloseTo(CATEGORICAL_SMOOTHING / (1 + 3 * CATEGORICAL_SMOOTHING), 9);
  });
});

describe('updates', () => {
  it('improve the surrogate and the value fit, and report per-agent diagnostics', async () => {
    const networks = new AgentNetworks(gaussian);
    const data = batches(networks, 3);
    const actorStats = await local.updateActors(networks, data.actor, ppo, { epochs: 10, minibatches: 2, learningRate: 3e-3, shuffleSeed: 1 });
    const criticStats = await local.updateCritics(networks, data.critic, { epochs: 20, minibatches: 1, learningRate: 3e-3 });
    expect(actorStats).toHaveLength(AGENTS);
    for (let a = 0; a < AGENTS; a++) {
      const stats = actorStats[a];
      // before the update the ratio is 1 and the loss is -mean(A) - c * entropy
      const advantages = data.actor.advantages.subarray(a * SAMPLES, (a + 1) * SAMPLES);
      const lossBefore = -advantages.reduce((s, v) => s + v, 0) / SAMPLES - 0.01 * stats.entropy;
      expect(stats.loss).toBeLessThan(lossBefore);
      expect(stats.kl).toBeGreaterThan(0);
      expect(stats.ratioMin).toBeLessThan(1);
      expect(stats.ratioMax).toBeGreaterThan(1);
      expect(stats.totalVariation).toBeGreaterThan(0);
      expect(stats.gradientSteps).toBe(20);
      expect(stats.stoppedEarly).toBe(false);
      expect(criticStats[a].loss).toBeLessThan(criticStats[a].lossBefore);
    }
  });

  it('stops an agent early when its KL exceeds 1.5 x targetKl', async () => {
    const networks = new AgentNetworks(categorical);
    const data = batches(networks, 4);
    const stats = await local.updateActors(networks, data.actor, { ...ppo, targetKl: 1e-6 }, { epochs: 10, minibatches: 1, learningRate: 1e-2 });
    for (const agent of stats) {
      // the first step starts at KL 0; after it the KL is far above 1.5e-6
      expect(agent.gradientSteps).toBe(1);
      expect(agent.stoppedEarly).toBe(true);
      expect(agent.kl).toBeGreaterThan(1.5e-6);
    }
  });

  it('leak no tensors across repeated updates and inference', async () => {
    const networks = new AgentNetworks(gaussian);
    const data = batches(networks, 5);
    const cycle = async () => {
      await local.updateActors(networks, data.actor, { ...ppo, targetKl: 0.01 }, { epochs: 3, minibatches: 3, learningRate: 1e-3, shuffleSeed: 2 });
      await local.updateActors(networks, data.actor, { kind: 'dpo', agentCount: AGENTS, beta1: 0.01, beta2: 0.01 }, { epochs: 2, minibatches: 1, learningRate: 1e-3 });
      await local.updateCritics(networks, data.critic, { epochs: 2, minibatches: 2, learningRate: 1e-3 });
      const observations = tf.zeros([AGENTS, 2, gaussian.actorInputSize]) as tf.Tensor3D;
      const { output, logStd } = networks.actorForward(observations);
      tf.dispose([observations, output, logStd ?? []]);
    };
    await cycle();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await cycle();
    // inference weights are rebuilt after each update: disposed and replaced one for one
    expect(tf.memory().numTensors).toBe(tensors);
    networks.dispose();
  });
});

describe('worker threads', () => {
  it('split groups into contiguous near-equal runs', () => {
    expect(splitGroups(22, 2).map((r) => [r.firstGroup, r.groupCount])).toEqual([
      [0, 11],
      [11, 11],
    ]);
    expect(splitGroups(5, 2).map((r) => [r.firstGroup, r.groupCount])).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(splitGroups(1, 2)).toHaveLength(1);
  });

  it.skipIf(nativeInstalled)('report a backend that cannot start as a clear error before starting workers', async () => {
    await expect(createUpdatePool({ threads: 2, backend: 'tensorflow' })).rejects.toThrow(/^backend 'tensorflow' was requested but cannot start/);
  });

  it('give exactly the single-thread result', async () => {
    const workers = await createUpdatePool({ threads: 2, backend: 'wasm' });
    try {
      expect(workers.threads).toBe(2);
      expect(workers.backend.backend).toBe('wasm');
      for (const config of [gaussian, categorical]) {
        const single = new AgentNetworks(config);
        const split = new AgentNetworks(config);
        const data = batches(single, 6);
        const perAgentClip: ActorLoss = { kind: 'ppo-clip', clipEpsilon: [0.1, 0.15, 0.2, 0.25, 0.3], targetKl: 0.02 };
        const schedule = { epochs: 4, minibatches: 2, learningRate: 2e-3, shuffleSeed: 9 };
        const expectedActor = await local.updateActors(single, data.actor, perAgentClip, schedule);
        const expectedCritic = await local.updateCritics(single, data.critic, schedule);
        const [actualActor, actualCritic] = await Promise.all([
          workers.updateActors(split, data.actor, perAgentClip, schedule),
          workers.updateCritics(split, data.critic, schedule),
        ]);
        expect(actualActor).toEqual(expectedActor);
        expect(actualCritic).toEqual(expectedCritic);
        for (const kind of ['actor', 'critic'] as const) {
          split[kind].groups.forEach((group, g) => {
            expect(group.params).toEqual(single[kind].groups[g].params);
            expect(group.moments).toEqual(single[kind].groups[g].moments);
          });
        }
        // the update changed something (the comparison is not between two untouched copies)
        expect(split.actor.groups[0].params).not.toEqual(new AgentNetworks(config).actor.groups[0].params);
      }
    } finally {
      await workers.close();
    }
  });
});
