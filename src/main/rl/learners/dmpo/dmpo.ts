/**
 * DMPO ("Fully Decentralized Model-based Policy Optimization with Networked Agents"): DPPO
 * plus, per agent, a graph-convolutional local model of its next state, reward and done
 * (localModel.ts, gcn.ts), trained on a FIFO of real episodes, and branched model rollouts
 * to train on (branchedRollout.ts, modelRollout.ts).
 *
 * One iteration:
 * 1. Collect a real rollout with the current policy (as DPPO); finished real episodes enter
 *    the models' FIFO.
 * 2. Once `modelWarmupEpisodes` real episodes are in, train the models until the validation
 *    state error MSE(s)/Var(s) < modelErrorThreshold (at most modelStepsWarmup steps the first
 *    time, modelSteps after) and report state and reward errors.
 * 3. Up to `innerIterations` DPPO updates: each trains on a fresh branched model rollout
 *    (nTraj starts from the latest real episode, modelRolloutLength steps under the current
 *    policy) with probability modelUsage, else on the real rollout; the loop stops early
 *    once an update's mean KL exceeds 1.5 targetKl.
 *
 * Choices where the paper and specs are silent:
 * - Each inner update on the real rollout takes the current policy as its "old" policy (its
 *   head outputs are recomputed), so every inner update is its own trust-region step; the
 *   reference code instead reused the previous model batch (a bug the spec says not to copy).
 * - Model rollouts are truncated, not terminated, at their last step: V bootstraps there.
 * - Model rewards are learning rewards (the models learn the scaled reward the policy sees).
 */
import { RngStreams } from '../../../sim/rng.ts';
import { addPrefixed, underPrefix } from '../../../sim/snapshot.ts';
import type { LearnerState } from '../../core/checkpoint.ts';
import { episodeSummary, type IterationMetrics } from '../../core/iteration.ts';
import type { LearnerProgram, LearnerSetup, OnPolicyRun } from '../../core/learner.ts';
import { RolloutBuffer } from '../../core/rollout.ts';
import { activeBackend } from '../../nn/backend.ts';
import { formulationFor } from '../../nn/formulation.ts';
import type { UpdatePool } from '../../parallel/updatePool.ts';
import { PpoFamily } from '../ppo.ts';
import { RealEpisodeRecorder } from './episodes.ts';
import { LocalModels, type ModelSnapshot, type ModelTrainingReport } from './localModel.ts';
import { fillModelRollout } from './modelRollout.ts';

export class Dmpo implements LearnerProgram {
  readonly models: LocalModels;
  /** The policy update on a rollout, real or model: DPPO's. */
  private readonly dppo: PpoFamily;
  private readonly recorder: RealEpisodeRecorder;
  /** Draws, per inner iteration, whether it trains on model data. */
  private readonly innerRng = new RngStreams(1);
  /** Allocated at the first model update (nTraj x modelRolloutLength can be large). */
  private modelRollout: RolloutBuffer | null = null;

  constructor(
    private readonly setup: LearnerSetup<'dmpo'>,
    private readonly run: OnPolicyRun,
    pool: UpdatePool,
  ) {
    const { config, seed } = setup;
    const { spec } = run.policy;
    this.dppo = new PpoFamily(setup, run, pool);
    // The models fit on this thread, in the formulation of the backend it runs on (on webgpu
    // that is the synchronous acting backend: the device belongs to the update worker).
    const here = activeBackend();
    this.models = LocalModels.forEnv(spec, {
      learningRate: config.lrModel,
      rewardCoefficient: config.modelRewardCoef,
      modelErrorThreshold: config.modelErrorThreshold,
      bufferEpisodes: config.modelBufferEpisodes,
      windowsPerBatch: config.modelBatchWindows,
      maxSteps: config.modelSteps,
      warmupMaxSteps: config.modelStepsWarmup,
      rolloutTrajectories: config.nTraj,
      rolloutSteps: config.modelRolloutLength,
      seed: seed + 17,
    }, here === null ? 'per-agent' : formulationFor(here));
    this.recorder = new RealEpisodeRecorder(config.numEnvs, spec.nAgents, spec.obsDim, spec.horizon, run.learningReward);
    this.innerRng.seed(0, seed + 29);
  }

  async iterate(): Promise<IterationMetrics> {
    const { config } = this.setup;
    const episodes = this.run.collect(this.recorder);
    for (const { episode } of this.recorder.takeCompleted()) this.models.addEpisode(episode);
    const metrics = episodeSummary(episodes);
    const modelReady = this.models.episodes.size >= Math.max(1, config.modelWarmupEpisodes);
    if (modelReady) Object.assign(metrics, modelMetrics(await this.models.train()));
    const klLimit = 1.5 * config.targetKl;
    let updates = 0;
    let modelUpdates = 0;
    let last: IterationMetrics = {};
    for (let k = 0; k < config.innerIterations; k++) {
      const useModel = modelReady && this.innerRng.uniform(0) < config.modelUsage;
      // After its first update the real rollout takes the current policy as its "old" one.
      if (!useModel && k > 0) this.run.rollout.refreshOldPolicy();
      last = await this.dppo.update(useModel ? this.branchedRollout() : this.run.rollout);
      updates++;
      if (useModel) modelUpdates++;
      if (klLimit > 0 && last.kl > klLimit) break;
    }
    return Object.assign(metrics, last, { 'dmpo/updates': updates, 'dmpo/modelUpdates': modelUpdates });
  }

  /** A fresh branched rollout of the current policy in the models. */
  private branchedRollout(): RolloutBuffer {
    const { config } = this.setup;
    const { policy, envs } = this.run;
    this.modelRollout ??= new RolloutBuffer(policy.agents, config.modelRolloutLength, config.nTraj, policy.networks, policy.head);
    return fillModelRollout(this.models, policy, envs.sampler, this.modelRollout);
  }

  saveState(state: LearnerState): void {
    const models = this.models.snapshot();
    addPrefixed(state.arrays, 'model.', models.arrays);
    addPrefixed(state.arrays, 'recorder.', this.recorder.snapshot());
    addPrefixed(state.arrays, 'innerRng.', this.innerRng.snapshot());
    state.meta.models = models.meta;
  }

  restoreState(state: LearnerState): void {
    this.models.restoreSnapshot({ meta: state.meta.models as ModelSnapshot['meta'], arrays: underPrefix(state.arrays, 'model.') });
    this.recorder.restore(underPrefix(state.arrays, 'recorder.'));
    this.innerRng.restore(underPrefix(state.arrays, 'innerRng.'));
  }
}

function modelMetrics(report: ModelTrainingReport): IterationMetrics {
  return {
    'model/stateError': report.stateError,
    'model/rewardError': report.rewardError,
    'model/steps': report.steps,
    'time/modelSeconds': report.seconds,
  };
}
