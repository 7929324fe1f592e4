/**
 * The optimal decentralised value of demand response by planning. Under mean-field sharing
 * the common information is the number m of loads ON, which the coordinator sees exactly,
 * so its belief is m itself (by symmetry: loads are exchangeable) and its problem is an MDP
 * on m in {0..n}. Its action is the prescription every load applies to its own state, as
 * DADC's coordinator parameterises it (one prescription for all loads): for each state s a
 * probability u_s of forcing, OFF when u_s < 0 (with probability -u_s) and ON when u_s > 0;
 * forcing in both directions at once is never cheaper than the equivalent one-sided mix,
 * since both moves act by mixing with the natural dynamics. Given m, the next count is
 * Binomial(m, p_1) + Binomial(n - m, p_0), p_s the ON probability under u_s.
 *
 * The prescriptions are searched on a grid of u in [-1, 1] with step `gridStep` (1: the
 * nine deterministic prescriptions). A finer grid can only raise the value; the report
 * gives it at two steps to show how close the grid is.
 */
import { FORCE_OFF, FORCE_ON, IDLE, klToTarget, nextOnProbability } from '../demandResponse.ts';
import type { ScenarioParams } from '../../../shared/scenarios.ts';
import { valueIteration, type BeliefMdp, type PlannerSolution } from './valueIteration.ts';

export type DemandResponseModel = Pick<ScenarioParams<'demand-response'>, 'agents' | 'forceOffSlip' | 'forceOnSlip' | 'costOff' | 'costOn' | 'targetOn' | 'initialOn'>;

export interface DemandResponsePlan {
  /** Optimal discounted team return, expected over the initial count ~ Binomial(n, P0(ON)). */
  value: number;
  /** Optimal value per initial count m. */
  valueByCount: Float64Array;
  solution: PlannerSolution;
  /** The grid of u; action a is (u_OFF, u_ON) = (grid[a % g], grid[floor(a / g)]). */
  grid: Float64Array;
}

/** Probability of ON next and forcing cost of a load in state s under u. */
function underPrescription(model: DemandResponseModel, s: number, u: number): { on: number; cost: number } {
  const forced = u < 0 ? FORCE_OFF : FORCE_ON;
  const share = Math.abs(u);
  const natural = nextOnProbability(s, IDLE, model.forceOffSlip, model.forceOnSlip);
  const on = (1 - share) * natural + share * nextOnProbability(s, forced, model.forceOffSlip, model.forceOnSlip);
  return { on, cost: share * (u < 0 ? model.costOff : model.costOn) };
}

/** pmf of Binomial(count, p), into out[0..count]. */
function binomial(count: number, p: number, out: Float64Array): void {
  out.fill(0, 0, count + 1);
  out[0] = 1;
  for (let k = 0; k < count; k++) {
    for (let j = k + 1; j > 0; j--) out[j] = out[j] * (1 - p) + out[j - 1] * p;
    out[0] *= 1 - p;
  }
}

export function demandResponseMdp(model: DemandResponseModel, gridStep: number): { mdp: BeliefMdp; grid: Float64Array } {
  const n = model.agents;
  const steps = Math.round(2 / gridStep);
  if (steps < 2 || Math.abs(steps * gridStep - 2) > 1e-9) throw new Error(`gridStep must divide 2 into at least 2 steps, got ${gridStep}`);
  const grid = Float64Array.from({ length: steps + 1 }, (_, k) => -1 + k * gridStep);
  const g = grid.length;
  const actions = g * g;
  const nodes = n + 1;
  const reward = new Float64Array(nodes * actions);
  const start = new Int32Array(nodes * actions + 1);
  const next = new Int32Array(nodes * actions * nodes);
  const prob = new Float64Array(nodes * actions * nodes);
  const fromOn = new Float64Array(n + 1);
  const fromOff = new Float64Array(n + 1);
  let w = 0;
  for (let m = 0; m <= n; m++) {
    const kl = klToTarget(m / n, model.targetOn);
    for (let a = 0; a < actions; a++) {
      const off = underPrescription(model, 0, grid[a % g]);
      const on = underPrescription(model, 1, grid[Math.floor(a / g)]);
      const k = m * actions + a;
      reward[k] = -(((n - m) * off.cost + m * on.cost) / n + kl);
      binomial(m, on.on, fromOn);
      binomial(n - m, off.on, fromOff);
      for (let next1 = 0; next1 <= n; next1++) {
        let p = 0;
        for (let i = Math.max(0, next1 - (n - m)); i <= Math.min(m, next1); i++) p += fromOn[i] * fromOff[next1 - i];
        next[w] = next1;
        prob[w++] = p;
      }
      start[k + 1] = w;
    }
  }
  return { mdp: { nodes, actions, reward, start, next, prob }, grid };
}

export function planDemandResponse(model: DemandResponseModel, gamma: number, options: { gridStep?: number; horizon?: number } = {}): DemandResponsePlan {
  const { mdp, grid } = demandResponseMdp(model, options.gridStep ?? 0.1);
  const solution = valueIteration(mdp, gamma, { horizon: options.horizon });
  const initial = new Float64Array(model.agents + 1);
  binomial(model.agents, model.initialOn, initial);
  let value = 0;
  for (let m = 0; m <= model.agents; m++) value += initial[m] * solution.values[m];
  return { value, valueByCount: solution.values, solution, grid };
}
