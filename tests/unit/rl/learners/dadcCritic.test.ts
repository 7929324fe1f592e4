import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { centralDifference, untimed } from './dadc.helpers.ts';
import { Dadc } from '../../../../src/main/rl/learners/dadc/dadc.ts';
import { DadcNetworks } from '../../../../src/main/rl/learners/dadc/networks.ts';
import { Tape } from '../../../../src/main/rl/learners/dadc/tape.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

/** DADC's network options (criticUnits, criticHead, actorUnits): the critic's width and shape, the actor's width. */

function mabcDadc(settings: Record<string, unknown>, seed: number): Dadc {
  return new Dadc({ learner: 'dadc', scenario: 'mabc', scenarioParams: {}, config: resolveLearnerConfig('dadc', 'mabc', 'default', settings), seed });
}

const oneHots = (rows: number, size: number, chosen: (r: number) => number) => {
  const theta = new Float64Array(rows * size);
  for (let r = 0; r < rows; r++) theta[r * size + chosen(r)] = 1;
  return theta;
};

describe('dadc critic options', () => {
  it('with criticHead per-choice, reads X alone and gives each one-hot choice its own output, differentiated exactly', () => {
    const networks = new DadcNetworks({ common: 4, prescription: 4, ais: 5, next: 4, initialLogStd: 0, criticUnits: 7, criticPerChoice: true }, 3);
    // The critic's layers: X (5) -> 7 -> 7 -> one output per choice (4).
    expect(networks.parts.critic.map((m) => [m.rows, m.cols])).toEqual([[5, 7], [1, 7], [7, 7], [1, 7], [7, 4], [1, 4]]);
    const ais = Array.from({ length: 15 }, (_, k) => Math.sin(k + 0.5));
    const q = (theta: Float64Array, tape = new Tape(false)) => networks.q(tape, tape.constant(ais, 3, 5), tape.constant(theta, 3, 4));
    // Q(X, c) of one choice does not depend on which choices the other rows hold, and the choices differ.
    const perChoice = [0, 1, 2, 3].map((c) => Array.from(q(oneHots(3, 4, () => c)).value));
    const mixed = Array.from(q(oneHots(3, 4, (r) => r + 1)).value);
    expect(mixed).toEqual([perChoice[1][0], perChoice[2][1], perChoice[3][2]]);
    expect(new Set(perChoice.map((values) => values[0])).size).toBe(4);
    // The tape's gradient of sum_r w_r Q(X_r, theta_r) in every critic parameter against central differences.
    const theta = oneHots(3, 4, (r) => (2 * r + 1) % 4);
    const weights = [0.7, -1.3, 0.4];
    const value = () => Array.from(q(theta).value).reduce((sum, v, r) => sum + weights[r] * v, 0);
    networks.zeroGradients('critic');
    const tape = new Tape();
    const out = q(theta, tape);
    out.grad.set(weights);
    tape.backward();
    for (const m of networks.parts.critic) {
      for (const k of [0, m.value.length - 1]) expect(m.grad[k]).toBeCloseTo(centralDifference(m.value, k, value), 6);
    }
  });

  it('draws a wider critic and actor when told (criticUnits, actorUnits), and the default critic exactly as before (criticUnits = actorUnits = aisSize, joint)', async () => {
    const wide = mabcDadc({ criticUnits: 16, actorUnits: 12 }, 4).coordinators[0].networks;
    expect(wide.parts.critic.map((m) => [m.rows, m.cols])).toEqual([[9, 16], [1, 16], [16, 16], [1, 16], [16, 1], [1, 1]]);
    // The actor: X (5) -> 12 -> the 4 choices' logits, and the (unused) log std.
    expect(wide.parts.actor.map((m) => [m.rows, m.cols])).toEqual([[5, 12], [1, 12], [12, 4], [1, 4], [1, 4]]);
    const plain = mabcDadc({}, 4);
    const explicit = mabcDadc({ criticUnits: 5, actorUnits: 5, criticHead: 'joint' }, 4);
    for (let k = 0; k < 2; k++) expect(untimed(await explicit.iterate())).toEqual(untimed(await plain.iterate()));
  });

  it('trains with a per-choice critic on mabc and resumes exactly', async () => {
    const settings = { criticHead: 'per-choice', criticUnits: 8, rolloutSteps: 20, numEnvs: 2 };
    const dadc = mabcDadc(settings, 6);
    const first = untimed(await dadc.iterate());
    expect(Number.isFinite(first.metrics['loss/critic'])).toBe(true);
    const saved = decodeState(encodeState(dadc.state()));
    const next = untimed(await dadc.iterate());
    const resumed = mabcDadc(settings, 6);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(next);
  });

  it('refuses a per-choice critic without a finite set of choices, by name', () => {
    expect(() => resolveLearnerConfig('dadc', 'demand-response', 'default', { criticHead: 'per-choice' })).toThrow('criticHead');
    expect(() => resolveLearnerConfig('dadc', 'mabc', 'default', { criticUnits: 300 })).toThrow('criticUnits');
  });
});
