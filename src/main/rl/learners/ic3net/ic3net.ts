/**
 * IC3Net (Singh, Jain, Sukhbaatar, ICLR 2019), the DMPO paper's communication baseline
 * (its section 6.2): agents keep a hidden state and talk to their graph neighbours.
 * Networks and variants: networks.ts. One iteration:
 *
 * 1. collect: a rollout of the stochastic policy (actions, and the paper variant's gates)
 *    on the training copies, the recurrent state carried across iterations (rollout.ts);
 * 2. advantages: each agent's learning reward, its own or spatially discounted over the
 *    agent graph (spatialDiscount, core/advantages.ts); GAE(gamma, lambda) on the value
 *    head's estimates (which regress that reward's return), normalised per agent
 *    (with skipFrozenSteps over the steps not taken from a frozen, collided state); then
 *    criticSteps - 1 Adam steps of the value head alone on the targets (valueHead.ts);
 * 3. update: one advantage actor-critic step on the whole batch (update.ts: the loss, and
 *    truncated BPTT for the paper variant), Adam at lrActor on every weight; the gradient
 *    clipped to gradientClipNorm and the rate decayed by lrDecayIterations where set (the
 *    presets do neither: docs/ic3net.md has what they did on catch-up).
 *
 * Choices where the specs are silent:
 * - Every agent sees its own observation; what it knows of its neighbours comes through the
 *   messages. The graph is the scenario's agent graph (N_i^1 without i itself).
 * - The state the rollout ends in carries into the next iteration (computed by the weights
 *   before the update), so episodes run on across iterations as in the other learners.
 */
import type { LearnerState } from '../../core/checkpoint.ts';
import { normalisePerAgent, spatiallyDiscountRewards } from '../../core/advantages.ts';
import { robbinsMonroRate } from '../../core/rateSchedule.ts';
import { episodeSummary, IterationClock, type IterationResult } from '../../core/iteration.ts';
import type { LearnerConfig } from '../../../../shared/learners.ts';
import type { Learner, LearnerSetup } from '../../core/learner.ts';
import { checkpointMisfit, learningRewardOf, TrainingEnvs } from '../../core/rollout.ts';
import { adamStep, clipGradientNorm } from '../../nn/adam.ts';
import { parameterGroupArrays, restoreParameterGroups, type ParameterGroup } from '../../nn/parameters.ts';
import { restoreArrays, underPrefix, type TypedArray } from '../../../sim/snapshot.ts';
import * as tf from '@tensorflow/tfjs-core';
import { HIDDEN_SIZE, Ic3netNetworks, type RecurrentState } from './networks.ts';
import { disposeState, Ic3netPolicy } from './policy.ts';
import { Ic3netRollout } from './rollout.ts';
import { ic3netGradient } from './update.ts';
import { explainedVariance, ValueHeadFit } from './valueHead.ts';

export class Ic3net implements Learner {
  readonly policy: Ic3netPolicy;
  readonly envs: TrainingEnvs;
  readonly rollout: Ic3netRollout;
  iteration = 0;
  envSteps = 0;
  private readonly networks: Ic3netNetworks;
  private readonly learningReward: (reward: number) => number;
  /** The training copies' recurrent state between steps (paper variant), else null. */
  private trainingState: RecurrentState | null;
  private readonly config: LearnerConfig<'ic3net'>;
  /** The value head's own steps (criticSteps > 1), else null. */
  private readonly valueFit: ValueHeadFit | null;

  constructor(readonly setup: LearnerSetup<'ic3net'>) {
    const config = (this.config = setup.config);
    this.envs = new TrainingEnvs(setup.scenario, setup.scenarioParams, config.numEnvs, setup.seed);
    const { spec } = this.envs.env;
    this.networks = new Ic3netNetworks(spec, config.ic3netVariant, config.initialLogStd, setup.seed);
    this.policy = new Ic3netPolicy(this.networks);
    this.rollout = new Ic3netRollout(spec.nAgents, config.rolloutSteps, config.numEnvs, spec.obsDim);
    this.learningReward = learningRewardOf(config);
    this.trainingState = this.networks.recurrent ? this.networks.zeroState(config.numEnvs) : null;
    this.valueFit = config.criticSteps > 1 ? new ValueHeadFit(this.networks) : null;
  }

  /** Every weight with its Adam state, then the value head's own Adam state where it takes steps of its own. */
  private get parameterGroups(): ParameterGroup[] {
    return [this.networks.parameters, ...(this.valueFit === null ? [] : [this.valueFit.group])];
  }

  async iterate(): Promise<IterationResult> {
    const { config, networks, rollout } = this;
    const clock = new IterationClock();
    const collected = rollout.collect(this.envs, this.policy, this.trainingState, this.learningReward);
    this.trainingState = collected.state;
    clock.rolloutDone();
    if (config.spatialDiscount > 0) spatiallyDiscountRewards(rollout.rewards, this.envs.env.spec.graph.distance, networks.agents, config.spatialDiscount);
    rollout.computeAdvantages(config.gamma, config.gaeLambda);
    const critic = { 'critic/explainedVariance': explainedVariance(rollout.values, rollout.returns) };
    if (this.valueFit !== null) this.valueFit.fit(rollout, config.criticSteps - 1, config.lrCritic);
    if (config.normaliseAdvantages) normalisePerAgent(rollout.advantages, networks.agents, config.skipFrozenSteps ? rollout.frozen : null);
    const { gradient, metrics } = ic3netGradient(networks, rollout, config);
    metrics.gradientNorm = clipGradientNorm(gradient, config.gradientClipNorm);
    adamStep(networks.parameters.params, gradient, networks.parameters.moments, { learningRate: robbinsMonroRate(config.lrActor, this.iteration, config.lrDecayIterations, 1) });
    networks.markChanged();
    this.iteration += 1;
    this.envSteps += rollout.samples;
    return { iteration: this.iteration, envSteps: this.envSteps, metrics: { ...metrics, ...critic, ...episodeSummary(collected.episodes), ...clock.metrics(rollout.samples) } };
  }

  /** Weights and Adam state (`net.*`), the training copies (`env.*`, `policyRng.*`, `runningReturn`) and their recurrent state (`recurrent.*`). */
  state(): LearnerState {
    const arrays: Record<string, TypedArray> = {};
    for (const [key, array] of Object.entries(parameterGroupArrays(this.parameterGroups))) arrays[`net.${key}`] = array;
    const { episodeCounter } = this.envs.snapshot(arrays);
    if (this.trainingState !== null) {
      arrays['recurrent.hidden'] = this.trainingState.hidden.dataSync() as Float32Array;
      arrays['recurrent.cell'] = this.trainingState.cell.dataSync() as Float32Array;
      arrays['recurrent.gate'] = this.trainingState.gate.dataSync() as Float32Array;
    }
    const meta = { learner: this.setup.learner, variant: this.config.ic3netVariant, iteration: this.iteration, envSteps: this.envSteps, episodeCounter, adamSteps: this.parameterGroups.map((group) => group.moments.step) };
    return { meta, arrays };
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== this.setup.learner) throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ${this.setup.learner}`);
    if (meta.variant !== this.config.ic3netVariant) throw new Error(`checkpoint is of ic3netVariant ${String(meta.variant)}, not ${this.config.ic3netVariant}`);
    restoreParameterGroups(this.parameterGroups, underPrefix(arrays, 'net.'), meta.adamSteps as number[], (key) => checkpointMisfit(`net.${key}`));
    this.networks.markChanged();
    this.policy.reset();
    this.envs.restore(arrays, Number(meta.episodeCounter));
    if (this.networks.recurrent) {
      const { agents } = this.networks;
      const copies = this.config.numEnvs;
      const saved = { hidden: new Float32Array(agents * copies * HIDDEN_SIZE), cell: new Float32Array(agents * copies * HIDDEN_SIZE), gate: new Float32Array(agents * copies) };
      restoreArrays(saved, underPrefix(arrays, 'recurrent.'), (key) => checkpointMisfit(`recurrent.${key}`));
      disposeState(this.trainingState);
      this.trainingState = {
        hidden: tf.tensor3d(saved.hidden, [agents, copies, HIDDEN_SIZE]),
        cell: tf.tensor3d(saved.cell, [agents, copies, HIDDEN_SIZE]),
        gate: tf.tensor3d(saved.gate, [agents, copies, 1]),
      };
    }
    this.iteration = Number(meta.iteration);
    this.envSteps = Number(meta.envSteps);
  }

  dispose(): void {
    disposeState(this.trainingState);
    this.trainingState = null;
    this.policy.dispose();
  }
}
