/**
 * A learner as the rest of Headway sees it (training runs, the CLI, benchmarks, tests): its
 * setup, its trained policy, its progress, one `iterate`, and a checkpoint state that
 * continues it exactly (the Learner interface). Every learner implements it; training jobs,
 * evaluation, stored episodes and run policies need nothing else.
 *
 * The PPO family shares one implementation, OnPolicyLearner: a program (rl/learners: the
 * order of one iteration) over one OnPolicyRun (the training environments, the actors and
 * critics, the rollout buffer and the progress counters). Learners of another shape (LTDE's
 * team networks, DADC's coordinators, off-policy learners with replay) implement Learner
 * directly and reuse the core's parts (TrainingEnvs, evaluation, checkpoints).
 */
import { LEARNERS, type LearnerConfig, type LearnerId, type PpoFamilyId } from '../../../shared/learners.ts';
import type { ScenarioId } from '../../../shared/scenarios.ts';
import { underPrefix, type TypedArray } from '../../sim/snapshot.ts';
import { parameterGroupArrays, restoreParameterGroups } from '../nn/parameters.ts';
import { ActorCritic } from './actorCritic.ts';
import type { LearnerState } from './checkpoint.ts';
import type { TrainedPolicy } from './trainedPolicy.ts';
import { IterationClock, type IterationMetrics, type IterationResult } from './iteration.ts';
import { checkpointMisfit, collectRollout, learningRewardOf, RolloutBuffer, TrainingEnvs, type TransitionObserver } from './rollout.ts';

export interface LearnerSetup<L extends LearnerId = LearnerId> {
  learner: L;
  scenario: ScenarioId;
  /** Scenario parameters as the user gave them (validated by createEnv). */
  scenarioParams: Readonly<Record<string, unknown>>;
  /** The resolved learner configuration (resolveLearnerConfig). */
  config: LearnerConfig<L>;
  seed: number;
}

/** A learner: what training jobs, evaluation, benchmarks and tests drive. */
export interface Learner {
  readonly setup: LearnerSetup;
  readonly policy: TrainedPolicy;
  /** Iterations done. */
  readonly iteration: number;
  /** Environment steps taken in training (all copies). */
  readonly envSteps: number;
  /** One iteration: its metrics, with 'loss/actor', 'loss/critic' and 'kl' checked for divergence where present. */
  iterate(): Promise<IterationResult>;
  /** Everything needed to continue exactly where this learner is. */
  state(): LearnerState;
  restore(state: LearnerState): void;
  dispose(): void;
}

/** The state every learner of the PPO family carries from one iteration to the next. */
export class OnPolicyRun {
  readonly envs: TrainingEnvs;
  readonly policy: ActorCritic;
  /** The real rollout of the current iteration. */
  readonly rollout: RolloutBuffer;
  readonly learningReward: (reward: number) => number;
  iteration = 0;
  envSteps = 0;
  /** Times the current iteration (restarted by collect). */
  clock = new IterationClock();

  constructor(readonly setup: LearnerSetup<PpoFamilyId>) {
    const config: LearnerConfig<PpoFamilyId> & { kappa?: number } = setup.config;
    this.envs = new TrainingEnvs(setup.scenario, setup.scenarioParams, config.numEnvs, setup.seed);
    this.policy = new ActorCritic(this.envs.env.spec, LEARNERS[setup.learner], { ...config, seed: setup.seed });
    this.rollout = new RolloutBuffer(this.policy.agents, config.rolloutSteps, config.numEnvs, this.policy.networks, this.policy.head);
    this.learningReward = learningRewardOf(config);
  }

  /** Seeds the minibatch order of this iteration's updates. */
  get shuffleSeed(): number {
    return this.setup.seed + this.iteration;
  }

  /** Starts an iteration: fills the rollout with the current stochastic policy; returns the raw returns of the episodes that ended. */
  collect(observer: TransitionObserver | null = null): number[] {
    this.clock = new IterationClock();
    const episodes = collectRollout(this.envs, this.policy, this.rollout, this.learningReward, observer);
    this.clock.rolloutDone();
    return episodes;
  }

  /**
   * The shared checkpoint part: actor and critic groups (`actor.g.params` ...), the training
   * environments (`env.*`, `policyRng.*`, `runningReturn`) and the progress in the meta.
   */
  state(): LearnerState {
    const arrays: Record<string, TypedArray> = {};
    const { actor, critic } = this.policy.networks;
    for (const [name, network] of [['actor', actor], ['critic', critic]] as const) {
      for (const [key, array] of Object.entries(parameterGroupArrays(network.groups))) arrays[`${name}.${key}`] = array;
    }
    const { episodeCounter } = this.envs.snapshot(arrays);
    const adamSteps = { actor: actor.groups.map((g) => g.moments.step), critic: critic.groups.map((g) => g.moments.step) };
    return { meta: { learner: this.setup.learner, iteration: this.iteration, envSteps: this.envSteps, episodeCounter, adamSteps }, arrays };
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== this.setup.learner) throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ${this.setup.learner}`);
    const adamSteps = meta.adamSteps as { actor: number[]; critic: number[] };
    const { actor, critic } = this.policy.networks;
    for (const [name, network] of [['actor', actor], ['critic', critic]] as const) {
      restoreParameterGroups(network.groups, underPrefix(arrays, `${name}.`), adamSteps[name], (key) => checkpointMisfit(`${name}.${key}`));
      network.markChanged();
    }
    this.envs.restore(arrays, Number(meta.episodeCounter));
    this.iteration = Number(meta.iteration);
    this.envSteps = Number(meta.envSteps);
  }
}

/** A learner's own part: one iteration in its order, and any state of its own beyond the run's. */
export interface LearnerProgram {
  /** One iteration, starting with run.collect(); returns its metrics (the learner adds the timings). */
  iterate(): Promise<IterationMetrics>;
  /** Adds the program's own state to a checkpoint. */
  saveState?(state: LearnerState): void;
  restoreState?(state: LearnerState): void;
}

/** A learner of the PPO family: its program over its run. */
export class OnPolicyLearner implements Learner {
  readonly policy: ActorCritic;

  constructor(
    readonly setup: LearnerSetup,
    /** What the learner carries between iterations (its rollout buffer, for inspection). */
    readonly run: OnPolicyRun,
    private readonly program: LearnerProgram,
  ) {
    this.policy = run.policy;
  }

  get iteration(): number {
    return this.run.iteration;
  }

  get envSteps(): number {
    return this.run.envSteps;
  }

  async iterate(): Promise<IterationResult> {
    const metrics = await this.program.iterate();
    const { run } = this;
    run.iteration += 1;
    run.envSteps += run.rollout.samples;
    Object.assign(metrics, run.clock.metrics(run.rollout.samples));
    return { iteration: run.iteration, envSteps: run.envSteps, metrics };
  }

  state(): LearnerState {
    const state = this.run.state();
    this.program.saveState?.(state);
    return state;
  }

  restore(state: LearnerState): void {
    this.run.restore(state);
    this.program.restoreState?.(state);
  }

  dispose(): void {
    this.policy.dispose();
  }
}
