import { describe, expect, it } from 'vitest';
import { FORCE_OFF, FORCE_ON, IDLE, klToTarget, nextOnProbability } from '../../../src/main/sim/demandResponse.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import type { TabularEnv } from '../../../src/main/sim/tabular.ts';

describe('demand response', () => {
  it('rewards -(mean forcing cost + KL(M_t || zeta)) on the state the actions were taken in', () => {
    const env = createEnv('demand-response', { agents: 4 }, 1).reset(2) as TabularEnv;
    // States [ON, ON, OFF, OFF]: share 0.5. Set through the state of record, then re-derive M_t.
    for (const [i, on] of [1, 1, 0, 0].entries()) env.agentState[2 * i] = on;
    env.copyState[0] = 0.5;
    env.copyState[1] = klToTarget(0.5, 0.3);
    // By hand: KL = 0.5 ln(0.5/0.7) + 0.5 ln(0.5/0.3) = 0.0871766936; cost = (0.1 + 0.2 + 0.2) / 4.
    expect(env.copyState[1]).toBeCloseTo(0.0871766936, 9);
    env.step([IDLE, FORCE_OFF, FORCE_ON, FORCE_ON]);
    expect(env.rawReward[0]).toBeCloseTo(-0.2121766936, 9);
    expect(env.rawReward[3]).toBeCloseTo(-0.2121766936, 9);
    expect(env.rewardTerms[0]).toBeCloseTo(-0.125, 12);
    expect(klToTarget(0, 0.3)).toBeCloseTo(-Math.log(0.7), 12);
    expect(klToTarget(1, 0.3)).toBeCloseTo(-Math.log(0.3), 12);
  });

  it('moves each load by the paper’s kernels, D mixed with the forced state', () => {
    expect(nextOnProbability(0, IDLE, 0.2, 0.2)).toBe(0.75);
    expect(nextOnProbability(1, IDLE, 0.2, 0.2)).toBe(0.625);
    expect(nextOnProbability(0, FORCE_OFF, 0.2, 0.2)).toBeCloseTo(0.15, 12);
    expect(nextOnProbability(1, FORCE_OFF, 0.2, 0.2)).toBeCloseTo(0.125, 12);
    expect(nextOnProbability(0, FORCE_ON, 0.2, 0.2)).toBeCloseTo(0.95, 12);
    expect(nextOnProbability(1, FORCE_ON, 0.2, 0.2)).toBeCloseTo(0.925, 12);
    // 20 copies of 1000 loads: 20,000 draws per share.
    const n = 1000;
    const copies = 20;
    const env = createEnv('demand-response', { agents: n }, copies).reset(5) as TabularEnv;
    const share = () => {
      let on = 0;
      for (let e = 0; e < copies; e++) on += env.copyState[2 * e];
      return on / copies;
    };
    // P0(ON) = 2/3: sd of the share is 0.0033.
    expect(Math.abs(share() - 2 / 3)).toBeLessThan(0.014);
    env.agentState.fill(0);
    env.step(new Float64Array(n * copies).fill(FORCE_OFF));
    expect(Math.abs(share() - 0.15)).toBeLessThan(0.011);
    for (let k = 0; k < n * copies; k++) env.agentState[2 * k] = 1;
    env.step(new Float64Array(n * copies).fill(FORCE_ON));
    expect(Math.abs(share() - 0.925)).toBeLessThan(0.008);
    expect(env.obs[1]).toBe(env.copyState[0]);
  });

  it('refuses an action outside 0..2', () => {
    const env = createEnv('demand-response', { agents: 2 }, 1).reset(1);
    expect(() => env.step([0, 3])).toThrow('demand-response: action of agent 1 is 3; allowed: 0, 1, 2');
  });
});
