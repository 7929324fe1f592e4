/**
 * Branched model rollouts (Janner et al.'s MBPO, as the DMPO paper uses them): start from
 * states drawn uniformly from the real replay, act with the current stochastic policy, step
 * every agent's state with one member of its ensemble drawn at random per agent and step (the
 * authors' MBPO.roll), and store each synthetic transition in the model replay. A branch ends
 * after `length` steps or when a predicted done ends it for all agents, as a collision ends a
 * CACC episode: one draw per row from Bernoulli(mean over agents of sigmoid(logit)). Why one
 * draw of the mean: every agent's model estimates the same platoon-wide event, and their mean
 * is calibrated on the real replay, where independent draws per agent ended rows at 3.6 times
 * the real rate and the largest probability at 2.5 times (a false end stops the bootstrap of
 * a negative return; docs/dmpo-sac.md). With an EnvironmentReward the rewards and the done
 * probability come instead from the simulator's rule on the predicted states
 * (environmentReward.ts), and the models' reward and done outputs are not read.
 *
 * Branches run in chunks of CHUNK_ROWS so that the reference preset's million branches per
 * iteration need only chunk-sized scratch arrays.
 */
import type { RngStreams } from '../../../sim/rng.ts';
import { sampleCategorical } from '../../core/distributions.ts';
import { evaluateGroups } from '../../nn/agentNetworks.ts';
import { sigmoid } from '../dmpo/gcnLoss.ts';
import type { ReplayBuffer } from '../dsac/replay.ts';
import type { SacAgents } from '../dsac/sacAgents.ts';
import type { EnsembleModels } from './ensembleModel.ts';
import type { EnvironmentReward } from './environmentReward.ts';

const CHUNK_ROWS = 2048;

export interface BranchSettings {
  /** Branches started. */
  readonly branches: number;
  /** Steps per branch. */
  readonly length: number;
  /** Draws start states, actions, members and dones. */
  readonly rng: RngStreams;
  readonly stream: number;
  /** Rewards and dones from the simulator's rule on the predicted state; null: the models' own outputs. */
  readonly environmentReward: EnvironmentReward | null;
}

/** Scratch arrays of one chunk of branches. */
class BranchChunk {
  readonly indices: Int32Array;
  /** [rows, n, obsDim]. */
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  /** [rows, n]. */
  readonly actions: Uint8Array;
  readonly rewards: Float32Array;
  /** [rows]. */
  readonly terminated: Uint8Array;
  readonly doneProbability: Float32Array;
  readonly actorInputs: Float32Array;
  readonly modelInputs: Float32Array;

  constructor(models: EnsembleModels, policy: SacAgents, rows: number) {
    const values = rows * models.agents;
    this.indices = new Int32Array(rows);
    this.obs = new Float32Array(values * models.obsDim);
    this.nextObs = new Float32Array(values * models.obsDim);
    this.actions = new Uint8Array(values);
    this.rewards = new Float32Array(values);
    this.terminated = new Uint8Array(rows);
    this.doneProbability = new Float32Array(rows);
    this.actorInputs = new Float32Array(values * policy.actorInputSize);
    this.modelInputs = new Float32Array(values * models.inputSize);
  }
}

/** Runs settings.branches branches into `into`; returns the transitions stored. */
export function branchIntoReplay(models: EnsembleModels, policy: SacAgents, real: ReplayBuffer, into: ReplayBuffer, settings: BranchSettings): number {
  const { rng, stream } = settings;
  const chunk = new BranchChunk(models, policy, Math.min(CHUNK_ROWS, settings.branches));
  const width = models.agents * models.obsDim;
  let stored = 0;
  for (let started = 0; started < settings.branches; started += chunk.indices.length) {
    let rows = Math.min(chunk.indices.length, settings.branches - started);
    const starts = chunk.indices.subarray(0, rows);
    for (let r = 0; r < rows; r++) starts[r] = Math.min(real.size - 1, Math.floor(rng.uniform(stream) * real.size));
    starts.forEach((index, r) => chunk.obs.set(real.obs.subarray(index * width, (index + 1) * width), r * width));
    for (let t = 0; t < settings.length && rows > 0; t++) {
      modelStep(models, policy, chunk, rows, settings);
      into.addStep(chunk.obs, chunk.actions, chunk.rewards, chunk.terminated, chunk.nextObs, rows);
      stored += rows;
      rows = continuing(chunk, rows, width);
    }
  }
  return stored;
}

/** One step of `rows` branches: the policy's sampled actions, then each agent's drawn member's prediction. */
function modelStep(models: EnsembleModels, policy: SacAgents, chunk: BranchChunk, rows: number, settings: BranchSettings): void {
  const { rng, stream, environmentReward } = settings;
  const { agents, obsDim, members } = models;
  const width = policy.actionCount;
  const actorInputs = chunk.actorInputs.subarray(0, agents * rows * policy.actorInputSize);
  policy.actorInputs(chunk.obs, rows, actorInputs);
  const logits = evaluateGroups(policy.actor, actorInputs, rows, agents);
  for (let i = 0; i < agents; i++) {
    for (let r = 0; r < rows; r++) chunk.actions[r * agents + i] = sampleCategorical(logits, (i * rows + r) * width, width, rng.uniform(stream));
  }
  const modelInputs = chunk.modelInputs.subarray(0, agents * rows * models.inputSize);
  models.inputs(chunk.obs, chunk.actions, rows, modelInputs);
  chunk.doneProbability.fill(0, 0, rows);
  const out = obsDim + 2;
  for (let i = 0; i < agents; i++) {
    const member = Math.min(members - 1, Math.floor(rng.uniform(stream) * members));
    const prediction = models.predict(i, member, modelInputs, rows);
    for (let r = 0; r < rows; r++) {
      const at = (r * agents + i) * obsDim;
      for (let d = 0; d < obsDim; d++) chunk.nextObs[at + d] = chunk.obs[at + d] + prediction[r * out + d];
      chunk.rewards[r * agents + i] = prediction[r * out + obsDim];
      chunk.doneProbability[r] += sigmoid(prediction[r * out + obsDim + 1]) / agents;
    }
  }
  if (environmentReward !== null) environmentReward.score(chunk.obs, chunk.nextObs, rows, chunk.rewards, chunk.doneProbability);
  for (let r = 0; r < rows; r++) chunk.terminated[r] = rng.uniform(stream) < chunk.doneProbability[r] ? 1 : 0;
}

/** Moves the rows that did not end to the front as the next step's states; returns how many. */
function continuing(chunk: BranchChunk, rows: number, width: number): number {
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    if (chunk.terminated[r] === 1) continue;
    chunk.obs.set(chunk.nextObs.subarray(r * width, (r + 1) * width), kept * width);
    kept++;
  }
  return kept;
}
