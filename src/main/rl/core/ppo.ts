/**
 * The PPO machinery every learner shares, read top to bottom: the setup (environments,
 * per-agent networks, neighbourhood gathers), the rollout, the advantages, the update, the
 * evaluation, and the checkpoint state. Learners specialise it through a few hooks:
 * how agent i's advantage is formed (own, or aggregated over N^kappa), the actor loss
 * (PPO-clip, or DPO's penalties) and what happens after an update (DPO's beta adaptation).
 *
 * IPPO, MAPPO and CPPO are this class as it stands, differing only in what the policy and
 * the critic see (the learner catalogue in src/shared/learners.ts says it).
 *
 * Choices where the specs are silent:
 * - Each agent's critic regresses its own (scaled) reward-to-go, also with a global input
 *   (MAPPO, CPPO): the scenarios give per-agent rewards, so "V(s)" is agent i's V_i(s).
 * - Environment copies run on their own clocks: a copy that ends is reset at once with the
 *   next episode seed (seed + 10^6 * episode counter), so rollouts need not align with episodes.
 * - Evaluation is deterministic (Gaussian mean, most probable discrete action) on copies
 *   seeded apart from training, without training-only reward terms.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrajectoryStepInput } from '../../../shared/runs.ts';
import { LEARNERS, type LearnerConfig, type LearnerId, type LearnerInfo } from '../../../shared/learners.ts';
import type { ScenarioId } from '../../../shared/scenarios.ts';
import type { BatchedEnv, TypedArray } from '../../sim/env.ts';
import { NeighbourhoodGather } from '../../sim/graph.ts';
import { createEnv } from '../../sim/index.ts';
import { EpisodeStats, type EpisodeMetrics } from '../../sim/metrics.ts';
import { RngStreams } from '../../sim/rng.ts';
import { AgentNetworks } from '../agent-networks.ts';
import type { BackendReport } from '../backend.ts';
import type { ActorAgentStats, CriticAgentStats, UpdateSchedule } from '../group-update.ts';
import { CATEGORICAL_SMOOTHING, type ActorLoss, type PolicyHead, type PpoClipLoss } from '../policy-loss.ts';
import type { NetworkTrainer } from '../trainer.ts';
import { computeGae, normalisePerAgent } from './advantages.ts';
import { jointRatioUpdate } from './jointRatio.ts';
import type { LearnerState } from './stateCodec.ts';

export interface LearnerSetup {
  learner: LearnerId;
  scenario: ScenarioId;
  /** Scenario parameters as the user gave them (validated by createEnv). */
  scenarioParams: Readonly<Record<string, unknown>>;
  /** The resolved learner configuration (resolveLearnerConfig). */
  config: LearnerConfig;
  seed: number;
}

/** Named metric series of one iteration (per-agent series as 'name/agentI'). */
export type IterationMetrics = Record<string, number>;

export interface IterationResult {
  iteration: number;
  envSteps: number;
  metrics: IterationMetrics;
}

export interface EvaluationResult {
  episodes: EpisodeMetrics[];
  meanReturn: number;
  stdReturn: number;
  /** Means over episodes of every episode metric. */
  metrics: Record<string, number>;
}

/** Receives every step of evaluation episodes (for storage and replay). */
export interface EvaluationRecorder {
  begin(episode: number, seed: number, env: BatchedEnv): void;
  step(episode: number, frame: TrajectoryStepInput): void;
  end(episode: number, metrics: EpisodeMetrics): void;
}

/** Actor head outputs of one step, [n, E, out], and the Gaussian log std per agent. */
export interface PolicyOutput {
  output: Float32Array;
  logStd: Float32Array | null;
}

/** Seeds of training episodes and evaluation episodes are drawn from separate ranges. */
const EPISODE_SEED_STRIDE = 1_000_000;
const EVAL_SEED_OFFSET = 500_000;

export class PpoLearner {
  readonly info: LearnerInfo;
  readonly env: BatchedEnv;
  readonly networks: AgentNetworks;
  readonly head: PolicyHead;
  readonly agents: number;
  iteration = 0;
  envSteps = 0;
  protected readonly config: LearnerConfig;
  protected readonly actorGather: NeighbourhoodGather;
  protected readonly criticGather: NeighbourhoodGather;
  protected readonly buffer: RolloutBuffer;
  private readonly policyRng = new RngStreams(1);
  private episodeCounter = 0;
  /** Raw return of the running episode of each copy. */
  private readonly runningReturn: Float64Array;

  constructor(
    readonly setup: LearnerSetup,
    protected readonly trainer: NetworkTrainer,
  ) {
    const { config } = setup;
    this.config = config;
    this.info = LEARNERS[setup.learner];
    const numEnvs = Number(config.numEnvs);
    this.env = createEnv(setup.scenario, setup.scenarioParams, numEnvs);
    const { spec } = this.env;
    if (spec.nAgents === 0) throw new Error(`scenario ${setup.scenario} with these parameters has no agents to train (preset uncontrolled?)`);
    this.agents = spec.nAgents;
    this.head = spec.action.kind === 'discrete' ? { kind: 'categorical', actionCount: spec.action.n } : { kind: 'gaussian', actionSize: 1 };
    const criticRadius = this.info.critic === 'own' ? 0 : this.info.critic === 'global' ? this.agents : Number(config.kappa);
    this.actorGather = new NeighbourhoodGather(spec.graph, this.info.policyRadius);
    this.criticGather = new NeighbourhoodGather(spec.graph, criticRadius);
    this.networks = new AgentNetworks({
      agents: this.agents,
      actorInputSize: this.actorGather.width * spec.obsDim,
      criticInputSize: this.criticGather.width * spec.obsDim,
      head: this.head,
      shareParameters: config.shareParameters === true,
      initialLogStd: Number(config.initialLogStd),
      seed: setup.seed,
    });
    this.buffer = new RolloutBuffer(this.agents, Number(config.rolloutSteps), numEnvs, this.networks, this.head);
    this.runningReturn = new Float64Array(numEnvs);
    this.policyRng.seed(0, setup.seed + 0x9e37);
    this.env.reset(this.nextEpisodeSeed());
    for (let e = 1; e < numEnvs; e++) this.env.resetEnv(e, this.nextEpisodeSeed());
  }

  get backend(): BackendReport {
    return this.trainer.backend;
  }

  /** One training iteration: collect a rollout, form advantages, update actors and critics. */
  async iterate(): Promise<IterationResult> {
    const started = performance.now();
    const episodes = this.collectRollout(this.buffer);
    const collected = performance.now();
    const metrics = await this.improve(this.buffer);
    const updated = performance.now();
    this.iteration += 1;
    this.envSteps += this.buffer.steps * this.buffer.envs;
    Object.assign(metrics, episodeSummary(episodes), {
      'time/rolloutSeconds': (collected - started) / 1000,
      'time/updateSeconds': (updated - collected) / 1000,
      'time/envStepsPerSecond': (this.buffer.steps * this.buffer.envs) / ((updated - started) / 1000),
    });
    return { iteration: this.iteration, envSteps: this.envSteps, metrics };
  }

  /**
   * Fills the buffer with rollouts of the current stochastic policy on the training copies;
   * returns the raw returns of the episodes that ended meanwhile.
   */
  protected collectRollout(buffer: RolloutBuffer): number[] {
    const { env } = this;
    const { obsDim, nAgents } = env.spec;
    const { steps, envs } = buffer;
    const finished: number[] = [];
    const envActions = new Float64Array(envs * nAgents);
    buffer.clearTruncations();
    for (let t = 0; t < steps; t++) {
      const row = t * envs;
      this.actorGather.gatherAgentMajor(env.obs, obsDim, envs, buffer.stepActorInputs, envs, 0);
      this.criticGather.gatherAgentMajor(env.obs, obsDim, envs, buffer.criticInputs, steps * envs, row);
      const output = this.actOnStep(buffer.stepActorInputs, envs);
      buffer.storeStep(t, output);
      this.sampleActions(buffer, t, output, envActions);
      this.beforeEnvStep();
      env.step(envActions);
      this.afterEnvStep(envActions);
      for (let e = 0; e < envs; e++) {
        const flag = row + e;
        buffer.terminated[flag] = env.terminated[e];
        buffer.truncated[flag] = env.truncated[e];
        for (let i = 0; i < nAgents; i++) {
          buffer.rewards[i * steps * envs + flag] = this.learningReward(env.reward[e * nAgents + i]);
          this.runningReturn[e] += env.rawReward[e * nAgents + i];
        }
        if ((env.terminated[e] | env.truncated[e]) === 1) {
          finished.push(this.runningReturn[e]);
          this.runningReturn[e] = 0;
        }
      }
      if (env.truncated.includes(1)) {
        // V(s_T) of a truncated copy needs its final state before the reset.
        this.criticGather.gatherAgentMajor(env.obs, obsDim, envs, buffer.stepCriticInputs, envs, 0);
        buffer.keepTruncations(t, env.truncated);
      }
      for (let e = 0; e < envs; e++) if ((env.terminated[e] | env.truncated[e]) === 1) env.resetEnv(e, this.nextEpisodeSeed());
    }
    this.criticGather.gatherAgentMajor(env.obs, obsDim, envs, buffer.lastCriticInputs, envs, 0);
    return finished;
  }

  /** Runs before each real environment step, on the state s_t (hook: DMPO records real transitions). */
  protected beforeEnvStep(): void {}

  /** Runs after each real environment step, before finished copies are reset (hook: DMPO). */
  protected afterEnvStep(_actions: Float64Array): void {}

  /** Actor head outputs for one step's gathered inputs [n, E, in]: [n, E, out] (+ log std). */
  protected actOnStep(inputs: Float32Array, envs: number): PolicyOutput {
    const observations = tf.tensor3d(inputs, [this.agents, envs, this.networks.actor.layout.shape.inputSize]);
    const result = this.networks.actorForward(observations);
    try {
      return { output: result.output.dataSync() as Float32Array, logStd: result.logStd === null ? null : (result.logStd.dataSync() as Float32Array) };
    } finally {
      tf.dispose([observations, result.output, ...(result.logStd ? [result.logStd] : [])]);
    }
  }

  /** Samples every agent's action, into the buffer (agent-major) and the env's [E, n] array. */
  protected sampleActions(buffer: RolloutBuffer, t: number, policy: PolicyOutput, envActions: Float64Array): void {
    const { envs, steps } = buffer;
    const width = this.head.kind === 'categorical' ? this.head.actionCount : 1;
    for (let i = 0; i < this.agents; i++) {
      for (let e = 0; e < envs; e++) {
        const out = (i * envs + e) * width;
        const action =
          this.head.kind === 'categorical'
            ? sampleCategorical(policy.output, out, width, this.policyRng.uniform(0))
            : policy.output[out] + Math.exp(policy.logStd![i]) * this.policyRng.normal(0);
        buffer.actions[i * steps * envs + t * envs + e] = action;
        envActions[e * this.agents + i] = action;
      }
    }
  }

  /** The scaled, clipped learning reward (records keep the raw reward). */
  protected learningReward(reward: number): number {
    const clip = Number(this.config.rewardClip);
    const scaled = reward * Number(this.config.rewardScale);
    return scaled > clip ? clip : scaled < -clip ? -clip : scaled;
  }

  /** Improves the policy from a real rollout (hook: DMPO adds its models and inner updates). */
  protected improve(buffer: RolloutBuffer): Promise<IterationMetrics> {
    return this.learn(buffer);
  }

  /** Values, advantages and the update of actors and critics on a filled buffer. */
  protected async learn(buffer: RolloutBuffer): Promise<IterationMetrics> {
    buffer.evaluateValues();
    const ownAdvantages = new Float32Array(buffer.rewards.length);
    computeGae(
      {
        agents: this.agents,
        steps: buffer.steps,
        envs: buffer.envs,
        rewards: buffer.rewards,
        values: buffer.values,
        lastValues: buffer.lastValues,
        terminated: buffer.terminated,
        truncated: buffer.truncated,
        truncationValues: buffer.truncationValues,
        gamma: Number(this.config.gamma),
        lambda: Number(this.config.gaeLambda),
      },
      ownAdvantages,
      buffer.returns,
    );
    const advantages = this.advantages(ownAdvantages, buffer.steps * buffer.envs);
    if (this.config.normaliseAdvantages === true) normalisePerAgent(advantages, this.agents);
    return this.update(buffer, advantages);
  }

  /** Agent i's advantage from the agents' own GAE advantages (hook: extended value functions). */
  protected advantages(own: Float32Array, _samplesPerAgent: number): Float32Array {
    return own;
  }

  /** The actor loss of this update (hook: DPO). */
  protected actorLoss(): ActorLoss {
    const epsilon = this.config.clip === 'per-agent-count' ? Number(this.config.clipAlpha) / this.agents : Number(this.config.clipEpsilon);
    return { kind: 'ppo-clip', clipEpsilon: epsilon, entropyCoefficient: Number(this.config.entropyCoef), targetKl: this.earlyStopKl() };
  }

  /** The KL target of the epoch loop's early stop; none when targetKl is 0. */
  protected earlyStopKl(): number | undefined {
    const target = Number(this.config.targetKl);
    return target > 0 ? target : undefined;
  }

  /** Runs after each update with its statistics (hook: DPO adapts its penalties). */
  protected afterUpdate(_actorStats: ActorAgentStats[]): IterationMetrics {
    return {};
  }

  protected async update(buffer: RolloutBuffer, advantages: Float32Array): Promise<IterationMetrics> {
    const samples = buffer.steps * buffer.envs;
    const schedule = (epochs: number, learningRate: number): UpdateSchedule => ({
      epochs,
      minibatches: Number(this.config.minibatches),
      learningRate,
      shuffleSeed: this.setup.seed + this.iteration,
    });
    const actorUpdate: Promise<{ stats: ActorAgentStats[]; metrics: IterationMetrics }> =
      this.config.ratio === 'joint'
        ? jointRatioUpdate(this.trainer, this.networks, this.head, buffer, advantages, {
            epochs: Number(this.config.epochs),
            clipEpsilon: (this.actorLoss() as PpoClipLoss).clipEpsilon as number,
            learningRate: Number(this.config.lrActor),
            targetKl: Number(this.config.targetKl),
            entropyCoefficient: Number(this.config.entropyCoef),
          })
        : this.trainer
            .updateActors(
              this.networks,
              { samples, observations: buffer.actorInputs, actions: buffer.actions, advantages, oldOutput: buffer.oldOutput, oldLogStd: buffer.oldLogStd ?? undefined },
              this.actorLoss(),
              schedule(Number(this.config.epochs), Number(this.config.lrActor)),
            )
            .then((stats) => ({ stats, metrics: {} }));
    const [actor, criticStats] = await Promise.all([
      actorUpdate,
      this.trainer.updateCritics(
        this.networks,
        { samples, observations: buffer.criticInputs, returns: buffer.returns },
        schedule(Number(this.config.criticEpochs), Number(this.config.lrCritic)),
      ),
    ]);
    return { ...updateSummary(actor.stats, criticStats), ...actor.metrics, ...this.afterUpdate(actor.stats) };
  }

  /**
   * Deterministic evaluation episodes on fresh copies (no training-only reward terms).
   * Episode k uses seed evalSeed + k.
   */
  evaluate(episodes: number, evalSeed = this.setup.seed + EVAL_SEED_OFFSET, recorder?: EvaluationRecorder): EvaluationResult {
    const env = createEnv(this.setup.scenario, this.setup.scenarioParams, episodes);
    env.training = false;
    const { obsDim, nAgents, nVehicles } = env.spec;
    for (let k = 0; k < episodes; k++) env.resetEnv(k, evalSeed + k);
    const stats = Array.from({ length: episodes }, (_, k) => new EpisodeStats(env, k));
    const inputs = new Float32Array(nAgents * episodes * this.networks.actor.layout.shape.inputSize);
    const criticInputs = recorder ? new Float32Array(nAgents * episodes * this.networks.critic.layout.shape.inputSize) : null;
    const actions = new Float64Array(episodes * nAgents);
    const paramWidth = actionParamWidth(this.head);
    const frame = recorder ? new EvalFrameBuffers(nAgents, nVehicles, obsDim, paramWidth, env.spec.rewardTermNames.length) : null;
    let policy: PolicyOutput = { output: new Float32Array(0), logStd: null };
    let values: Float32Array | null = null;
    const act = () => {
      policy = this.actDeterministic(env, actions, inputs);
      if (criticInputs) {
        this.criticGather.gatherAgentMajor(env.obs, obsDim, episodes, criticInputs, episodes, 0);
        values = this.networks.evaluateCritic(criticInputs, episodes);
      }
    };
    if (recorder) for (let k = 0; k < episodes; k++) recorder.begin(k, evalSeed + k, env);
    const running = new Uint8Array(episodes).fill(1);
    act();
    if (frame) for (let k = 0; k < episodes; k++) recorder!.step(k, frame.fill(env, k, actions, policy, values!, this.head, false));
    while (!env.allDone()) {
      env.step(actions);
      for (let k = 0; k < episodes; k++) if (running[k] === 1) stats[k].add();
      act();
      for (let k = 0; k < episodes; k++) {
        if (running[k] === 0) continue;
        if (frame) recorder!.step(k, frame.fill(env, k, actions, policy, values!, this.head, true));
        if ((env.terminated[k] | env.truncated[k]) === 1) running[k] = 0;
      }
    }
    const results = stats.map((s) => s.result());
    if (recorder) results.forEach((metrics, k) => recorder.end(k, metrics));
    return summariseEvaluation(results);
  }

  /**
   * The deterministic policy (Gaussian mean, most probable discrete action) on every copy of
   * `env`, a copy of this learner's scenario: writes actions [E, n]; returns the head outputs.
   */
  actDeterministic(env: BatchedEnv, actions: Float64Array, inputs = new Float32Array(this.agents * env.numEnvs * this.networks.actor.layout.shape.inputSize)): PolicyOutput {
    const envs = env.numEnvs;
    this.actorGather.gatherAgentMajor(env.obs, env.spec.obsDim, envs, inputs, envs, 0);
    const policy = this.actOnStep(inputs, envs);
    const width = this.head.kind === 'categorical' ? this.head.actionCount : 1;
    for (let i = 0; i < this.agents; i++) {
      for (let e = 0; e < envs; e++) {
        const out = (i * envs + e) * width;
        actions[e * this.agents + i] = this.head.kind === 'categorical' ? argmax(policy.output, out, width) : policy.output[out];
      }
    }
    return policy;
  }

  /** Everything needed to continue exactly where this learner is. */
  state(): LearnerState {
    const arrays: Record<string, TypedArray> = {};
    for (const [name, network] of [['actor', this.networks.actor], ['critic', this.networks.critic]] as const) {
      network.groups.forEach((group, g) => {
        arrays[`${name}.${g}.params`] = group.params;
        arrays[`${name}.${g}.adam1`] = group.moments.first;
        arrays[`${name}.${g}.adam2`] = group.moments.second;
      });
    }
    for (const [key, value] of Object.entries(this.env.snapshot())) arrays[`env.${key}`] = value;
    for (const [key, value] of Object.entries(this.policyRng.snapshot())) arrays[`policyRng.${key}`] = value;
    arrays.runningReturn = this.runningReturn;
    return {
      meta: {
        learner: this.setup.learner,
        iteration: this.iteration,
        envSteps: this.envSteps,
        episodeCounter: this.episodeCounter,
        adamSteps: {
          actor: this.networks.actor.groups.map((g) => g.moments.step),
          critic: this.networks.critic.groups.map((g) => g.moments.step),
        },
      },
      arrays,
    };
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== this.setup.learner) throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ${this.setup.learner}`);
    const take = (name: string, target: TypedArray) => {
      const source = arrays[name];
      if (!source || source.length !== target.length) throw new Error(`checkpoint entry ${name} does not fit this learner`);
      target.set(source);
    };
    const adamSteps = meta.adamSteps as { actor: number[]; critic: number[] };
    for (const [name, network] of [['actor', this.networks.actor], ['critic', this.networks.critic]] as const) {
      network.groups.forEach((group, g) => {
        take(`${name}.${g}.params`, group.params);
        take(`${name}.${g}.adam1`, group.moments.first);
        take(`${name}.${g}.adam2`, group.moments.second);
        group.moments.step = adamSteps[name][g];
      });
      network.markChanged();
    }
    this.env.restore(prefixed(arrays, 'env.'));
    this.policyRng.restore(prefixed(arrays, 'policyRng.'));
    take('runningReturn', this.runningReturn);
    this.iteration = Number(meta.iteration);
    this.envSteps = Number(meta.envSteps);
    this.episodeCounter = Number(meta.episodeCounter);
  }

  dispose(): void {
    this.networks.dispose();
  }

  private nextEpisodeSeed(): number {
    return this.setup.seed + EPISODE_SEED_STRIDE * this.episodeCounter++;
  }
}

/**
 * One iteration's data, agent-major: row (i, t, e) = i * T * E + t * E + e, so each agent's
 * samples are contiguous for its update.
 */
export class RolloutBuffer {
  readonly actorInputs: Float32Array;
  readonly criticInputs: Float32Array;
  readonly actions: Float32Array;
  readonly oldOutput: Float32Array;
  oldLogStd: Float32Array | null = null;
  readonly rewards: Float32Array;
  readonly values: Float32Array;
  readonly returns: Float32Array;
  readonly lastValues: Float32Array;
  readonly truncationValues: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** Flag indices (t * E + e) where a copy was truncated, in order (see keepTruncations). */
  private truncations: number[] = [];
  /** Scratch: one step's actor inputs [n, E, in], critic inputs, and the inputs after the last step. */
  readonly stepActorInputs: Float32Array;
  readonly stepCriticInputs: Float32Array;
  readonly lastCriticInputs: Float32Array;
  private truncationInputs: Float32Array[] = [];
  private readonly actorInputSize: number;
  private readonly criticInputSize: number;
  private readonly outputSize: number;

  constructor(
    readonly agents: number,
    readonly steps: number,
    readonly envs: number,
    private readonly networks: AgentNetworks,
    head: PolicyHead,
  ) {
    const rows = agents * steps * envs;
    this.actorInputSize = networks.actor.layout.shape.inputSize;
    this.criticInputSize = networks.critic.layout.shape.inputSize;
    this.outputSize = networks.actor.layout.shape.outputSize;
    this.actorInputs = new Float32Array(rows * this.actorInputSize);
    this.criticInputs = new Float32Array(rows * this.criticInputSize);
    this.actions = new Float32Array(rows);
    this.oldOutput = new Float32Array(rows * this.outputSize);
    if (head.kind === 'gaussian') this.oldLogStd = new Float32Array(agents * head.actionSize);
    this.rewards = new Float32Array(rows);
    this.values = new Float32Array(rows);
    this.returns = new Float32Array(rows);
    this.lastValues = new Float32Array(agents * envs);
    this.truncationValues = new Float32Array(rows);
    this.terminated = new Uint8Array(steps * envs);
    this.truncated = new Uint8Array(steps * envs);
    this.stepActorInputs = new Float32Array(agents * envs * this.actorInputSize);
    this.stepCriticInputs = new Float32Array(agents * envs * this.criticInputSize);
    this.lastCriticInputs = new Float32Array(agents * envs * this.criticInputSize);
  }

  /** Copies one step's actor inputs and head outputs into the agent-major rows of step t. */
  storeStep(t: number, policy: PolicyOutput): void {
    const { agents, envs, steps } = this;
    for (let i = 0; i < agents; i++) {
      const row = i * steps * envs + t * envs;
      this.actorInputs.set(this.stepActorInputs.subarray(i * envs * this.actorInputSize, (i + 1) * envs * this.actorInputSize), row * this.actorInputSize);
      this.oldOutput.set(policy.output.subarray(i * envs * this.outputSize, (i + 1) * envs * this.outputSize), row * this.outputSize);
    }
    if (this.oldLogStd && policy.logStd) this.oldLogStd.set(policy.logStd);
  }

  /** Forgets the truncations of the previous rollout (the buffer is about to be filled again). */
  clearTruncations(): void {
    this.truncations = [];
    this.truncationInputs = [];
  }

  /**
   * Records the copies truncated at step t with their critic inputs (in stepCriticInputs),
   * kept until the next clearTruncations: every update on this rollout (DMPO runs several)
   * bootstraps V(s_T) from them.
   */
  keepTruncations(t: number, truncated: Uint8Array): void {
    for (let e = 0; e < this.envs; e++) {
      if (truncated[e] !== 1) continue;
      this.truncations.push(t * this.envs + e);
      const inputs = new Float32Array(this.agents * this.criticInputSize);
      for (let i = 0; i < this.agents; i++) {
        const from = (i * this.envs + e) * this.criticInputSize;
        inputs.set(this.stepCriticInputs.subarray(from, from + this.criticInputSize), i * this.criticInputSize);
      }
      this.truncationInputs.push(inputs);
    }
  }

  /** V(s_t) for every row, V of the state after the last step, and V(s_T) at truncations. */
  evaluateValues(): void {
    this.values.set(this.networks.evaluateCritic(this.criticInputs, this.steps * this.envs));
    this.lastValues.set(this.networks.evaluateCritic(this.lastCriticInputs, this.envs));
    const count = this.truncations.length;
    if (count > 0) {
      // Gather the kept inputs agent-major ([n, count, in]) and evaluate them in one pass.
      const inputs = new Float32Array(this.agents * count * this.criticInputSize);
      this.truncationInputs.forEach((kept, c) => {
        for (let i = 0; i < this.agents; i++) {
          inputs.set(kept.subarray(i * this.criticInputSize, (i + 1) * this.criticInputSize), (i * count + c) * this.criticInputSize);
        }
      });
      const values = this.networks.evaluateCritic(inputs, count);
      this.truncations.forEach((flag, c) => {
        for (let i = 0; i < this.agents; i++) this.truncationValues[i * this.steps * this.envs + flag] = values[i * count + c];
      });
    }
  }
}

/** Per-step evaluation frame arrays, reused across steps. */
class EvalFrameBuffers {
  private readonly frame: TrajectoryStepInput & { agentAction: Float64Array; reward: Float64Array; value: Float64Array; actionParams: Float64Array };

  constructor(
    private readonly agents: number,
    private readonly vehicles: number,
    private readonly obsDim: number,
    private readonly paramWidth: number,
    private readonly terms: number,
  ) {
    this.frame = {
      position: new Float64Array(vehicles),
      speed: new Float64Array(vehicles),
      accel: new Float64Array(vehicles),
      gap: new Float64Array(vehicles),
      vehicleAction: new Float64Array(vehicles),
      agentAction: new Float64Array(agents),
      reward: new Float64Array(agents),
      value: new Float64Array(agents),
      obs: new Float64Array(agents * obsDim),
      actionParams: new Float64Array(agents * paramWidth),
      rewardTerms: new Float64Array(agents * terms),
    };
  }

  fill(
    env: BatchedEnv,
    copy: number,
    actions: Float64Array,
    policy: PolicyOutput,
    values: Float32Array,
    head: PolicyHead,
    afterStep: boolean,
  ): TrajectoryStepInput {
    const { agents, vehicles, obsDim, paramWidth, terms, frame } = this;
    const episodes = env.numEnvs;
    const v0 = copy * vehicles;
    (frame.position as Float64Array).set(env.position.subarray(v0, v0 + vehicles));
    (frame.speed as Float64Array).set(env.speed.subarray(v0, v0 + vehicles));
    (frame.accel as Float64Array).set(env.accel.subarray(v0, v0 + vehicles));
    (frame.gap as Float64Array).set(env.gap.subarray(v0, v0 + vehicles));
    (frame.vehicleAction as Float64Array).set(env.action.subarray(v0, v0 + vehicles));
    (frame.obs as Float64Array).set(env.obs.subarray(copy * agents * obsDim, (copy + 1) * agents * obsDim));
    (frame.rewardTerms as Float64Array).set(env.rewardTerms.subarray(copy * agents * terms, (copy + 1) * agents * terms));
    const outputWidth = head.kind === 'categorical' ? head.actionCount : 1;
    for (let i = 0; i < agents; i++) {
      // The action and distribution the policy chooses in this state (applied at the next step).
      frame.agentAction[i] = actions[copy * agents + i];
      frame.reward[i] = afterStep ? env.rawReward[copy * agents + i] : NaN;
      frame.value[i] = values[i * episodes + copy];
      const out = (i * episodes + copy) * outputWidth;
      if (head.kind === 'categorical') {
        categoricalProbabilitiesInto(policy.output, out, outputWidth, frame.actionParams, i * paramWidth);
      } else {
        frame.actionParams[i * paramWidth] = policy.output[out];
        frame.actionParams[i * paramWidth + 1] = Math.exp(policy.logStd![i]);
      }
    }
    frame.collided = env.collided[copy] === 1;
    frame.terminated = env.terminated[copy] === 1;
    frame.truncated = env.truncated[copy] === 1;
    return frame;
  }
}

/** Distribution parameters stored per agent: categorical probabilities, or Gaussian mean and std. */
export function actionParamWidth(head: PolicyHead): number {
  return head.kind === 'categorical' ? head.actionCount : 2 * head.actionSize;
}

/** (softmax + 1e-5) renormalised, as the networks' categorical head defines it. */
function categoricalProbabilitiesInto(logits: Float32Array, at: number, width: number, out: Float64Array, to: number): void {
  let max = -Infinity;
  for (let a = 0; a < width; a++) max = Math.max(max, logits[at + a]);
  let sum = 0;
  for (let a = 0; a < width; a++) sum += Math.exp(logits[at + a] - max);
  const total = 1 + width * CATEGORICAL_SMOOTHING;
  for (let a = 0; a < width; a++) out[to + a] = (Math.exp(logits[at + a] - max) / sum + CATEGORICAL_SMOOTHING) / total;
}

const probabilityScratch = new Float64Array(64);

function sampleCategorical(logits: Float32Array, at: number, width: number, uniform: number): number {
  categoricalProbabilitiesInto(logits, at, width, probabilityScratch, 0);
  let cumulative = 0;
  for (let a = 0; a < width - 1; a++) {
    cumulative += probabilityScratch[a];
    if (uniform < cumulative) return a;
  }
  return width - 1;
}

function argmax(values: Float32Array, at: number, width: number): number {
  let best = 0;
  for (let a = 1; a < width; a++) if (values[at + a] > values[at + best]) best = a;
  return best;
}

function prefixed(arrays: Record<string, TypedArray>, prefix: string): Record<string, TypedArray> {
  return Object.fromEntries(Object.entries(arrays).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]));
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function episodeSummary(returns: readonly number[]): IterationMetrics {
  return { 'train/episodes': returns.length, 'train/episodeReturn': mean(returns) };
}

/** Means over agents, the per-agent series, and the centralised TV distance (sum over agents). */
function updateSummary(actor: ActorAgentStats[], critic: CriticAgentStats[]): IterationMetrics {
  const metrics: IterationMetrics = {
    'loss/actor': mean(actor.map((s) => s.loss)),
    'loss/critic': mean(critic.map((s) => s.loss)),
    kl: mean(actor.map((s) => s.kl)),
    clipFraction: mean(actor.map((s) => s.clipFraction)),
    entropy: mean(actor.map((s) => s.entropy)),
    'ratio/min': Math.min(...actor.map((s) => s.ratioMin)),
    'ratio/max': Math.max(...actor.map((s) => s.ratioMax)),
    'tv/mean': mean(actor.map((s) => s.totalVariation)),
    'tv/central': actor.reduce((sum, s) => sum + s.totalVariation, 0),
    earlyStops: actor.filter((s) => s.stoppedEarly).length,
  };
  actor.forEach((s, i) => {
    metrics[`kl/agent${i}`] = s.kl;
    metrics[`tv/agent${i}`] = s.totalVariation;
    metrics[`loss/actor/agent${i}`] = s.loss;
    metrics[`loss/critic/agent${i}`] = critic[i].loss;
  });
  return metrics;
}

export function summariseEvaluation(episodes: EpisodeMetrics[]): EvaluationResult {
  const returns = episodes.map((e) => e.return);
  const meanReturn = mean(returns);
  const stdReturn = Math.sqrt(mean(returns.map((r) => (r - meanReturn) ** 2)));
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(episodes[0] ?? {}) as (keyof EpisodeMetrics)[]) {
    metrics[key] = mean(episodes.map((e) => Number(e[key])));
  }
  return { episodes, meanReturn, stdReturn, metrics };
}
