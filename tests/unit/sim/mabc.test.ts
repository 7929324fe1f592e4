import { describe, expect, it } from 'vitest';
import { createEnv } from '../../../src/main/sim/index.ts';
import { stationaryBusy } from '../../../src/main/sim/mabc.ts';
import type { TabularEnv } from '../../../src/main/sim/tabular.ts';

/** A one-copy MABC environment put in state (buffers b1, b2; channel busy). */
function mabcIn(b1: number, b2: number, busy: number, params: Record<string, unknown> = {}): TabularEnv {
  const env = createEnv('mabc', params, 1).reset(3) as TabularEnv;
  env.agentState[0] = b1;
  env.agentState[3] = b2;
  env.copyState[0] = busy;
  return env;
}

describe('multi-access broadcast', () => {
  it('delivers when exactly one device with a packet transmits on an idle channel: R = -kappa + r', () => {
    // No arrivals (p = 0) and a channel that never changes, so the next state is exact.
    const env = mabcIn(1, 1, 0, { arrival1: 0, arrival2: 0, stayIdle: 1, stayBusy: 1 });
    env.step([1, 0]);
    expect(env.rawReward[0]).toBeCloseTo(0.6, 12);
    expect(env.rawReward[1]).toBeCloseTo(0.6, 12);
    expect(Array.from(env.rewardTerms)).toEqual([-0.4, 1, -0.4, 1]);
    expect([env.agentState[0], env.agentState[3]]).toEqual([0, 1]);
    expect(env.copyState[1]).toBe(1);
    // Observations: own buffer, both previous actions, channel seen and its state.
    expect(Array.from(env.obs)).toEqual([0, 1, 0, 1, 0, 1, 1, 0, 1, 0]);
  });

  it('collides when both transmit, fails on a busy channel, and an empty device pays for nothing', () => {
    const both = mabcIn(1, 1, 0, { arrival1: 0, arrival2: 0, stayIdle: 1, stayBusy: 1 });
    both.step([1, 1]);
    expect(both.rawReward[0]).toBeCloseTo(-0.8, 12);
    expect([both.agentState[0], both.agentState[3]]).toEqual([1, 1]);

    const busy = mabcIn(1, 0, 1, { arrival1: 0, arrival2: 0, stayIdle: 1, stayBusy: 1 });
    busy.step([1, 0]);
    expect(busy.rawReward[0]).toBeCloseTo(-0.4, 12);
    expect(busy.agentState[0]).toBe(1);
    expect(Array.from(busy.obs.subarray(0, 5))).toEqual([1, 1, 0, 1, 1]);

    const empty = mabcIn(0, 1, 0, { arrival1: 0, arrival2: 0, stayIdle: 1, stayBusy: 1 });
    empty.step([1, 0]);
    expect(empty.rawReward[0]).toBeCloseTo(-0.4, 12);
    expect(empty.agentState[0]).toBe(0);

    const silent = mabcIn(1, 1, 0, { arrival1: 0, arrival2: 0, stayIdle: 1, stayBusy: 1 });
    silent.step([0, 0]);
    expect(silent.rawReward[0]).toBe(0);
    // Nobody transmitted: the channel is not shared.
    expect(Array.from(silent.obs.subarray(0, 5))).toEqual([1, 0, 0, 0, 0]);
  });

  it('a packet arriving at a full buffer is dropped; one arriving after a delivery refills it', () => {
    const env = mabcIn(1, 1, 0, { arrival1: 1, arrival2: 1, stayIdle: 1, stayBusy: 1 });
    env.step([1, 0]);
    expect(env.rawReward[0]).toBeCloseTo(0.6, 12);
    expect([env.agentState[0], env.agentState[3]]).toEqual([1, 1]);
    expect([env.agentState[2], env.agentState[5]]).toEqual([1, 1]);
  });

  it('arrivals, channel transitions and the initial channel follow the paper’s probabilities', () => {
    expect(stationaryBusy(0.75, 0.75)).toBe(0.5);
    expect(stationaryBusy(0.9, 0.6)).toBeCloseTo(0.1 / 0.5, 12);
    const copies = 2000;
    const env = createEnv('mabc', {}, copies).reset(7) as TabularEnv;
    let busy0 = 0;
    for (let e = 0; e < copies; e++) busy0 += env.copyState[2 * e];
    // Binomial(2000, 0.5): 4 standard deviations are 0.045.
    expect(busy0 / copies).toBeGreaterThan(0.455);
    expect(busy0 / copies).toBeLessThan(0.545);
    const before = Float64Array.from({ length: copies }, (_, e) => env.copyState[2 * e]);
    env.step(new Float64Array(2 * copies));
    let arrivals1 = 0;
    let arrivals2 = 0;
    let stayed = 0;
    for (let e = 0; e < copies; e++) {
      arrivals1 += env.agentState[6 * e + 2];
      arrivals2 += env.agentState[6 * e + 5];
      stayed += env.copyState[2 * e] === before[e] ? 1 : 0;
    }
    // sd of a share over 2000 draws is at most 0.011: 4 sd bounds.
    expect(Math.abs(arrivals1 / copies - 0.3)).toBeLessThan(0.042);
    expect(Math.abs(arrivals2 / copies - 0.6)).toBeLessThan(0.044);
    expect(Math.abs(stayed / copies - 0.75)).toBeLessThan(0.04);
    // Nobody transmitted in step 0, so no reward.
    expect(env.rawReward.every((r) => r === 0)).toBe(true);
  });

  it('refuses an action other than 0 or 1, and bad parameters by name', () => {
    const env = createEnv('mabc', {}, 1).reset(1);
    expect(() => env.step([2, 0])).toThrow('mabc: action of agent 0 is 2; allowed: 0, 1');
    expect(() => createEnv('mabc', { arrival1: 1.5 })).toThrow('scenario mabc: parameter arrival1=1.5 is not allowed; expected a number from 0 to 1');
  });
});
