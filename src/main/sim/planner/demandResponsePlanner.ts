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
import { valueAgainstPlan, valueIteration, type BeliefMdp, type PlannerSolution } from './valueIteration.ts';

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

/** Probability of ON next and expected forcing cost of a load in state s that idles, forces OFF and forces ON with these probabilities. */
function underActionProbabilities(model: DemandResponseModel, s: number, idle: number, off: number, on: number): { on: number; cost: number } {
  const next = (a: number) => nextOnProbability(s, a, model.forceOffSlip, model.forceOnSlip);
  return { on: idle * next(IDLE) + off * next(FORCE_OFF) + on * next(FORCE_ON), cost: off * model.costOff + on * model.costOn };
}

/** The same under u: forcing with probability |u|, OFF when u < 0 and ON when u > 0. */
function underPrescription(model: DemandResponseModel, s: number, u: number): { on: number; cost: number } {
  const share = Math.abs(u);
  return underActionProbabilities(model, s, 1 - share, u < 0 ? share : 0, u > 0 ? share : 0);
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

/**
 * Distribution of the next count ON, into out[0..n]: Binomial(m, onFromOn) + Binomial(n - m, onFromOff)
 * (fromOff, fromOn: scratch of n + 1).
 */
function nextCount(n: number, m: number, onFromOff: number, onFromOn: number, fromOff: Float64Array, fromOn: Float64Array, out: Float64Array): void {
  binomial(m, onFromOn, fromOn);
  binomial(n - m, onFromOff, fromOff);
  for (let next = 0; next <= n; next++) {
    let p = 0;
    for (let i = Math.max(0, next - (n - m)); i <= Math.min(m, next); i++) p += fromOn[i] * fromOff[next - i];
    out[next] = p;
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
      nextCount(n, m, off.on, on.on, fromOff, fromOn, prob.subarray(w, w + nodes));
      for (let next1 = 0; next1 <= n; next1++) next[w++] = next1;
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

/**
 * Values any coordination policy of demand response (one stochastic prescription for all loads
 * per step, on whatever it remembers) with far less spread than its Monte-Carlo return, by the
 * plan's values V as a control variate. Along an episode of T steps the discounted return is
 * V(m_0) - gamma^T V(m_T) + sum_t gamma^t (r_t + gamma V(m_{t+1}) - V(m_t)) exactly; each
 * bracket is replaced by its expectation given the count m_t and the prescription p_t,
 * Q_V(m_t, p_t) - V(m_t) (its forcing cost and KL, plus gamma E[V(m_{t+1})] over the binomial
 * transition), and V(m_0) by its expectation over the initial count (the plan's value), so the
 * noise of the loads' draws drops out and only the counts' path remains. The brackets are
 * minus the regret of p_t against the plan (about zero where the policy prescribes as the
 * optimum does); the estimate's expectation is the policy's discounted return over T steps.
 */
export class DemandResponseRegret {
  /** Per copy, the discounted sum of V(m_t) - Q_V(m_t, p_t). */
  readonly regret: Float64Array;
  /** Per copy, gamma^t of its next step. */
  private readonly discount: Float64Array;
  /** Per copy, the count ON its episode ended with (-1: not ended yet). */
  private readonly last: Int32Array;
  private readonly fromOff: Float64Array;
  private readonly fromOn: Float64Array;
  private readonly next: Float64Array;

  constructor(
    private readonly plan: DemandResponsePlan,
    private readonly model: DemandResponseModel,
    private readonly gamma: number,
    copies: number,
  ) {
    const n = model.agents;
    if (plan.valueByCount.length !== n + 1) throw new Error(`demand response: the plan is for ${plan.valueByCount.length - 1} loads, the model has ${n}`);
    this.regret = new Float64Array(copies);
    this.discount = new Float64Array(copies).fill(1);
    this.last = new Int32Array(copies).fill(-1);
    this.fromOff = new Float64Array(n + 1);
    this.fromOn = new Float64Array(n + 1);
    this.next = new Float64Array(n + 1);
  }

  /**
   * Copy e's coordinator, seeing m loads ON, prescribed action probabilities (idle, force OFF,
   * force ON) offLoads to every OFF load and onLoads to every ON load.
   */
  step(e: number, m: number, offLoads: ArrayLike<number>, onLoads: ArrayLike<number>): void {
    const { model, gamma } = this;
    const n = model.agents;
    const values = this.plan.valueByCount;
    if (!Number.isInteger(m) || m < 0 || m > n) throw new Error(`demand response: count ON ${m} is not in 0..${n}`);
    const off = underActionProbabilities(model, 0, offLoads[0], offLoads[1], offLoads[2]);
    const on = underActionProbabilities(model, 1, onLoads[0], onLoads[1], onLoads[2]);
    nextCount(n, m, off.on, on.on, this.fromOff, this.fromOn, this.next);
    let expected = 0;
    for (let next = 0; next <= n; next++) expected += this.next[next] * values[next];
    const q = -(((n - m) * off.cost + m * on.cost) / n + klToTarget(m / n, model.targetOn)) + gamma * expected;
    this.regret[e] += this.discount[e] * (values[m] - q);
    this.discount[e] *= gamma;
  }

  /** Copy e's episode ended with m loads ON (after its last step); the estimate needs it of every copy. */
  end(e: number, m: number): void {
    this.last[e] = m;
  }

  /**
   * The plan's value minus the mean discounted regret and the discounted value of where the
   * episodes ended (gamma^T V(m_T): the return counts T steps only), with its standard error over the copies.
   */
  estimate(): { value: number; standardError: number } {
    const losses = Array.from(this.regret, (r, e) => {
      if (this.last[e] < 0) throw new Error(`demand response: copy ${e}'s episode has not ended (end)`);
      return r + this.discount[e] * this.plan.valueByCount[this.last[e]];
    });
    return valueAgainstPlan(this.plan.value, losses);
  }
}
