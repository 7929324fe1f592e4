/**
 * DMPO ("Fully Decentralized Model-based Policy Optimization with Networked Agents"): DPPO
 * plus, per agent, a graph-convolutional local model of its next state, reward and done
 * (rl/dmpo), trained on a FIFO of real episodes, and branched model rollouts to train on.
 *
 * One iteration:
 * 1. Collect a real rollout with the current policy (as DPPO); finished real episodes enter
 *    the models' FIFO.
 * 2. Once `modelWarmupEpisodes` real episodes are in, train the models until the validation
 *    state error MSE(s)/Var(s) < modelErrorThreshold (at most modelStepsWarmup steps the first
 *    time, modelSteps after) and report state and reward errors.
 * 3. Up to `innerIterations` policy updates: each trains on a fresh branched model rollout
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
import { LocalModels } from '../dmpo/localModel.ts';
import type { RealEpisode } from '../dmpo/episodes.ts';
import { RolloutBuffer, type IterationMetrics, type LearnerSetup, type PpoLearner } from '../core/ppo.ts';
import type { LearnerState } from '../core/stateCodec.ts';
import type { NetworkTrainer } from '../trainer.ts';
import { RngStreams } from '../../sim/rng.ts';
import { DppoLearner } from './dppo.ts';

export class DmpoLearner extends DppoLearner {
  readonly models: LocalModels;
  private readonly recorder: RealEpisodeRecorder;
  private readonly innerRng = new RngStreams(1);
  private modelBuffer: RolloutBuffer | null = null;

  constructor(setup: LearnerSetup, trainer: NetworkTrainer) {
    super(setup, trainer);
    const { config } = setup;
    this.models = LocalModels.forEnv(this.env.spec, {
      learningRate: Number(config.lrModel),
      rewardCoefficient: Number(config.modelRewardCoef),
      modelErrorThreshold: Number(config.modelErrorThreshold),
      bufferEpisodes: Number(config.modelBufferEpisodes),
      windowsPerBatch: Number(config.modelBatchWindows),
      maxSteps: Number(config.modelSteps),
      warmupMaxSteps: Number(config.modelStepsWarmup),
      rolloutTrajectories: Number(config.nTraj),
      rolloutSteps: Number(config.modelRolloutLength),
      seed: setup.seed + 17,
    });
    this.recorder = new RealEpisodeRecorder(this.env.numEnvs, this.agents, this.env.spec.obsDim, this.env.spec.horizon);
    this.innerRng.seed(0, setup.seed + 29);
  }

  protected override async improve(): Promise<IterationMetrics> {
    const metrics: IterationMetrics = {};
    const modelReady = this.models.episodes.size >= Math.max(1, Number(this.config.modelWarmupEpisodes));
    if (modelReady) {
      const report = this.models.train();
      Object.assign(metrics, {
        'model/stateError': report.stateError,
        'model/rewardError': report.rewardError,
        'model/steps': report.steps,
        'time/modelSeconds': report.seconds,
      });
    }
    const inner = Number(this.config.innerIterations);
    const klLimit = 1.5 * Number(this.config.targetKl);
    let modelUpdates = 0;
    let updates = 0;
    let last: IterationMetrics = {};
    for (let k = 0; k < inner; k++) {
      const useModel = modelReady && this.innerRng.uniform(0) < Number(this.config.modelUsage);
      last = await this.learn(useModel ? this.modelRollout() : this.refreshedRealRollout(k));
      updates++;
      if (useModel) modelUpdates++;
      if (klLimit > 0 && last.kl > klLimit) break;
    }
    return Object.assign(metrics, last, { 'dmpo/updates': updates, 'dmpo/modelUpdates': modelUpdates });
  }

  /** The real rollout; after its first update the current policy becomes its "old" policy. */
  private refreshedRealRollout(innerIteration: number): RolloutBuffer {
    if (innerIteration > 0) this.buffer.oldOutput.set(this.networks.evaluateActor(this.buffer.actorInputs, this.buffer.steps * this.buffer.envs));
    return this.buffer;
  }

  /** A branched rollout in the models, laid out as a real rollout (agent-major gathered inputs). */
  private modelRollout(): RolloutBuffer {
    const steps = Number(this.config.modelRolloutLength);
    const batch = Number(this.config.nTraj);
    this.modelBuffer ??= new RolloutBuffer(this.agents, steps, batch, this.networks, this.head);
    const buffer = this.modelBuffer;
    const { obsDim } = this.env.spec;
    const actions = new Float64Array(batch * this.agents);
    let t = 0;
    const rollout = this.models.branchedRollout((observations) => {
      this.actorGather.gatherAgentMajor(observations, obsDim, batch, buffer.stepActorInputs, batch, 0);
      this.criticGather.gatherAgentMajor(observations, obsDim, batch, buffer.criticInputs, steps * batch, t * batch);
      const output = this.actOnStep(buffer.stepActorInputs, batch);
      buffer.storeStep(t, output);
      this.sampleActions(buffer, t, output, actions);
      t++;
      return actions;
    });
    for (let step = 0; step < steps; step++) {
      for (let b = 0; b < batch; b++) {
        const flag = step * batch + b;
        buffer.terminated[flag] = rollout.dones[flag * this.agents];
        buffer.truncated[flag] = 0;
        for (let i = 0; i < this.agents; i++) buffer.rewards[i * steps * batch + flag] = rollout.rewards[flag * this.agents + i];
      }
    }
    buffer.clearTruncations();
    this.criticGather.gatherAgentMajor(rollout.finalObservations, obsDim, batch, buffer.lastCriticInputs, batch, 0);
    return buffer;
  }

  protected override beforeEnvStep(): void {
    this.recorder.observeStarts(this.env.obs);
  }

  protected override afterEnvStep(actions: Float64Array): void {
    for (const episode of this.recorder.record(this.env, actions, (r) => this.learningReward(r))) this.models.addEpisode(episode);
  }

  override state(): LearnerState {
    const state = super.state();
    const models = this.models.snapshot();
    for (const [key, value] of Object.entries(models.arrays)) state.arrays[`model.${key}`] = value;
    for (const [key, value] of Object.entries(this.recorder.snapshot())) state.arrays[`recorder.${key}`] = value;
    for (const [key, value] of Object.entries(this.innerRng.snapshot())) state.arrays[`innerRng.${key}`] = value;
    state.meta.models = models.meta;
    return state;
  }

  override restore(state: LearnerState): void {
    super.restore(state);
    const under = (prefix: string) =>
      Object.fromEntries(Object.entries(state.arrays).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]));
    this.models.restoreSnapshot({ meta: state.meta.models as Parameters<LocalModels['restoreSnapshot']>[0]['meta'], arrays: under('model.') });
    this.recorder.restore(under('recorder.'));
    this.innerRng.restore(under('innerRng.'));
  }
}

/** Real transitions of every training copy, cut into whole episodes for the models' FIFO. */
class RealEpisodeRecorder {
  private readonly observations: Float32Array[];
  private readonly actions: Float32Array[];
  private readonly rewards: Float32Array[];
  private readonly terminals: Uint8Array[];
  private readonly length: Int32Array;
  private readonly fresh: Uint8Array;

  constructor(
    private readonly copies: number,
    private readonly agents: number,
    private readonly obsDim: number,
    horizon: number,
  ) {
    const state = agents * obsDim;
    this.observations = Array.from({ length: copies }, () => new Float32Array((horizon + 1) * state));
    this.actions = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
    this.rewards = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
    this.terminals = Array.from({ length: copies }, () => new Uint8Array(horizon * agents));
    this.length = new Int32Array(copies);
    this.fresh = new Uint8Array(copies).fill(1);
  }

  snapshot(): Record<string, Float32Array | Uint8Array | Int32Array> {
    const arrays: Record<string, Float32Array | Uint8Array | Int32Array> = { length: this.length, fresh: this.fresh };
    for (let e = 0; e < this.copies; e++) {
      arrays[`${e}.observations`] = this.observations[e];
      arrays[`${e}.actions`] = this.actions[e];
      arrays[`${e}.rewards`] = this.rewards[e];
      arrays[`${e}.terminals`] = this.terminals[e];
    }
    return arrays;
  }

  restore(arrays: Readonly<Record<string, ArrayLike<number>>>): void {
    const targets = this.snapshot();
    for (const [key, target] of Object.entries(targets)) {
      const source = arrays[key];
      if (!source || source.length !== target.length) throw new Error(`checkpoint entry recorder.${key} does not fit this learner`);
      target.set(source);
    }
  }

  /** Stores s_0 of copies that just started an episode. */
  observeStarts(obs: Float64Array): void {
    const state = this.agents * this.obsDim;
    for (let e = 0; e < this.copies; e++) {
      if (this.fresh[e] === 0) continue;
      this.observations[e].set(obs.subarray(e * state, (e + 1) * state));
      this.length[e] = 0;
      this.fresh[e] = 0;
    }
  }

  /** Appends the step just taken; returns the episodes it completed. */
  record(env: PpoLearner['env'], actions: Float64Array, learningReward: (reward: number) => number): RealEpisode[] {
    const { agents } = this;
    const state = agents * this.obsDim;
    const completed: RealEpisode[] = [];
    for (let e = 0; e < this.copies; e++) {
      const t = this.length[e];
      for (let i = 0; i < agents; i++) {
        this.actions[e][t * agents + i] = actions[e * agents + i];
        this.rewards[e][t * agents + i] = learningReward(env.reward[e * agents + i]);
        this.terminals[e][t * agents + i] = env.terminated[e];
      }
      this.observations[e].set(env.obs.subarray(e * state, (e + 1) * state), (t + 1) * state);
      const length = ++this.length[e];
      if ((env.terminated[e] | env.truncated[e]) === 1) {
        completed.push({
          length,
          observations: this.observations[e].slice(0, (length + 1) * state),
          actions: this.actions[e].slice(0, length * agents),
          rewards: this.rewards[e].slice(0, length * agents),
          terminals: this.terminals[e].slice(0, length * agents),
        });
        this.fresh[e] = 1;
      }
    }
    return completed;
  }
}
