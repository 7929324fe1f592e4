import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamStep, zeroMoments } from '../../../../src/main/rl/nn/adam.ts';
import { AgentNetworks } from '../../../../src/main/rl/nn/agentNetworks.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { initialParameters, MlpLayout } from '../../../../src/main/rl/nn/parameters.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';

beforeAll(async () => {
  await selectBackend('wasm');
});

const config = { agents: 3, actorInputSize: 6, criticInputSize: 14, head: { kind: 'gaussian', actionSize: 1 }, seed: 7 } as const;

describe('parameter initialisation', () => {
  it('is deterministic: same seed, same weights; another seed, other weights', () => {
    const a = new AgentNetworks(config);
    const b = new AgentNetworks(config);
    const c = new AgentNetworks({ ...config, seed: 8 });
    for (const kind of ['actor', 'critic'] as const) {
      a[kind].groups.forEach((group, g) => {
        expect(group.params).toEqual(b[kind].groups[g].params);
        expect(group.params).not.toEqual(c[kind].groups[g].params);
      });
    }
    // each agent and each network has its own weights
    expect(a.actor.groups[0].params).not.toEqual(a.actor.groups[1].params);
    expect(a.critic.groups[0].params.subarray(0, 64)).not.toEqual(a.actor.groups[0].params.subarray(0, 64));
  });

  it('draws like PyTorch nn.Linear: uniform in +-1/sqrt(fan_in), log std -0.5', () => {
    const networks = new AgentNetworks(config);
    const { layout } = networks.actor;
    expect(layout.layers.map((l) => [l.inputSize, l.outputSize])).toEqual([
      [6, 64],
      [64, 64],
      [64, 1],
    ]);
    expect(networks.critic.layout.layers.map((l) => [l.inputSize, l.outputSize])).toEqual([
      [14, 64],
      [64, 64],
      [64, 1],
    ]);
    const params = networks.actor.groups[0].params;
    for (const layer of layout.layers) {
      const bound = 1 / Math.sqrt(layer.inputSize);
      const values = Array.from(params.subarray(layer.weightOffset, layer.biasOffset + layer.outputSize));
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
      // spread over the whole range, centred (a 64-64 layer has 4160 draws)
      expect(Math.max(...values)).toBeGreaterThan(0.9 * bound);
      expect(Math.min(...values)).toBeLessThan(-0.9 * bound);
      expect(Math.abs(values.reduce((s, v) => s + v, 0) / values.length)).toBeLessThan(0.1 * bound);
    }
    expect(Array.from(params.subarray(layout.extraOffset))).toEqual([-0.5]);
    expect(layout.size).toBe(6 * 64 + 64 + 64 * 64 + 64 + 64 + 1 + 1);
  });

  it('shares one set of weights across agents when asked', () => {
    const shared = new AgentNetworks({ ...config, shareParameters: true });
    expect(shared.actor.groups).toHaveLength(1);
    expect(shared.critic.groups).toHaveLength(1);
    expect(shared.groupOf(2)).toBe(0);
  });
});

describe('adamStep', () => {
  it('matches tf.train.adam (eps 1e-8) step for step', () => {
    const layout = new MlpLayout({ inputSize: 3, hiddenSizes: [5], outputSize: 2, extraSize: 0 });
    const params = initialParameters(layout, 3);
    const moments = zeroMoments(layout.size);
    const variable = tf.variable(tf.tensor1d(params.slice()));
    const optimizer = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
    const rng = new RngStreams(1);
    rng.seed(0, 4);
    for (let step = 0; step < 5; step++) {
      // gradients of mixed scale, including tiny ones where epsilon matters
      const gradient = Float32Array.from({ length: layout.size }, (_, k) => (2 * rng.uniform(0) - 1) * 10 ** -(k % 9));
      adamStep(params, gradient, moments, { learningRate: 0.01 });
      tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(gradient) }]));
    }
    const expected = variable.dataSync();
    for (let k = 0; k < layout.size; k++) expect(params[k]).toBeCloseTo(expected[k], 6);
    expect(moments.step).toBe(5);
    optimizer.dispose();
    variable.dispose();
  });
});
