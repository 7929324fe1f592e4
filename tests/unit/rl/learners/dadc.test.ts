import { describe, expect, it, vi } from 'vitest';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { centralDifference, untimed } from './dadc.helpers.ts';
import { Dadc } from '../../../../src/main/rl/learners/dadc/dadc.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { resolveLearnerConfig, type LearnerPresetId } from '../../../../src/shared/learners.ts';
import { DadcNetworks } from '../../../../src/main/rl/learners/dadc/networks.ts';
import { Matrix, Tape } from '../../../../src/main/rl/learners/dadc/tape.ts';
import { choiceAdvantages, linearSpace, opportunitySpace } from '../../../../src/main/rl/learners/dadc/coordinator.ts';
import { DelayedBroadcast, informationOf, teamReward } from '../../../../src/main/rl/learners/dadc/information.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { argmax } from '../../../../src/main/rl/core/distributions.ts';
import type { MabcEnv } from '../../../../src/main/sim/mabc.ts';

type DadcScenario = 'mabc' | 'demand-response' | 'cacc-catchup' | 'cacc-slowdown';

const resolveDadcConfig = (scenario: DadcScenario, preset: LearnerPresetId = 'default', settings: Record<string, unknown> = {}) =>
  resolveLearnerConfig('dadc', scenario, preset, settings);

/** DADC with the default preset (and `settings`) on a scenario. */
function dadcOn(scenario: DadcScenario, scenarioParams: Record<string, unknown>, settings: Record<string, unknown>, seed: number): Dadc {
  return new Dadc({ learner: 'dadc', scenario, scenarioParams, config: resolveDadcConfig(scenario, 'default', settings), seed });
}

describe('dadc', () => {
  it('every agent draws the same prescription from its copy of the common stream, and acts on its own', async () => {
    const dadc = dadcOn('mabc', {}, { rolloutSteps: 20, computeCoordinatorOnce: false }, 4);
    await dadc.iterate();
    dadc.collect();
    const [first, second] = dadc.agents.map((agent) => agent.coordinator);
    expect(first).not.toBe(second);
    expect(Array.from(second.window.theta)).toEqual(Array.from(first.window.theta));
    // Same data, same updates: the copies of the coordinator stay equal parameter for parameter.
    for (const part of ['approximator', 'critic', 'actor'] as const) {
      first.networks.parts[part].forEach((m, k) => expect(Array.from(second.networks.parts[part][k].value)).toEqual(Array.from(m.value)));
    }
    // The prescription differs from step to step (it is drawn), the private streams differ between agents.
    expect(first.window.theta.slice(0, 8)).not.toEqual(first.window.theta.slice(8 * 4, 8 * 5));
    expect(dadc.agents[0].private.uniform(0)).not.toBe(dadc.agents[1].private.uniform(0));
  });

  it('with the paper’s opportunity prescriptions on mabc: one common choice, devices transmit when they may and hold a packet', async () => {
    const dadc = dadcOn('mabc', {}, { prescriptions: 'opportunities', rolloutSteps: 20, computeCoordinatorOnce: false }, 4);
    await dadc.iterate();
    const [first, second] = dadc.agents.map((agent) => agent.coordinator);
    expect(Array.from(second.window.theta)).toEqual(Array.from(first.window.theta));
    const rows = first.window.theta.length / 4;
    for (let r = 0; r < rows; r++) expect(Array.from(first.window.theta.slice(4 * r, 4 * r + 4)).sort()).toEqual([0, 0, 0, 1]);
    const space = opportunitySpace((dadc.env as MabcEnv).opportunities!, 2);
    const logits = new Float64Array(2);
    // Choices: neither device may transmit, device 1 may, device 2 may, both may.
    const may = [[false, false], [true, false], [false, true], [true, true]];
    for (let c = 0; c < 4; c++) {
      const theta = Float64Array.from([0, 1, 2, 3], (k) => (k === c ? 1 : 0));
      for (const device of [0, 1]) {
        for (const buffer of [0, 1]) {
          space.actionLogits(theta, 0, device, [buffer], 0, logits, 0);
          expect(argmax(logits, 0, 2), `choice ${c} device ${device} buffer ${buffer}`).toBe(may[c][device] && buffer === 1 ? 1 : 0);
        }
      }
    }
    expect(() => resolveLearnerConfig('dadc', 'demand-response', 'default', { prescriptions: 'opportunities' })).toThrow('prescriptions=opportunities needs a scenario with a finite set of prescriptions (mabc), not demand-response');
  });

  it('computes the coordinator once with exactly the results of one copy per agent (demand response, mabc)', async () => {
    for (const [scenario, params] of [['demand-response', { agents: 6 }], ['mabc', {}]] as const) {
      const settings = { numEnvs: 2, rolloutSteps: 15 };
      const once = dadcOn(scenario, params, settings, 3);
      const copies = dadcOn(scenario, params, { ...settings, computeCoordinatorOnce: false }, 3);
      expect(once.coordinators).toHaveLength(1);
      expect(copies.coordinators).toHaveLength(copies.agents.length);
      for (let k = 0; k < 2; k++) expect(untimed(await once.iterate())).toEqual(untimed(await copies.iterate()));
      for (const coordinator of copies.coordinators) {
        for (const part of ['approximator', 'critic', 'actor'] as const) {
          coordinator.networks.parts[part].forEach((m, k) => expect(Array.from(m.value)).toEqual(Array.from(once.coordinators[0].networks.parts[part][k].value)));
        }
        expect(Array.from(coordinator.window.theta)).toEqual(Array.from(once.coordinators[0].window.theta));
      }
      expect(once.evaluate(4, 11)).toEqual(copies.evaluate(4, 11));
      // A checkpoint of one copy per agent resumes computed once, and on equally.
      const resumed = dadcOn(scenario, params, settings, 3);
      resumed.restore(decodeState(encodeState(copies.state())));
      expect(untimed(await resumed.iterate())).toEqual(untimed(await once.iterate()));
    }
  });

  it('differentiates the categorical coordinator’s log-probability exactly, with and without an exploration floor (against central differences)', () => {
    for (const floor of [0, 0.3]) {
      const space = opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2, floor);
      const head = new Matrix(Float64Array.of(0.3, -0.2, 1.1, -0.5, 0.4, 0.0), 2, 3, true);
      const theta = Float64Array.of(0, 0, 1, 1, 0, 0);
      const weight = [0.7, -1.3];
      const total = () => {
        const out = new Float64Array(2);
        space.logDensity(theta, head, head, out);
        return weight[0] * out[0] + weight[1] * out[1];
      };
      space.seedGradient(theta, head, head, weight);
      for (let k = 0; k < 6; k++) {
        expect(head.grad[k]).toBeCloseTo(centralDifference(head.value, k, total), 6);
      }
    }
  });

  it('keeps every choice at probability >= floor / choices under an exploration floor, and the same greedy choice', () => {
    const floor = 0.2;
    const [plain, floored] = [0, floor].map((f) => opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]], [[1, 0]]], 2, f));
    // One choice's logit far above the others: the softmax alone gives the others about e^-20.
    const head = new Matrix(Float64Array.of(20, 0, 0, 0), 1, 4);
    const logProbability = new Float64Array(1);
    for (let c = 0; c < 4; c++) {
      const theta = new Float64Array(4);
      theta[c] = 1;
      floored.logDensity(theta, head, head, logProbability);
      expect(Math.exp(logProbability[0])).toBeGreaterThanOrEqual(floor / 4 - 1e-12);
      if (c > 0) expect(Math.exp(logProbability[0])).toBeCloseTo(floor / 4, 7);
    }
    const draws = { uniform: () => 0.999, normal: () => 0 };
    const theta = new Float64Array(4);
    floored.sample(head, head, draws, theta, logProbability);
    // A draw in the last floor / choices of [0, 1) takes the last choice, which the softmax alone never would.
    expect(Array.from(theta)).toEqual([0, 0, 0, 1]);
    plain.sample(head, head, draws, theta, logProbability);
    expect(Array.from(theta)).toEqual([1, 0, 0, 0]);
    const [greedyPlain, greedyFloored] = [new Float64Array(4), new Float64Array(4)];
    plain.greedy(head, greedyPlain);
    floored.greedy(head, greedyFloored);
    expect(greedyFloored).toEqual(greedyPlain);
  });

  it('differentiates the coordinator’s entropy exactly, categorical and Gaussian (against central differences)', () => {
    const head = new Matrix(Float64Array.of(0.3, -0.2, 1.1, -0.5, 0.4, 0.0), 2, 3, true);
    const logStd = new Matrix(Float64Array.of(-0.5, 0.2, 0.1), 1, 3, true);
    const spaces = { categorical: opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2), floored: opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2, 0.3), gaussian: linearSpace(2, 1, 1, true) };
    for (const [name, space] of Object.entries(spaces)) {
      // Mean entropy over the rows; seeded with weight w, the gradient of w * rows * mean entropy.
      const entropy = () => space.seedEntropyGradient(new Matrix(head.value, 2, 3), new Matrix(logStd.value, 1, 3), 0);
      head.grad.fill(0);
      logStd.grad.fill(0);
      space.seedEntropyGradient(head, logStd, 0.5);
      for (const m of [head, logStd]) {
        for (let k = 0; k < m.value.length; k++) {
          expect(m.grad[k], `${name} ${k}`).toBeCloseTo(0.5 * 2 * centralDifference(m.value, k, entropy), 6);
        }
      }
    }
    // Uniform choices have the most entropy, ln of their count.
    expect(spaces.categorical.seedEntropyGradient(new Matrix(new Float64Array(3), 1, 3), logStd, 0)).toBeCloseTo(Math.log(3), 12);
  });

  it('ascends the expected advantage over every choice exactly (actorGradient every-choice, against central differences)', () => {
    const head = new Matrix(Float64Array.of(0.3, -0.2, 1.1, -0.5, 0.4, 0.0), 2, 3, true);
    const logStd = new Matrix(new Float64Array(3), 1, 3, true);
    const advantage = Float64Array.of(0.5, -1, 2, 0.1, 0.7, -0.3);
    for (const space of [opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2), opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2, 0.3)]) {
      // sum_r sum_c p_c(head_r) A_rc, seeded with weight w: the head's gradient is -w times its derivative.
      const expected = () => 2 * space.seedEveryChoiceGradient!(new Matrix(head.value, 2, 3), advantage, 0);
      head.grad.fill(0);
      space.seedEveryChoiceGradient!(head, advantage, 0.5);
      for (let k = 0; k < head.value.length; k++) expect(head.grad[k]).toBeCloseTo(-0.5 * centralDifference(head.value, k, expected), 6);
    }
    expect(linearSpace(2, 1, 1, true).seedEveryChoiceGradient).toBeNull();
    // The advantages: Q_c - V under the choice probabilities, V their expectation, scaled to unit spread.
    const space = opportunitySpace([[[0, 1]], [[0, 0]], [[1, 1]]], 2);
    const q = Float64Array.of(1, 2, 4, 0, 0, 3);
    const scaled = choiceAdvantages(space, { mean: head, logStd }, (theta) => Float64Array.from({ length: 2 }, (_, r) => q[r * 3 + argmax(theta.value, r * 3, 3)]));
    const probabilities = [0, 1].map((r) => {
      const e = [0, 1, 2].map((c) => Math.exp(head.value[r * 3 + c]));
      return e.map((v) => v / e.reduce((a, b) => a + b, 0));
    });
    let spread = 0;
    for (let r = 0; r < 2; r++) {
      expect(probabilities[r].reduce((a, p, c) => a + p * scaled[r * 3 + c], 0)).toBeCloseTo(0, 12);
      spread += probabilities[r].reduce((a, p, c) => a + p * scaled[r * 3 + c] ** 2, 0) / 2;
      // Differences between choices keep the critic's order and ratios.
      expect((scaled[r * 3 + 2] - scaled[r * 3]) / (scaled[r * 3 + 1] - scaled[r * 3])).toBeCloseTo((q[r * 3 + 2] - q[r * 3]) / (q[r * 3 + 1] - q[r * 3]), 10);
    }
    expect(spread).toBeCloseTo(1, 6);
  });

  it('differentiates its networks correctly (the tape against central differences)', () => {
    const networks = new DadcNetworks({ common: 4, prescription: 8, ais: 5, next: 4, initialLogStd: 0 }, 9);
    const inputs = { hidden: [0.1, -0.2, 0.3, 0, 0.5, -0.4, 0.2, 0.1, 0, 0.3], common: [1, 0, 1, 0, 0, 1, 1, 1], theta: Array.from({ length: 16 }, (_, k) => Math.sin(k)) };
    const loss = (tape: Tape) => {
      const x = networks.encode(tape, tape.constant(inputs.hidden, 2, 5), tape.constant(inputs.common, 2, 4), tape.constant(inputs.theta, 2, 8));
      const { reward, next } = networks.predict(tape, x, tape.constant(inputs.theta, 2, 8));
      const q = networks.q(tape, x, networks.actorMean(tape, x));
      return [reward, next, q];
    };
    const value = () => loss(new Tape(false)).reduce((sum, m) => sum + m.value.reduce((a, v, k) => a + v * Math.cos(k + 1), 0), 0);
    for (const part of ['approximator', 'critic', 'actor'] as const) networks.zeroGradients(part);
    const tape = new Tape();
    for (const m of loss(tape)) m.grad.forEach((_, k) => (m.grad[k] = Math.cos(k + 1)));
    tape.backward();
    for (const part of ['approximator', 'critic', 'actor'] as const) {
      for (const m of networks.parts[part].slice(0, 4)) {
        const k = m.value.length - 1;
        expect(m.grad[k]).toBeCloseTo(centralDifference(m.value, k, value), 6);
      }
    }
  });

  it('improves clearly on multi-access broadcast within 30 short iterations', async () => {
    const dadc = dadcOn('mabc', {}, {}, 1);
    const rewards: number[] = [];
    for (let k = 0; k < 30; k++) rewards.push((await dadc.iterate()).metrics['train/meanReward']);
    const untrained = rewards[0];
    const end = rewards.slice(-5).reduce((a, b) => a + b, 0) / 5;
    // The untrained coordinator's near-uniform choices lose (transmissions cost, "both" collides);
    // the best fixed choice earns about 0.034 per step (discounted 0.340), the optimum about 0.09.
    expect(untrained).toBeLessThan(0);
    expect(end).toBeGreaterThan(untrained + 0.07);
    expect(end).toBeGreaterThan(0.05);
  });

  for (const framework of ['actor-critic', 'ppo'] as const) {
    for (const scenario of ['mabc', 'demand-response', 'cacc-catchup', 'cacc-slowdown'] as const) {
      it(`${framework} on ${scenario}: two iterations, finite metrics, exact resume`, async () => {
        const settings = { framework, rolloutSteps: 30, numEnvs: 2 };
        // CACC: episodes of 30 steps, so some end within the two iterations.
        const params = scenario === 'demand-response' ? { agents: 10 } : scenario.startsWith('cacc') ? { horizon: 30 } : {};
        const dadc = dadcOn(scenario, params, settings, 5);
        await dadc.iterate();
        const saved = decodeState(encodeState(dadc.state()));
        const next = await dadc.iterate();
        for (const [name, value] of Object.entries(next.metrics)) if (name !== 'train/episodeReturn' && name !== 'train/discountedReturn') expect(Number.isFinite(value), name).toBe(true);
        const resumed = dadcOn(scenario, params, settings, 5);
        resumed.restore(saved);
        expect(untimed(await resumed.iterate())).toEqual(untimed(next));
        expect(resumed.iteration).toBe(2);
        // The deployed policy (mean prescription, most probable action) in the core's evaluation: finite, repeatable.
        const deployed = evaluatePolicy(resumed, 2);
        expect(Number.isFinite(deployed.meanReturn)).toBe(true);
        expect(evaluatePolicy(resumed, 2).meanReturn).toBe(deployed.meanReturn);
        // Evaluation on the mean prescription: finite, and the same for the same seed.
        const evaluation = resumed.evaluate(3, 9);
        expect(Number.isFinite(evaluation.meanDiscountedReturn)).toBe(true);
        expect(resumed.evaluate(3, 9)).toEqual(evaluation);
      });
    }
  }

  it('decays its three learning rates on Robbins-Monro schedules (lrDecayIterations), and resumes on them', async () => {
    const settings = { rolloutSteps: 20, lrDecayIterations: 2 };
    const dadc = dadcOn('mabc', {}, settings, 3);
    const { lrApproximator, lrCritic, lrActor, approximatorSteps, criticSteps, actorSteps } = resolveDadcConfig('mabc', 'default', settings);
    const rates: Record<string, number[]> = { approximator: [], critic: [], actor: [] };
    const adam = vi.spyOn(dadc.coordinators[0], 'adam').mockImplementation((part, rate) => void rates[part].push(rate));
    await dadc.iterate();
    await dadc.iterate();
    adam.mockRestore();
    // Iteration 0 at the initial rates, iteration 1 at initial / (1 + 1/2)^p: p 0.6, 0.8, 1 from the fastest timescale to the slowest.
    expect(rates.approximator).toEqual([...Array<number>(approximatorSteps).fill(lrApproximator), ...Array<number>(approximatorSteps).fill(lrApproximator / 1.5 ** 0.6)]);
    expect(rates.critic).toEqual([...Array<number>(criticSteps).fill(lrCritic), ...Array<number>(criticSteps).fill(lrCritic / 1.5 ** 0.8)]);
    expect(rates.actor).toEqual([...Array<number>(actorSteps).fill(lrActor), ...Array<number>(actorSteps).fill(lrActor / 1.5)]);
    // A resumed run continues the schedule from its iteration, not from the start.
    const continued = dadcOn('mabc', {}, settings, 3);
    await continued.iterate();
    const saved = decodeState(encodeState(continued.state()));
    const next = await continued.iterate();
    const resumed = dadcOn('mabc', {}, settings, 3);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(untimed(next));
    expect(() => resolveDadcConfig('mabc', 'default', { lrDecayIterations: -1 })).toThrow('lrDecayIterations');
    // actorDecayStart 2: the actor keeps lrActor for iterations 0 and 1 and decays from iteration 2 as from 0; the others from the start.
    const late = dadcOn('mabc', {}, { ...settings, actorDecayStart: 2 }, 3);
    const lateRates: Record<string, number[]> = { approximator: [], critic: [], actor: [] };
    const lateAdam = vi.spyOn(late.coordinators[0], 'adam').mockImplementation((part, rate) => void lateRates[part].push(rate));
    for (let k = 0; k < 4; k++) await late.iterate();
    lateAdam.mockRestore();
    expect(lateRates.actor.filter((_, k) => k % actorSteps === 0)).toEqual([lrActor, lrActor, lrActor, lrActor / 1.5]);
    expect(lateRates.critic.filter((_, k) => k % criticSteps === 0)).toEqual([0, 1, 2, 3].map((k) => lrCritic / (1 + k / 2) ** 0.8));
    // actorDecayExponent 1.5: the actor's rate falls faster than the default's 1 / (1 + k / 2); the others as before.
    const steep = dadcOn('mabc', {}, { ...settings, actorDecayExponent: 1.5 }, 3);
    const steepRates: Record<string, number[]> = { approximator: [], critic: [], actor: [] };
    const steepAdam = vi.spyOn(steep.coordinators[0], 'adam').mockImplementation((part, rate) => void steepRates[part].push(rate));
    for (let k = 0; k < 3; k++) await steep.iterate();
    steepAdam.mockRestore();
    expect(steepRates.actor.filter((_, k) => k % actorSteps === 0)).toEqual([0, 1, 2].map((k) => lrActor / (1 + k / 2) ** 1.5));
    expect(steepRates.critic.filter((_, k) => k % criticSteps === 0)).toEqual([0, 1, 2].map((k) => lrCritic / (1 + k / 2) ** 0.8));
  });

  it('trains on episodes cut short and evaluates on the scenario’s own when told (bench/dadc.ts --train-horizon)', () => {
    const dadc = dadcOn('demand-response', { agents: 10, horizon: 5 }, { numEnvs: 2, rolloutSteps: 10 }, 3);
    expect(dadc.env.spec.horizon).toBe(5);
    const own = dadc.evaluate(4, 9, { agents: 10 });
    expect(own).toEqual(dadc.evaluate(4, 9, { agents: 10, horizon: 100 }));
    expect(own.meanReturn).not.toEqual(dadc.evaluate(4, 9).meanReturn);
  });

  it('with criticReplayWindows K, fits its critic on the current window and the K - 1 before it, and resumes exactly', async () => {
    const settings = { criticReplayWindows: 3, rolloutSteps: 20, numEnvs: 2 };
    const dadc = dadcOn('mabc', {}, settings, 5);
    const plain = dadcOn('mabc', {}, { rolloutSteps: 20, numEnvs: 2 }, 5);
    const { networks, window, replay } = dadc.coordinators[0];
    const rewards: number[][] = [];
    const qRows: number[][] = [];
    const q = networks.q.bind(networks);
    const spy = vi.spyOn(networks, 'q').mockImplementation((tape, x, theta) => (qRows.at(-1)!.push(x.rows), q(tape, x, theta)));
    for (let k = 0; k < 4; k++) {
      qRows.push([]);
      const result = untimed(await dadc.iterate());
      rewards.push(Array.from(window.reward));
      // The first iteration has nothing to replay: it is the plain learner's, number for number.
      if (k === 0) expect(result).toEqual(untimed(await plain.iterate()));
    }
    spy.mockRestore();
    // TD rows per window: 19 transitions of 2 copies; the critic's steps see 1, 2, 3, 3 windows.
    const largest = qRows.map((rows) => Math.max(...rows.filter((r) => r % 38 === 0 && r <= 3 * 38)));
    expect(largest).toEqual([38, 76, 114, 114]);
    // It holds the windows of the last two iterations, oldest first, as they were recorded.
    expect(replay.held().map((held) => Array.from(held.reward))).toEqual(rewards.slice(2));
    const saved = decodeState(encodeState(dadc.state()));
    const next = await dadc.iterate();
    const resumed = dadcOn('mabc', {}, settings, 5);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(untimed(next));
    expect(resumed.coordinators[0].replay.held().map((held) => Array.from(held.reward))).toEqual(replay.held().map((held) => Array.from(held.reward)));
    expect(() => resolveDadcConfig('mabc', 'default', { criticReplayWindows: 0 })).toThrow('criticReplayWindows');
  });

  it('with aisTarget next-observation, its predictor learns the next common observation Z_{t+1}, and resumes exactly', async () => {
    const settings = { aisTarget: 'next-observation', aisLambda: 0.5, numEnvs: 4 };
    const dadc = dadcOn('mabc', {}, settings, 2);
    const { networks, window } = dadc.coordinators[0];
    // mabc's Z_t is [A^1, A^2, seen, S * seen] of the previous step: 4 wide, not the AIS's 5.
    expect(networks.shape.next).toBe(4);
    const losses: number[] = [];
    for (let k = 0; k < 30; k++) losses.push((await dadc.iterate()).metrics['loss/approximator']);
    expect(losses.at(-1)).toBeLessThan(0.75 * losses[0]);
    // Facts of the environment the next-AIS target cannot express: when only device j may
    // transmit, the other device is silent, and the channel is seen exactly when device j sends.
    const tape = new Tape(false);
    const ais = tape.rowsOf(window.unroll(tape, networks), 0, window.rows);
    for (const [choice, device, other] of [[1, 0, 1], [2, 1, 0]]) {
      const theta = new Float64Array(window.rows * 4);
      for (let r = 0; r < window.rows; r++) theta[r * 4 + choice] = 1;
      const z = networks.predict(tape, ais, tape.constant(theta, window.rows, 4)).next.value;
      for (let r = 0; r < window.rows; r++) {
        expect(Math.abs(z[r * 4 + other])).toBeLessThan(0.15);
        expect(Math.abs(z[r * 4 + device] - z[r * 4 + 2])).toBeLessThan(0.15);
      }
    }
    const saved = decodeState(encodeState(dadc.state()));
    const next = await dadc.iterate();
    const resumed = dadcOn('mabc', {}, settings, 2);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(untimed(next));
  });

  it('with actorGradient deterministic, ascends the critic’s Q(X, mean(X)) and leaves the critic and the std alone', async () => {
    const dadc = dadcOn('demand-response', { agents: 10 }, { actorGradient: 'deterministic', framework: 'actor-critic', rolloutSteps: 30, numEnvs: 2, lrActor: 0.001 }, 4);
    await dadc.iterate();
    dadc.collect();
    const coordinator = dadc.coordinators[0];
    const { networks, window } = coordinator;
    const meanQ = () => {
      const tape = new Tape(false);
      const ais = tape.rowsOf(window.unroll(tape, networks), 0, window.rows);
      return networks.q(tape, ais, networks.actorMean(tape, ais)).value.reduce((a, b) => a + b, 0) / window.rows;
    };
    const before = meanQ();
    const critic = networks.parts.critic.map((m) => m.value.slice());
    const logStd = networks.logStd!.value.slice();
    dadc['updateActor'](coordinator);
    expect(meanQ()).toBeGreaterThan(before);
    networks.parts.critic.forEach((m, k) => expect(m.value).toEqual(critic[k]));
    networks.parts.critic.forEach((m) => expect(m.grad.every((g) => g === 0)).toBe(true));
    expect(networks.logStd!.value).toEqual(logStd);
  });

  it('with normaliseCommon, standardises Z_t by its running statistics in training and deployment, and resumes exactly', async () => {
    const settings = { normaliseCommon: true, rolloutSteps: 30, numEnvs: 2 };
    const params = { agents: 10 };
    const dadc = dadcOn('demand-response', params, settings, 6);
    await dadc.iterate();
    const { window, networks } = dadc.coordinators[0];
    // Z_1..Z_30 of the window as standardised (the statistics then: each Z was added before it was standardised).
    const stored = Array.from(window.nextCommon());
    const { count, mean, squares } = dadc.commonScale!.arrays();
    // Z_0 of the first window and Z_1..Z_30: 31 rows of 2 copies.
    expect(count[0]).toBe(62);
    expect(stored.every((z) => Math.abs(z) <= 5)).toBe(true);
    // Standardised by then, the last Z spreads like a standard normal variable's value, not like the raw share (0..1, a few hundredths apart).
    const last = (dadc.env.obs[1] - mean[0]) / Math.sqrt(squares[0] / count[0] + 1e-8);
    expect(stored.at(-2)).toBeCloseTo(last, 12);
    // The deployed coordinator reads Z through the same statistics: its X_0 on a fresh episode is the encoder's on the standardised share.
    const env = createEnv('demand-response', params, 1).reset(3);
    const policy = dadc.deployedPolicy(env, 3);
    policy.decide(env, new Float64Array(10));
    const tape = new Tape(false);
    const z = Float64Array.of((env.obs[1] - mean[0]) / Math.sqrt(squares[0] / count[0] + 1e-8));
    const x0 = networks.encode(tape, tape.constant(new Float64Array(5), 1, 5), tape.constant(z, 1, 1), tape.constant(new Float64Array(6), 1, 6));
    expect(Array.from(policy['memory'].get(networks)!.hidden)).toEqual(Array.from(x0.value));
    const saved = decodeState(encodeState(dadc.state()));
    const next = await dadc.iterate();
    const resumed = dadcOn('demand-response', params, settings, 6);
    resumed.restore(saved);
    expect(untimed(await resumed.iterate())).toEqual(untimed(next));
    expect(Array.from(resumed.commonScale!.arrays().mean)).toEqual(Array.from(dadc.commonScale!.arrays().mean));
    // Without the option no statistics are kept, and the window holds the share ON itself.
    const plain = dadcOn('demand-response', params, { normaliseCommon: false, rolloutSteps: 30, numEnvs: 2 }, 6);
    await plain.iterate();
    expect(plain.commonScale).toBeNull();
    expect(Array.from(plain.coordinators[0].window.nextCommon()).every((z) => z >= 0 && z <= 1)).toBe(true);
    expect(networks.shape.common).toBe(1);
  });

  it('resolves its presets and refuses bad settings by name', () => {
    const paper = resolveDadcConfig('mabc', 'paper');
    expect([paper.lrApproximator, paper.lrCritic, paper.lrActor, paper.rolloutSteps, paper.aisSize, paper.gamma]).toEqual([0.08, 0.01, 0.01, 300, 5, 0.9]);
    expect(resolveDadcConfig('demand-response', 'paper')).toMatchObject({ framework: 'ppo', actorSteps: 10, clipEpsilon: 0.2, rolloutSteps: 200 });
    expect(resolveDadcConfig('demand-response')).toMatchObject({ sharePrescription: true, framework: 'ppo', actorSteps: 10, normaliseCommon: true, numEnvs: 16, lrDecayIterations: 100 });
    expect(resolveDadcConfig('mabc', 'default', { framework: 'ppo', lrActor: '0.001' })).toMatchObject({ framework: 'ppo', lrActor: 0.001 });
    expect(() => resolveDadcConfig('mabc', 'default', { lrActor: 0.5 })).toThrow('the learning rates must keep the timescales lrApproximator >= lrCritic >= lrActor; got 0.05, 0.03, 0.5');
    expect(() => resolveDadcConfig('mabc', 'default', { framework: 'sac' })).toThrow('learner dadc: setting framework="sac" is not allowed; expected one of actor-critic, ppo');
    expect(() => resolveDadcConfig('mabc', 'default', { lr: 1 })).toThrow("learner dadc has no setting 'lr'");
    expect(() => resolveDadcConfig('demand-response', 'default', { explorationFloor: 0.1 })).toThrow('learner dadc: explorationFloor=0.1 needs prescriptions=opportunities (a categorical coordinator), not boltzmann; use 0');
    expect(() => resolveDadcConfig('mabc', 'default', { explorationFloor: 1.5 })).toThrow('explorationFloor');
    expect(() => resolveDadcConfig('demand-response', 'default', { actorGradient: 'every-choice', framework: 'actor-critic' })).toThrow(
      'learner dadc: actorGradient=every-choice needs prescriptions=opportunities (a finite set of choices) and framework=actor-critic, not boltzmann and actor-critic; use sampled',
    );
    expect(() => resolveDadcConfig('mabc', 'default', { actorGradient: 'every-choice', framework: 'ppo' })).toThrow('actorGradient=every-choice needs');
    expect(() => resolveDadcConfig('mabc', 'default', { actorGradient: 'deterministic' })).toThrow(
      'learner dadc: actorGradient=deterministic needs a Gaussian coordinator (prescriptions=boltzmann or linear) and framework=actor-critic, not opportunities and actor-critic; use sampled',
    );
    expect(() => resolveDadcConfig('demand-response', 'default', { actorGradient: 'deterministic', framework: 'ppo' })).toThrow('actorGradient=deterministic needs');
    expect(() => resolveDadcConfig('mabc', 'default', { aisTarget: 'next-state' })).toThrow('learner dadc: setting aisTarget="next-state" is not allowed; expected one of next-ais, next-observation');
  });

  it('refuses a traffic scenario by name', () => {
    expect(() => resolveLearnerConfig('dadc', 'ring')).toThrow('learner dadc trains on mabc, demand-response, cacc-catchup, cacc-slowdown only, not ring');
  });
});

/**
 * On the CACC platoon with delayed broadcast (rl/learners/dadc/information.ts): the common
 * information is exactly the previous step's observations of every vehicle, the local
 * information the vehicle's own current one, and every agent draws the same prescription.
 */
describe('dadc on the CACC platoon with delayed broadcast', () => {
  it('reads as common information every vehicle’s observation of the previous step (zeros at the first), and nothing else', () => {
    const env = createEnv('cacc-catchup', { horizon: 5 }, 2).reset(4);
    const information = informationOf(env, 2);
    expect(information).toBeInstanceOf(DelayedBroadcast);
    const width = information.commonWidth;
    expect(width).toBe(env.spec.nAgents * env.spec.obsDim);
    const common = new Float64Array(2 * width);
    // Both gains: the first vehicle closes its long headway, so the observations change every step.
    const actions = new Float64Array(2 * env.spec.nAgents).fill(3);
    information.see(env);
    information.common(env, 3, common);
    expect(Array.from(common)).toEqual(new Array(2 * width).fill(0));
    for (let t = 0; t < 4; t++) {
      const before = env.obs.slice();
      env.step(actions);
      information.see(env);
      // Seeing the same state again changes nothing.
      information.see(env);
      for (const agent of [0, 7]) {
        information.common(env, agent, common);
        expect(Array.from(common)).toEqual(Array.from(before));
      }
      expect(Array.from(common)).not.toEqual(Array.from(env.obs));
    }
    // A copy reset to a new episode has received no broadcast yet; the other copy still has its own.
    const before = env.obs.slice();
    env.step(actions);
    env.resetEnv(1, 99);
    information.see(env);
    information.common(env, 0, common);
    expect(Array.from(common.subarray(0, width))).toEqual(Array.from(before.subarray(0, width)));
    expect(Array.from(common.subarray(width))).toEqual(new Array(width).fill(0));
  });

  it('acts by a linear softmax over the vehicle’s own current observation; the team reward is the sum of the agents’', () => {
    const space = linearSpace(2, 3, 4, false);
    expect(space.size).toBe(4 * 3 * 3);
    const theta = Float64Array.from({ length: 2 * space.size }, (_, k) => Math.sin(k));
    const obs = [0, 0, 0.5, -2, 9];
    const logits = new Float64Array(3);
    space.actionLogits(theta, 1, 2, obs, 2, logits, 0);
    const block = space.size + 2 * 9;
    for (let a = 0; a < 3; a++) expect(logits[a]).toBeCloseTo(theta[block + 3 * a] + 0.5 * theta[block + 3 * a + 1] - 2 * theta[block + 3 * a + 2], 12);

    const env = createEnv('cacc-catchup', {}, 2).reset(1);
    env.step(new Float64Array(16).fill(1));
    const agents = Array.from(env.rawReward.subarray(8, 16));
    expect(teamReward(env, env.rawReward, 1)).toBeCloseTo(agents.reduce((a, b) => a + b, 0), 9);
  });

  it('every agent draws the same prescription from its copy of the common stream, and acts on its own observation', async () => {
    const dadc = dadcOn('cacc-catchup', { horizon: 30 }, { numEnvs: 2, rolloutSteps: 12, computeCoordinatorOnce: false }, 4);
    await dadc.iterate();
    const coordinators = dadc.agents.map((agent) => agent.coordinator);
    const theta = coordinators[0].window.theta;
    expect(theta.length).toBe(12 * 2 * 4 * 6);
    for (const coordinator of coordinators) expect(Array.from(coordinator.window.theta)).toEqual(Array.from(theta));
    for (const part of ['approximator', 'critic', 'actor'] as const) {
      for (const coordinator of coordinators.slice(1)) coordinator.networks.parts[part].forEach((m, k) => expect(Array.from(m.value)).toEqual(Array.from(coordinators[0].networks.parts[part][k].value)));
    }
    // One shared prescription, different observations: the vehicles' action distributions differ.
    const first = new Float64Array(4);
    const last = new Float64Array(4);
    dadc.space.actionLogits(theta, 0, 0, dadc.env.obs, 0, first, 0);
    dadc.space.actionLogits(theta, 0, 7, dadc.env.obs, 7 * 5, last, 0);
    expect(Array.from(first)).not.toEqual(Array.from(last));
  });

  it('refuses prescriptions that do not fit the platoon’s local information, by name', () => {
    expect(resolveLearnerConfig('dadc', 'cacc-catchup')).toMatchObject({ prescriptions: 'linear', sharePrescription: true, gamma: 0.99 });
    expect(() => resolveLearnerConfig('dadc', 'cacc-catchup', 'default', { prescriptions: 'opportunities' })).toThrow(
      'prescriptions=opportunities needs a scenario with a finite set of prescriptions (mabc), not cacc-catchup',
    );
    expect(() => resolveLearnerConfig('dadc', 'cacc-slowdown', 'paper', { prescriptions: 'boltzmann' })).toThrow('prescriptions=boltzmann does not fit cacc-slowdown; allowed: linear');
    expect(() => resolveLearnerConfig('dadc', 'mabc', 'default', { prescriptions: 'linear' })).toThrow('prescriptions=linear does not fit mabc; allowed: boltzmann or opportunities');
  });
});
