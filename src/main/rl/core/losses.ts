/**
 * Policy losses on the network's head output, with their gradients written by hand.
 *
 * The fast update path needs only dLoss/dOutput (means or logits) and dLoss/dLogStd: the
 * backward pass through the MLP is the same for every loss. A loss is therefore a per-sample
 * objective of two numbers, the probability ratio r = pi(a|s) / pi_old(a|s) and the analytic
 * per-state KL(pi_old || pi) (distributions.ts); each head (Gaussian, categorical) turns its derivatives into
 * dLoss/dOutput by the chain rule. The loss of a batch is the mean of the per-sample terms
 * minus entropyCoefficient * mean entropy.
 *
 * Everything here runs in plain JavaScript over a few thousand rows: cheaper than the ~30
 * elementwise tensor ops it replaces, and exact in float64.
 */
import { CATEGORICAL_SMOOTHING, gaussianTerms, smoothedSoftmax, type GaussianTerms, type PolicyHead } from './distributions.ts';

/** A number for every agent, or one per agent (indexed by global agent index). */
export type PerAgent = number | readonly number[];

export interface PpoClipLoss {
  readonly kind: 'ppo-clip';
  /** Clip range epsilon (e.g. 0.2, or alpha / N per agent for seed 004's per-agent-count clip). */
  readonly clipEpsilon: PerAgent;
  readonly entropyCoefficient?: number;
  /** Early stop of an agent's epoch loop when its mean KL(old || new) exceeds 1.5 * targetKl. */
  readonly targetKl?: number;
}

/** DPO's surrogate: maximise ratio * A / N - beta1 * sqrt(KL + 1e-8) - beta2 * KL per sample. */
export interface DpoLoss {
  readonly kind: 'dpo';
  /** N in ratio * A / N: the number of agents. */
  readonly agentCount: number;
  readonly beta1: PerAgent;
  readonly beta2: PerAgent;
  readonly entropyCoefficient?: number;
  readonly targetKl?: number;
}

export type ActorLoss = PpoClipLoss | DpoLoss;

/** One sample's loss term and its derivatives with respect to the ratio and the KL. */
interface SampleTerms {
  loss: number;
  dRatio: number;
  dKl: number;
  /** Whether the ratio lies outside the clip range (PPO's clip fraction). */
  clipped: boolean;
}

type SampleObjective = (ratio: number, advantage: number, kl: number, agent: number, out: SampleTerms) => void;

const DPO_SQRT_EPSILON = 1e-8;

function perAgentValue(value: PerAgent, name: string, agents: number): (agent: number) => number {
  if (typeof value === 'number') return () => value;
  if (value.length !== agents) throw new Error(`${name} has ${value.length} values for ${agents} agents`);
  return (agent) => value[agent];
}

function sampleObjective(loss: ActorLoss, agents: number): SampleObjective {
  if (loss.kind === 'ppo-clip') {
    const epsilonOf = perAgentValue(loss.clipEpsilon, 'clipEpsilon', agents);
    return (ratio, advantage, _kl, agent, out) => {
      const epsilon = epsilonOf(agent);
      const unclipped = ratio * advantage;
      const clipped = Math.min(Math.max(ratio, 1 - epsilon), 1 + epsilon) * advantage;
      // min(unclipped, clipped): the clipped branch carries no gradient, and it differs from
      // the unclipped one only outside the clip range.
      const unclippedActive = unclipped <= clipped;
      out.loss = -(unclippedActive ? unclipped : clipped);
      out.dRatio = unclippedActive ? -advantage : 0;
      out.dKl = 0;
      out.clipped = ratio > 1 + epsilon || ratio < 1 - epsilon;
    };
  }
  const beta1Of = perAgentValue(loss.beta1, 'beta1', agents);
  const beta2Of = perAgentValue(loss.beta2, 'beta2', agents);
  const scale = 1 / loss.agentCount;
  return (ratio, advantage, kl, agent, out) => {
    const beta1 = beta1Of(agent);
    const beta2 = beta2Of(agent);
    const root = Math.sqrt(kl + DPO_SQRT_EPSILON);
    out.loss = -(ratio * advantage * scale - beta1 * root - beta2 * kl);
    out.dRatio = -advantage * scale;
    out.dKl = (0.5 * beta1) / root + beta2;
    out.clipped = false;
  };
}

/**
 * The rows a loss is evaluated on, as views into one parameter group's data (agent-major:
 * group row = local agent * samplesPerAgent + sample).
 */
export interface PolicyRows {
  /** Evaluation row r reads group row rowIndex[r]; the network output is in evaluation order. */
  readonly rowIndex: Int32Array;
  readonly samplesPerAgent: number;
  /** Global index of the group's first agent (per-agent epsilons and betas are global). */
  readonly firstAgent: number;
  /** Gaussian: [rows, actionSize]; categorical: [rows] action indices. */
  readonly actions: Float32Array;
  readonly advantages: Float32Array;
  /** [rows, outputSize]: means or logits of the policy that collected the data. */
  readonly oldOutput: Float32Array;
  /** Gaussian: [agents in group, actionSize] log std of that policy. */
  readonly oldLogStd: Float32Array | null;
}

/** Where the gradients go; both are overwritten. */
export interface PolicyGradients {
  readonly output: Float32Array;
  readonly logStd: Float32Array | null;
}

/** Per-agent sums over evaluated rows, turned into means by `summaries`. */
export class PolicyStatistics {
  private readonly count: Float64Array;
  private readonly loss: Float64Array;
  private readonly kl: Float64Array;
  private readonly clipped: Float64Array;
  private readonly totalVariation: Float64Array;
  private readonly entropy: Float64Array;
  private readonly ratioMin: Float64Array;
  private readonly ratioMax: Float64Array;

  constructor(readonly agents: number) {
    this.count = new Float64Array(agents);
    this.loss = new Float64Array(agents);
    this.kl = new Float64Array(agents);
    this.clipped = new Float64Array(agents);
    this.totalVariation = new Float64Array(agents);
    this.entropy = new Float64Array(agents);
    this.ratioMin = new Float64Array(agents).fill(Infinity);
    this.ratioMax = new Float64Array(agents).fill(-Infinity);
  }

  add(agent: number, terms: SampleTerms, kl: number, ratio: number, totalVariation: number, entropy: number): void {
    this.count[agent] += 1;
    this.loss[agent] += terms.loss;
    this.kl[agent] += kl;
    this.clipped[agent] += terms.clipped ? 1 : 0;
    this.totalVariation[agent] += totalVariation;
    this.entropy[agent] += entropy;
    if (ratio < this.ratioMin[agent]) this.ratioMin[agent] = ratio;
    if (ratio > this.ratioMax[agent]) this.ratioMax[agent] = ratio;
  }

  summaries(entropyCoefficient: number): PolicySummary[] {
    return Array.from({ length: this.agents }, (_, a) => {
      const n = this.count[a];
      const entropy = this.entropy[a] / n;
      return {
        loss: this.loss[a] / n - entropyCoefficient * entropy,
        kl: this.kl[a] / n,
        clipFraction: this.clipped[a] / n,
        ratioMin: this.ratioMin[a],
        ratioMax: this.ratioMax[a],
        totalVariation: this.totalVariation[a] / n,
        entropy,
      };
    });
  }
}

/** Per-agent means over the agent's samples. */
export interface PolicySummary {
  /** Surrogate loss (to minimise), entropy term included. */
  readonly loss: number;
  /** Mean analytic KL(pi_old || pi). */
  readonly kl: number;
  /** Fraction of samples with the ratio outside the clip range (0 for unclipped losses). */
  readonly clipFraction: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /**
   * Mean total-variation distance between old and new policy per state: exact for
   * categorical heads, 0.5 * |ratio - 1| (unbiased under the old policy's actions) for Gaussian.
   */
  readonly totalVariation: number;
  readonly entropy: number;
}

/** A batch's loss and mean KL, for the optimiser loop and its early stop. */
export interface PolicyEvaluation {
  readonly loss: number;
  readonly meanKl: number;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const GAUSSIAN_ENTROPY_CONSTANT = 0.5 + HALF_LOG_TWO_PI;

export class PolicyLoss {
  readonly entropyCoefficient: number;
  readonly targetKl: number | undefined;
  private readonly objective: SampleObjective;
  private readonly terms: SampleTerms = { loss: 0, dRatio: 0, dKl: 0, clipped: false };
  private readonly gaussian: GaussianTerms = { logRatio: 0, kl: 0 };

  constructor(
    readonly head: PolicyHead,
    loss: ActorLoss,
    agents: number,
  ) {
    this.objective = sampleObjective(loss, agents);
    this.entropyCoefficient = loss.entropyCoefficient ?? 0;
    this.targetKl = loss.targetKl;
  }

  /**
   * Evaluates the loss on `rows` with the new head `output` ([rows.rowIndex.length, outputSize]
   * in evaluation order) and the new `logStd` (Gaussian). Writes gradients and statistics
   * when asked for them.
   */
  evaluate(
    rows: PolicyRows,
    output: Float32Array,
    logStd: Float32Array | null,
    gradients: PolicyGradients | null,
    statistics: PolicyStatistics | null,
  ): PolicyEvaluation {
    return this.head.kind === 'gaussian'
      ? this.evaluateGaussian(this.head.actionSize, rows, output, logStd, gradients, statistics)
      : this.evaluateCategorical(this.head.actionCount, rows, output, gradients, statistics);
  }

  private evaluateGaussian(
    size: number,
    rows: PolicyRows,
    output: Float32Array,
    logStd: Float32Array | null,
    gradients: PolicyGradients | null,
    statistics: PolicyStatistics | null,
  ): PolicyEvaluation {
    const { rowIndex, samplesPerAgent, firstAgent, actions, advantages, oldOutput, oldLogStd } = rows;
    if (logStd === null || oldLogStd === null) throw new Error('a Gaussian head needs its log std and the old one');
    const count = rowIndex.length;
    const invCount = 1 / count;
    const variance = new Float64Array(size);
    let entropy = 0;
    for (let j = 0; j < size; j++) {
      variance[j] = Math.exp(2 * logStd[j]);
      entropy += logStd[j] + GAUSSIAN_ENTROPY_CONSTANT;
    }
    const dLogStd = gradients?.logStd ?? null;
    dLogStd?.fill(0);
    const terms = this.terms;
    const gaussian = this.gaussian;
    let lossSum = 0;
    let klSum = 0;
    for (let r = 0; r < count; r++) {
      const row = rowIndex[r];
      const localAgent = Math.floor(row / samplesPerAgent);
      let logRatio = 0;
      let kl = 0;
      for (let j = 0; j < size; j++) {
        const oldLog = oldLogStd[localAgent * size + j];
        gaussianTerms(actions[row * size + j], output[r * size + j], logStd[j], variance[j], oldOutput[row * size + j], oldLog, Math.exp(2 * oldLog), gaussian);
        logRatio += gaussian.logRatio;
        kl += gaussian.kl;
      }
      const ratio = Math.exp(logRatio);
      this.objective(ratio, advantages[row], kl, firstAgent + localAgent, terms);
      lossSum += terms.loss;
      klSum += kl;
      if (gradients !== null && dLogStd !== null) {
        // A clipped sample has no ratio gradient even when its ratio overflowed (0 * Infinity).
        const dRatio = terms.dRatio === 0 ? 0 : terms.dRatio * ratio * invCount;
        const dKl = terms.dKl * invCount;
        for (let j = 0; j < size; j++) {
          const mean = output[r * size + j];
          const oldMean = oldOutput[row * size + j];
          const gap = actions[row * size + j] - mean;
          const oldVariance = Math.exp(2 * oldLogStd[localAgent * size + j]);
          const meanShift = oldMean - mean;
          gradients.output[r * size + j] = (dRatio * gap - dKl * meanShift) / variance[j];
          dLogStd[j] += dRatio * ((gap * gap) / variance[j] - 1) + dKl * (1 - (oldVariance + meanShift * meanShift) / variance[j]);
        }
      }
      statistics?.add(localAgent, terms, kl, ratio, 0.5 * Math.abs(ratio - 1), entropy);
    }
    if (dLogStd !== null) for (let j = 0; j < size; j++) dLogStd[j] -= this.entropyCoefficient;
    return { loss: lossSum * invCount - this.entropyCoefficient * entropy, meanKl: klSum * invCount };
  }

  private evaluateCategorical(
    size: number,
    rows: PolicyRows,
    output: Float32Array,
    gradients: PolicyGradients | null,
    statistics: PolicyStatistics | null,
  ): PolicyEvaluation {
    const { rowIndex, samplesPerAgent, firstAgent, actions, advantages, oldOutput } = rows;
    const count = rowIndex.length;
    const invCount = 1 / count;
    // p = (softmax + eps) / (1 + size * eps) = norm * (q + eps)
    const norm = 1 / (1 + size * CATEGORICAL_SMOOTHING);
    const softmax = new Float64Array(size);
    const probability = new Float64Array(size);
    const oldProbability = new Float64Array(size);
    const dProbability = new Float64Array(size);
    const terms = this.terms;
    const entropyCoefficient = this.entropyCoefficient;
    let lossSum = 0;
    let klSum = 0;
    let entropySum = 0;
    for (let r = 0; r < count; r++) {
      const row = rowIndex[r];
      const localAgent = Math.floor(row / samplesPerAgent);
      smoothedSoftmax(output, r * size, size, probability, 0, softmax);
      smoothedSoftmax(oldOutput, row * size, size, oldProbability);
      const action = actions[row];
      const ratio = probability[action] / oldProbability[action];
      let kl = 0;
      let entropy = 0;
      let totalVariation = 0;
      for (let k = 0; k < size; k++) {
        const logP = Math.log(probability[k]);
        kl += oldProbability[k] * (Math.log(oldProbability[k]) - logP);
        entropy -= probability[k] * logP;
        totalVariation += Math.abs(probability[k] - oldProbability[k]);
      }
      this.objective(ratio, advantages[row], kl, firstAgent + localAgent, terms);
      lossSum += terms.loss;
      klSum += kl;
      entropySum += entropy;
      if (gradients !== null) {
        // dLoss/dp_k, then through p = norm * (softmax(z) + eps): dz_m = norm * q_m * (g_m - sum_k q_k g_k)
        let weighted = 0;
        for (let k = 0; k < size; k++) {
          let g = -terms.dKl * (oldProbability[k] / probability[k]) + entropyCoefficient * (Math.log(probability[k]) + 1);
          if (k === action) g += (terms.dRatio * ratio) / probability[k];
          dProbability[k] = g * invCount;
          weighted += softmax[k] * dProbability[k];
        }
        for (let k = 0; k < size; k++) {
          gradients.output[r * size + k] = norm * softmax[k] * (dProbability[k] - weighted);
        }
      }
      statistics?.add(localAgent, terms, kl, ratio, 0.5 * totalVariation, entropy);
    }
    return { loss: (lossSum - entropyCoefficient * entropySum) * invCount, meanKl: klSum * invCount };
  }
}

/** The rows a value loss is evaluated on (views into one group's data). */
export interface ValueRows {
  readonly rowIndex: Int32Array;
  readonly samplesPerAgent: number;
  readonly returns: Float32Array;
}

/**
 * Mean squared error of the values `output` (evaluation order) against the returns; writes
 * dLoss/dOutput into `gradient` and per-agent squared-error sums into `agentSums` when given.
 */
export function evaluateValueLoss(
  rows: ValueRows,
  output: Float32Array,
  gradient: Float32Array | null,
  agentSums: Float64Array | null,
): number {
  const { rowIndex, samplesPerAgent, returns } = rows;
  const count = rowIndex.length;
  let sum = 0;
  for (let r = 0; r < count; r++) {
    const row = rowIndex[r];
    const error = output[r] - returns[row];
    sum += error * error;
    if (gradient !== null) gradient[r] = (2 * error) / count;
    if (agentSums !== null) agentSums[Math.floor(row / samplesPerAgent)] += error * error;
  }
  return sum / count;
}
