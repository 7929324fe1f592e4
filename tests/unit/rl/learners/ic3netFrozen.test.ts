/**
 * IC3Net's two estimator options for CACC (docs/ic3net.md): skipFrozenSteps (steps taken from
 * a collided, frozen state leave the policy and gate loss) and criticSteps > 1 (Adam steps of
 * the value head alone on the hidden layer the rollout recorded).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { normalisePerAgent } from '../../../../src/main/rl/core/advantages.ts';
import { learningRewardOf, TrainingEnvs } from '../../../../src/main/rl/core/rollout.ts';
import { Ic3net } from '../../../../src/main/rl/learners/ic3net/ic3net.ts';
import { HIDDEN_SIZE, Ic3netNetworks, type Ic3netVariant } from '../../../../src/main/rl/learners/ic3net/networks.ts';
import { disposeState, Ic3netPolicy } from '../../../../src/main/rl/learners/ic3net/policy.ts';
import { Ic3netRollout } from '../../../../src/main/rl/learners/ic3net/rollout.ts';
import { ic3netGradient } from '../../../../src/main/rl/learners/ic3net/update.ts';
import { ValueHeadFit } from '../../../../src/main/rl/learners/ic3net/valueHead.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

const TINY = { numEnvs: 2, rolloutSteps: 16, bpttSteps: 6 };
const SHORT_EPISODES = { horizon: 12 };

/** A filled catch-up rollout with its advantages, and the networks that collected it. */
function filledRollout(variant: Ic3netVariant) {
  const config = resolveLearnerConfig('ic3net', 'cacc-catchup', 'default', { ...TINY, ic3netVariant: variant });
  const envs = new TrainingEnvs('cacc-catchup', SHORT_EPISODES, config.numEnvs, 5);
  const networks = new Ic3netNetworks(envs.env.spec, variant, config.initialLogStd, 5);
  const policy = new Ic3netPolicy(networks);
  const rollout = new Ic3netRollout(networks.agents, config.rolloutSteps, config.numEnvs, networks.obsDim);
  const { state } = rollout.collect(envs, policy, networks.recurrent ? networks.zeroState(config.numEnvs) : null, learningRewardOf(config));
  disposeState(state);
  rollout.computeAdvantages(config.gamma, config.gaeLambda);
  return { config, networks, policy, rollout };
}

describe('IC3Net skipFrozenSteps', () => {
  it('normalisePerAgent leaves excluded samples out of the statistics and sets them to 0', () => {
    const advantages = Float32Array.from([1, 2, 3, 100, 10, 20, 30, -100]);
    normalisePerAgent(advantages, 2, Uint8Array.from([0, 0, 0, 1]));
    const std = Math.sqrt(2 / 3);
    expect(Array.from(advantages.subarray(0, 4)).map((a) => +a.toFixed(5))).toEqual([-1 / std, 0, 1 / std, 0].map((a) => +a.toFixed(5)));
    expect(Array.from(advantages.subarray(4)).map((a) => +a.toFixed(5))).toEqual([-1 / std, 0, 1 / std, 0].map((a) => +a.toFixed(5)));
    const plain = Float32Array.from([1, 2, 3, 4]);
    const none = plain.slice();
    normalisePerAgent(plain, 1);
    normalisePerAgent(none, 1, new Uint8Array(4));
    expect(Array.from(none)).toEqual(Array.from(plain));
  });

  for (const variant of ['reference-code', 'paper'] as const) {
    it(`${variant}: frozen steps' actions and advantages leave the gradient alone; their value targets still count`, () => {
      const { config, networks, policy, rollout } = filledRollout(variant);
      const gradient = (skipFrozenSteps: boolean) => ic3netGradient(networks, rollout, { ...config, skipFrozenSteps }).gradient;
      // Element by element without a diff of ~10^5 numbers on failure.
      const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, k) => Object.is(x, b[k]));
      // Nothing frozen: the option changes no number.
      expect(rollout.frozen.every((x) => x === 0)).toBe(true);
      const unmasked = gradient(false);
      expect(same(gradient(true), unmasked)).toBe(true);
      // Freeze the steps of copy 1 from step 9 on (rows t * E + 1), as a collision there would.
      const frozenRows: number[] = [];
      for (let t = 9; t < rollout.steps; t++) frozenRows.push(t * rollout.envs + 1);
      for (const row of frozenRows) rollout.frozen[row] = 1;
      const masked = gradient(true);
      expect(same(masked, unmasked)).toBe(false);
      for (let i = 0; i < rollout.agents; i++) {
        for (const row of frozenRows) {
          const k = i * rollout.samples + row;
          rollout.actions[k] = (rollout.actions[k] + 1) % 4;
          rollout.advantages[k] += 7;
          // The paper variant's gate of step t sets what is sent at t + 1, which the value of the
          // (frozen) steps after it reads: only the last step's gate is free to change here.
          if (variant === 'reference-code' || row === frozenRows[frozenRows.length - 1]) rollout.gates[k] = 1 - rollout.gates[k];
        }
      }
      expect(same(gradient(true), masked)).toBe(true);
      expect(same(gradient(false), unmasked)).toBe(false);
      for (let i = 0; i < rollout.agents; i++) rollout.returns[i * rollout.samples + frozenRows[0]] += 3;
      expect(same(gradient(true), masked)).toBe(false);
      policy.dispose();
    });
  }
});

describe('IC3Net criticSteps', () => {
  for (const variant of ['reference-code', 'paper'] as const) {
    it(`${variant}: the recorded hidden layer reproduces the values; the value head's own steps lower its error and move nothing else`, () => {
      const { networks, policy, rollout } = filledRollout(variant);
      const { offset, size } = networks.valueHead;
      const params = networks.parameters.params;
      for (let k = 0; k < rollout.values.length; k += 7) {
        const i = Math.floor(k / rollout.samples);
        let value = params[offset + networks.agents * HIDDEN_SIZE + i];
        for (let h = 0; h < HIDDEN_SIZE; h++) value += params[offset + i * HIDDEN_SIZE + h] * rollout.features[k * HIDDEN_SIZE + h];
        expect(value).toBeCloseTo(rollout.values[k], 4);
      }
      const before = params.slice();
      const fit = new ValueHeadFit(networks);
      const first = fit.fit(rollout, 30, 0.05);
      const again = fit.fit(rollout, 1, 0.05);
      expect(again).toBeLessThan(first / 2);
      for (let k = 0; k < params.length; k++) if (k < offset || k >= offset + size) expect(params[k]).toBe(before[k]);
      policy.dispose();
    });
  }

  it('resumes exactly from a checkpoint with the value head’s own Adam state', async () => {
    const create = () =>
      new Ic3net({ learner: 'ic3net', scenario: 'cacc-catchup', scenarioParams: SHORT_EPISODES, config: resolveLearnerConfig('ic3net', 'cacc-catchup', 'default', { ...TINY, ic3netVariant: 'reference-code', criticSteps: 4, lrCritic: 0.01, skipFrozenSteps: true }), seed: 3 });
    const straight = create();
    await straight.iterate();
    await straight.iterate();
    const first = create();
    await first.iterate();
    const saved = decodeState(encodeState(first.state()));
    expect(saved.meta.adamSteps).toEqual([1, 3]);
    first.dispose();
    const resumed = create();
    resumed.restore(saved);
    await resumed.iterate();
    const same = (key: string) => {
      const [a, b] = [resumed.state().arrays[key], straight.state().arrays[key]];
      return a.length === b.length && a.every((x, k) => Object.is(x, b[k]));
    };
    expect(same('net.0.params')).toBe(true);
    expect(same('net.1.adam2')).toBe(true);
    for (const learner of [straight, resumed]) learner.dispose();
  });
});
