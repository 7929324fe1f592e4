import { describe, expect, it } from 'vitest';
import { CaccEnv, optimalVelocity } from '../../../src/main/sim/cacc.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { resolveParams } from '../../../src/shared/scenarios.ts';
import { expectClose, loadCaccFixtures } from './caccFixtures.helpers.ts';

const fixtures = loadCaccFixtures();

describe('CACC against the NMARL golden trajectories (API)', () => {
  it('finds the fixtures', () => {
    expect(fixtures.map((f) => f.file)).toEqual(['catchup-action3.json', 'catchup-random-collision.json', 'slowdown-action3.json']);
  });

  for (const fx of fixtures) {
    it(`reproduces ${fx.file}`, () => {
      const env = createEnv(fx.scenario, fx.init, 1);
      env.training = false;
      env.reset(7);
      const n = env.spec.nAgents;
      const check = (t: number) => {
        for (let i = 0; i < n; i++) {
          const vehicle = env.spec.agentVehicle[i];
          expectClose(env.gap[vehicle], fx.headway[t][i], `${fx.file} headway t=${t} agent ${i}`);
          expectClose(env.speed[vehicle], fx.speed[t][i], `${fx.file} speed t=${t} agent ${i}`);
          expectClose(env.accel[vehicle], fx.accel[t][i], `${fx.file} accel t=${t} agent ${i}`);
        }
      };
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < 5; d++) expectClose(env.obs[i * 5 + d], fx.initialObservation[i][d], `${fx.file} obs0 agent ${i}[${d}]`);
      }
      check(0);
      for (let t = 0; t < fx.actions.length; t++) {
        expect(env.allDone()).toBe(false);
        env.step(fx.actions[t]);
        let global = 0;
        for (let i = 0; i < n; i++) global += env.rawReward[i];
        expectClose(global, fx.globalReward[t], `${fx.file} global reward step ${t + 1}`);
        check(t + 1);
      }
      // The reference ended the episode exactly where the fixture ends.
      expect(env.allDone()).toBe(true);
      expect(env.collided[0] === 1).toBe(fx.globalReward.includes(-8000));
    });
  }
});

describe('CACC details', () => {
  it('matches the spec reference check value (catch-up, all action 3, h0 = 33.083257)', () => {
    const env = new CaccEnv('cacc-catchup', resolveParams('cacc-catchup', { leadHeadway: 33.083257 }), 1);
    env.training = false;
    env.reset(0).step(new Array(8).fill(3));
    const sum = Array.from(env.rawReward).reduce((a, b) => a + b, 0);
    // The spec prints -171.532341; the golden fixture of the same case holds -171.532344803049,
    // which we match to 1e-9 above. The spec's figure agrees to 4e-6 only, hence 4 decimals here.
    expect(sum).toBeCloseTo(-171.532341, 4);
    expect(env.gap[1]).toBeCloseTo(33.070757, 6);
    expect(env.speed[1]).toBe(15.25);
    expect(env.accel[1]).toBe(2.5);
  });

  it('adds the training-only safety term to the learning reward only', () => {
    const env = createEnv('cacc-catchup', { leadHeadway: 8 }, 1);
    env.reset(0).step(new Array(8).fill(0));
    const safety = env.rewardTerms[4];
    expect(safety).toBeLessThan(0);
    expect(env.reward[0]).toBeCloseTo(env.rawReward[0] + safety, 9);
    const off = createEnv('cacc-catchup', { leadHeadway: 8, safetyCost: false }, 1);
    off.reset(0).step(new Array(8).fill(0));
    expect(off.reward[0]).toBe(off.rawReward[0]);
  });

  it('draws the random initial condition from the seed', () => {
    const a = createEnv('cacc-catchup', {}, 3).reset(11);
    const b = createEnv('cacc-catchup', {}, 1).reset(11);
    expect(a.gap[1]).toBe(b.gap[1]);
    for (let e = 0; e < 3; e++) {
      const h0 = a.gap[e * 9 + 1];
      expect(h0).toBeGreaterThanOrEqual(30);
      expect(h0).toBeLessThan(50);
    }
    expect(a.gap[1]).not.toBe(a.gap[10]);
    const slow = createEnv('cacc-slowdown', {}, 1).reset(5);
    expect(slow.speed[1]).toBeGreaterThanOrEqual(22.5);
    expect(slow.speed[1]).toBeLessThan(37.5);
    expect(slow.speed[0]).toBe(slow.speed[1]);
  });

  it('V(h) follows the optimal-velocity model', () => {
    expect(optimalVelocity(4)).toBe(0);
    expect(optimalVelocity(40)).toBe(30);
    expect(optimalVelocity(20)).toBeCloseTo(15, 12);
  });

  it('rejects an action outside 0..3', () => {
    const env = createEnv('cacc-catchup', {}, 1).reset(0);
    expect(() => env.step([0, 1, 2, 3, 4, 0, 0, 0])).toThrow(/agent 4 is 4; allowed: 0, 1, 2, 3/);
  });
});
