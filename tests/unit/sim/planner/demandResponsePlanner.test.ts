import { describe, expect, it } from 'vitest';
import { FORCE_OFF, FORCE_ON, IDLE, klToTarget, nextOnProbability } from '../../../../src/main/sim/demandResponse.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { demandResponseMdp, DemandResponseRegret, planDemandResponse } from '../../../../src/main/sim/planner/demandResponsePlanner.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import type { TabularEnv } from '../../../../src/main/sim/tabular.ts';
import { resolveParams } from '../../../../src/shared/scenarios.ts';

const GAMMA = 0.9;

describe('the demand-response planner', () => {
  it('agrees with brute force over every deterministic prescription policy of 2 loads and horizon 2', () => {
    const model = resolveParams('demand-response', { agents: 2 });
    const actionOf = [FORCE_OFF, IDLE, FORCE_ON];
    const cost = (a: number) => (a === FORCE_OFF ? model.costOff : a === FORCE_ON ? model.costOn : 0);
    /** Expected reward and next-count distribution of count m under prescription (action for OFF, action for ON), load by load. */
    const step = (m: number, aOff: number, aOn: number) => {
      const states = [m >= 1 ? 1 : 0, m >= 2 ? 1 : 0];
      const reward = -(states.reduce((sum, s) => sum + cost(s ? aOn : aOff), 0) / 2 + klToTarget(m / 2, model.targetOn));
      const next = [0, 0, 0];
      const p = states.map((s) => nextOnProbability(s, s ? aOn : aOff, model.forceOffSlip, model.forceOnSlip));
      for (let x = 0; x < 4; x++) next[(x & 1) + (x >> 1)] += (x & 1 ? p[0] : 1 - p[0]) * (x >> 1 ? p[1] : 1 - p[1]);
      return { reward, next };
    };
    const initial = [(1 / 3) ** 2, 2 * (1 / 3) * (2 / 3), (2 / 3) ** 2];
    let best = -Infinity;
    // A policy: for each step t and count m, one of the 9 deterministic prescriptions.
    for (let code = 0; code < 9 ** 6; code++) {
      const choice = (t: number, m: number) => Math.floor(code / 9 ** (3 * t + m)) % 9;
      let value = 0;
      for (let m0 = 0; m0 < 3; m0++) {
        const c0 = choice(0, m0);
        const first = step(m0, actionOf[c0 % 3], actionOf[Math.floor(c0 / 3)]);
        value += initial[m0] * first.reward;
        for (let m1 = 0; m1 < 3; m1++) {
          const c1 = choice(1, m1);
          value += initial[m0] * first.next[m1] * GAMMA * step(m1, actionOf[c1 % 3], actionOf[Math.floor(c1 / 3)]).reward;
        }
      }
      best = Math.max(best, value);
    }
    const plan = planDemandResponse(model, GAMMA, { gridStep: 1, horizon: 2 });
    expect(plan.value).toBeCloseTo(best, 12);
    // Stochastic prescriptions can only do better.
    expect(planDemandResponse(model, GAMMA, { gridStep: 0.25, horizon: 2 }).value).toBeGreaterThanOrEqual(plan.value - 1e-12);
  });

  it('the optimal plan, executed by every load in the simulator, earns its value', () => {
    const model = resolveParams('demand-response', { agents: 20 });
    const plan = planDemandResponse(model, GAMMA, { gridStep: 0.25 });
    const g = plan.grid.length;
    const copies = 400;
    const env = createEnv('demand-response', { agents: 20 }, copies).reset(3) as TabularEnv;
    const rng = new RngStreams(1);
    rng.seed(0, 5);
    const actions = new Float64Array(20 * copies);
    let discounted = 0;
    for (let t = 0; t < 100; t++) {
      for (let e = 0; e < copies; e++) {
        const a = plan.solution.policy[Math.round(env.copyState[2 * e] * 20)];
        const u = [plan.grid[a % g], plan.grid[Math.floor(a / g)]];
        for (let i = 0; i < 20; i++) {
          const ui = u[env.agentState[(e * 20 + i) * 2]];
          actions[e * 20 + i] = rng.uniform(0) < Math.abs(ui) ? (ui < 0 ? FORCE_OFF : FORCE_ON) : IDLE;
        }
      }
      env.step(actions);
      for (let e = 0; e < copies; e++) discounted += GAMMA ** t * env.rawReward[20 * e];
    }
    expect(Math.abs(discounted / copies - plan.value)).toBeLessThan(0.03);
  });

  it('values a policy by the plan as a control variate: a fixed prescription to its exact value, with far less spread than its returns', () => {
    const agents = 20;
    const model = resolveParams('demand-response', { agents });
    const plan = planDemandResponse(model, GAMMA);
    // Exact value of "force 80% of the OFF loads OFF, leave ON loads idle" at every count: policy evaluation on the counts.
    const { mdp, grid } = demandResponseMdp(model, 0.1);
    const g = grid.length;
    const action = grid.findIndex((u) => Math.abs(u + 0.8) < 1e-9) + g * grid.findIndex((u) => Math.abs(u) < 1e-9);
    let values = new Float64Array(agents + 1);
    for (let sweep = 0; sweep < 400; sweep++) {
      values = Float64Array.from(values, (_, m) => {
        const k = m * mdp.actions + action;
        let expected = 0;
        for (let j = mdp.start[k]; j < mdp.start[k + 1]; j++) expected += mdp.prob[j] * values[mdp.next[j]];
        return mdp.reward[k] + GAMMA * expected;
      });
    }
    const initial = [...Array(agents + 1).keys()].reduce((sum, m) => sum + values[m] * binomialPmf(agents, m, model.initialOn), 0);
    const copies = 300;
    const env = createEnv('demand-response', { agents }, copies).reset(11) as TabularEnv;
    const regret = new DemandResponseRegret(plan, model, GAMMA, copies);
    const rng = new RngStreams(1);
    rng.seed(0, 4);
    const actions = new Float64Array(agents * copies);
    const returns = new Float64Array(copies);
    const count = (e: number) => Math.round(env.copyState[2 * e] * agents);
    for (let t = 0; t < 100; t++) {
      for (let e = 0; e < copies; e++) {
        regret.step(e, count(e), [0.2, 0.8, 0], [1, 0, 0]);
        for (let i = 0; i < agents; i++) actions[e * agents + i] = env.agentState[(e * agents + i) * 2] === 0 && rng.uniform(0) < 0.8 ? FORCE_OFF : IDLE;
      }
      env.step(actions);
      for (let e = 0; e < copies; e++) returns[e] += GAMMA ** t * env.rawReward[agents * e];
    }
    for (let e = 0; e < copies; e++) regret.end(e, count(e));
    const estimate = regret.estimate();
    const meanReturn = returns.reduce((a, b) => a + b, 0) / copies;
    const returnError = Math.sqrt(returns.reduce((a, r) => a + (r - meanReturn) ** 2, 0) / copies / copies);
    expect(Math.abs(estimate.value - initial)).toBeLessThan(4 * estimate.standardError + 1e-4);
    expect(estimate.standardError).toBeLessThan(returnError / 3);
    // The policy is worse than the plan, which the estimate resolves.
    expect(plan.value - estimate.value).toBeGreaterThan(10 * estimate.standardError);
  });

  it('finds no regret in the plan’s own prescriptions', () => {
    const model = resolveParams('demand-response', { agents: 10 });
    const plan = planDemandResponse(model, GAMMA, { gridStep: 0.5 });
    const g = plan.grid.length;
    const regret = new DemandResponseRegret(plan, model, GAMMA, 1);
    const probabilities = (u: number) => [1 - Math.abs(u), Math.max(0, -u), Math.max(0, u)];
    for (let m = 0; m <= 10; m++) {
      const a = plan.solution.policy[m];
      regret.step(0, m, probabilities(plan.grid[a % g]), probabilities(plan.grid[Math.floor(a / g)]));
    }
    expect(Math.max(...regret.regret)).toBeLessThan(1e-8);
    expect(() => regret.estimate()).toThrow("copy 0's episode has not ended");
    expect(() => regret.step(0, 11, [1, 0, 0], [1, 0, 0])).toThrow('count ON 11 is not in 0..10');
  });
});

/** P(Binomial(n, p) = k). */
function binomialPmf(n: number, k: number, p: number): number {
  let coefficient = 1;
  for (let j = 1; j <= k; j++) coefficient = (coefficient * (n - k + j)) / j;
  return coefficient * p ** k * (1 - p) ** (n - k);
}
