import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { centralDifference, untimed } from './dadc.helpers.ts';
import { linearSpace } from '../../../../src/main/rl/learners/dadc/coordinator.ts';
import { Dadc } from '../../../../src/main/rl/learners/dadc/dadc.ts';
import { DadcNetworks } from '../../../../src/main/rl/learners/dadc/networks.ts';
import { Tape } from '../../../../src/main/rl/learners/dadc/tape.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

/** The Gaussian coordinator's log std per state (coordinatorStd state) against the one vector for every state. */

function demandResponseDadc(settings: Record<string, unknown>, seed: number): Dadc {
  const config = resolveLearnerConfig('dadc', 'demand-response', 'default', { rolloutSteps: 20, numEnvs: 3, ...settings });
  return new Dadc({ learner: 'dadc', scenario: 'demand-response', scenarioParams: { agents: 10 }, config, seed });
}

describe('dadc coordinatorStd', () => {
  it('with a log std per state, starts every state at initialLogStd and differentiates log-density and entropy exactly through both heads', () => {
    const shape = { common: 4, prescription: 6, ais: 5, next: 4, initialLogStd: -0.5, stateStd: true };
    const networks = new DadcNetworks(shape, 7);
    // X (5) -> 5 -> the mean (6) and the log std (6): no global vector.
    expect(networks.parts.actor.map((m) => [m.rows, m.cols])).toEqual([[5, 5], [1, 5], [5, 6], [1, 6], [5, 6], [1, 6]]);
    expect(networks.logStd).toBeNull();
    const ais = Array.from({ length: 15 }, (_, k) => Math.sin(k + 0.3));
    const start = networks.actor(new Tape(false), new Tape(false).constant(ais, 3, 5));
    expect(start.logStd.rows).toBe(3);
    for (const v of start.logStd.value) expect(v).toBe(-0.5);
    // Nonzero log-std weights, so the gradient must reach the shared hidden layer through both heads.
    networks.parts.actor[4].value.forEach((_, k, w) => (w[k] = 0.3 * Math.cos(k)));
    const space = linearSpace(1, 2, 1, true);
    const theta = Array.from({ length: 18 }, (_, k) => Math.sin(2 * k));
    const weights = [0.7, -1.3, 0.4];
    const objective = () => {
      const tape = new Tape(false);
      const { mean, logStd } = networks.actor(tape, tape.constant(ais, 3, 5));
      const logDensity = new Float64Array(3);
      space.logDensity(theta, mean, logStd, logDensity);
      // Weighted log-densities plus 0.2 times rows times the mean entropy (what seedEntropyGradient(.., 0.2) seeds).
      return logDensity.reduce((sum, v, r) => sum + weights[r] * v, 0) + 0.2 * 3 * space.seedEntropyGradient(mean, logStd, 0);
    };
    networks.zeroGradients('actor');
    const tape = new Tape();
    const { mean, logStd } = networks.actor(tape, tape.constant(ais, 3, 5));
    space.seedGradient(theta, mean, logStd, weights);
    space.seedEntropyGradient(mean, logStd, 0.2);
    tape.backward();
    for (const m of networks.parts.actor) {
      for (let k = 0; k < m.value.length; k++) expect(m.grad[k]).toBeCloseTo(centralDifference(m.value, k, objective), 6);
    }
  });

  it('keeps the default (global) exactly as before, and with state trains, reports the std at episode starts and resumes exactly', async () => {
    const plain = demandResponseDadc({}, 5);
    const explicit = demandResponseDadc({ coordinatorStd: 'global' }, 5);
    for (let k = 0; k < 2; k++) expect(untimed(await explicit.iterate())).toEqual(untimed(await plain.iterate()));
    const settings = { coordinatorStd: 'state', normaliseCommon: true };
    const dadc = demandResponseDadc(settings, 8);
    const first = untimed(await dadc.iterate());
    expect(first.metrics['prescription/std']).toBeCloseTo(Math.exp(-0.5), 12);
    expect(first.metrics['prescription/startStd']).toBeCloseTo(Math.exp(-0.5), 12);
    const second = untimed(await dadc.iterate());
    // After one update the states' stds differ (from the start's, and from what a global vector would give).
    expect(second.metrics['prescription/std']).not.toBe(second.metrics['prescription/startStd']);
    const saved = decodeState(encodeState(dadc.state()));
    const next = untimed(await dadc.iterate());
    const resumed = demandResponseDadc(settings, 8);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(next);
  });

  it('trains a per-state std under PPO and the deterministic gradient too, and refuses it on a categorical coordinator by name', async () => {
    for (const settings of [{ framework: 'ppo', actorSteps: 3 }, { actorGradient: 'deterministic', framework: 'actor-critic', entropyCoef: 0.01 }]) {
      const metrics = untimed(await demandResponseDadc({ coordinatorStd: 'state', ...settings }, 3).iterate()).metrics;
      expect(Number.isFinite(metrics['loss/actor']) && Number.isFinite(metrics['prescription/std'])).toBe(true);
    }
    expect(() => resolveLearnerConfig('dadc', 'mabc', 'default', { coordinatorStd: 'state' })).toThrow('coordinatorStd');
  });
});
