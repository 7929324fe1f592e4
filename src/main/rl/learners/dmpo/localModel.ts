/**
 * DMPO's local models (seed paper "Fully Decentralized Model-based Policy Optimization with
 * Networked Agents", shared/specs/algorithms.md): one graph-convolutional model per agent
 * (gcn.ts), trained on a FIFO of real episodes by open-loop rollouts over short windows, and
 * the branched rollouts a learner trains its policy on (branchedRollout.ts).
 *
 * Training (per step): sample `windowsPerBatch` windows of `windowSteps` consecutive real
 * transitions, roll all agents' models together from the windows' start states on the real
 * actions (each step's predicted states are the next step's inputs, the agent's own and its
 * neighbours' alike: the models form one networked system, as the agents would when they
 * broadcast their predictions), loss = MSE(s) + rewardCoefficient * MSE(r) + BCE(d), one Adam
 * step per agent on its own weights. Every `validateEvery` steps the models are validated on
 * fresh windows; training stops once MSE(s)/Var(s) < modelErrorThreshold.
 *
 * The loss and gradients come from one of two formulations (nn/formulation.ts) of the same
 * model: per-agent (gcn.ts, fused 2-D kernels: wasm, cpu) or batched (gcnBatched.ts, one
 * batched op per layer for all agents: GPU backends); both give the same numbers.
 */
import type { EnvSpec } from '../../../sim/env.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { addPrefixed, underPrefix, type SnapshotArrays, type TypedArray } from '../../../sim/snapshot.ts';
import { adamStep, clipGradientNorm, zeroMoments } from '../../nn/adam.ts';
import type { UpdateFormulation } from '../../nn/formulation.ts';
import { parameterGroupArrays, restoreParameterGroups, type ParameterGroup } from '../../nn/parameters.ts';
import { branchedRollout, type BranchedRolloutOptions, type ModelPolicy, type ModelRollout } from './branchedRollout.ts';
import { EpisodeFifo, type RealEpisode } from './episodes.ts';
import { NetworkedGcn, relativeError, type WindowBatch, type WindowErrors } from './gcn.ts';
import { BatchedGcn } from './gcnBatched.ts';
import { SPEC_ARCHITECTURE, type GcnArchitecture, type ModelSystem, type ParameterSegment } from './gcnLayout.ts';

export interface LocalModelConfig {
  /** Adam learning rate of the models, their own (the reference code reused the actor's). Reference table: 2e-4 cacc-catchup, 5e-4 elsewhere. */
  readonly learningRate: number;
  /** Weight of MSE(r) in the loss. Reference table: 10, figure-eight 1. */
  readonly rewardCoefficient: number;
  /** Training stops once the validation MSE(s)/Var(s) falls below this. Reference table: 5e-4 cacc-catchup, 2e-4 elsewhere. */
  readonly modelErrorThreshold: number;
  /** Real episodes kept for training (FIFO). Spec: 15. */
  readonly bufferEpisodes: number;
  /** Consecutive transitions of a training window, rolled open-loop. Spec: 4. */
  readonly windowSteps: number;
  /** Windows per training step (the reference's model_batch_size). Reference: 256. */
  readonly windowsPerBatch: number;
  /**
   * Windows per validation. Fixed apart from the training batch, so a small training batch
   * does not make the reported (and stopping) error a noisy draw. Reference batch size: 256.
   */
  readonly validationWindows: number;
  /** Training steps between validations. Spec: 10. */
  readonly validateEvery: number;
  /** Most training steps of a train() call. Spec: 2000. */
  readonly maxSteps: number;
  /** Most training steps of the first train() call: the long fit after the warm-up episodes. Spec: 20000. */
  readonly warmupMaxSteps: number;
  /** Each agent's gradient is scaled down to this L2 norm when longer (the reference clips at 5); Infinity disables. */
  readonly gradientClipNorm: number;
  /** nTraj: branched rollouts run side by side. Reference table: 2048 (1024 cacc-slowdown). */
  readonly rolloutTrajectories: number;
  /** T: steps of a branched rollout. Spec: 25. */
  readonly rolloutSteps: number;
  /** Layer sizes; the spec's by default. */
  readonly architecture: GcnArchitecture;
  /** Seeds the initial weights, the window sampling and the rollouts' start states and done draws. */
  readonly seed: number;
}

/** Defaults: the spec's values and the reference table's most common column (ring). */
const DEFAULT_LOCAL_MODEL_CONFIG: LocalModelConfig = {
  learningRate: 5e-4,
  rewardCoefficient: 10,
  modelErrorThreshold: 2e-4,
  bufferEpisodes: 15,
  windowSteps: 4,
  windowsPerBatch: 256,
  validationWindows: 256,
  validateEvery: 10,
  maxSteps: 2000,
  warmupMaxSteps: 20_000,
  gradientClipNorm: 5,
  rolloutTrajectories: 2048,
  rolloutSteps: 25,
  architecture: SPEC_ARCHITECTURE,
  seed: 0,
};

/** The models' errors on validation windows, with the relative errors DMPO reports (paper Figure 3). */
export interface ModelValidation extends WindowErrors {
  /** MSE(s) / Var(s): the stopping criterion. */
  readonly stateError: number;
  /** MSE(r) / Var(r). */
  readonly rewardError: number;
}

export interface ModelTrainingReport extends ModelValidation {
  /** Training steps taken. */
  readonly steps: number;
  /** Whether the state error reached modelErrorThreshold (training stopped early). */
  readonly converged: boolean;
  readonly seconds: number;
}

/** The agents the models are of, with the observation fields that wrap from 1 to 0 (EnvSpec.wrappedObs; none when absent). */
export interface LocalModelSystem extends ModelSystem {
  readonly wrappedObs?: readonly number[];
}

/** RNG streams: window sampling and rollouts draw from separate streams. */
const WINDOW_STREAM = 0;
const ROLLOUT_STREAM = 1;

/** Everything the models' training depends on, as a checkpoint part. */
export interface ModelSnapshot {
  meta: { trainCalls: number; adamSteps: number[]; episodeLengths: number[] };
  arrays: Record<string, TypedArray>;
}

export class LocalModels {
  readonly config: LocalModelConfig;
  readonly gcn: NetworkedGcn;
  readonly episodes: EpisodeFifo;
  private readonly groups: ParameterGroup[];
  private readonly rng = new RngStreams(2);
  /** The batched formulation of `gcn`'s fit; null when fitting per agent. */
  private readonly batched: BatchedGcn | null;
  /** Observation fields that wrap from 1 to 0: unwrapped in training targets, wrapped in rollouts (wrappedObservations.ts). */
  private readonly wrappedObs: readonly number[];
  private trainCalls = 0;

  /** `formulation`: how the fit computes (formulationFor the backend the models train on; per-agent by default). */
  constructor(system: LocalModelSystem, config: Partial<LocalModelConfig> = {}, formulation: UpdateFormulation = 'per-agent') {
    this.config = validated({ ...DEFAULT_LOCAL_MODEL_CONFIG, ...config });
    this.gcn = new NetworkedGcn(system, this.config.architecture);
    this.batched = formulation === 'batched' ? new BatchedGcn(this.gcn) : null;
    this.wrappedObs = validatedWrappedObs(system.wrappedObs ?? [], system.obsDim);
    this.episodes = new EpisodeFifo(this.config.bufferEpisodes, this.gcn.agents, this.gcn.obsDim, this.wrappedObs);
    this.groups = this.gcn.initialParameters(this.config.seed).map((params) => ({ params, moments: zeroMoments(params.length) }));
    this.rng.seed(WINDOW_STREAM, this.config.seed);
    this.rng.seed(ROLLOUT_STREAM, this.config.seed + 1);
  }

  /** The models of an environment's agents. */
  static forEnv(spec: Pick<EnvSpec, 'graph' | 'obsDim' | 'action' | 'wrappedObs'>, config: Partial<LocalModelConfig> = {}, formulation: UpdateFormulation = 'per-agent'): LocalModels {
    return new LocalModels({ graph: spec.graph, obsDim: spec.obsDim, action: spec.action, wrappedObs: spec.wrappedObs }, config, formulation);
  }

  /** The formulation the fit computes in. */
  get formulation(): UpdateFormulation {
    return this.batched === null ? 'per-agent' : 'batched';
  }

  /** Each agent's flat parameter vector (live: changes with training). */
  get parameters(): readonly Float32Array[] {
    return this.groups.map((group) => group.params);
  }

  /**
   * Everything training depends on (weights, Adam state, random streams, call count, the
   * episode FIFO), so a checkpoint resumes the models exactly.
   */
  snapshot(): ModelSnapshot {
    const arrays: Record<string, TypedArray> = parameterGroupArrays(this.groups);
    addPrefixed(arrays, 'rng.', this.rng.snapshot());
    this.episodes.all.forEach((episode, k) => {
      arrays[`episode.${k}.observations`] = episode.observations;
      arrays[`episode.${k}.actions`] = episode.actions;
      arrays[`episode.${k}.rewards`] = episode.rewards;
      arrays[`episode.${k}.terminals`] = episode.terminals;
    });
    return {
      meta: { trainCalls: this.trainCalls, adamSteps: this.groups.map((g) => g.moments.step), episodeLengths: this.episodes.all.map((e) => e.length) },
      arrays,
    };
  }

  restoreSnapshot(snapshot: { meta: ModelSnapshot['meta']; arrays: SnapshotArrays }): void {
    restoreParameterGroups(this.groups, snapshot.arrays, snapshot.meta.adamSteps, (name) => `model checkpoint entry ${name} does not fit these models`);
    this.rng.restore(underPrefix(snapshot.arrays, 'rng.'));
    this.trainCalls = snapshot.meta.trainCalls;
    this.episodes.clear();
    snapshot.meta.episodeLengths.forEach((length, k) =>
      this.episodes.add({
        length,
        observations: Float32Array.from(snapshot.arrays[`episode.${k}.observations`]),
        actions: Float32Array.from(snapshot.arrays[`episode.${k}.actions`]),
        rewards: Float32Array.from(snapshot.arrays[`episode.${k}.rewards`]),
        terminals: Uint8Array.from(snapshot.arrays[`episode.${k}.terminals`]),
      }),
    );
  }

  /** The named segments of an agent's parameter vector. */
  segments(agent: number): ParameterSegment[] {
    return this.gcn.segments(agent);
  }

  /** Stores a real episode (the oldest beyond bufferEpisodes is dropped). */
  addEpisode(episode: RealEpisode): void {
    this.episodes.add(episode);
  }

  /**
   * Trains until the validation state error falls below modelErrorThreshold or `maxSteps`
   * steps are done (default: warmupMaxSteps on the first call, maxSteps after), then reports
   * the models' errors on validation windows.
   */
  async train(maxSteps: number = this.trainCalls === 0 ? this.config.warmupMaxSteps : this.config.maxSteps): Promise<ModelTrainingReport> {
    if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new Error(`maxSteps must be a non-negative integer, got ${maxSteps}`);
    const started = performance.now();
    this.trainCalls += 1;
    const { learningRate, gradientClipNorm, validateEvery, modelErrorThreshold, rewardCoefficient } = this.config;
    let validation: ModelValidation | null = null;
    let steps = 0;
    while (steps < maxSteps) {
      const batch = this.sampleTrainingWindows();
      const { gradients } = this.batched === null ? this.gcn.lossAndGradients(this.parameters, batch, rewardCoefficient) : await this.batched.lossAndGradients(this.parameters, batch, rewardCoefficient);
      this.groups.forEach((group, i) => {
        clipGradientNorm(gradients[i], gradientClipNorm);
        adamStep(group.params, gradients[i], group.moments, { learningRate });
      });
      steps += 1;
      validation = steps % validateEvery === 0 ? await this.validate() : null;
      if (validation !== null && validation.stateError < modelErrorThreshold) break;
    }
    validation ??= await this.validate();
    return { ...validation, steps, converged: validation.stateError < modelErrorThreshold, seconds: (performance.now() - started) / 1000 };
  }

  /** The models' errors on fresh windows from the FIFO. */
  async validate(): Promise<ModelValidation> {
    const windows = this.episodes.sampleWindows(this.config.validationWindows, this.config.windowSteps, this.rng, WINDOW_STREAM);
    const { rewardCoefficient } = this.config;
    const errors = this.batched === null ? this.gcn.evaluate(this.parameters, windows, rewardCoefficient) : await this.batched.evaluate(this.parameters, windows, rewardCoefficient);
    return { ...errors, stateError: relativeError(errors.stateMse, errors.stateVariance), rewardError: relativeError(errors.rewardMse, errors.rewardVariance) };
  }

  /**
   * Synthetic transitions from the latest real episode's states under `policy` (see
   * branchedRollout.ts); defaults rolloutTrajectories x rolloutSteps.
   */
  branchedRollout(policy: ModelPolicy, options: Partial<Omit<BranchedRolloutOptions, 'wrappedObs'>> = {}): ModelRollout {
    const latest = this.episodes.latest;
    if (latest === undefined) throw new Error('branched rollouts start from real states: add an episode first');
    const resolved = { trajectories: options.trajectories ?? this.config.rolloutTrajectories, steps: options.steps ?? this.config.rolloutSteps, wrappedObs: this.wrappedObs };
    return branchedRollout(this.gcn, this.parameters, latest, policy, resolved, this.rng, ROLLOUT_STREAM);
  }

  private sampleTrainingWindows(): WindowBatch {
    return this.episodes.sampleWindows(this.config.windowsPerBatch, this.config.windowSteps, this.rng, WINDOW_STREAM);
  }
}

/** The wrapped observation fields, checked against obsDim. */
function validatedWrappedObs(wrappedObs: readonly number[], obsDim: number): readonly number[] {
  for (const field of wrappedObs) {
    if (!Number.isInteger(field) || field < 0 || field >= obsDim) throw new Error(`local models: wrapped observation field ${field} is not a field of the ${obsDim}-value observation`);
  }
  return wrappedObs;
}

function validated(config: LocalModelConfig): LocalModelConfig {
  const positive = (name: keyof LocalModelConfig, integer: boolean): void => {
    const value = config[name] as number;
    if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`local model config: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  };
  positive('learningRate', false);
  positive('gradientClipNorm', false);
  for (const name of ['bufferEpisodes', 'windowSteps', 'windowsPerBatch', 'validationWindows', 'validateEvery', 'rolloutTrajectories', 'rolloutSteps'] as const) positive(name, true);
  for (const name of ['maxSteps', 'warmupMaxSteps'] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 0) throw new Error(`local model config: ${name} must be a non-negative integer, got ${config[name]}`);
  }
  if (!(config.rewardCoefficient >= 0)) throw new Error(`local model config: rewardCoefficient must be >= 0, got ${config.rewardCoefficient}`);
  if (!(config.modelErrorThreshold >= 0)) throw new Error(`local model config: modelErrorThreshold must be >= 0, got ${config.modelErrorThreshold}`);
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) throw new Error(`local model config: seed must be a non-negative integer, got ${config.seed}`);
  return config;
}
