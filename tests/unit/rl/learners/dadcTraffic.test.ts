/**
 * DADC on the CACC platoon with delayed broadcast (rl/learners/dadc/information.ts): the
 * common information is exactly the previous step's observations of every vehicle, the local
 * information the vehicle's own current one, and every agent draws the same prescription.
 */
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import type { IterationResult } from '../../../../src/main/rl/core/iteration.ts';
import { linearSpace } from '../../../../src/main/rl/learners/dadc/coordinator.ts';
import { Dadc } from '../../../../src/main/rl/learners/dadc/dadc.ts';
import { DelayedBroadcast, informationOf, teamReward } from '../../../../src/main/rl/learners/dadc/information.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

type Cacc = 'cacc-catchup' | 'cacc-slowdown';

function dadcOn(scenario: Cacc, settings: Record<string, unknown>, seed: number, scenarioParams: Record<string, unknown> = { horizon: 30 }): Dadc {
  return new Dadc({ learner: 'dadc', scenario, scenarioParams, config: resolveLearnerConfig('dadc', scenario, 'default', settings), seed });
}

/** An iteration's metrics without its timings (which differ from run to run). */
const untimed = ({ metrics, ...rest }: IterationResult) => ({ ...rest, metrics: Object.fromEntries(Object.entries(metrics).filter(([name]) => !name.startsWith('time/'))) });

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
    const dadc = dadcOn('cacc-catchup', { numEnvs: 2, rolloutSteps: 12 }, 4);
    await dadc.iterate();
    const theta = dadc.agents[0].window.theta;
    expect(theta.length).toBe(12 * 2 * 4 * 6);
    for (const agent of dadc.agents) expect(Array.from(agent.window.theta)).toEqual(Array.from(theta));
    for (const part of ['approximator', 'critic', 'actor'] as const) {
      for (const agent of dadc.agents.slice(1)) agent.networks.parts[part].forEach((m, k) => expect(Array.from(m.value)).toEqual(Array.from(dadc.agents[0].networks.parts[part][k].value)));
    }
    // One shared prescription, different observations: the vehicles' action distributions differ.
    const first = new Float64Array(4);
    const last = new Float64Array(4);
    dadc.space.actionLogits(theta, 0, 0, dadc.env.obs, 0, first, 0);
    dadc.space.actionLogits(theta, 0, 7, dadc.env.obs, 7 * 5, last, 0);
    expect(Array.from(first)).not.toEqual(Array.from(last));
  });

  for (const scenario of ['cacc-catchup', 'cacc-slowdown'] as const) {
    it(`on ${scenario}: two iterations, finite metrics, exact resume, a repeatable deployed policy`, async () => {
      const settings = { rolloutSteps: 20, numEnvs: 2 };
      const dadc = dadcOn(scenario, settings, 5);
      await dadc.iterate();
      const saved = decodeState(encodeState(dadc.state()));
      const next = await dadc.iterate();
      for (const [name, value] of Object.entries(next.metrics)) expect(Number.isFinite(value), name).toBe(true);
      // Episodes of 30 steps ended in the 40 collected: returns on eval/return's scale (sum over agents and steps).
      expect(next.metrics['train/episodeReturn']).toBeLessThan(0);
      const resumed = dadcOn(scenario, settings, 5);
      resumed.restore(saved);
      expect(untimed(await resumed.iterate())).toEqual(untimed(next));
      const deployed = evaluatePolicy(resumed, 2);
      expect(Number.isFinite(deployed.meanReturn)).toBe(true);
      expect(evaluatePolicy(resumed, 2).meanReturn).toBe(deployed.meanReturn);
      const evaluation = resumed.evaluate(2, 9);
      expect(Number.isFinite(evaluation.meanReturn)).toBe(true);
      expect(resumed.evaluate(2, 9)).toEqual(evaluation);
    });
  }

  it('refuses prescriptions that do not fit the platoon’s local information, by name', () => {
    expect(resolveLearnerConfig('dadc', 'cacc-catchup')).toMatchObject({ prescriptions: 'linear', sharePrescription: true, gamma: 0.99 });
    expect(() => resolveLearnerConfig('dadc', 'cacc-catchup', 'default', { prescriptions: 'opportunities' })).toThrow(
      'prescriptions=opportunities needs a scenario with a finite set of prescriptions (mabc), not cacc-catchup',
    );
    expect(() => resolveLearnerConfig('dadc', 'cacc-slowdown', 'paper', { prescriptions: 'boltzmann' })).toThrow('prescriptions=boltzmann does not fit cacc-slowdown; allowed: linear');
    expect(() => resolveLearnerConfig('dadc', 'mabc', 'default', { prescriptions: 'linear' })).toThrow('prescriptions=linear does not fit mabc; allowed: boltzmann or opportunities');
  });
});
