/**
 * The coordinator's prescription space: what its actor head outputs, how theta is drawn from
 * it, and how each passive agent acts on theta. Three spaces (the DADC paper uses the first
 * and the last):
 *
 * - `boltzmann`: theta is a real vector of Boltzmann logits per (agent block, local state,
 *   action), drawn from a Gaussian around the head's output (the generic parameterised
 *   prescription of the paper's section 5); an agent samples its action from
 *   softmax(theta[block, own local state, :]).
 * - `linear`: for a continuous local information (the CACC platoon's own observation), theta
 *   holds the weights of a linear softmax per (agent block, action): logits_a = theta_a . [1, local],
 *   drawn from a Gaussian like the Boltzmann logits. The paper's prescriptions map local
 *   information to actions; binning CACC's five observation fields would need many bins per
 *   field, most of them rarely visited, and the score-function gradient of a Gaussian over
 *   every bin's logits drives the unvisited ones by noise alone (docs/dadc.md saw this on
 *   mabc); the linear map has 4 x 6 parameters per block and generalises across states.
 * - `opportunities`: a finite set of deterministic prescriptions chosen by a categorical
 *   over the head's logits; theta is the one-hot of the choice. The paper's multi-access
 *   broadcast actor is this (appendix E.1): which devices get the opportunity to transmit
 *   (the scenario's list: sim/mabc.ts), and a device transmits when it has it and holds a packet.
 */
import type { LearnerConfig } from '../../../../shared/learners.ts';
import type { BatchedEnv } from '../../../sim/env.ts';
import { TabularEnv } from '../../../sim/tabular.ts';
import { argmax } from '../../core/distributions.ts';
import { gaussianLogDensity, logStdIndex, seedGaussianGradient, type ActorOutput } from './networks.ts';
import { Matrix } from './tape.ts';

/** Per copy, the draws a coordinator may take from its copy of the common stream. */
export interface CommonDraws {
  uniform(copy: number): number;
  normal(copy: number): number;
}

export interface PrescriptionSpace {
  /** Width of theta (what the AIS encoder and the critic read) and of the actor's head. */
  readonly size: number;
  /** Whether the head's Gaussian log std is trained (boltzmann). */
  readonly gaussian: boolean;
  /**
   * Draws theta [E, size] from the head [E, size] with each copy's common stream; their log-probabilities into logProbability.
   * Here and below, logStd is the Gaussian's log std: [1, size] for every row, or [rows, size] (coordinatorStd state); other spaces ignore it.
   */
  sample(head: Matrix, logStd: Matrix, draws: CommonDraws, theta: Float64Array, logProbability: Float64Array): void;
  /** The deterministic theta of the head (the mean, or the most probable choice). */
  greedy(head: Matrix, theta: Float64Array): void;
  /** log psi(theta_r | head_r) of every row, into out. */
  logDensity(theta: ArrayLike<number>, head: Matrix, logStd: Matrix, out: Float64Array): void;
  /** Adds weight[r] * d log psi(theta_r) / d(head, logStd) to their gradients. */
  seedGradient(theta: ArrayLike<number>, head: Matrix, logStd: Matrix, weight: ArrayLike<number>): void;
  /**
   * Finite spaces only (opportunities; null elsewhere): adds -weight * d/d head of sum_c p_c(head_r) * advantage[r * size + c]
   * to the head's gradient (ascending the expected advantage over every choice), and returns that expectation's mean over the rows.
   */
  readonly seedEveryChoiceGradient: ((head: Matrix, advantage: ArrayLike<number>, weight: number) => number) | null;
  /** Adds weight * d entropy(psi(. | head_r)) / d(head, logStd) of every row to their gradients; returns the rows' mean entropy. */
  seedEntropyGradient(head: Matrix, logStd: Matrix, weight: number): number;
  /**
   * Agent k's action logits under row e of theta, into out[at ..], from its local information:
   * its observation row obs[row ..] (tabular: field 0, the local state's index; linear: every field).
   */
  actionLogits(theta: ArrayLike<number>, e: number, agent: number, obs: ArrayLike<number>, row: number, out: Float32Array | Float64Array, at: number): void;
  /** Whether agents sample their action from the logits (boltzmann) or take the most probable (opportunities: deterministic). */
  readonly stochasticActions: boolean;
  /** V(X) of every row: Q at the mean theta (boltzmann), or the expectation of Q over the choices (opportunities); q evaluates Q(X, theta rows). */
  stateValues(head: Matrix, q: (theta: Matrix) => Float64Array): Float64Array;
}

/** A Gaussian over `size` real prescription parameters around the actor's head; `actionLogits` reads them. */
function gaussianSpace(size: number, actionLogits: PrescriptionSpace['actionLogits']): PrescriptionSpace {
  return {
    size,
    gaussian: true,
    stochasticActions: true,
    sample(head, logStd, draws, theta, logProbability) {
      for (let e = 0; e < head.rows; e++) {
        for (let k = 0; k < size; k++) theta[e * size + k] = head.value[e * size + k] + Math.exp(logStd.value[logStdIndex(logStd, e, k)]) * draws.normal(e);
      }
      gaussianLogDensity(theta, head, logStd, logProbability);
    },
    greedy: (head, theta) => theta.set(head.value),
    seedEveryChoiceGradient: null,
    stateValues: (head, q) => q(head),
    logDensity: gaussianLogDensity,
    seedGradient: seedGaussianGradient,
    // A diagonal Gaussian's entropy is sum(logStd) + const, whatever its mean.
    seedEntropyGradient(head, logStd, weight) {
      let entropy = 0;
      if (logStd.rows === 1) {
        for (let k = 0; k < size; k++) {
          logStd.grad[k] += weight * head.rows;
          entropy += logStd.value[k] + 0.5 * Math.log(2 * Math.PI * Math.E);
        }
        return entropy;
      }
      // A log std per row: each row's entropy has its own.
      for (let k = 0; k < logStd.value.length; k++) {
        logStd.grad[k] += weight;
        entropy += (logStd.value[k] + 0.5 * Math.log(2 * Math.PI * Math.E)) / head.rows;
      }
      return entropy;
    },
    actionLogits,
  };
}

/** Boltzmann logits per (block, local state, action), one block for all agents when shared. */
export function boltzmannSpace(env: TabularEnv, shared: boolean): PrescriptionSpace {
  const width = env.spec.action.kind === 'discrete' ? env.spec.action.n : 0;
  const size = (shared ? 1 : env.spec.nAgents) * env.localStates * width;
  return gaussianSpace(size, (theta, e, agent, obs, row, out, at) => {
    const from = e * size + ((shared ? 0 : agent) * env.localStates + obs[row]) * width;
    for (let a = 0; a < width; a++) out[at + a] = theta[from + a];
  });
}

/** Linear softmax weights per (block, action) over [1, the agent's `features` observation fields], one block for all agents when shared. */
export function linearSpace(features: number, actionCount: number, agents: number, shared: boolean): PrescriptionSpace {
  const perAction = 1 + features;
  const block = actionCount * perAction;
  const size = (shared ? 1 : agents) * block;
  return gaussianSpace(size, (theta, e, agent, obs, row, out, at) => {
    const from = e * size + (shared ? 0 : agent) * block;
    for (let a = 0; a < actionCount; a++) {
      const w = from + a * perAction;
      let logit = theta[w];
      for (let j = 0; j < features; j++) logit += theta[w + 1 + j] * obs[row + j];
      out[at + a] = logit;
    }
  });
}

/** Logit of an action a deterministic prescription does not take (its probability underflows). */
const EXCLUDED = -30;

/**
 * A categorical choice among deterministic prescriptions: actions[c][agent][local state] is
 * the action agent `agent` takes in `local` under choice c. With an exploration floor f the
 * coordinator draws from p = (1 - f) * softmax(head) + f / choices, so every choice keeps
 * probability >= f / choices however far the actor has moved; log p and its gradients are
 * those of this mixture (the policy the data comes from), and the greedy choice is the same.
 */
export function opportunitySpace(actions: readonly (readonly (readonly number[])[])[], actionCount: number, floor = 0): PrescriptionSpace {
  const size = actions.length;
  const softmax = new Float64Array(size);
  const probabilities = new Float64Array(size);
  /** Fills softmax with softmax(head_r) and probabilities with the floored mixture p; returns p. */
  const softmaxRow = (head: Matrix, r: number) => {
    let largest = -Infinity;
    for (let c = 0; c < size; c++) largest = Math.max(largest, head.value[r * size + c]);
    let total = 0;
    for (let c = 0; c < size; c++) total += softmax[c] = Math.exp(head.value[r * size + c] - largest);
    for (let c = 0; c < size; c++) probabilities[c] = (1 - floor) * (softmax[c] /= total) + floor / size;
    return probabilities;
  };
  /**
   * Row r's expectation sum_c p_c value(c) under the floored mixture, returned; adds -weight times its
   * gradient in the head's logits, d/dlogit_k = (1 - f) s_k (value(k) - sum_c s_c value(c)), with the values held fixed.
   */
  const seedExpectation = (head: Matrix, r: number, value: (c: number) => number, weight: number) => {
    const p = softmaxRow(head, r);
    let expected = 0;
    let softExpected = 0;
    for (let c = 0; c < size; c++) {
      expected += p[c] * value(c);
      softExpected += softmax[c] * value(c);
    }
    for (let k = 0; k < size; k++) head.grad[r * size + k] -= weight * (1 - floor) * softmax[k] * (value(k) - softExpected);
    return expected;
  };
  const chosen = (theta: ArrayLike<number>, r: number) => {
    for (let c = 0; c < size; c++) if (theta[r * size + c] === 1) return c;
    throw new Error('an opportunity prescription is a one-hot row');
  };
  return {
    size,
    gaussian: false,
    stochasticActions: false,
    sample(head, _logStd, draws, theta, logProbability) {
      for (let e = 0; e < head.rows; e++) {
        const p = softmaxRow(head, e);
        let u = draws.uniform(e);
        let c = 0;
        while (c < size - 1 && (u -= p[c]) >= 0) c++;
        theta.fill(0, e * size, (e + 1) * size);
        theta[e * size + c] = 1;
        logProbability[e] = Math.log(p[c]);
      }
    },
    stateValues(head, q) {
      const choiceProbabilities = new Float64Array(head.rows * size);
      for (let r = 0; r < head.rows; r++) choiceProbabilities.set(softmaxRow(head, r), r * size);
      const values = new Float64Array(head.rows);
      for (let c = 0; c < size; c++) {
        const oneHot = new Float64Array(head.rows * size);
        for (let r = 0; r < head.rows; r++) oneHot[r * size + c] = 1;
        const qc = q(new Matrix(oneHot, head.rows, size));
        for (let r = 0; r < head.rows; r++) values[r] += choiceProbabilities[r * size + c] * qc[r];
      }
      return values;
    },
    greedy(head, theta) {
      theta.fill(0);
      // The most probable choice is the largest logit.
      for (let e = 0; e < head.rows; e++) theta[e * size + argmax(head.value, e * size, size)] = 1;
    },
    logDensity(theta, head, _logStd, out) {
      for (let r = 0; r < head.rows; r++) out[r] = Math.log(softmaxRow(head, r)[chosen(theta, r)]);
    },
    // d log p_c / d logit_k = (1 - f) s_c (1[k = c] - s_k) / p_c (s: the softmax; f = 0: 1[k = c] - s_k).
    seedGradient(theta, head, _logStd, weight) {
      for (let r = 0; r < head.rows; r++) {
        if (weight[r] === 0) continue;
        const p = softmaxRow(head, r);
        const c = chosen(theta, r);
        const scale = (weight[r] * (1 - floor) * softmax[c]) / p[c];
        for (let k = 0; k < size; k++) head.grad[r * size + k] += scale * ((k === c ? 1 : 0) - softmax[k]);
      }
    },
    seedEveryChoiceGradient(head, advantage, weight) {
      let total = 0;
      for (let r = 0; r < head.rows; r++) total += seedExpectation(head, r, (c) => advantage[r * size + c], weight);
      return total / head.rows;
    },
    // H = sum_c p_c (-log p_c), and sum_c p_c d(-log p_c) = -sum_c dp_c = 0: its gradient is that of an expectation with -log p_c held fixed.
    seedEntropyGradient(head, _logStd, weight) {
      let total = 0;
      for (let r = 0; r < head.rows; r++) {
        const p = softmaxRow(head, r);
        // A choice of probability 0 (only without a floor) adds nothing to the entropy nor to its gradient (its softmax weight is 0 too).
        const surprise = Float64Array.from(p, (pc) => (pc > 0 ? -Math.log(pc) : 0));
        // seedExpectation descends (adds -weight times the gradient); the entropy's gradient is added.
        total += seedExpectation(head, r, (c) => surprise[c], -weight);
      }
      return total / head.rows;
    },
    actionLogits(theta, e, agent, obs, row, out, at) {
      const action = actions[chosen(theta, e)][agent][obs[row]];
      for (let a = 0; a < actionCount; a++) out[at + a] = a === action ? 0 : EXCLUDED;
    },
  };
}

/** The prescription space config.prescriptions names, on the env's kind of local information. */
export function prescriptionSpace(env: BatchedEnv, config: LearnerConfig<'dadc'>): PrescriptionSpace {
  const { nAgents, obsDim, action } = env.spec;
  const actions = action.kind === 'discrete' ? action.n : 0;
  if (config.prescriptions === 'linear') return linearSpace(obsDim, actions, nAgents, config.sharePrescription);
  if (!(env instanceof TabularEnv)) throw new Error(`dadc: prescriptions=${config.prescriptions} needs a discrete local state (mabc, demand-response); use prescriptions=linear`);
  if (config.prescriptions === 'boltzmann') return boltzmannSpace(env, config.sharePrescription);
  if (env.opportunities === null) throw new Error(`${env.spec.scenario} offers no opportunity prescriptions; use prescriptions=boltzmann`);
  return opportunitySpace(env.opportunities, actions, config.explorationFloor);
}

/**
 * actorGradient every-choice: Q(X_r, c) - V(X_r) for every row r and choice c of a finite
 * space [rows, size], V the expectation of Q under the choice probabilities of `head`, divided by
 * its spread under them (sqrt of the mean over rows of sum_c p_c (Q_c - V)^2), as the sampled
 * gradient's advantages are normalised. q evaluates Q(X, theta rows).
 */
export function choiceAdvantages(space: PrescriptionSpace, { mean: head, logStd }: ActorOutput, q: (theta: Matrix) => Float64Array): Float64Array {
  const { size } = space;
  const rows = head.rows;
  const probabilities = new Float64Array(rows * size);
  const advantage = new Float64Array(rows * size);
  const logProbability = new Float64Array(rows);
  for (let c = 0; c < size; c++) {
    const oneHot = new Float64Array(rows * size);
    for (let r = 0; r < rows; r++) oneHot[r * size + c] = 1;
    const values = q(new Matrix(oneHot, rows, size));
    // The choice's probability: exp of the log-density of its one-hot theta.
    space.logDensity(oneHot, head, logStd, logProbability);
    for (let r = 0; r < rows; r++) {
      advantage[r * size + c] = values[r];
      probabilities[r * size + c] = Math.exp(logProbability[r]);
    }
  }
  let spread = 0;
  for (let r = 0; r < rows; r++) {
    let value = 0;
    for (let c = 0; c < size; c++) value += probabilities[r * size + c] * advantage[r * size + c];
    for (let c = 0; c < size; c++) {
      advantage[r * size + c] -= value;
      spread += (probabilities[r * size + c] * advantage[r * size + c] ** 2) / rows;
    }
  }
  const scale = Math.sqrt(spread) + 1e-8;
  for (let k = 0; k < advantage.length; k++) advantage[k] /= scale;
  return advantage;
}
