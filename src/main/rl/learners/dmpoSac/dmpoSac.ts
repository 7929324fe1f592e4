/**
 * DMPO-SAC: the DMPO paper's learner on CACC (section 6.3; shared/specs/algorithms.md "DMPO on
 * CACC"): decentralised SAC (../dsac/) whose updates train on model data, MBPO style. Per
 * agent an ensemble of MLP models of (s_i', r_i, d_i) given N_i^1's states and actions
 * (ensembleModel.ts); short branches of the current policy in them (modelBranches.ts) fill a
 * model replay; each SAC batch mixes real and model transitions.
 *
 * One iteration:
 * 1. Collect rolloutSteps x numEnvs real steps into the replay, as DSAC (random actions until
 *    learningStarts).
 * 2. Train the models for round(modelUpdatesPerStep x those steps) steps on the older real
 *    transitions; this iteration's are held out and give the model errors (MSE / variance of
 *    s' and r, DMPO's metric names).
 * 3. Once learning started: nTraj branches of modelRolloutLength steps from real states into
 *    the model replay (a FIFO of modelReplaySize transitions).
 * 4. round(updatesPerStep x those steps) SAC updates (../dsac/sacUpdate.ts), each on a batch
 *    of round(realRatio x batchSize) real transitions and the rest from the model replay.
 *
 * Where the authors' code (algorithms/config/CACC_MBPO.py, algorithm.py) differs: it refreshes
 * the model replay every 200 steps with a million one-step branches and trains SAC on model
 * data only (realRatio 0), 20 updates and 10 model steps per environment step; predicts only
 * the next state and computes reward and done from it with the environment's own function
 * (here `modelReward` chooses: 'learned', the default, has the models predict all three, so
 * the reward error is the model's, as the paper's Figure 3 reports; 'environment' is the
 * authors' way, environmentReward.ts).
 */
import type { EnvSpec } from '../../../sim/env.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { addPrefixed, underPrefix } from '../../../sim/snapshot.ts';
import type { LearnerState } from '../../core/checkpoint.ts';
import { episodeSummary, IterationClock, type IterationMetrics, type IterationResult } from '../../core/iteration.ts';
import type { Learner, LearnerSetup } from '../../core/learner.ts';
import { checkpointMisfit, learningRewardOf } from '../../core/rollout.ts';
import { Dsac, updateMetrics } from '../dsac/dsac.ts';
import { ReplayBuffer } from '../dsac/replay.ts';
import type { SacAgents } from '../dsac/sacAgents.ts';
import { sacUpdateOnBatch, type SacUpdateStats } from '../dsac/sacUpdate.ts';
import { EnsembleModels, type ModelErrors } from './ensembleModel.ts';
import { EnvironmentReward } from './environmentReward.ts';
import { branchIntoReplay } from './modelBranches.ts';

/** The models' streams: training batches, branches; seeded apart from DSAC's. */
const MODEL_BATCH_STREAM = 0;
const BRANCH_STREAM = 1;
const MODEL_SEED_OFFSET = 0xd3a0;
/** The authors' gradient-norm clip of the models. */
const MODEL_GRADIENT_CLIP = 5;

export class DmpoSac implements Learner {
  /** DSAC's collection, replay, networks, update stream and batch: DMPO-SAC's base learner. */
  readonly sac: Dsac;
  readonly models: EnsembleModels;
  readonly modelReplay: ReplayBuffer;
  /** The simulator's reward and collision rule on predicted states (modelReward 'environment'), else null. */
  readonly environmentReward: EnvironmentReward | null;
  private readonly config: LearnerSetup<'dmpo-sac'>['config'];
  private readonly modelRng = new RngStreams(2);

  constructor(readonly setup: LearnerSetup<'dmpo-sac'>) {
    const { config, seed } = setup;
    const collected = config.rolloutSteps * config.numEnvs;
    if (config.replaySize <= collected) {
      throw new Error(`learner dmpo-sac: replaySize ${config.replaySize} must exceed rolloutSteps x numEnvs = ${collected}: the models train on older transitions than an iteration's own, held out to validate them`);
    }
    this.config = config;
    this.sac = new Dsac(setup);
    const { spec } = this.sac.envs.env;
    this.environmentReward = config.modelReward === 'environment' ? environmentRewardOf(spec, config) : null;
    const stateOnly = this.environmentReward !== null;
    this.models = new EnsembleModels(spec, { members: config.ensembleSize, learningRate: config.lrModel, rewardCoefficient: config.modelRewardCoef, gradientClipNorm: MODEL_GRADIENT_CLIP, seed: seed + MODEL_SEED_OFFSET, stateOnly });
    this.modelReplay = new ReplayBuffer(config.modelReplaySize, spec.nAgents, spec.obsDim);
    this.modelRng.seed(MODEL_BATCH_STREAM, seed + MODEL_SEED_OFFSET + 1);
    this.modelRng.seed(BRANCH_STREAM, seed + MODEL_SEED_OFFSET + 2);
  }

  get policy(): SacAgents {
    return this.sac.policy;
  }

  get iteration(): number {
    return this.sac.iteration;
  }

  get envSteps(): number {
    return this.sac.envSteps;
  }

  async iterate(): Promise<IterationResult> {
    const clock = new IterationClock();
    const { sac, config } = this;
    const cursor = sac.replay.cursor;
    const returns = sac.collect();
    clock.rolloutDone();
    const collected = config.rolloutSteps * config.numEnvs;
    sac.envSteps += collected;
    // Transitions are decisions (actionRepeat env steps each); the replay is larger than an iteration's, so the cursor's advance counts them.
    const stored = (sac.replay.cursor - cursor + sac.replay.capacity) % sac.replay.capacity;
    const metrics: IterationMetrics = episodeSummary(returns);
    Object.assign(metrics, await this.trainModels(stored, collected));
    const learning = sac.envSteps >= config.learningStarts;
    if (learning) {
      const settings = { branches: config.nTraj, length: config.modelRolloutLength, rng: this.modelRng, stream: BRANCH_STREAM, environmentReward: this.environmentReward };
      metrics['model/branchTransitions'] = branchIntoReplay(this.models, sac.policy, sac.replay, this.modelReplay, settings);
    }
    const updates = learning ? Math.round(config.updatesPerStep * collected) : 0;
    const stats: SacUpdateStats[] = [];
    for (let u = 0; u < updates; u++) {
      this.drawMixedBatch();
      stats.push(await sacUpdateOnBatch(sac.policy, sac.batch, sac.updateSettings, sac.updateRng));
    }
    sac.iteration += 1;
    Object.assign(metrics, { 'sac/updates': updates, 'replay/size': sac.replay.size, 'model/replaySize': this.modelReplay.size }, updateMetrics(stats));
    Object.assign(metrics, clock.metrics(collected));
    return { iteration: sac.iteration, envSteps: sac.envSteps, metrics };
  }

  /**
   * Trains the models (modelUpdatesPerStep per env step of the `envSteps` collected) on the
   * real replay but its newest `heldOut` transitions, then reports their errors on those;
   * nothing before there is older data to train on.
   */
  private async trainModels(heldOut: number, envSteps: number): Promise<IterationMetrics> {
    const { replay } = this.sac;
    const older = replay.size - heldOut;
    if (older <= 0) return {};
    const started = performance.now();
    const steps = Math.round(this.config.modelUpdatesPerStep * envSteps);
    const rng = this.modelRng;
    await this.models.train(replay, steps, this.config.batchSize, (indices) => {
      for (let b = 0; b < indices.length; b++) indices[b] = newestBut(replay, heldOut, Math.min(older - 1, Math.floor(rng.uniform(MODEL_BATCH_STREAM) * older)));
    });
    const fresh = Int32Array.from({ length: heldOut }, (_, k) => (replay.cursor - 1 - k + replay.capacity) % replay.capacity);
    const errors: ModelErrors = this.models.validate(replay, fresh);
    // With the environment's rule the branches' rewards are the rule's on predicted states: that is the reward error to report.
    const ruled = this.environmentReward?.validate(this.models, replay, fresh);
    return {
      'model/stateError': errors.stateError,
      'model/rewardError': ruled === undefined ? errors.rewardError : ruled.rewardError,
      ...(ruled === undefined ? {} : { 'model/rewardFloorError': ruled.floorError }),
      'model/steps': steps,
      'time/modelSeconds': (performance.now() - started) / 1000,
    };
  }

  /**
   * SAC's batch: round(realRatio x batchSize) rows from the real replay, the rest from the model
   * replay (all real while it is empty). Real rows take DSAC's n-step returns; model rows are
   * single model transitions (branches are too short and too noisy to sum along).
   */
  private drawMixedBatch(): void {
    const { batch, replay, updateRng, updateSettings } = this.sac;
    const real = this.modelReplay.size === 0 ? batch.size : Math.round(this.config.realRatio * batch.size);
    if (real > 0) batch.draw(replay, updateRng, updateSettings, 0, real);
    if (real < batch.size) batch.draw(this.modelReplay, updateRng, { gamma: updateSettings.gamma }, real, batch.size);
  }

  state(): LearnerState {
    const state = this.sac.state();
    addPrefixed(state.arrays, 'model.', this.models.arrays());
    addPrefixed(state.arrays, 'modelReplay.', this.modelReplay.snapshot());
    addPrefixed(state.arrays, 'modelRng.', this.modelRng.snapshot());
    Object.assign(state.meta, { modelAdamSteps: this.models.adamSteps(), modelReplaySize: this.modelReplay.size, modelReplayCursor: this.modelReplay.cursor });
    return state;
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== this.setup.learner) throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ${this.setup.learner}`);
    if (!Array.isArray(meta.modelAdamSteps)) throw new Error(checkpointMisfit('modelAdamSteps'));
    this.models.restore(underPrefix(arrays, 'model.'), meta.modelAdamSteps as number[], checkpointMisfit);
    this.modelReplay.restore(underPrefix(arrays, 'modelReplay.'), Number(meta.modelReplaySize), Number(meta.modelReplayCursor), checkpointMisfit);
    this.modelRng.restore(underPrefix(arrays, 'modelRng.'));
    this.sac.restore(state);
  }

  dispose(): void {
    this.sac.dispose();
  }
}

/** The environment's rule for the branches of a CACC scenario with DSAC's held decisions and learning rewards. */
function environmentRewardOf(spec: EnvSpec, config: LearnerSetup<'dmpo-sac'>['config']): EnvironmentReward {
  const { safetyCost } = spec.params;
  if (typeof safetyCost !== 'boolean') throw new Error(`learner dmpo-sac: modelReward 'environment' needs the CACC scenario's safetyCost parameter; ${spec.scenario} has none`);
  return new EnvironmentReward({ agents: spec.nAgents, obsDim: spec.obsDim, actionRepeat: config.actionRepeat, gamma: config.gamma, learningReward: learningRewardOf(config), safetyCost });
}

/** The replay index `k` places before the newest `skip` transitions (0: the newest of the older ones). */
function newestBut(replay: ReplayBuffer, skip: number, k: number): number {
  return (replay.cursor - skip - 1 - k + 2 * replay.capacity) % replay.capacity;
}
