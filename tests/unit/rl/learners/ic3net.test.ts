import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { Ic3net } from '../../../../src/main/rl/learners/ic3net/ic3net.ts';
import { HIDDEN_SIZE, Ic3netNetworks, type Ic3netVariant, type TapeState } from '../../../../src/main/rl/learners/ic3net/networks.ts';
import { TensorTape, type Node } from '../../../../src/main/rl/learners/ic3net/tensorTape.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';
import type { ScenarioId } from '../../../../src/shared/scenarios.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

const VARIANTS: readonly Ic3netVariant[] = ['reference-code', 'paper'];
const TRAFFIC: readonly ScenarioId[] = ['cacc-catchup', 'cacc-slowdown', 'ring', 'figure-eight'];

/** Tiny budgets: 2 copies, 16 steps, BPTT chunks of 6 (so a chunk boundary falls inside the rollout). */
const TINY = { numEnvs: 2, rolloutSteps: 16, bpttSteps: 6 };

/** Short episodes: some end inside every rollout (truncation bootstraps run) and evaluations stay quick. */
const SHORT_EPISODES = { horizon: 12 };

function createIc3net(scenario: ScenarioId, variant: Ic3netVariant): Ic3net {
  const config = resolveLearnerConfig('ic3net', scenario, 'default', { ...TINY, ic3netVariant: variant });
  return new Ic3net({ learner: 'ic3net', scenario, scenarioParams: SHORT_EPISODES, config, seed: 3 });
}

/**
 * sum(weights * outputs) of every head over `steps` chained steps of random observations
 * (the paper variant's state and gates carried, a reset in copy 0 at step 2); with a
 * recording tape, its gradient into `gradient`.
 */
function probe(networks: Ic3netNetworks, steps: number, gradient: Float32Array | null): number {
  const rng = new RngStreams(1);
  rng.seed(0, 11);
  const copies = 2;
  const { agents, obsDim } = networks;
  const random = (size: number) => Float32Array.from({ length: size }, () => rng.normal(0));
  return tf.tidy(() => {
    const tape = new TensorTape(gradient !== null);
    const params = networks.parameterNodes(tape);
    let state: TapeState | null = networks.recurrent
      ? { hidden: tape.constant(tf.randomNormal([agents, copies, HIDDEN_SIZE], 0, 0.5, 'float32', 5)), cell: tape.constant(tf.zeros([agents, copies, HIDDEN_SIZE])), gate: tf.ones([agents, copies, 1]) }
      : null;
    const seeds: [Node, tf.Tensor][] = [];
    let total = 0;
    for (let t = 0; t < steps; t++) {
      const observations = tf.tensor3d(random(agents * copies * obsDim), [agents, copies, obsDim]);
      const fresh = tf.tensor3d([t === 2 ? 0 : 1, 1], [1, copies, 1]);
      const step = networks.forward(tape, params, observations, state, networks.recurrent ? fresh : null);
      for (const node of [step.policy, step.value, ...(step.gateLogits ? [step.gateLogits] : [])]) {
        const weights = tf.tensor(random(node.value.size), node.value.shape);
        total += tf.sum(tf.mul(weights, node.value)).dataSync()[0];
        seeds.push([node, weights]);
      }
      if (step.hidden && step.cell) {
        const gate = tf.tensor3d(Float32Array.from({ length: agents * copies }, (_, k) => (k % 3 === 0 ? 0 : 1)), [agents, copies, 1]);
        state = { hidden: step.hidden, cell: step.cell, gate };
      }
    }
    if (gradient !== null) {
      tape.backward(seeds);
      networks.addGradients(params, gradient);
    }
    return total;
  });
}

describe('IC3Net networks', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: the tape's gradients match central differences (through time for the paper variant)`, () => {
      const spec = createEnv('cacc-catchup', {}, 1).spec;
      const networks = new Ic3netNetworks(spec, variant, -0.5, 7);
      const { params } = networks.parameters;
      const gradient = new Float32Array(params.length);
      probe(networks, 4, gradient);
      // A spread of coordinates: every slot's first entries and some deep inside.
      const picks = new Set<number>();
      for (let k = 0; k < params.length; k += Math.floor(params.length / 23)) picks.add(k);
      let checked = 0;
      for (const k of picks) {
        if (k === networks.logStdOffset || (k >= networks.logStdOffset && networks.logStdOffset >= 0 && k < networks.logStdOffset + networks.agents)) continue;
        const original = params[k];
        const epsilon = 1e-2;
        params[k] = original + epsilon;
        networks.markChanged();
        const up = probe(networks, 4, null);
        params[k] = original - epsilon;
        networks.markChanged();
        const down = probe(networks, 4, null);
        params[k] = original;
        networks.markChanged();
        const numeric = (up - down) / (2 * epsilon);
        expect(Math.abs(numeric - gradient[k])).toBeLessThan(0.02 * Math.max(1, Math.abs(numeric)));
        checked += 1;
      }
      expect(checked).toBeGreaterThan(15);
      expect(gradient.some((g) => g !== 0)).toBe(true);
      networks.dispose();
    });
  }
});

describe('IC3Net learner', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: 2 iterations on every traffic scenario stay finite`, async () => {
      for (const scenario of TRAFFIC) {
        const learner = createIc3net(scenario, variant);
        for (let k = 0; k < 2; k++) {
          const { metrics } = await learner.iterate();
          for (const name of ['loss/actor', 'loss/critic', 'entropy', 'gradientNorm']) expect(Number.isFinite(metrics[name]), `${scenario} ${name}`).toBe(true);
          if (variant === 'paper') expect(metrics['gate/sendRate']).toBeGreaterThan(0);
        }
        expect(learner.policy.nonFiniteParameter()).toBeNull();
        const evaluation = evaluatePolicy(learner, 1);
        expect(Number.isFinite(evaluation.meanReturn), scenario).toBe(true);
        learner.dispose();
      }
    });

    it(`${variant}: resumes exactly from a checkpoint`, async () => {
      const straight = createIc3net('cacc-catchup', variant);
      await straight.iterate();
      const expected = (await straight.iterate()).metrics;
      const first = createIc3net('cacc-catchup', variant);
      await first.iterate();
      const saved = decodeState(encodeState(first.state()));
      first.dispose();
      const resumed = createIc3net('cacc-catchup', variant);
      resumed.restore(saved);
      const after = await resumed.iterate();
      expect(after.iteration).toBe(2);
      for (const name of ['loss/actor', 'loss/critic', 'entropy', 'gradientNorm', 'train/episodeReturn']) {
        expect(after.metrics[name], name).toEqual(expected[name]);
      }
      expect(Array.from(resumed.state().arrays['net.0.params'])).toEqual(Array.from(straight.state().arrays['net.0.params']));
      const other = createIc3net('cacc-catchup', variant === 'paper' ? 'reference-code' : 'paper');
      expect(() => other.restore(saved)).toThrow(/ic3netVariant/);
      for (const learner of [straight, resumed, other]) learner.dispose();
    });

    it(`${variant}: leaks no tensors over iterations, evaluation and dispose`, async () => {
      const before = tf.memory().numTensors;
      const learner = createIc3net('ring', variant);
      await learner.iterate();
      evaluatePolicy(learner, 2);
      const during = tf.memory().numTensors;
      await learner.iterate();
      evaluatePolicy(learner, 2);
      expect(tf.memory().numTensors).toBe(during);
      learner.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('lrDecayIterations divides the k-th Adam step by 1 + k / lrDecayIterations; gradientClipNorm scales the gradient down before it', async () => {
    const create = (settings: Record<string, number>) =>
      new Ic3net({ learner: 'ic3net', scenario: 'cacc-catchup', scenarioParams: SHORT_EPISODES, config: resolveLearnerConfig('ic3net', 'cacc-catchup', 'default', { ...TINY, ic3netVariant: 'reference-code', lrDecayIterations: 0, gradientClipNorm: 1e9, ...settings }), seed: 3 });
    const params = (learner: Ic3net) => Float64Array.from(learner.state().arrays['net.0.params']);
    const [constant, decayed] = [create({}), create({ lrDecayIterations: 1 })];
    const start = params(constant);
    const first = await constant.iterate();
    await decayed.iterate();
    // Step 0 runs at lrActor either way.
    const after = params(constant);
    expect(Array.from(params(decayed))).toEqual(Array.from(after));
    expect(Math.max(...after.map((p, k) => Math.abs(p - start[k])))).toBeGreaterThan(1e-4);
    // The same rollout and gradient at step 1 (k = 1, rate lrActor / 2): half the constant rate's step.
    await constant.iterate();
    await decayed.iterate();
    const [full, half] = [params(constant), params(decayed)];
    let largest = 0;
    for (let k = 0; k < full.length; k++) {
      expect(half[k] - after[k]).toBeCloseTo((full[k] - after[k]) / 2, 6);
      largest = Math.max(largest, Math.abs(full[k] - after[k]));
    }
    expect(largest).toBeGreaterThan(1e-4);
    // Clipped to half its norm, the first gradient gives nearly Adam's same first step, lrActor
    // g / (|g| + epsilon), never a longer one in any coordinate; the metric is the norm before
    // the clip; the second step (moments of other scales) differs.
    const clipped = create({ gradientClipNorm: first.metrics.gradientNorm / 2 });
    expect((await clipped.iterate()).metrics.gradientNorm).toBe(first.metrics.gradientNorm);
    const shorter = params(clipped);
    for (let k = 0; k < shorter.length; k++) expect(Math.abs(shorter[k] - start[k])).toBeLessThanOrEqual(Math.abs(after[k] - start[k]) + 1e-7);
    await clipped.iterate();
    expect(Math.max(...params(clipped).map((p, k) => Math.abs(p - full[k])))).toBeGreaterThan(1e-5);
    for (const learner of [constant, decayed, clipped]) learner.dispose();
  });

  it('paper: the deployed policy restarts its memory where a copy starts an episode', () => {
    const learner = createIc3net('cacc-catchup', 'paper');
    const first = evaluatePolicy(learner, 2);
    const again = evaluatePolicy(learner, 2);
    expect(again.meanReturn).toBe(first.meanReturn);
    learner.dispose();
  });
});
