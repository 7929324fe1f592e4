/**
 * DADC, decentralised actor, decentralised critic (the DADC paper, section 5): every agent
 * runs its own copy of a coordinator learner on the common information only.
 *
 * Per agent: an AIS approximator (an RNN over the common observation Z_t and the previous
 * prescription parameters theta_{t-1}, trained with lambda * smoothL1(R_hat - R) +
 * (1 - lambda) * NLL under N(mean, I) of the next AIS, or of the next common observation:
 * aisTarget), a critic Q(X_t, theta_t) trained by
 * TD, and a coordinator actor over theta. theta parameterises a prescription
 * (coordinator.ts): agent k acts by softmax(theta[k, own local information, :]) on a discrete
 * local state, or by a linear softmax over its own observation on the CACC platoon. What is
 * common and what is local, and the team reward, come from the information structure
 * (information.ts: the tabular scenarios' own, the platoon's delayed broadcast). The three
 * parts learn at three timescales (a >> b >> c: approximator fastest, actor slowest).
 *
 * The common-information trick: every agent starts its networks from the same seed, draws
 * theta_t from its own copy of one common random stream (same seed), and learns from the
 * same common data (Z, theta, the team reward), so all copies agree on theta_t without
 * talking; only the action draw (a private stream per agent) uses local information. Being
 * equal, the copies are computed once unless computeCoordinatorOnce is off (coordinatorCopy.ts).
 *
 * One iteration, in the order it runs:
 *   1. collect: rolloutSteps steps of numEnvs copies with every agent's coordinator;
 *   2. updateApproximator: approximatorSteps Adam steps on the AIS loss over the window
 *      (unrolled from the window's first hidden state: truncated backpropagation through time);
 *   3. updateCritic: criticSteps steps of smoothL1(Q(X_t, theta_t), R_t + gamma Q(X_{t+1}, theta_{t+1}))
 *      with the targets fixed for the iteration (fitted TD);
 *   4. updateActor: actorSteps steps of the policy gradient ('actor-critic'), or PPO's
 *      clipped surrogate ('ppo'), on GAE advantages over the critic's TD errors with the
 *      state value V(X) = Q(X, mean(X)) (the paper's gradient uses Q(X_t, theta_t) itself;
 *      the TD errors estimate Q - V with less variance); or the critic's judgement alone
 *      (actorGradient every-choice over a finite space, deterministic: d Q(X, mean(X)) / d theta).
 * With normaliseCommon, Z_t is standardised by running statistics before the AIS sees it.
 * The networks are tiny and recurrent, so they run on a small differentiation tape in plain
 * JavaScript (tape.ts) with the core's Adam (nn/adam.ts); nothing here holds a tensor.
 * Choices where the paper is silent: the next-AIS target is not differentiated through (it
 * would pull the AIS toward a constant); transitions that end an episode (the horizon of an
 * infinite-horizon problem) are left out of the TD and next-AIS (or next-observation) losses rather than
 * bootstrapped across episodes.
 */
import type { LearnerConfig } from '../../../../shared/learners.ts';
import type { BatchedEnv } from '../../../sim/env.ts';
import { createEnv } from '../../../sim/index.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { argmax, sampleCategorical } from '../../core/distributions.ts';
import { IterationClock, mean, type IterationResult } from '../../core/iteration.ts';
import type { LearnerState } from '../../core/checkpoint.ts';
import type { Learner, LearnerSetup } from '../../core/learner.ts';
import { robbinsMonroRate } from '../../core/rateSchedule.ts';
import { RunningNormaliser } from '../../core/runningNormaliser.ts';
import { learningRewardOf, TrainingEnvs } from '../../core/rollout.ts';
import { dadcState, restoreDadc } from './checkpoint.ts';
import { choiceAdvantages, prescriptionSpace, type PrescriptionSpace } from './coordinator.ts';
import { informationOf, teamReturn, teamReward, type InformationStructure } from './information.ts';
import { CoordinatorCopy } from './coordinatorCopy.ts';
import { smoothL1, smoothL1Slope } from './networks.ts';
import { DadcPolicy } from './policy.ts';
import { DrawnStd } from './drawnStd.ts';
import { Tape } from './tape.ts';

/** DADC's settings (the learner catalogue, src/shared/learners.ts, documents each). */
export type DadcConfig = LearnerConfig<'dadc'>;

/**
 * Exponents of the Robbins-Monro decay (lrDecayIterations): approximator fastest, then the
 * critic, the actor slowest (actorDecayExponent, default 1), so the critic's rate over the
 * approximator's and the actor's over the critic's go to 0 as the paper's three timescales require.
 */
const DECAY_EXPONENT = { approximator: 0.6, critic: 0.8 } as const;

/** Stream seed offset of the private action streams (one per agent). */
const PRIVATE_SEED_OFFSET = 0x9a11;

/** One agent: the coordinator copy it runs (its own, or the one computed for all) and its private stream. */
class DadcAgent {
  readonly private = new RngStreams(1);

  constructor(
    readonly index: number,
    readonly coordinator: CoordinatorCopy,
    seed: number,
  ) {
    this.private.seed(0, seed + PRIVATE_SEED_OFFSET + index);
  }
}

export class Dadc implements Learner {
  readonly policy: DadcPolicy;
  readonly config: DadcConfig;
  readonly envs: TrainingEnvs;
  readonly env: BatchedEnv;
  readonly agents: DadcAgent[];
  /** The coordinator copies the agents run: one per agent, or one for all (config.computeCoordinatorOnce). */
  readonly coordinators: CoordinatorCopy[];
  /** The coordinator's prescription space (config.prescriptions). */
  readonly space: PrescriptionSpace;
  /** Where the coordinators read the common information (information.ts). */
  readonly information: InformationStructure;
  /** One agent's Z_t in every copy (scratch). */
  private readonly common: Float64Array;
  /** normaliseCommon: the running statistics Z_t is standardised by (null: Z_t as observed). */
  readonly commonScale: RunningNormaliser | null;
  private readonly learningReward: (reward: number) => number;
  /** One agent's action logits (scratch). */
  private readonly actionLogits: Float64Array;
  private readonly actions: Float64Array;
  /** Per env copy: the discounted team return of its episode so far, and its steps. */
  readonly runningDiscounted: Float64Array;
  readonly runningSteps: Int32Array;
  iteration = 0;
  envSteps = 0;
  /** coordinatorStd state: the std of this collect's draws. */
  private readonly drawnStd = new DrawnStd();

  constructor(readonly setup: LearnerSetup<'dadc'>) {
    const { scenario, scenarioParams, config, seed } = setup;
    this.config = config;
    this.envs = new TrainingEnvs(scenario, scenarioParams, config.numEnvs, seed);
    const env = this.envs.env;
    this.env = env;
    const { nAgents, action } = env.spec;
    if (action.kind !== 'discrete') throw new Error(`dadc needs a scenario with discrete actions, not ${scenario}`);
    this.space = prescriptionSpace(env, config);
    this.information = informationOf(env, config.numEnvs);
    this.common = new Float64Array(config.numEnvs * this.information.commonWidth);
    this.commonScale = config.normaliseCommon ? new RunningNormaliser(this.information.commonWidth) : null;
    this.learningReward = learningRewardOf(config);
    this.actionLogits = new Float64Array(action.n);
    const shape = { common: this.information.commonWidth, prescription: this.space.size };
    this.coordinators = Array.from({ length: config.computeCoordinatorOnce ? 1 : nAgents }, (_, k) => new CoordinatorCopy(k, config, shape, seed));
    this.agents = Array.from({ length: nAgents }, (_, k) => new DadcAgent(k, this.coordinators[config.computeCoordinatorOnce ? 0 : k], seed));
    this.actions = new Float64Array(config.numEnvs * nAgents);
    this.runningDiscounted = new Float64Array(config.numEnvs);
    this.runningSteps = new Int32Array(config.numEnvs);
    this.observe(0);
    this.policy = new DadcPolicy(
      env.spec,
      this.agents.map((agent) => agent.coordinator.networks),
      this.space,
      (copies) => informationOf(env, copies),
      this.commonScale,
    );
  }

  async iterate(): Promise<IterationResult> {
    const clock = new IterationClock();
    const episodes = this.collect();
    clock.rolloutDone();
    const metrics: Record<string, number> = {};
    for (const coordinator of this.coordinators) {
      const approximator = this.updateApproximator(coordinator);
      const critic = this.updateCritic(coordinator);
      const actor = this.updateActor(coordinator);
      coordinator.replay.keep(coordinator.window);
      coordinator.window.carryOver();
      if (coordinator.firstAgent === 0) Object.assign(metrics, { 'loss/approximator': approximator, 'loss/critic': critic, 'loss/actor': actor });
    }
    const samples = this.config.rolloutSteps * this.config.numEnvs;
    this.iteration += 1;
    this.envSteps += samples;
    Object.assign(metrics, {
      'train/episodes': episodes.returns.length,
      'train/episodeReturn': mean(episodes.returns),
      'train/discountedReturn': mean(episodes.discounted),
      'train/meanReward': episodes.rewardSum / (this.config.rolloutSteps * this.config.numEnvs),
      ...this.stdMetrics(),
      ...clock.metrics(samples),
    });
    return { iteration: this.iteration, envSteps: this.envSteps, metrics };
  }

  /** The coordinator's std, mean over the prescription parameters: of its one vector, or with a per-state log std over this iteration's draws (drawnStd.ts). */
  private stdMetrics(): Record<string, number> {
    const { logStd } = this.coordinators[0].networks;
    return logStd ? { 'prescription/std': mean(Array.from(logStd.value, Math.exp)) } : this.drawnStd.metrics();
  }

  /** 1. Every agent picks theta_t from its copy of the common stream and its action from its local information; the copies step. */
  collect(): { returns: number[]; discounted: number[]; rewardSum: number } {
    const { env, config, agents, coordinators } = this;
    const { nAgents, obsDim } = env.spec;
    const returns: number[] = [];
    const discounted: number[] = [];
    let rewardSum = 0;
    this.drawnStd.begin();
    for (let t = 0; t < config.rolloutSteps; t++) {
      const thetas = new Map(coordinators.map((coordinator) => [coordinator, this.coordinate(coordinator, t)]));
      for (const agent of agents) {
        const theta = thetas.get(agent.coordinator)!;
        for (let e = 0; e < config.numEnvs; e++) {
          this.actions[e * nAgents + agent.index] = this.passiveAction(theta, e, agent.index, (e * nAgents + agent.index) * obsDim, agent.private);
        }
      }
      env.step(this.actions);
      for (let e = 0; e < config.numEnvs; e++) {
        const reward = teamReward(env, env.rawReward, e);
        const learning = this.learningReward(teamReward(env, env.reward, e));
        rewardSum += reward;
        this.runningDiscounted[e] += config.gamma ** this.runningSteps[e]++ * reward;
        const ended = this.envs.addStep(e);
        for (const coordinator of coordinators) coordinator.window.record(t, e, learning, ended !== null);
        if (ended !== null) {
          returns.push(teamReturn(env, ended));
          discounted.push(this.runningDiscounted[e]);
          this.runningDiscounted[e] = 0;
          this.runningSteps[e] = 0;
        }
      }
      this.envs.resetEnded();
      this.observe(t + 1);
    }
    return { returns, discounted, rewardSum };
  }

  /** Every coordinator's window stores Z_t of the current state (standardised by the statistics of every Z seen so far with normaliseCommon). */
  private observe(t: number): void {
    const copies = this.config.numEnvs;
    this.information.see(this.env);
    for (const coordinator of this.coordinators) {
      this.information.common(this.env, coordinator.firstAgent, this.common);
      // Z is common data: every coordinator would keep the same statistics; they are kept once.
      if (this.commonScale && coordinator === this.coordinators[0]) this.commonScale.update(this.common, copies);
      this.commonScale?.apply(this.common, copies);
      coordinator.window.observe(t, this.common);
    }
  }

  /** The coordinator's X_t and its theta_t in every env copy, theta drawn from its copy of the common stream; returns theta [E, P]. */
  coordinate(coordinator: CoordinatorCopy, t: number): Float64Array {
    const { window, networks } = coordinator;
    const tape = new Tape(false);
    const x = networks.encode(tape, window.hiddenMatrix(tape), window.commonMatrix(tape, t), window.previousMatrix(tape));
    const { mean: head, logStd } = networks.actor(tape, x);
    const theta = new Float64Array(this.config.numEnvs * this.space.size);
    const logProbability = new Float64Array(this.config.numEnvs);
    this.space.sample(head, logStd, coordinator.common, theta, logProbability);
    if (networks.logStd === null && coordinator === this.coordinators[0]) this.drawnStd.record(logStd, this.env.steps);
    window.act(t, x.value, theta, logProbability);
    return theta;
  }

  /** A part's learning rate this iteration: its initial rate, decayed when lrDecayIterations > 0. */
  private rate(initial: number, part: keyof typeof DECAY_EXPONENT | 'actor'): number {
    // actorDecayStart: the actor keeps its rate until then, its schedule counted from there.
    const iteration = part === 'actor' ? Math.max(0, this.iteration - this.config.actorDecayStart) : this.iteration;
    const exponent = part === 'actor' ? this.config.actorDecayExponent : DECAY_EXPONENT[part];
    return robbinsMonroRate(initial, iteration, this.config.lrDecayIterations, exponent);
  }

  /**
   * 2. The AIS loss over the window: lambda * smoothL1(R_hat - R) + (1 - lambda) * NLL under
   * N(mean, I) of the next AIS X_{t+1} or, with aisTarget next-observation, of the next common
   * observation Z_{t+1}.
   */
  private updateApproximator(coordinator: CoordinatorCopy): number {
    const { aisLambda: lambda, approximatorSteps, lrApproximator, aisSize: h, aisTarget } = this.config;
    const { window, networks } = coordinator;
    const rows = window.rows;
    const n = networks.shape.next;
    const rate = this.rate(lrApproximator, 'approximator');
    let loss = NaN;
    for (let s = 0; s < approximatorSteps; s++) {
      networks.zeroGradients('approximator');
      const tape = new Tape();
      const ais = window.unroll(tape, networks);
      const predicted = networks.predict(tape, tape.rowsOf(ais, 0, rows), window.thetaMatrix(tape));
      // The target is not differentiated through (the next AIS: it would pull the AIS toward a constant).
      const next = aisTarget === 'next-observation' ? window.nextCommon() : ais.value.subarray(window.copies * h);
      loss = 0;
      for (let r = 0; r < rows; r++) {
        const d = predicted.reward.value[r] - window.reward[r];
        loss += (lambda * smoothL1(d)) / rows;
        predicted.reward.grad[r] = (lambda * smoothL1Slope(d)) / rows;
        const weight = ((1 - lambda) * window.continuing[r]) / rows;
        for (let k = 0; k < n; k++) {
          const diff = predicted.next.value[r * n + k] - next[r * n + k];
          loss += 0.5 * weight * diff * diff;
          predicted.next.grad[r * n + k] = weight * diff;
        }
      }
      tape.backward();
      coordinator.adam('approximator', rate);
    }
    return loss;
  }

  /**
   * 3. Fitted TD: smoothL1(Q(X_t, theta_t), R_t + gamma Q(X_{t+1}, theta_{t+1})), targets fixed for the iteration, on transitions that
   * continue, of the current window and the replayed ones (criticReplayWindows), each unrolled with the current encoder.
   */
  private updateCritic(coordinator: CoordinatorCopy): number {
    const { networks } = coordinator;
    const { gamma, criticSteps, lrCritic, aisSize: h } = this.config;
    const windows = [coordinator.window, ...coordinator.replay.held()];
    const width = this.space.size;
    const perWindow = coordinator.window.rows - coordinator.window.copies;
    const rows = perWindow * windows.length;
    const ais = new Float64Array(rows * h);
    const theta = new Float64Array(rows * width);
    const target = new Float64Array(rows);
    const continuing = new Float64Array(rows);
    const fixed = new Tape(false);
    windows.forEach((window, w) => {
      const unrolled = window.unroll(fixed, networks);
      const nextQ = networks.q(fixed, fixed.rowsOf(unrolled, window.copies, perWindow), window.thetaMatrix(fixed, 1, window.steps - 1));
      ais.set(unrolled.value.subarray(0, perWindow * h), w * perWindow * h);
      theta.set(window.thetaMatrix(fixed, 0, window.steps - 1).value, w * perWindow * width);
      continuing.set(window.continuing.subarray(0, perWindow), w * perWindow);
      for (let r = 0; r < perWindow; r++) target[w * perWindow + r] = window.reward[r] + gamma * nextQ.value[r];
    });
    let count = 0;
    for (let r = 0; r < rows; r++) count += continuing[r];
    const rate = this.rate(lrCritic, 'critic');
    let loss = NaN;
    for (let s = 0; s < criticSteps; s++) {
      networks.zeroGradients('critic');
      const tape = new Tape();
      const q = networks.q(tape, tape.constant(ais, rows, h), tape.constant(theta, rows, width));
      loss = 0;
      for (let r = 0; r < rows; r++) {
        const d = q.value[r] - target[r];
        loss += (continuing[r] * smoothL1(d)) / Math.max(1, count);
        q.grad[r] = (continuing[r] * smoothL1Slope(d)) / Math.max(1, count);
      }
      tape.backward();
      coordinator.adam('critic', rate);
    }
    return loss;
  }

  /**
   * 4. The coordinator's policy gradient, plain ('actor-critic') or PPO-clipped, with GAE(lambda)
   * advantages over the critic's TD errors, V(X) = Q(X, mean(X)), normalised over the window;
   * or, by actorGradient, the expectation over every choice or the deterministic gradient through the critic.
   */
  private updateActor(coordinator: CoordinatorCopy): number {
    const { window, networks } = coordinator;
    const { framework, actorSteps, lrActor, clipEpsilon, aisSize: h, gamma, gaeLambda, entropyCoef, actorGradient } = this.config;
    const rows = window.rows;
    const copies = window.copies;
    const fixed = new Tape(false);
    const everyAis = window.unroll(fixed, networks);
    const ais = fixed.rowsOf(everyAis, 0, rows);
    const values = this.space.stateValues(networks.actorMean(fixed, everyAis), (theta) => networks.q(fixed, everyAis, theta).value);
    const advantage = new Float64Array(rows);
    for (let e = 0; e < copies; e++) {
      let running = 0;
      for (let t = window.steps - 1; t >= 0; t--) {
        const r = t * copies + e;
        const continuing = window.continuing[r];
        // The horizon cuts an infinite-horizon problem: its last step bootstraps from its own state's value.
        const next = continuing === 1 ? values[r + copies] : values[r];
        const delta = window.reward[r] + gamma * next - values[r];
        running = delta + gamma * gaeLambda * continuing * running;
        advantage[r] = running;
      }
    }
    normalised(advantage);
    const logProbability = new Float64Array(rows);
    const weight = new Float64Array(rows);
    const rate = this.rate(lrActor, 'actor');
    const everyChoice =
      actorGradient === 'every-choice' ? choiceAdvantages(this.space, networks.actor(fixed, ais), (theta) => networks.q(fixed, ais, theta).value) : null;
    let loss = NaN;
    for (let s = 0; s < actorSteps; s++) {
      networks.zeroGradients('actor');
      const tape = new Tape();
      const aisRows = tape.constant(ais.value, rows, h);
      const { mean: meanTheta, logStd } = networks.actor(tape, aisRows);
      if (everyChoice || actorGradient === 'deterministic') {
        if (everyChoice) {
          // The expectation over every choice replaces the sampled choice's score: the critic alone weighs them.
          loss = -this.space.seedEveryChoiceGradient!(meanTheta, everyChoice, 1 / rows);
        } else {
          // The deterministic policy gradient: ascend the critic's Q(X, mean(X)) through theta, without the noise of the draw or of what followed it.
          const q = networks.q(tape, aisRows, meanTheta);
          loss = -mean(Array.from(q.value));
          q.grad.fill(-1 / rows);
        }
        loss -= entropyCoef * this.space.seedEntropyGradient(meanTheta, logStd, -entropyCoef / rows);
        tape.backward();
        // The backward pass also reached the critic's weights; the critic learns from its TD loss alone.
        networks.zeroGradients('critic');
        coordinator.adam('actor', rate);
        continue;
      }
      this.space.logDensity(window.theta, meanTheta, logStd, logProbability);
      loss = 0;
      for (let r = 0; r < rows; r++) {
        const a = advantage[r];
        if (framework === 'actor-critic') {
          loss -= (a * logProbability[r]) / rows;
          weight[r] = -a / rows;
        } else {
          const ratio = Math.exp(logProbability[r] - window.logProbability[r]);
          const clipped = Math.min(Math.max(ratio, 1 - clipEpsilon), 1 + clipEpsilon);
          loss -= Math.min(ratio * a, clipped * a) / rows;
          // The gradient flows through the unclipped term only where it is the smaller one.
          weight[r] = ratio * a <= clipped * a ? (-a * ratio) / rows : 0;
        }
      }
      // d loss / d(mean, logStd) = sum_r weight_r * d log psi_r: seeded, then through the actor's layers.
      this.space.seedGradient(window.theta, meanTheta, logStd, weight);
      // The entropy bonus keeps the coordinator from settling on one prescription before the critic has compared them.
      loss -= entropyCoef * this.space.seedEntropyGradient(meanTheta, logStd, -entropyCoef / rows);
      tape.backward();
      coordinator.adam('actor', rate);
    }
    return loss;
  }

  /**
   * The team's return over `episodes` fresh episodes (copies seeded from `seed`) with the
   * coordinator acting on its greedy prescription (the mean theta, or the most probable
   * opportunity); each agent still draws its action from a Boltzmann prescription, from its own
   * evaluation stream.
   * Returns the mean plain and discounted (gamma) team return, and the standard error of the
   * discounted one (its spread over episodes / sqrt(episodes)). `scenarioParams`: of the
   * evaluation's episodes, by default the training's (bench/dadc.ts trains on shorter episodes
   * with --train-horizon and evaluates on the scenario's own).
   */
  evaluate(episodes: number, seed: number, scenarioParams = this.setup.scenarioParams): { meanReturn: number; meanDiscountedReturn: number; discountedStandardError: number } {
    const env = createEnv(this.setup.scenario, scenarioParams, episodes).reset(seed);
    const policy = this.deployedPolicy(env, seed);
    const { nAgents, horizon } = env.spec;
    const actions = new Float64Array(episodes * nAgents);
    let total = 0;
    const discounted = new Float64Array(episodes);
    for (let t = 0; t < horizon; t++) {
      policy.decide(env, actions);
      env.step(actions);
      for (let e = 0; e < episodes; e++) {
        const reward = teamReward(env, env.rawReward, e);
        total += reward;
        discounted[e] += this.config.gamma ** t * reward;
      }
    }
    const meanDiscountedReturn = mean(Array.from(discounted));
    let variance = 0;
    for (const d of discounted) variance += (d - meanDiscountedReturn) ** 2 / episodes;
    return { meanReturn: total / episodes, meanDiscountedReturn, discountedStandardError: Math.sqrt(variance / episodes) };
  }

  /** The coordinators as evaluate deploys them on `env`: greedy prescriptions, each agent's action drawn from its own evaluation stream seeded from `seed`. */
  deployedPolicy(env: BatchedEnv, seed: number): DadcPolicy {
    const streams = this.agents.map((agent) => {
      const stream = new RngStreams(1);
      stream.seed(0, seed + PRIVATE_SEED_OFFSET + agent.index);
      return stream;
    });
    return new DadcPolicy(
      env.spec,
      this.agents.map((agent) => agent.coordinator.networks),
      this.space,
      (copies) => informationOf(env, copies),
      this.commonScale,
      (k, logits, width) => this.chooseAction(logits, width, streams[k]),
    );
  }

  /** Agent k's action on its local information (its observation row at `row`) under row e of theta (see chooseAction). */
  private passiveAction(theta: Float64Array, e: number, k: number, row: number, stream: RngStreams): number {
    this.space.actionLogits(theta, e, k, this.env.obs, row, this.actionLogits, 0);
    return this.chooseAction(this.actionLogits, this.actionLogits.length, stream);
  }

  /** Drawn from the agent's private stream (boltzmann), or the prescription's own action (opportunities). */
  private chooseAction(logits: Float64Array, width: number, stream: RngStreams): number {
    return this.space.stochasticActions ? sampleCategorical(logits, 0, width, stream.uniform(0)) : argmax(logits, 0, width);
  }

  /** Everything needed to continue exactly (checkpoint.ts). */
  state(): LearnerState {
    return dadcState(this);
  }

  dispose(): void {}

  restore(state: LearnerState): void {
    const { iteration, envSteps } = restoreDadc(this, state);
    this.iteration = iteration;
    this.envSteps = envSteps;
  }
}

/** (x - mean) / (std + 1e-8), in place. */
function normalised(values: Float64Array): Float64Array {
  const m = mean(Array.from(values));
  let variance = 0;
  for (const v of values) variance += (v - m) ** 2;
  const std = Math.sqrt(variance / values.length);
  for (let k = 0; k < values.length; k++) values[k] = (values[k] - m) / (std + 1e-8);
  return values;
}
