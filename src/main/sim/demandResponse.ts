/**
 * Demand response in smart grids (the DADC paper, appendix D.2, after Arabneydi & Mahajan;
 * shared/specs/seed-benchmarks.md): n ON/OFF loads. Each step every load either follows
 * the natural dynamics D (action 0, the paper's "idle"), is forced OFF (action 1, the
 * paper's 0) or forced ON (action 2, the paper's 1):
 *   P(.|s, idle) = D[s],  P(.|s, OFF) = (1 - eps1) [1, 0] + eps1 D[s],
 *   P(.|s, ON) = (1 - eps2) [0, 1] + eps2 D[s],   D = [[0.25, 0.75], [0.375, 0.625]].
 * Team reward on the state before the transition (M_t the empirical distribution of states):
 *   R_t = -( (1/n) sum_i (c0 1{A^i forced OFF} + c1 1{A^i forced ON}) + KL(M_t || zeta) ),
 * with 0 log 0 = 0. Initial states independent, ON with probability P0(ON) = 2/3.
 *
 * Information structure (mean-field sharing): a load's local information is its own state;
 * the common information is M_t, the share of loads ON. Observation: [own state, share ON].
 * Random draws: one uniform per load at reset (its initial state) and per step (its next
 * state, P(ON) from the row above), in load order.
 */
import type { ScenarioParams } from '../../shared/scenarios.ts';
import { checkedDiscreteAction, TabularEnv } from './tabular.ts';

/** The natural dynamics: P(next ON | OFF) and P(next ON | ON), the ON column of D. */
export const NATURAL_ON: readonly [number, number] = [0.75, 0.625];
/** Action indices: follow the natural dynamics, force OFF, force ON. */
export const IDLE = 0;
export const FORCE_OFF = 1;
export const FORCE_ON = 2;

const AGENT_COLUMNS = ['on', 'action'] as const;
const COPY_COLUMNS = ['share_on', 'kl'] as const;
const OBS_DIM = 2;

/** P(next ON | state, action) of one load. */
export function nextOnProbability(state: number, action: number, forceOffSlip: number, forceOnSlip: number): number {
  const natural = NATURAL_ON[state];
  if (action === FORCE_OFF) return forceOffSlip * natural;
  if (action === FORCE_ON) return 1 - forceOnSlip + forceOnSlip * natural;
  return natural;
}

/** KL([1 - on, on] || [1 - targetOn, targetOn]) with 0 log 0 = 0. */
export function klToTarget(on: number, targetOn: number): number {
  const off = 1 - on;
  return (off > 0 ? off * Math.log(off / (1 - targetOn)) : 0) + (on > 0 ? on * Math.log(on / targetOn) : 0);
}

export class DemandResponseEnv extends TabularEnv {
  private readonly p: ScenarioParams<'demand-response'>;
  /** Probability of ON next, [state * 3 + action], precomputed. */
  private readonly onNext = new Float64Array(6);
  private readonly terms = new Float64Array(2);

  constructor(params: ScenarioParams<'demand-response'>, numEnvs: number) {
    super(
      {
        scenario: 'demand-response',
        params,
        nAgents: params.agents,
        obsNames: ['own state (1 ON)', 'share of loads ON'],
        localStates: 2,
        action: { kind: 'discrete', n: 3 },
        horizon: params.horizon,
        rewardTermNames: ['forcing cost', 'KL to target'],
        agentColumns: AGENT_COLUMNS,
        copyColumns: COPY_COLUMNS,
        discount: params.discount,
        // The paper coordinates the loads with a continuous (Gaussian) prescription.
        opportunities: null,
      },
      numEnvs,
    );
    this.p = params;
    for (let s = 0; s < 2; s++) for (let a = 0; a < 3; a++) this.onNext[s * 3 + a] = nextOnProbability(s, a, params.forceOffSlip, params.forceOnSlip);
  }

  protected resetCopy(e: number): void {
    const n = this.spec.nAgents;
    for (let i = 0; i < n; i++) {
      this.agentState[(e * n + i) * 2] = this.rng.uniform(e) < this.p.initialOn ? 1 : 0;
      this.agentState[(e * n + i) * 2 + 1] = NaN;
    }
    this.writeShared(e);
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const n = this.spec.nAgents;
    const { agentState } = this;
    let cost = 0;
    for (let i = 0; i < n; i++) {
      const action = checkedDiscreteAction(actions[a0 + i], 3, i, 'demand-response');
      if (action === FORCE_OFF) cost += this.p.costOff;
      else if (action === FORCE_ON) cost += this.p.costOn;
      const k = (e * n + i) * 2;
      agentState[k] = this.rng.uniform(e) < this.onNext[agentState[k] * 3 + action] ? 1 : 0;
      agentState[k + 1] = action;
    }
    // The KL term is on M_t, the state the actions were taken in (still in copyState).
    this.terms[0] = -cost / n;
    this.terms[1] = -this.copyState[e * 2 + 1];
    this.setTeamReward(a0, this.terms);
    this.writeShared(e);
    return false;
  }

  /** The share ON and its KL to the target (copyState), and every load's observation. */
  private writeShared(e: number): void {
    const n = this.spec.nAgents;
    let on = 0;
    for (let i = 0; i < n; i++) on += this.agentState[(e * n + i) * 2];
    const share = on / n;
    this.copyState[e * 2] = share;
    this.copyState[e * 2 + 1] = klToTarget(share, this.p.targetOn);
    for (let i = 0; i < n; i++) {
      this.obs[(e * n + i) * OBS_DIM] = this.agentState[(e * n + i) * 2];
      this.obs[(e * n + i) * OBS_DIM + 1] = share;
    }
  }
}
