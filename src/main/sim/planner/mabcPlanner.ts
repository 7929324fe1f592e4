/**
 * The optimal decentralised value of multi-access broadcast by planning (the DADC paper's
 * reference line; Nayyar, Mahajan, Teneketzis's common-information approach).
 *
 * The coordinator sees the common information (both previous actions and, when either
 * device transmitted, the channel state) and picks a prescription per device: a map from
 * its buffer B^j in {0, 1} to its action. Deterministic prescriptions lose nothing in a
 * team problem, so there are four per device (never, iff a packet, iff empty, always) and
 * 16 joint ones. The coordinator's belief factorises into b = (P(B^1 = 1), P(B^2 = 1),
 * P(S = 1)): given the common observation, the devices' buffers and the channel are
 * independent (a buffer's next value depends on the channel only through a delivery, and a
 * delivery happens only when someone transmitted, which reveals the channel). From the
 * initial belief (empty buffers, stationary channel) the reachable beliefs are countable
 * and converge geometrically; beliefs equal to within BELIEF_GRID share a node. Value
 * iteration on the reachable graph gives V(b_0).
 */
import { stationaryBusy } from '../mabc.ts';
import type { ScenarioParams } from '../../../shared/scenarios.ts';
import { BeliefGraphBuilder, valueAgainstPlan, valueIteration, type BeliefMdp, type PlannerSolution } from './valueIteration.ts';

/** (P(B^1 = 1), P(B^2 = 1), P(S = 1)). */
export type MabcBelief = readonly [number, number, number];
export type MabcModel = Pick<ScenarioParams<'mabc'>, 'arrival1' | 'arrival2' | 'stayIdle' | 'stayBusy' | 'transmitCost' | 'successReward'>;

/** Device prescriptions: the action for an empty and for a full buffer. */
export const DEVICE_PRESCRIPTIONS = ['never', 'iff-packet', 'iff-empty', 'always'] as const;
const ACTION_FOR: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
export const JOINT_PRESCRIPTIONS = 16;

/** Joint prescription k: device 1 follows k % 4, device 2 floor(k / 4). */
export const prescriptionAction = (k: number, device: 0 | 1, buffer: number): number => ACTION_FOR[device === 0 ? k & 3 : k >> 2][buffer];

/** The common observation after a step: both actions and the channel (2: unseen); index (a1 * 2 + a2) * 3 + channel. */
export const observationIndex = (a1: number, a2: number, busy: number): number => (a1 * 2 + a2) * 3 + (a1 === 1 || a2 === 1 ? busy : 2);

export interface MabcStep {
  reward: number;
  /** Per reachable common observation (observationIndex): its probability and the next belief. */
  successors: { observation: number; probability: number; belief: MabcBelief }[];
}

/** The coordinator's expected reward and belief update for one joint prescription. */
export function mabcStep(model: MabcModel, belief: MabcBelief, prescription: number): MabcStep {
  const arrival = [model.arrival1, model.arrival2];
  const mass = new Float64Array(12);
  const full1 = new Float64Array(12);
  const full2 = new Float64Array(12);
  const busyNext = new Float64Array(12);
  let reward = 0;
  for (let b1 = 0; b1 < 2; b1++) {
    for (let b2 = 0; b2 < 2; b2++) {
      for (let s = 0; s < 2; s++) {
        const w = (b1 ? belief[0] : 1 - belief[0]) * (b2 ? belief[1] : 1 - belief[1]) * (s ? belief[2] : 1 - belief[2]);
        if (w === 0) continue;
        const a1 = prescriptionAction(prescription, 0, b1);
        const a2 = prescriptionAction(prescription, 1, b2);
        const sent1 = a1 * (1 - a2) * (1 - s) * b1;
        const sent2 = a2 * (1 - a1) * (1 - s) * b2;
        reward += w * (-model.transmitCost * (a1 + a2) + model.successReward * (sent1 + sent2));
        const z = observationIndex(a1, a2, s);
        mass[z] += w;
        // A buffer left holding a packet stays full; an empty one fills with the arrival probability.
        full1[z] += w * (b1 - sent1 + (1 - b1 + sent1) * arrival[0]);
        full2[z] += w * (b2 - sent2 + (1 - b2 + sent2) * arrival[1]);
        busyNext[z] += w * (s ? model.stayBusy : 1 - model.stayIdle);
      }
    }
  }
  const successors: MabcStep['successors'] = [];
  for (let z = 0; z < 12; z++) {
    if (mass[z] > 0) successors.push({ observation: z, probability: mass[z], belief: [full1[z] / mass[z], full2[z] / mass[z], busyNext[z] / mass[z]] });
  }
  return { reward, successors };
}

export const mabcInitialBelief = (model: MabcModel): MabcBelief => [0, 0, stationaryBusy(model.stayIdle, model.stayBusy)];

/** Beliefs within 1e-6 share a node: on the paper's setting the value agrees with a 1e-9 grid (82,438 nodes) to 2e-10, with 24,532 nodes. */
const BELIEF_GRID = 1e6;
const beliefKey = (b: MabcBelief): string => `${Math.round(b[0] * BELIEF_GRID)},${Math.round(b[1] * BELIEF_GRID)},${Math.round(b[2] * BELIEF_GRID)}`;

export interface MabcPlan {
  /** The optimal discounted team return from the initial belief. */
  value: number;
  solution: PlannerSolution;
  mdp: BeliefMdp;
  beliefs: readonly MabcBelief[];
  initial: number;
  /** The node of a belief reached on the graph (executing the plan). */
  nodeOf(belief: MabcBelief): number;
}

/** Plans from `initial` (default: the scenario's initial belief); horizon: finite-horizon value instead of the infinite one. */
export function planMabc(model: MabcModel, gamma: number, options: { horizon?: number; initial?: MabcBelief } = {}): MabcPlan {
  const builder = new BeliefGraphBuilder<MabcBelief>(JOINT_PRESCRIPTIONS, beliefKey);
  const { mdp, beliefs, initial } = builder.build(
    options.initial ?? mabcInitialBelief(model),
    (belief, k) => {
      const step = mabcStep(model, belief, k);
      return { reward: step.reward, successors: step.successors.map((s) => [s.belief, s.probability] as const) };
    },
    { maxNodes: 2_000_000, maxDepth: options.horizon },
  );
  const solution = valueIteration(mdp, gamma, { horizon: options.horizon });
  return { value: solution.values[initial], solution, mdp, beliefs, initial, nodeOf: (belief) => builder.node(belief) };
}

/** The joint prescription index of device 1's and device 2's actions [for an empty, for a full buffer]. */
export const jointPrescription = (device1: readonly number[], device2: readonly number[]): number => device1[0] * 2 + device1[1] + 4 * (device2[0] * 2 + device2[1]);

/**
 * The value of any coordination policy, with the planner's optimal values as a control variate.
 * Along an episode the policy's coordinator holds beliefs b_t and picks joint prescriptions k_t;
 * with V* and Q* the plan's optimal values, V^pi(b_0) = V*(b_0) - E[sum_t gamma^t (V*(b_t) -
 * Q*(b_t, k_t))] (the performance-difference identity). The regret terms vanish wherever the
 * policy acts optimally, so their sum spreads far less over episodes than the discounted return
 * itself (about 1.08 on the paper's setting): the same episodes judge a policy several times
 * more precisely than their Monte-Carlo mean.
 */
export class MabcRegret {
  /** Each copy's belief node: beliefs are followed on the plan's graph, exactly as it was expanded. */
  private readonly nodes: Int32Array;
  private readonly discount: Float64Array;
  /** Discounted regret summed per copy. */
  readonly regret: Float64Array;

  constructor(
    private readonly plan: MabcPlan,
    private readonly model: MabcModel,
    private readonly gamma: number,
    copies: number,
  ) {
    this.nodes = new Int32Array(copies).fill(plan.initial);
    this.discount = new Float64Array(copies).fill(1);
    this.regret = new Float64Array(copies);
  }

  /** Copy e's coordinator chose joint prescription k in its current belief, and the common observation z (observationIndex) followed. */
  step(e: number, k: number, z: number): void {
    const node = this.nodes[e];
    this.regret[e] += this.discount[e] * (this.plan.solution.values[node] - this.q(node, k));
    this.discount[e] *= this.gamma;
    const next = mabcStep(this.model, this.plan.beliefs[node], k).successors.find((s) => s.observation === z);
    if (!next) throw new Error(`mabc: common observation ${z} cannot follow prescription ${k} in copy ${e}'s belief`);
    this.nodes[e] = this.plan.nodeOf(next.belief);
    if (this.nodes[e] >= this.plan.mdp.nodes) throw new Error('mabc: a belief off the plan\'s graph (the plan was built from another initial belief or model)');
  }

  /** V*(b_0) minus the mean discounted regret, and its standard error over the copies. */
  estimate(): { value: number; standardError: number } {
    return valueAgainstPlan(this.plan.value, this.regret);
  }

  private q(node: number, k: number): number {
    const { mdp, solution } = this.plan;
    const at = node * mdp.actions + k;
    let expected = 0;
    for (let j = mdp.start[at]; j < mdp.start[at + 1]; j++) expected += mdp.prob[j] * solution.values[mdp.next[j]];
    return mdp.reward[at] + this.gamma * expected;
  }
}
