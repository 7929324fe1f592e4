import { describe, expect, it } from 'vitest';
import { stationaryBusy } from '../../../../src/main/sim/mabc.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { JOINT_PRESCRIPTIONS, jointPrescription, MabcRegret, mabcStep, observationIndex, planMabc, prescriptionAction } from '../../../../src/main/sim/planner/mabcPlanner.ts';
import type { TabularEnv } from '../../../../src/main/sim/tabular.ts';
import { resolveParams } from '../../../../src/shared/scenarios.ts';

const MODEL = resolveParams('mabc', {});
const GAMMA = 0.9;

/** A distribution over the true state (b1, b2, s), index b1 * 4 + b2 * 2 + s. */
type StateDistribution = Float64Array;

/** Expected reward of prescription k on the true state distribution, and the next distribution per common observation. */
function exactStep(dist: StateDistribution, k: number): { reward: number; next: Map<number, StateDistribution> } {
  let reward = 0;
  const next = new Map<number, StateDistribution>();
  const arrival = [MODEL.arrival1, MODEL.arrival2];
  for (let x = 0; x < 8; x++) {
    if (dist[x] === 0) continue;
    const b = [x >> 2, (x >> 1) & 1];
    const s = x & 1;
    const a = [prescriptionAction(k, 0, b[0]), prescriptionAction(k, 1, b[1])];
    const sent = [a[0] * (1 - a[1]) * (1 - s) * b[0], a[1] * (1 - a[0]) * (1 - s) * b[1]];
    reward += dist[x] * (-MODEL.transmitCost * (a[0] + a[1]) + MODEL.successReward * (sent[0] + sent[1]));
    const z = observationIndex(a[0], a[1], s);
    const out = next.get(z) ?? new Float64Array(8);
    next.set(z, out);
    // Every arrival and channel outcome, enumerated.
    for (let w1 = 0; w1 < 2; w1++) {
      for (let w2 = 0; w2 < 2; w2++) {
        for (let s1 = 0; s1 < 2; s1++) {
          const pw = (w1 ? arrival[0] : 1 - arrival[0]) * (w2 ? arrival[1] : 1 - arrival[1]);
          const stay = s ? MODEL.stayBusy : MODEL.stayIdle;
          const ps = s1 === s ? stay : 1 - stay;
          const nb1 = Math.min(b[0] - sent[0] + w1, 1);
          const nb2 = Math.min(b[1] - sent[1] + w2, 1);
          out[nb1 * 4 + nb2 * 2 + s1] += dist[x] * pw * ps;
        }
      }
    }
  }
  return { reward, next };
}

describe('the multi-access broadcast planner', () => {
  it('agrees with brute force over every deterministic coordination policy of horizon 2', () => {
    const initial = new Float64Array(8);
    const busy = stationaryBusy(MODEL.stayIdle, MODEL.stayBusy);
    initial[0] = 1 - busy;
    initial[1] = busy;
    let best = -Infinity;
    let policies = 0;
    for (let k0 = 0; k0 < JOINT_PRESCRIPTIONS; k0++) {
      const first = exactStep(initial, k0);
      const branches = [...first.next.values()];
      // Every assignment of a second prescription to every common observation of step 0.
      for (let code = 0; code < JOINT_PRESCRIPTIONS ** branches.length; code++) {
        let value = first.reward;
        let rest = code;
        for (const branch of branches) {
          value += GAMMA * exactStep(branch, rest % JOINT_PRESCRIPTIONS).reward;
          rest = Math.floor(rest / JOINT_PRESCRIPTIONS);
        }
        best = Math.max(best, value);
        policies++;
      }
    }
    expect(policies).toBeGreaterThan(16 * 16);
    const plan = planMabc(MODEL, GAMMA, { horizon: 2 });
    expect(plan.value).toBeCloseTo(best, 12);
  });

  it('its belief update matches the exact state distribution (factorised beliefs lose nothing)', () => {
    const initial = new Float64Array(8);
    initial[0] = 0.5;
    initial[1] = 0.5;
    let dist = initial;
    let belief: [number, number, number] = [0, 0, 0.5];
    // A path through several prescriptions and observations.
    for (const k of [15, 5, 6, 0, 9, 15]) {
      const exact = exactStep(dist, k);
      const step = mabcStep(MODEL, belief, k);
      expect(step.reward).toBeCloseTo(exact.reward, 12);
      const [z, next] = [...exact.next.entries()].sort((x, y) => y[1].reduce((a, b) => a + b) - x[1].reduce((a, b) => a + b))[0];
      const mass = next.reduce((a, b) => a + b);
      const successor = step.successors.find((s) => s.observation === z)!;
      expect(successor.probability).toBeCloseTo(mass, 12);
      const marginal = (bit: number) => next.reduce((sum, p, x) => sum + ((x >> bit) & 1) * p, 0) / mass;
      expect(successor.belief[0]).toBeCloseTo(marginal(2), 12);
      expect(successor.belief[1]).toBeCloseTo(marginal(1), 12);
      expect(successor.belief[2]).toBeCloseTo(marginal(0), 12);
      // The joint distribution is the product of its marginals.
      for (let x = 0; x < 8; x++) {
        const product = [2, 1, 0].reduce((p, bit) => p * (((x >> bit) & 1) === 1 ? marginal(bit) : 1 - marginal(bit)), 1);
        expect(next[x] / mass).toBeCloseTo(product, 12);
      }
      dist = next.map((p) => p / mass);
      belief = [...successor.belief];
    }
  });

  it('the optimal plan, executed by both devices in the simulator, earns its value', () => {
    const plan = planMabc(MODEL, GAMMA);
    // The paper's setting: V(b0) = 0.8788 (value iteration to 1e-10).
    expect(plan.value).toBeCloseTo(0.87882, 4);
    const copies = 1500;
    const env = createEnv('mabc', {}, copies).reset(17) as TabularEnv;
    const nodes = new Int32Array(copies).fill(plan.initial);
    const actions = new Float64Array(2 * copies);
    let discounted = 0;
    for (let t = 0; t < 100; t++) {
      const observations = new Int32Array(copies);
      for (let e = 0; e < copies; e++) {
        const k = plan.solution.policy[nodes[e]];
        actions[2 * e] = prescriptionAction(k, 0, env.agentState[6 * e]);
        actions[2 * e + 1] = prescriptionAction(k, 1, env.agentState[6 * e + 3]);
        observations[e] = observationIndex(actions[2 * e], actions[2 * e + 1], env.copyState[2 * e]);
      }
      env.step(actions);
      for (let e = 0; e < copies; e++) {
        discounted += GAMMA ** t * env.rawReward[2 * e];
        const k = plan.solution.policy[nodes[e]];
        const successor = mabcStep(MODEL, plan.beliefs[nodes[e]], k).successors.find((s) => s.observation === observations[e])!;
        nodes[e] = plan.nodeOf(successor.belief);
      }
    }
    // Standard error of the mean discounted return is about 0.03 here.
    expect(Math.abs(discounted / copies - plan.value)).toBeLessThan(0.12);
  });

  it('values a fixed prescription by the planner\'s control variate: its exact value, with a far smaller error than the Monte-Carlo mean', () => {
    const plan = planMabc(MODEL, GAMMA);
    // Device 1 never transmits, device 2 iff it holds a packet.
    const k = jointPrescription([0, 0], [0, 1]);
    expect(k).toBe(4);
    // Its exact value: policy evaluation on the plan's graph with k held fixed.
    const { mdp } = plan;
    let values = new Float64Array(mdp.nodes);
    for (let sweep = 0; sweep < 400; sweep++) {
      const next = new Float64Array(mdp.nodes);
      for (let node = 0; node < mdp.nodes; node++) {
        const at = node * mdp.actions + k;
        let expected = 0;
        for (let j = mdp.start[at]; j < mdp.start[at + 1]; j++) expected += mdp.prob[j] * values[mdp.next[j]];
        next[node] = mdp.reward[at] + GAMMA * expected;
      }
      values = next;
    }
    const exact = values[plan.initial];
    expect(exact).toBeCloseTo(0.340, 3);
    const copies = 1000;
    const env = createEnv('mabc', {}, copies).reset(23) as TabularEnv;
    const regret = new MabcRegret(plan, MODEL, GAMMA, copies);
    const actions = new Float64Array(2 * copies);
    const discounted = new Float64Array(copies);
    for (let t = 0; t < 100; t++) {
      for (let e = 0; e < copies; e++) {
        actions[2 * e] = prescriptionAction(k, 0, env.agentState[6 * e]);
        actions[2 * e + 1] = prescriptionAction(k, 1, env.agentState[6 * e + 3]);
      }
      const busy = Array.from({ length: copies }, (_, e) => env.copyState[2 * e]);
      env.step(actions);
      for (let e = 0; e < copies; e++) {
        discounted[e] += GAMMA ** t * env.rawReward[2 * e];
        regret.step(e, k, observationIndex(actions[2 * e], actions[2 * e + 1], busy[e]));
      }
    }
    const estimate = regret.estimate();
    const mean = discounted.reduce((a, b) => a + b, 0) / copies;
    const monteCarloError = Math.sqrt(discounted.reduce((a, d) => a + (d - mean) ** 2, 0) / copies / copies);
    expect(Math.abs(estimate.value - exact)).toBeLessThan(4 * estimate.standardError + 1e-4);
    expect(estimate.standardError).toBeLessThan(monteCarloError / 3);
    // The plan's own choices have no regret: the estimate is the optimum itself.
    const optimal = new MabcRegret(plan, MODEL, GAMMA, 1);
    optimal.step(0, plan.solution.policy[plan.initial], observationIndex(0, 0, 0));
    expect(optimal.estimate().value).toBeCloseTo(plan.value, 8);
  });
});
