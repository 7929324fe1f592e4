/**
 * DMPO-SAC's local models (DMPO paper on CACC; shared/specs/algorithms.md "DMPO on CACC"):
 * per agent i an ensemble of MLPs, each predicting (s_i' - s_i, r_i, logit d_i) from the
 * states and one-hot actions of N_i^1 (the authors' CACC_MBPO.py gathers both over radius 1).
 * Hidden layers [64, 64, 64] (the spec's [15, 64, 64, 64] on CACC's 3 x 5 states).
 *
 * Training: one step draws `batchSize` real transitions (all members of an agent see the same
 * rows, as the authors' code; the members differ by their initial weights), loss = MSE(s) +
 * rewardCoefficient x MSE(r) + BCE(d), one clipped Adam step per member. The newest
 * transitions are held out of training and validate the models: the state and reward errors
 * MSE / variance that DMPO reports (the paper's Figure 3), over all members.
 *
 * Each network runs on the fast path of nn/fastMlp.ts, one agent's batch tensors shared by its
 * members, as sacUpdate.ts does for the critics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnvSpec } from '../../../sim/env.ts';
import { NeighbourhoodGather } from '../../../sim/graph.ts';
import type { SnapshotArrays, TypedArray } from '../../../sim/snapshot.ts';
import { adamStep, clipGradientNorm, zeroMoments } from '../../nn/adam.ts';
import { NetworkParameters, seedOf } from '../../nn/agentNetworks.ts';
import { createMlpBatch, disposeMlpBatch, mlpForward, mlpGradient, type MlpBatch } from '../../nn/fastMlp.ts';
import { initialParameters, MlpLayout, parameterGroupArrays, restoreParameterGroups } from '../../nn/parameters.ts';
import type { ReplayBuffer } from '../dsac/replay.ts';
import { relativeError } from '../dmpo/gcn.ts';
import { sigmoid } from '../dmpo/gcnLoss.ts';

export interface EnsembleConfig {
  /** Models per agent. Spec: 7. */
  readonly members: number;
  readonly learningRate: number;
  /** Weight of MSE(r) in the loss. */
  readonly rewardCoefficient: number;
  /** Each member's gradient is scaled down to this L2 norm when longer (the authors clip at 5). */
  readonly gradientClipNorm: number;
  /**
   * Train the next state only (the reward and done outputs get no gradient), as the authors'
   * models, when the rewards and dones come from the environment's rule (environmentReward.ts).
   * Absent: false.
   */
  readonly stateOnly?: boolean;
  readonly seed: number;
}

/** Hidden layers of every member. */
const MODEL_HIDDEN_SIZES = [64, 64, 64] as const;

/** A validation's errors; the relative ones are DMPO's metrics. */
export interface ModelErrors {
  readonly stateMse: number;
  readonly rewardMse: number;
  /** MSE(s) / Var(s), Var averaged over the state features. */
  readonly stateError: number;
  /** MSE(r) / Var(r). */
  readonly rewardError: number;
}

export class EnsembleModels {
  readonly agents: number;
  readonly members: number;
  readonly obsDim: number;
  readonly actionCount: number;
  readonly gather: NeighbourhoodGather;
  /** Group i * members + k: member k of agent i. */
  readonly network: NetworkParameters;
  /** Per-row features [obs, one-hot action] of every agent, gathered into model inputs. */
  private features = new Float32Array(0);
  private readonly gradient: Float32Array;

  constructor(
    spec: Pick<EnvSpec, 'nAgents' | 'obsDim' | 'action' | 'graph' | 'scenario'>,
    readonly config: EnsembleConfig,
  ) {
    if (spec.action.kind !== 'discrete') throw new Error(`scenario ${spec.scenario} has continuous actions; DMPO-SAC's models take discrete ones (CACC)`);
    if (!Number.isInteger(config.members) || config.members < 1) throw new Error(`ensemble size must be a positive integer, got ${config.members}`);
    this.agents = spec.nAgents;
    this.members = config.members;
    this.obsDim = spec.obsDim;
    this.actionCount = spec.action.n;
    this.gather = new NeighbourhoodGather(spec.graph, 1);
    const layout = new MlpLayout({ inputSize: this.gather.width * (this.obsDim + this.actionCount), hiddenSizes: MODEL_HIDDEN_SIZES, outputSize: this.obsDim + 2, extraSize: 0 });
    const groups = Array.from({ length: this.agents * this.members }, (_, g) => ({ params: initialParameters(layout, seedOf(config.seed, g)), moments: zeroMoments(layout.size) }));
    this.network = new NetworkParameters(layout, groups, 1);
    this.gradient = new Float32Array(layout.size);
  }

  get inputSize(): number {
    return this.network.layout.shape.inputSize;
  }

  /** Model inputs [n, rows, inputSize] of states [rows, n, obsDim] and actions [rows, n]. */
  inputs(obs: ArrayLike<number>, actions: ArrayLike<number>, rows: number, out: Float32Array): void {
    const { agents, obsDim, actionCount } = this;
    const width = obsDim + actionCount;
    if (this.features.length !== rows * agents * width) this.features = new Float32Array(rows * agents * width);
    const features = this.features;
    features.fill(0);
    for (let r = 0; r < rows * agents; r++) {
      for (let d = 0; d < obsDim; d++) features[r * width + d] = obs[r * obsDim + d];
      features[r * width + obsDim + actions[r]] = 1;
    }
    this.gather.gatherAgentMajor(features, width, rows, out, rows, 0);
  }

  /** Member k of agent i on its rows of `inputs` ([n, rows, inputSize]): [rows, obsDim + 2] (state change, reward, done logit). */
  predict(agent: number, member: number, inputs: Float32Array, rows: number): Float32Array {
    const size = this.inputSize;
    return forwardRows(this.network.layout, this.network.groups[agent * this.members + member].params, inputs.subarray(agent * rows * size, (agent + 1) * rows * size), rows, size);
  }

  /** `steps` training steps on batches of `batchSize` of replay[indices drawn by `draw`]. */
  async train(replay: ReplayBuffer, steps: number, batchSize: number, draw: (indices: Int32Array) => void): Promise<void> {
    const data = new TransitionRows(this, batchSize);
    for (let step = 0; step < steps; step++) {
      draw(data.indices);
      data.fill(replay);
      await this.step(data);
    }
  }

  /** The members' mean errors on replay[indices] (no training). */
  validate(replay: ReplayBuffer, indices: Int32Array): ModelErrors {
    const data = new TransitionRows(this, indices.length);
    data.indices.set(indices);
    data.fill(replay);
    const sums = new LossSums(data);
    for (let i = 0; i < this.agents; i++) {
      for (let k = 0; k < this.members; k++) sums.add(i, this.predict(i, k, data.inputs, data.rows), null);
    }
    return sums.errors(this.agents * this.members);
  }

  /** One clipped Adam step of every member on `data`. */
  private async step(data: TransitionRows): Promise<void> {
    const { layout } = this.network;
    const sums = new LossSums(data);
    for (let i = 0; i < this.agents; i++) {
      const batch: MlpBatch = createMlpBatch(data.inputs.subarray(i * data.rows * this.inputSize, (i + 1) * data.rows * this.inputSize), data.rows, this.inputSize);
      try {
        for (let k = 0; k < this.members; k++) {
          const group = this.network.groups[i * this.members + k];
          await mlpGradient(layout, group.params, batch, (output) => sums.add(i, output, new Float32Array(output.length)), this.gradient);
          clipGradientNorm(this.gradient, this.config.gradientClipNorm);
          adamStep(group.params, this.gradient, group.moments, { learningRate: this.config.learningRate });
        }
      } finally {
        disposeMlpBatch(batch);
      }
    }
  }

  /** Live views of every member's weights and Adam moments, for a checkpoint. */
  arrays(): Record<string, TypedArray> {
    return parameterGroupArrays(this.network.groups);
  }

  adamSteps(): number[] {
    return this.network.groups.map((group) => group.moments.step);
  }

  restore(arrays: SnapshotArrays, adamSteps: readonly number[], misfit: (name: string) => string): void {
    if (adamSteps.length !== this.network.groups.length) throw new Error(misfit(`model Adam steps (${adamSteps.length} for ${this.network.groups.length} models)`));
    restoreParameterGroups(this.network.groups, arrays, adamSteps, misfit);
    this.network.markChanged();
  }

  nonFiniteParameter(): string | null {
    const at = this.network.groups.findIndex((group) => !group.params.every(Number.isFinite));
    return at < 0 ? null : `model ${at % this.members} of agent ${Math.floor(at / this.members)} has non-finite weights`;
  }
}

/** Replay rows gathered for the models: inputs, and the targets (state change, reward, terminated) per agent. */
class TransitionRows {
  readonly indices: Int32Array;
  /** [n, rows, inputSize]. */
  readonly inputs: Float32Array;
  /** [rows, n, obsDim] s' and s' - s; [rows, n] rewards; [rows] terminated. */
  readonly nextObs: Float32Array;
  readonly deltas: Float32Array;
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  private readonly obs: Float32Array;
  private readonly actions: Uint8Array;

  constructor(
    readonly models: EnsembleModels,
    readonly rows: number,
  ) {
    const { agents, obsDim } = models;
    this.indices = new Int32Array(rows);
    this.inputs = new Float32Array(agents * rows * models.inputSize);
    this.nextObs = new Float32Array(rows * agents * obsDim);
    this.deltas = new Float32Array(rows * agents * obsDim);
    this.rewards = new Float32Array(rows * agents);
    this.terminated = new Uint8Array(rows);
    this.obs = new Float32Array(rows * agents * obsDim);
    this.actions = new Uint8Array(rows * agents);
  }

  fill(replay: ReplayBuffer): void {
    const { agents } = this.models;
    const width = agents * this.models.obsDim;
    this.indices.forEach((index, r) => {
      this.obs.set(replay.obs.subarray(index * width, (index + 1) * width), r * width);
      this.nextObs.set(replay.nextObs.subarray(index * width, (index + 1) * width), r * width);
      for (let k = 0; k < width; k++) this.deltas[r * width + k] = replay.nextObs[index * width + k] - replay.obs[index * width + k];
      this.actions.set(replay.actions.subarray(index * agents, (index + 1) * agents), r * agents);
      this.rewards.set(replay.rewards.subarray(index * agents, (index + 1) * agents), r * agents);
      this.terminated[r] = replay.terminated[index];
    });
    this.models.inputs(this.obs, this.actions, this.rows, this.inputs);
  }
}

/** Sums of the loss terms over predictions on one TransitionRows, and their gradients. */
class LossSums {
  private stateSse = 0;
  private rewardSse = 0;

  constructor(private readonly data: TransitionRows) {}

  /**
   * Adds agent i's predictions [rows, obsDim + 2]; when `gradient` is given, writes
   * dLoss/dOutput of MSE(s) + c MSE(r) + BCE(d) (means over rows and features) into it.
   */
  add(agent: number, output: Float32Array, gradient: Float32Array | null): Float32Array {
    const { rows, deltas, rewards, terminated } = this.data;
    const { obsDim, agents, config } = this.data.models;
    const width = obsDim + 2;
    for (let r = 0; r < rows; r++) {
      const target = (r * agents + agent) * obsDim;
      for (let d = 0; d < obsDim; d++) {
        const error = output[r * width + d] - deltas[target + d];
        this.stateSse += error * error;
        if (gradient) gradient[r * width + d] = (2 * error) / (rows * obsDim);
      }
      const rewardError = output[r * width + obsDim] - rewards[r * agents + agent];
      this.rewardSse += rewardError * rewardError;
      if (gradient && config.stateOnly === true) {
        gradient[r * width + obsDim] = 0;
        gradient[r * width + obsDim + 1] = 0;
      } else if (gradient) {
        gradient[r * width + obsDim] = (2 * config.rewardCoefficient * rewardError) / rows;
        // d BCE(sigmoid(z), y) / dz = sigmoid(z) - y
        gradient[r * width + obsDim + 1] = (sigmoid(output[r * width + obsDim + 1]) - terminated[r]) / rows;
      }
    }
    return gradient ?? output;
  }

  /** Mean errors over `models` predictions of every row, relative to the targets' variances. */
  errors(models: number): ModelErrors {
    const { rows, nextObs, rewards } = this.data;
    const { obsDim, agents } = this.data.models;
    const stateMse = this.stateSse / (models / agents) / (rows * agents * obsDim);
    const rewardMse = this.rewardSse / (models / agents) / (rows * agents);
    // MSE(s') equals MSE(s' - s); relative to Var(s') as DMPO's models report.
    return { stateMse, rewardMse, stateError: relativeError(stateMse, featureVariance(nextObs, obsDim)), rewardError: relativeError(rewardMse, featureVariance(rewards, 1)) };
  }
}

/** Variance of each of `features` interleaved features, averaged over them. */
export function featureVariance(values: Float32Array, features: number): number {
  const count = values.length / features;
  let total = 0;
  for (let f = 0; f < features; f++) {
    let sum = 0;
    let squares = 0;
    for (let k = f; k < values.length; k += features) {
      sum += values[k];
      squares += values[k] * values[k];
    }
    total += Math.max(0, squares / count - (sum / count) ** 2);
  }
  return total / features;
}

/** One network's output on `rows` rows of `inputs` ([rows, inputSize]). */
function forwardRows(layout: MlpLayout, params: Float32Array, inputs: Float32Array, rows: number, inputSize: number): Float32Array {
  const tensor = tf.tensor3d(inputs, [1, rows, inputSize]);
  try {
    return mlpForward(layout, params, tensor);
  } finally {
    tensor.dispose();
  }
}
