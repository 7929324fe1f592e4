/**
 * JR-PPO (seed "Monotonic Improvement Guarantees under Non-stationarity for Decentralized
 * PPO"): the clipped surrogate on the JOINT ratio R = prod_i r_i = exp(sum_i log r_i), with
 * one centralised advantage per timestep (the mean of the agents' advantages):
 *     L = -mean_s min(R_s A_s, clip(R_s, 1 - eps, 1 + eps) A_s).
 *
 * The joint ratio couples the agents at every sample, so the epochs run in lockstep, full
 * batch: each epoch computes every agent's log-ratio against the rollout policy, then gives
 * each agent the exact gradient of L through its own log-probabilities,
 *     dL/dtheta_i = -(1/S) sum_s [unclipped active] A_s R_s dlog pi_i(a_s|o_s)/dtheta_i,
 * as one plain-surrogate step taken at the current policy (ratio 1, advantage A_s R_s), so the
 * per-agent fast update path does the arithmetic. The loop stops early once the agents' mean
 * KL(rollout || current) exceeds 1.5 targetKl.
 */
import type { AgentNetworks } from '../nn/agentNetworks.ts';
import type { UpdatePool } from '../parallel/updatePool.ts';
import { gaussianTerms, smoothedSoftmax, type GaussianTerms, type PolicyHead } from './distributions.ts';
import type { IterationMetrics } from './iteration.ts';
import type { ActorAgentStats } from './optimiser.ts';
import type { RolloutBuffer } from './rollout.ts';

export interface JointRatioSettings {
  epochs: number;
  clipEpsilon: number;
  learningRate: number;
  targetKl: number;
  entropyCoefficient: number;
}

/** Per agent and sample: log r_i(s) against the rollout policy, and the per-state KL(old || current). */
function logRatiosAndKl(networks: AgentNetworks, head: PolicyHead, buffer: RolloutBuffer): { logRatio: Float64Array; kl: Float64Array } {
  const samples = buffer.steps * buffer.envs;
  const agents = networks.agents;
  const output = networks.evaluateActor(buffer.actorInputs, samples);
  const logRatio = new Float64Array(agents * samples);
  const kl = new Float64Array(agents * samples);
  if (head.kind === 'categorical') {
    const width = head.actionCount;
    const now = new Float64Array(width);
    const old = new Float64Array(width);
    for (let k = 0; k < agents * samples; k++) {
      smoothedSoftmax(output, k * width, width, now);
      smoothedSoftmax(buffer.oldOutput, k * width, width, old);
      const action = buffer.actions[k];
      logRatio[k] = Math.log(now[action]) - Math.log(old[action]);
      let divergence = 0;
      for (let a = 0; a < width; a++) divergence += old[a] * (Math.log(old[a]) - Math.log(now[a]));
      kl[k] = divergence;
    }
    return { logRatio, kl };
  }
  const { layout } = networks.actor;
  const terms: GaussianTerms = { logRatio: 0, kl: 0 };
  for (let i = 0; i < agents; i++) {
    const logStd = networks.actor.groups[networks.groupOf(i)].params[layout.extraOffset];
    const oldLogStd = buffer.oldLogStd![i];
    const variance = Math.exp(2 * logStd);
    const oldVariance = Math.exp(2 * oldLogStd);
    for (let s = 0; s < samples; s++) {
      const k = i * samples + s;
      gaussianTerms(buffer.actions[k], output[k], logStd, variance, buffer.oldOutput[k], oldLogStd, oldVariance, terms);
      logRatio[k] = terms.logRatio;
      kl[k] = terms.kl;
    }
  }
  return { logRatio, kl };
}

export async function jointRatioUpdate(
  pool: UpdatePool,
  networks: AgentNetworks,
  head: PolicyHead,
  buffer: RolloutBuffer,
  advantages: Float32Array,
  settings: JointRatioSettings,
): Promise<{ stats: ActorAgentStats[]; metrics: IterationMetrics }> {
  const agents = networks.agents;
  const samples = buffer.steps * buffer.envs;
  const central = new Float64Array(samples);
  for (let i = 0; i < agents; i++) for (let s = 0; s < samples; s++) central[s] += advantages[i * samples + s] / agents;
  const weighted = new Float32Array(agents * samples);
  const low = 1 - settings.clipEpsilon;
  const high = 1 + settings.clipEpsilon;
  let steps = 0;
  let stoppedEarly = false;
  let lastStats: ActorAgentStats[] = [];
  const summarise = () => {
    const { logRatio, kl } = logRatiosAndKl(networks, head, buffer);
    let loss = 0;
    let clipped = 0;
    let jointMin = Infinity;
    let jointMax = -Infinity;
    const joint = new Float64Array(samples);
    for (let s = 0; s < samples; s++) {
      let sum = 0;
      for (let i = 0; i < agents; i++) sum += logRatio[i * samples + s];
      const ratio = Math.exp(sum);
      joint[s] = ratio;
      jointMin = Math.min(jointMin, ratio);
      jointMax = Math.max(jointMax, ratio);
      const unclipped = ratio * central[s];
      const clippedTerm = Math.min(Math.max(ratio, low), high) * central[s];
      loss -= Math.min(unclipped, clippedTerm) / samples;
      if (ratio < low || ratio > high) clipped++;
    }
    const meanKl = Array.from({ length: agents }, (_, i) => kl.subarray(i * samples, (i + 1) * samples).reduce((a, b) => a + b, 0) / samples);
    return { logRatio, joint, meanKl, loss, clipFraction: clipped / samples, jointMin, jointMax };
  };
  let state = summarise();
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let s = 0; s < samples; s++) {
      const ratio = state.joint[s];
      const a = central[s];
      const unclippedActive = ratio * a <= Math.min(Math.max(ratio, low), high) * a;
      const weight = unclippedActive ? a * ratio : 0;
      for (let i = 0; i < agents; i++) weighted[i * samples + s] = weight;
    }
    const current = networks.evaluateActor(buffer.actorInputs, samples);
    const currentLogStd = buffer.oldLogStd ? Float32Array.from({ length: agents }, (_, i) => networks.actor.groups[networks.groupOf(i)].params[networks.actor.layout.extraOffset]) : undefined;
    lastStats = await pool.updateActors(
      networks,
      { samples, observations: buffer.actorInputs, actions: buffer.actions, advantages: weighted, oldOutput: current, oldLogStd: currentLogStd },
      // A plain surrogate step at the current policy: no clipping (the joint clip is in the weights).
      { kind: 'ppo-clip', clipEpsilon: Number.MAX_VALUE, entropyCoefficient: settings.entropyCoefficient },
      { epochs: 1, minibatches: 1, learningRate: settings.learningRate },
    );
    steps++;
    state = summarise();
    const meanKl = state.meanKl.reduce((x, y) => x + y, 0) / agents;
    if (settings.targetKl > 0 && meanKl > 1.5 * settings.targetKl) {
      stoppedEarly = true;
      break;
    }
  }
  const stats = lastStats.map((agentStats, i) => {
    let ratioMin = Infinity;
    let ratioMax = -Infinity;
    let tv = 0;
    for (let s = 0; s < samples; s++) {
      const ratio = Math.exp(state.logRatio[i * samples + s]);
      ratioMin = Math.min(ratioMin, ratio);
      ratioMax = Math.max(ratioMax, ratio);
      tv += (0.5 * Math.abs(ratio - 1)) / samples;
    }
    return { ...agentStats, loss: state.loss, kl: state.meanKl[i], clipFraction: state.clipFraction, ratioMin, ratioMax, totalVariation: tv, gradientSteps: steps, stoppedEarly };
  });
  return { stats, metrics: { 'joint/ratioMin': state.jointMin, 'joint/ratioMax': state.jointMax, 'joint/clipFraction': state.clipFraction, 'joint/epochs': steps } };
}
