/**
 * DSAC: decentralised soft actor-critic, the base learner of the DMPO paper on CACC (section
 * 6.3; shared/specs/algorithms.md "DMPO on CACC"). Off-policy: each iteration collects
 * rolloutSteps x numEnvs environment steps with the stochastic policy (uniformly random
 * actions until learningStarts steps were taken) into a replay buffer, then takes
 * round(updatesPerStep x those steps) gradient updates (sacUpdate.ts) once learning started.
 *
 * With actionRepeat k > 1 a copy decides only when its step count is a multiple of k and
 * holds the actions in between; one replay transition is one decision: its state, actions,
 * the discounted learning rewards of its k steps, and the state after them, so the critics
 * bootstrap with gamma^k. Why: at CACC's 0.1 s step one step's action barely moves the
 * return, and the critics' errors swamp that difference (docs/dsac.md).
 *
 * The networks (sacAgents.ts): per agent a categorical policy on N^1, twin Q critics on
 * N^kappa with the neighbours' actions and one output per own action, a learned temperature.
 */
import type { LearnerConfig } from '../../../../shared/learners.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { addPrefixed, restoreArrays, underPrefix, type TypedArray } from '../../../sim/snapshot.ts';
import type { LearnerState } from '../../core/checkpoint.ts';
import { mean, episodeSummary, IterationClock, type IterationMetrics, type IterationResult } from '../../core/iteration.ts';
import type { Learner, LearnerSetup } from '../../core/learner.ts';
import { checkpointMisfit, learningRewardOf, TrainingEnvs } from '../../core/rollout.ts';
import { evaluateGroups, type NetworkParameters } from '../../nn/agentNetworks.ts';
import { parameterGroupArrays } from '../../nn/parameters.ts';
import { sampleCategorical } from '../../core/distributions.ts';
import { ReplayBuffer } from './replay.ts';
import { SacAgents } from './sacAgents.ts';
import { SacBatch, sacUpdate, type SacUpdateStats } from './sacUpdate.ts';

/** The update stream (batch draws, neighbours' next actions) is seeded apart from the sampler and the episodes. */
const UPDATE_SEED_OFFSET = 0x5ac;
/** Actor and critic hidden layers, as the PPO family's and the DMPO authors' SAC ([in, 64, 64, out]). */
const HIDDEN_SIZES = [64, 64] as const;

/** DMPO-SAC (../dmpoSac/) runs on these parts too: its collection, replay, networks and checkpoint. */
export type DsacId = 'dsac' | 'dmpo-sac';

export class Dsac implements Learner {
  readonly policy: SacAgents;
  readonly envs: TrainingEnvs;
  readonly replay: ReplayBuffer;
  iteration = 0;
  envSteps = 0;
  private readonly config: LearnerConfig<DsacId>;
  private readonly learningReward: (reward: number) => number;
  readonly updateRng = new RngStreams(1);
  readonly batch: SacBatch;
  /** The update's settings: the config with gamma^actionRepeat, one decision's discount. */
  readonly updateSettings: LearnerConfig<DsacId>;
  /** One step's actor inputs [n, E, in]. */
  private readonly stepInputs: Float32Array;
  /**
   * Each copy's running decision: the state it was taken in [E, n, obsDim], the actions held
   * [E, n], their discounted learning rewards so far [E, n] and gamma^(steps held) [E].
   */
  private readonly heldObs: Float64Array;
  private readonly heldActions: Float64Array;
  private readonly heldRewards: Float64Array;
  private readonly heldDiscount: Float64Array;

  constructor(readonly setup: LearnerSetup<DsacId>) {
    const { config, seed } = setup;
    this.config = config;
    this.envs = new TrainingEnvs(setup.scenario, setup.scenarioParams, config.numEnvs, seed);
    const { spec } = this.envs.env;
    if (spec.horizon % config.actionRepeat !== 0) {
      throw new Error(`actionRepeat ${config.actionRepeat} does not divide the scenario's horizon of ${spec.horizon} steps: every held decision must last actionRepeat steps (choose a divisor of ${spec.horizon})`);
    }
    this.policy = new SacAgents(spec, { kappa: config.kappa, hiddenSizes: HIDDEN_SIZES, initialAlpha: config.initialAlpha, seed, actionRepeat: config.actionRepeat });
    this.replay = new ReplayBuffer(config.replaySize, spec.nAgents, spec.obsDim, config.numEnvs);
    this.batch = new SacBatch(this.policy, config.batchSize);
    this.updateSettings = { ...config, gamma: config.gamma ** config.actionRepeat };
    this.learningReward = learningRewardOf(config);
    this.updateRng.seed(0, seed + UPDATE_SEED_OFFSET);
    const values = config.numEnvs * spec.nAgents;
    this.stepInputs = new Float32Array(values * this.policy.actorInputSize);
    this.heldObs = new Float64Array(values * spec.obsDim);
    this.heldActions = new Float64Array(values);
    this.heldRewards = new Float64Array(values);
    this.heldDiscount = new Float64Array(config.numEnvs);
  }

  async iterate(): Promise<IterationResult> {
    const clock = new IterationClock();
    const returns = this.collect();
    clock.rolloutDone();
    const collected = this.config.rolloutSteps * this.config.numEnvs;
    this.envSteps += collected;
    const updates = this.envSteps >= this.config.learningStarts ? Math.round(this.config.updatesPerStep * collected) : 0;
    const stats: SacUpdateStats[] = [];
    for (let u = 0; u < updates; u++) stats.push(await sacUpdate(this.policy, this.replay, this.batch, this.updateSettings, this.updateRng));
    this.iteration += 1;
    const metrics: IterationMetrics = { ...episodeSummary(returns), 'sac/updates': updates, 'replay/size': this.replay.size, ...updateMetrics(stats) };
    Object.assign(metrics, clock.metrics(collected));
    return { iteration: this.iteration, envSteps: this.envSteps, metrics };
  }

  /**
   * rolloutSteps steps of every training copy, each copy's decisions into the replay buffer
   * as they end: the stochastic policy's, or uniformly random actions before learningStarts.
   * Returns the raw returns of the episodes that ended.
   */
  collect(): number[] {
    const { env, sampler } = this.envs;
    const { nAgents, obsDim } = env.spec;
    const { numEnvs, rolloutSteps, learningStarts, gamma } = this.config;
    const width = this.policy.actionCount;
    const obsWidth = nAgents * obsDim;
    const finished: number[] = [];
    for (let t = 0; t < rolloutSteps; t++) {
      let anyDeciding = false;
      for (let e = 0; e < numEnvs; e++) anyDeciding ||= this.deciding(e);
      if (anyDeciding) {
        const random = this.envSteps + t * numEnvs < learningStarts;
        const logits = random ? null : this.policyLogits();
        for (let i = 0; i < nAgents; i++) {
          for (let e = 0; e < numEnvs; e++) {
            if (!this.deciding(e)) continue;
            const u = sampler.uniform(0);
            this.heldActions[e * nAgents + i] = logits === null ? Math.min(width - 1, Math.floor(u * width)) : sampleCategorical(logits, (i * numEnvs + e) * width, width, u);
          }
        }
        for (let e = 0; e < numEnvs; e++) {
          if (!this.deciding(e)) continue;
          this.heldObs.set(env.obs.subarray(e * obsWidth, (e + 1) * obsWidth), e * obsWidth);
          this.heldRewards.fill(0, e * nAgents, (e + 1) * nAgents);
          this.heldDiscount[e] = 1;
        }
      }
      env.step(this.heldActions);
      for (let e = 0; e < numEnvs; e++) {
        for (let k = e * nAgents; k < (e + 1) * nAgents; k++) this.heldRewards[k] += this.heldDiscount[e] * this.learningReward(env.reward[k]);
        this.heldDiscount[e] *= gamma;
        // s' of an ended copy is its final state: stored before resetEnded replaces it.
        if ((env.terminated[e] | env.truncated[e]) === 1 || this.deciding(e)) this.storeDecision(e);
        const ended = this.envs.addStep(e);
        if (ended !== null) finished.push(ended);
      }
      this.envs.resetEnded();
    }
    return finished;
  }

  /** Whether copy e takes a new decision at its current step (else it holds its last one). */
  private deciding(e: number): boolean {
    return this.envs.env.steps[e] % this.config.actionRepeat === 0;
  }

  /** Copy e's decision that just ended, into the replay buffer. */
  private storeDecision(e: number): void {
    const { env } = this.envs;
    const agents = env.spec.nAgents;
    const obsWidth = agents * env.spec.obsDim;
    const row = (values: Float64Array | Uint8Array, width: number) => values.subarray(e * width, (e + 1) * width);
    this.replay.addStep(row(this.heldObs, obsWidth), row(this.heldActions, agents), row(this.heldRewards, agents), row(env.terminated, 1), row(env.obs, obsWidth), 1);
  }

  /** The current policy's logits [n, E, A] on the training copies. */
  private policyLogits(): Float32Array {
    const { env } = this.envs;
    this.policy.actorInputs(env.obs, env.numEnvs, this.stepInputs);
    return evaluateGroups(this.policy.actor, this.stepInputs, env.numEnvs, this.policy.agents);
  }

  state(): LearnerState {
    const arrays: Record<string, TypedArray> = { ...this.networkArrays() };
    addPrefixed(arrays, 'replay.', this.replay.snapshot());
    addPrefixed(arrays, 'updateRng.', this.updateRng.snapshot());
    Object.assign(arrays, this.heldArrays());
    const { episodeCounter } = this.envs.snapshot(arrays);
    const { actor, critics, logAlphaMoments } = this.policy;
    const steps = (network: NetworkParameters) => network.groups.map((g) => g.moments.step);
    return {
      meta: {
        learner: this.setup.learner,
        iteration: this.iteration,
        envSteps: this.envSteps,
        episodeCounter,
        adamSteps: { actor: steps(actor), critic1: steps(critics[0]), critic2: steps(critics[1]), logAlpha: logAlphaMoments.step },
        replaySize: this.replay.size,
        replayCursor: this.replay.cursor,
      },
      arrays,
    };
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== this.setup.learner) throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ${this.setup.learner}`);
    restoreArrays(this.networkArrays(), arrays, checkpointMisfit);
    const adamSteps = meta.adamSteps as { actor: number[]; critic1: number[]; critic2: number[]; logAlpha: number };
    const { actor, critics, logAlphaMoments } = this.policy;
    const setSteps = (network: NetworkParameters, steps: readonly number[]) => network.groups.forEach((g, i) => (g.moments.step = steps[i]));
    setSteps(actor, adamSteps.actor);
    setSteps(critics[0], adamSteps.critic1);
    setSteps(critics[1], adamSteps.critic2);
    logAlphaMoments.step = adamSteps.logAlpha;
    this.updateRng.restore(underPrefix(arrays, 'updateRng.'));
    restoreArrays(this.heldArrays(), arrays, checkpointMisfit);
    this.envs.restore(arrays, Number(meta.episodeCounter));
    this.replay.restore(underPrefix(arrays, 'replay.'), Number(meta.replaySize), Number(meta.replayCursor), checkpointMisfit);
    this.iteration = Number(meta.iteration);
    this.envSteps = Number(meta.envSteps);
  }

  dispose(): void {
    this.policy.dispose();
  }

  /** The running decisions an iteration can end inside (none with one step per decision: each ends with its step). */
  private heldArrays(): Record<string, TypedArray> {
    if (this.config.actionRepeat === 1) return {};
    return { 'held.obs': this.heldObs, 'held.actions': this.heldActions, 'held.rewards': this.heldRewards, 'held.discount': this.heldDiscount };
  }

  /** Live views of every trained array: networks with their Adam moments, targets, temperatures. */
  private networkArrays(): Record<string, TypedArray> {
    const { actor, critics, targets, logAlpha, logAlphaMoments } = this.policy;
    const arrays: Record<string, TypedArray> = { logAlpha, 'logAlpha.adam1': logAlphaMoments.first, 'logAlpha.adam2': logAlphaMoments.second };
    addPrefixed(arrays, 'actor.', parameterGroupArrays(actor.groups));
    addPrefixed(arrays, 'critic1.', parameterGroupArrays(critics[0].groups));
    addPrefixed(arrays, 'critic2.', parameterGroupArrays(critics[1].groups));
    targets.forEach((target, k) => target.groups.forEach((group, i) => (arrays[`target${k + 1}.${i}`] = group.params)));
    return arrays;
  }
}

/** The means over an iteration's updates; nothing when there were none (the divergence guard reads only what is there). */
export function updateMetrics(stats: readonly SacUpdateStats[]): IterationMetrics {
  if (stats.length === 0) return {};
  const over = (pick: (s: SacUpdateStats) => number) => mean(stats.map(pick));
  return {
    'loss/actor': over((s) => s.actorLoss),
    'loss/critic': over((s) => s.criticLoss),
    entropy: over((s) => s.entropy),
    alpha: over((s) => s.alpha),
    'q/mean': over((s) => s.q),
    'q/target': over((s) => s.target),
  };
}
