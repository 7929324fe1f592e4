/**
 * One gradient update of decentralised SAC on a replay batch, for every agent:
 *
 *   y_i = sum_{j in N_i^kappa} r_j + gamma (1 - d) sum_a pi_i(a|s') [min_k Qtarg_k,i(s', a'_-i, a) - alpha_i log pi_i(a|s')]
 *   critics: MSE(Q_k,i(s, a_-i, a_i), y_i), k = 1, 2
 *   actor:   sum_a pi_i(a|s) [alpha_i log pi_i(a|s) - min_k Q_k,i(s, a_-i, a)]
 *   alpha:   log alpha_i descends alpha_i (H(pi_i) - targetEntropy)
 *   targets: Polyak averaging with tau
 *
 * With nSteps = n > 1, r_j is the discounted sum of the next m <= n rewards of the episode
 * (fewer where it ended or the buffer holds no more), and s', d and gamma^m those of its last
 * step: the uncorrected n-step target of Rainbow and the n-step SAC variants, which carries
 * a reward back n steps per backup at the price of a bias toward the behaviour policy.
 *
 * a'_-i are the neighbours' next actions drawn from their current policies; a_-i are the
 * neighbours' actions in the batch. Q_i regresses the sum of its neighbourhood's rewards, so
 * it is the extended Q-function the paper's policy gradient uses.
 *
 * Speed: each network is one agent's MLP on the fast path of nn/fastMlp.ts (fused 2-D ops,
 * backward by hand from dLoss/dOutput computed here), which measured faster on wasm than
 * batching the agents into 3-D matMuls. The actor's loss uses the Q values of this update's
 * critic forward pass (before the critics' Adam step), saving two forward passes per agent;
 * CleanRL re-evaluates the stepped critics, one critic step apart.
 */
import type { RngStreams } from '../../../sim/rng.ts';
import { sampleCategorical, smoothedSoftmax, CATEGORICAL_SMOOTHING } from '../../core/distributions.ts';
import { adamStep, clipGradientNorm } from '../../nn/adam.ts';
import { evaluateGroups, type NetworkParameters } from '../../nn/agentNetworks.ts';
import { createMlpBatch, disposeMlpBatch, mlpGradient, type MlpBatch } from '../../nn/fastMlp.ts';
import type { ReplayBuffer } from './replay.ts';
import type { SacAgents } from './sacAgents.ts';

export interface SacUpdateSettings {
  readonly batchSize: number;
  readonly gamma: number;
  readonly lrActor: number;
  readonly lrCritic: number;
  readonly lrAlpha: number;
  /** Polyak rate of the target critics. */
  readonly tau: number;
  /** Each network's gradient is scaled down to this L2 norm when longer. */
  readonly gradientClipNorm: number;
  /** Entropy (nats) the temperature steers each policy toward. */
  readonly targetEntropy: number;
  /** Rewards summed before the bootstrap (1, the default: the one-step target). */
  readonly nSteps?: number;
}

/** Means over agents of one update. */
export interface SacUpdateStats {
  actorLoss: number;
  criticLoss: number;
  entropy: number;
  alpha: number;
  /** min(Q1, Q2) of the batch's actions. */
  q: number;
  target: number;
}

/** The batch arrays of one update, allocated once per batch size. */
export class SacBatch {
  readonly indices: Int32Array;
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly actions: Uint8Array;
  readonly nextActions: Uint8Array;
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  /** [B] gamma^m of each row's m summed rewards: the weight of its bootstrap. */
  readonly discounts: Float64Array;
  readonly actorInputs: Float32Array;
  readonly nextActorInputs: Float32Array;
  readonly criticInputs: Float32Array;
  readonly nextCriticInputs: Float32Array;
  /** [n, B] critic targets. */
  readonly targets: Float32Array;
  /** [n, B, A] min(Q1, Q2) of the batch's states for every own action. */
  readonly minQ: Float32Array;
  readonly gradient: { actor: Float32Array; critic: Float32Array };

  constructor(
    agents: SacAgents,
    readonly size: number,
  ) {
    const { agents: n, actionCount } = agents;
    const obsWidth = n * agents.spec.obsDim;
    this.indices = new Int32Array(size);
    this.obs = new Float32Array(size * obsWidth);
    this.nextObs = new Float32Array(size * obsWidth);
    this.actions = new Uint8Array(size * n);
    this.nextActions = new Uint8Array(size * n);
    this.rewards = new Float32Array(size * n);
    this.terminated = new Uint8Array(size);
    this.discounts = new Float64Array(size);
    this.actorInputs = new Float32Array(n * size * agents.actorInputSize);
    this.nextActorInputs = new Float32Array(n * size * agents.actorInputSize);
    this.criticInputs = new Float32Array(n * size * agents.criticInputSize);
    this.nextCriticInputs = new Float32Array(n * size * agents.criticInputSize);
    this.targets = new Float32Array(n * size);
    this.minQ = new Float32Array(n * size * actionCount);
    this.gradient = { actor: new Float32Array(agents.actor.layout.size), critic: new Float32Array(agents.critics[0].layout.size) };
  }

  /**
   * Draws rows [from, to) of the batch (default: all) from `replay` with `rng`'s stream 0: each
   * row's s and a, and its reward, s', d and bootstrap discount after up to `returns.nSteps`
   * steps along its episode (without `returns`: one step, discounts 1).
   */
  draw(replay: ReplayBuffer, rng: RngStreams, returns: Pick<SacUpdateSettings, 'gamma' | 'nSteps'> = { gamma: 1 }, from = 0, to = this.size): void {
    const { gamma, nSteps = 1 } = returns;
    replay.sampleIndices(rng, this.indices.subarray(from, to));
    const obsWidth = this.obs.length / this.size;
    const agents = this.actions.length / this.size;
    this.indices.subarray(from, to).forEach((index, row) => {
      const b = from + row;
      this.obs.set(replay.obs.subarray(index * obsWidth, (index + 1) * obsWidth), b * obsWidth);
      this.actions.set(replay.actions.subarray(index * agents, (index + 1) * agents), b * agents);
      this.rewards.set(replay.rewards.subarray(index * agents, (index + 1) * agents), b * agents);
      let last = index;
      let discount = gamma;
      for (let step = 1, next = replay.successor(last); step < nSteps && next >= 0; step++, next = replay.successor(last)) {
        for (let i = 0; i < agents; i++) this.rewards[b * agents + i] += discount * replay.rewards[next * agents + i];
        discount *= gamma;
        last = next;
      }
      this.nextObs.set(replay.nextObs.subarray(last * obsWidth, (last + 1) * obsWidth), b * obsWidth);
      this.terminated[b] = replay.terminated[last];
      this.discounts[b] = discount;
    });
  }
}

/** One update of every agent's critics, actor, temperature and targets on a batch drawn from `replay`. */
export async function sacUpdate(agents: SacAgents, replay: ReplayBuffer, batch: SacBatch, settings: SacUpdateSettings, rng: RngStreams): Promise<SacUpdateStats> {
  batch.draw(replay, rng, settings);
  return sacUpdateOnBatch(agents, batch, settings, rng);
}

/** sacUpdate on the batch already drawn into `batch` (DMPO-SAC draws it from real and model replay). */
export async function sacUpdateOnBatch(agents: SacAgents, batch: SacBatch, settings: SacUpdateSettings, rng: RngStreams): Promise<SacUpdateStats> {
  const { size } = batch;
  agents.actorInputs(batch.obs, size, batch.actorInputs);
  agents.actorInputs(batch.nextObs, size, batch.nextActorInputs);
  agents.criticInputs(batch.obs, batch.actions, size, batch.criticInputs);
  const target = computeTargets(agents, batch, settings, rng);
  let criticLoss = 0;
  let q = 0;
  let actorLoss = 0;
  let entropy = 0;
  const entropies = new Float64Array(agents.agents);
  for (let i = 0; i < agents.agents; i++) {
    const criticBatch = agentBatch(batch.criticInputs, i, size, agents.criticInputSize);
    try {
      const losses = await updateCritics(agents, i, criticBatch, batch, settings);
      criticLoss += losses.loss;
      q += losses.q;
    } finally {
      disposeMlpBatch(criticBatch);
    }
    const actorBatch = agentBatch(batch.actorInputs, i, size, agents.actorInputSize);
    try {
      const result = await updateActor(agents, i, actorBatch, batch, settings);
      actorLoss += result.loss;
      entropy += result.entropy;
      entropies[i] = result.entropy;
    } finally {
      disposeMlpBatch(actorBatch);
    }
  }
  const alpha = updateTemperature(agents, entropies, settings);
  for (const k of [0, 1] as const) polyak(agents.targets[k], agents.critics[k], settings.tau);
  const n = agents.agents;
  return { actorLoss: actorLoss / n, criticLoss: criticLoss / n, entropy: entropy / n, alpha, q: q / n, target };
}

/** y_i for every agent and row into batch.targets (neighbours' next actions sampled from their policies); returns the mean target. */
function computeTargets(agents: SacAgents, batch: SacBatch, settings: SacUpdateSettings, rng: RngStreams): number {
  const { size } = batch;
  const { agents: n, actionCount: width } = agents;
  const nextLogits = evaluateGroups(agents.actor, batch.nextActorInputs, size, n);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < size; b++) batch.nextActions[b * n + i] = sampleCategorical(nextLogits, (i * size + b) * width, width, rng.uniform(0));
  }
  agents.criticInputs(batch.nextObs, batch.nextActions, size, batch.nextCriticInputs);
  const q1 = evaluateGroups(agents.targets[0], batch.nextCriticInputs, size, n);
  const q2 = evaluateGroups(agents.targets[1], batch.nextCriticInputs, size, n);
  const { index, mask, width: hood } = agents.criticGather;
  const probabilities = new Float64Array(width);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const alpha = Math.exp(agents.logAlpha[i]);
    for (let b = 0; b < size; b++) {
      const row = (i * size + b) * width;
      smoothedSoftmax(nextLogits, row, width, probabilities);
      let softValue = 0;
      for (let a = 0; a < width; a++) softValue += probabilities[a] * (Math.min(q1[row + a], q2[row + a]) - alpha * Math.log(probabilities[a]));
      let reward = 0;
      for (let slot = 0; slot < hood; slot++) if (mask[i * hood + slot] === 1) reward += batch.rewards[b * n + index[i * hood + slot]];
      const y = reward + batch.discounts[b] * (1 - batch.terminated[b]) * softValue;
      batch.targets[i * size + b] = y;
      sum += y;
    }
  }
  return sum / (n * size);
}

/** Agent i's rows of agent-major inputs as a fast-path batch. */
function agentBatch(inputs: Float32Array, agent: number, rows: number, inputSize: number): MlpBatch {
  return createMlpBatch(inputs.subarray(agent * rows * inputSize, (agent + 1) * rows * inputSize), rows, inputSize);
}

/** Both critics of agent i take one step on MSE to y_i; their Q values (before the step) go to batch.minQ. */
async function updateCritics(agents: SacAgents, i: number, criticBatch: MlpBatch, batch: SacBatch, settings: SacUpdateSettings): Promise<{ loss: number; q: number }> {
  const { size } = batch;
  const { agents: n, actionCount: width } = agents;
  const minQ = batch.minQ.subarray(i * size * width, (i + 1) * size * width);
  let loss = 0;
  let q = 0;
  for (const k of [0, 1] as const) {
    const network = agents.critics[k];
    const group = network.groups[i];
    const gradient = batch.gradient.critic;
    await mlpGradient(
      network.layout,
      group.params,
      criticBatch,
      (output) => {
        const dOutput = new Float32Array(output.length);
        for (let b = 0; b < size; b++) {
          const at = b * width + batch.actions[b * n + i];
          const error = output[at] - batch.targets[i * size + b];
          loss += (error * error) / (2 * size);
          dOutput[at] = (2 * error) / size;
        }
        if (k === 0) minQ.set(output);
        else {
          for (let r = 0; r < output.length; r++) minQ[r] = Math.min(minQ[r], output[r]);
          for (let b = 0; b < size; b++) q += minQ[b * width + batch.actions[b * n + i]] / size;
        }
        return dOutput;
      },
      gradient,
    );
    clipGradientNorm(gradient, settings.gradientClipNorm);
    adamStep(group.params, gradient, group.moments, { learningRate: settings.lrCritic });
  }
  return { loss, q };
}

/**
 * Agent i's actor takes one step on sum_a pi(a) (alpha log pi(a) - minQ(a)), its gradient
 * through the smoothed softmax p = norm (softmax(z) + eps) by hand; returns the loss and the
 * policy's mean entropy.
 */
async function updateActor(agents: SacAgents, i: number, actorBatch: MlpBatch, batch: SacBatch, settings: SacUpdateSettings): Promise<{ loss: number; entropy: number }> {
  const { size } = batch;
  const width = agents.actionCount;
  const group = agents.actor.groups[i];
  const gradient = batch.gradient.actor;
  const alpha = Math.exp(agents.logAlpha[i]);
  const norm = 1 / (1 + width * CATEGORICAL_SMOOTHING);
  const minQ = batch.minQ.subarray(i * size * width, (i + 1) * size * width);
  const probabilities = new Float64Array(width);
  const softmax = new Float64Array(width);
  const dSoftmax = new Float64Array(width);
  let loss = 0;
  let entropy = 0;
  await mlpGradient(
    agents.actor.layout,
    group.params,
    actorBatch,
    (logits) => {
      const dLogits = new Float32Array(logits.length);
      for (let b = 0; b < size; b++) {
        const row = b * width;
        smoothedSoftmax(logits, row, width, probabilities, 0, softmax);
        let weighted = 0;
        for (let a = 0; a < width; a++) {
          const logP = Math.log(probabilities[a]);
          loss += (probabilities[a] * (alpha * logP - minQ[row + a])) / size;
          entropy -= (probabilities[a] * logP) / size;
          dSoftmax[a] = (norm * (alpha * (logP + 1) - minQ[row + a])) / size;
          weighted += softmax[a] * dSoftmax[a];
        }
        for (let a = 0; a < width; a++) dLogits[row + a] = softmax[a] * (dSoftmax[a] - weighted);
      }
      return dLogits;
    },
    gradient,
  );
  clipGradientNorm(gradient, settings.gradientClipNorm);
  adamStep(group.params, gradient, group.moments, { learningRate: settings.lrActor });
  return { loss, entropy };
}

/** One Adam step of every agent's log alpha on alpha (H - targetEntropy); returns the mean alpha before it. */
function updateTemperature(agents: SacAgents, entropies: Float64Array, settings: SacUpdateSettings): number {
  const gradient = new Float32Array(agents.agents);
  let alphaSum = 0;
  for (let i = 0; i < agents.agents; i++) {
    const alpha = Math.exp(agents.logAlpha[i]);
    alphaSum += alpha;
    gradient[i] = alpha * (entropies[i] - settings.targetEntropy);
  }
  adamStep(agents.logAlpha, gradient, agents.logAlphaMoments, { learningRate: settings.lrAlpha });
  return alphaSum / agents.agents;
}

/** target <- (1 - tau) target + tau online, every agent. */
function polyak(target: NetworkParameters, online: NetworkParameters, tau: number): void {
  target.groups.forEach((group, i) => {
    const source = online.groups[i].params;
    const params = group.params;
    for (let k = 0; k < params.length; k++) params[k] += tau * (source[k] - params[k]);
  });
}
