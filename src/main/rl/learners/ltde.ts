/**
 * LTDE: localized training, decentralized execution (the LTDE paper's Algorithms 1 and 2,
 * "Mean-Field Multi-Agent Reinforcement Learning: A Decentralized Network Approach") on the
 * network-routing scenario, whose nodes are the paper's states and whose vehicles are its
 * agents.
 *
 * - Teams: the vehicles at node s form team s. Its actor is the energy-based policy of
 *   eq. 4.4 with a two-layer ReLU energy f(.; theta_s) (core/twoLayerNet.ts): a vehicle of
 *   destination class d at s takes outgoing link a with probability
 *   pi_s(a) = softmax_a(tau f(zeta_{s,d,a}; theta_s)), zeta being the routing choice's
 *   observation (the class's mass at s and the link's load, time and route time).
 * - Team action h(s): the empirical split of `teamVehicles` vehicles per class drawn from
 *   pi_s (the paper's finite-N team of N mu(s) agents); the scenario routes the mass by it.
 *   Its score is grad log Pi = tau n sum_a (h_a - pi_a) phi(zeta_a): the centred feature
 *   Phi of eq. 4.7 for a histogram of n draws.
 * - Critic: per team the localized Q_s(mu(N_s^k), h(N_s^k); omega_s), a two-layer ReLU
 *   network of the masses and team actions of the nodes within kappa road hops (plus a
 *   constant input), trained by Algorithm 1: projected semigradient TD(0) on transitions of
 *   the iteration's episodes, and the running average omega-bar of its iterates. As in
 *   Algorithm 2, line 5, each iteration re-estimates Q for the current policy starting from
 *   omega(0).
 * - Actor (Algorithm 2): g_s = tau/((1-gamma)B) sum_l [sum_{y in N_s^k} Q_y] Phi_l (eq. 4.14),
 *   a projected ascent step of theta_s.
 * - Execution needs only the vehicle's own node: evaluation routes by pi itself (the
 *   mean-field limit of infinitely many vehicles per team).
 *
 * Choices where the paper is silent or Headway's `default` differs (docs/ltde.md measures each):
 * - `criticBaseline`: the Q-sum is taken relative to the same sum with team s's action
 *   replaced by its mean pi_s. That control variate depends on the state and the other
 *   teams' actions only, so the estimator stays unbiased; without it (the paper's estimator)
 *   the gradient is far noisier.
 * - `criticWarmStart`: Algorithm 1 starts from the previous iteration's critic instead of
 *   omega(0). From omega(0) its 15k TD steps learn the delayed effect of a team's split on the
 *   next team's cost at about half its size, so a team sees mostly its own cost and routes
 *   selfishly (on Braess it keeps a third of its mass on the bridge).
 * - `detourPenalty` beta: a link that brings its class no closer to its destination in
 *   free-flow time (a detour, which Dial's stochastic loading leaves out) has energy
 *   tau f(zeta; theta_s) - beta. With the paper's random energies alone (beta 0) the initial
 *   policy is a random walk that circles mass on a grid or Sioux Falls until the BPR costs
 *   explode (TSTT 1e17 on Sioux Falls); Braess has no detours.
 * - `choiceIdentity`: the energy also reads a one-hot of the choice (class and link) within
 *   its team. The paper's energy of the observation alone, one per team for all its classes,
 *   cannot hold the system optimum's splits on a grid: even exact marginal-cost gradients
 *   through it stall at 1.04 x SO, with the one-hot they reach 1.006 (docs/ltde.md).
 * - `actorEstimator` expected: the actor's direction is the sampled estimator's expectation
 *   over the team action, tau/((1-gamma)B) sum_l sum_a pi_a (G_a - sum_b pi_b G_b) phi_a with
 *   G_a = d(sum_y Q_y)/dh_a at h(s) = pi_s: the first-order expansion of Q(h) - Q(pi) under
 *   the multinomial covariance of n draws, (diag pi - pi pi^T)/n, cancels n. It drops the
 *   finite team's sampling noise from the actor step and takes the derivative where the
 *   evaluation routes, at the mean-field action pi (docs/ltde.md measures it on the grid).
 * - `boundedInputs`: the energy reads log(1 + x) of the observations. They are not bounded
 *   (a congested link's time grows with the fourth power of its load) and f is positively
 *   homogeneous, so on Sioux Falls random energies made hard choices that loaded small links
 *   and fed back (untrained TSTT up to 8e9 x SO; bounded: 6-11 x SO).
 * - `criticReturnSteps` n: the critics' TD targets sum n observed team rewards before they
 *   bootstrap (the paper's Algorithm 1 is TD(0), n 1). A split at s loads the next team's
 *   links one hop later; with TD(0) that cost reaches Q_y(t) only through the fitted
 *   Q_y(t+1), and near the grid's optimum the estimated direction leaned to the own link's
 *   cost (docs/ltde.md measures n 2 and 3).
 * - `actorAverageFrom` (Polyak-Ruppert): the deployed policy routes by the running mean of the
 *   actor iterates from that iteration on, while the iterates collect and step as before; and
 *   `lrActorDecayIterations`, a Robbins-Monro decay of the actor's step (core/rateSchedule.ts).
 *   Near the grid's optimum an actor step's direction is mostly the critics' error (cosine
 *   0.27 with the exact one), the noise floor both address; measured on the grid, averaging
 *   smooths a large step's wander and neither lowers the level reached (docs/ltde.md).
 */
import type { LearnerConfig } from '../../../shared/learners.ts';
import { createEnv } from '../../sim/index.ts';
import { RngStreams } from '../../sim/rng.ts';
import { isDetour, LOGIT_LIMIT, RoutingEnv } from '../../sim/routing.ts';
import { underPrefix, type TypedArray } from '../../sim/snapshot.ts';
import type { LearnerState } from '../core/checkpoint.ts';
import { IterationClock, type IterationResult } from '../core/iteration.ts';
import type { Learner, LearnerSetup } from '../core/learner.ts';
import { checkpointMisfit } from '../core/rollout.ts';
import { robbinsMonroRate } from '../core/rateSchedule.ts';
import { clipGradientNorm } from '../nn/adam.ts';
import { addInputGradient, averageInto, evaluateTwoLayer, addFeatures, projectedStep } from '../core/twoLayerNet.ts';
import { LtdePolicy, logShare } from './ltdePolicy.ts';
import { buildTeams, type Team } from './ltdeTeams.ts';

/** LTDE's settings (the learner catalogue, src/shared/learners.ts, documents each). */
export type LtdeConfig = LearnerConfig<'ltde'>;

export class Ltde implements Learner {
  /** The deployed policy: evaluation, stored checkpoints' routing and routing/steadyTstt (under actorAverageFrom the averaged actors). */
  readonly policy: LtdePolicy;
  /** The iterate's policy, which collects the episodes and whose actors step (the deployed one unless actorAverageFrom). */
  readonly behaviour: LtdePolicy;
  private readonly env: RoutingEnv;
  private readonly config: LtdeConfig;
  private readonly teams: Team[];
  private readonly rng = new RngStreams(1);
  private readonly logits: Float64Array;
  /** The batch: per sample (episode step), every agent's observation, pi and h, the team rewards and the node masses. */
  private readonly horizon: number;
  private readonly samples: number;
  private readonly obs: Float64Array;
  private readonly pi: Float64Array;
  private readonly h: Float64Array;
  private readonly teamReward: Float64Array;
  private readonly mass: Float64Array;
  private readonly input: Float64Array;
  private readonly direction: Float64Array;
  /** Per agent, its index within its team (team.agents[slot[i]] === i). */
  private readonly slot: Int32Array;
  /** expected estimator: d(sum_y Q_y)/d input of one critic, and G per agent of the team stepped. */
  private readonly inputGradient: Float64Array;
  private readonly choiceGradient: Float64Array;
  /** The first step of an episode its critic transitions and actor samples use (burnIn). */
  private readonly firstStep: number;
  iteration = 0;

  constructor(readonly setup: LearnerSetup<'ltde'>) {
    const env = createEnv(setup.scenario, setup.scenarioParams, 1);
    if (!(env instanceof RoutingEnv)) throw new Error(`ltde trains on network-routing, not ${setup.scenario}`);
    if (env.spec.nAgents === 0) throw new Error(`network-routing with policy '${String(env.spec.params.policy)}' has no routing agents to train; use policy=agents`);
    this.env = env;
    this.config = setup.config;
    this.rng.seed(0, setup.seed);
    const { nAgents, obsDim, horizon } = env.spec;
    this.horizon = horizon;
    this.samples = this.config.episodesPerIteration * horizon;
    this.firstStep = Math.min(horizon - 2, Math.floor(this.config.burnIn * horizon));
    this.teams = buildTeams(env, this.config, this.rng);
    const penalty = Float64Array.from({ length: nAgents }, (_, i) => (isDetour(env, i) ? this.config.detourPenalty : 0));
    this.behaviour = new LtdePolicy(env.spec, this.teams, this.config.temperature, penalty, this.config);
    this.policy = this.config.actorAverageFrom > 0 ? new LtdePolicy(env.spec, this.teams, this.config.temperature, penalty, this.config, true) : this.behaviour;
    this.logits = new Float64Array(nAgents);
    this.obs = new Float64Array(this.samples * nAgents * obsDim);
    this.pi = new Float64Array(this.samples * nAgents);
    this.h = new Float64Array(this.samples * nAgents);
    this.teamReward = new Float64Array(this.samples * this.teams.length);
    this.mass = new Float64Array(this.samples * env.nodeMass.length);
    const largestInput = Math.max(...this.teams.map((team) => team.inputKind.length), 1);
    const largestActor = Math.max(...this.teams.map((team) => team.actor.weights.length), 1);
    this.input = new Float64Array(largestInput + 1);
    this.direction = new Float64Array(Math.max(largestActor, ...this.teams.map((team) => team.critic.weights.length)));
    this.slot = new Int32Array(nAgents);
    for (const team of this.teams) team.agents.forEach((i, k) => (this.slot[i] = k));
    this.inputGradient = new Float64Array(largestInput + 1);
    this.choiceGradient = new Float64Array(Math.max(...this.teams.map((team) => team.agents.length), 1));
  }

  /** Environment steps of training: every iteration's episodes, whole. */
  get envSteps(): number {
    return this.iteration * this.samples;
  }

  /** One iteration: collect episodes with sampled team actions, estimate every Q_s (Algorithm 1), step every actor (Algorithm 2). */
  async iterate(): Promise<IterationResult> {
    const clock = new IterationClock();
    const trainReturn = this.collect();
    clock.rolloutDone();
    const criticResidual = this.fitCritics();
    const actorGradientNorm = this.stepActors();
    this.iteration++;
    const metrics = {
      'train/episodes': this.config.episodesPerIteration,
      'train/episodeReturn': trainReturn,
      // Mean squared TD residual over the last tenth of the critic steps.
      'loss/critic': criticResidual,
      // Mean over teams of the actor's ascent direction's norm, before gradientClipNorm.
      'actor/gradientNorm': actorGradientNorm,
      'routing/steadyTstt': this.steadyTstt(),
      // Under averaging, the iterate's own steady state beside the average's.
      ...(this.policy === this.behaviour ? {} : { 'routing/steadyTsttIterate': this.steadyTstt(this.behaviour) }),
      ...clock.metrics(this.samples),
    };
    return { iteration: this.iteration, envSteps: this.envSteps, metrics };
  }

  /** Steady-state TSTT of an episode routed by pi itself (the deterministic, mean-field policy; the deployed one unless given). */
  steadyTstt(policy = this.policy): number {
    const { env } = this;
    env.reset(0);
    while (!env.allDone()) {
      const pi = policy.probabilitiesAt(env.obs, 0);
      for (let i = 0; i < pi.length; i++) this.logits[i] = logShare(pi[i]);
      env.step(this.logits);
    }
    return env.steadyTstt();
  }

  /**
   * The actors' and critics' weights and the random stream (critics matter with criticWarmStart;
   * else each iteration starts afresh, Algorithm 2, line 5). The averaged actors only under
   * actorAverageFrom: without it the average is the actor itself, and a copy would double the
   * actors' share of every checkpoint.
   */
  state(): LearnerState {
    const arrays: Record<string, TypedArray> = {};
    this.teams.forEach((team, k) => {
      arrays[`team${k}.actor`] = team.actor.weights.slice();
      if (this.config.actorAverageFrom > 0) arrays[`team${k}.averageActor`] = team.averageActor.weights.slice();
      arrays[`team${k}.critic`] = team.critic.weights.slice();
    });
    const random = this.rng.snapshot();
    for (const [key, array] of Object.entries(random)) arrays[`rng.${key}`] = array.slice();
    return { meta: { learner: 'ltde', iteration: this.iteration, envSteps: this.envSteps }, arrays };
  }

  restore(state: LearnerState): void {
    const { meta, arrays } = state;
    if (meta.learner !== 'ltde') throw new Error(`checkpoint is of learner ${String(meta.learner)}, not ltde`);
    this.teams.forEach((team, k) => {
      const weights = arrays[`team${k}.actor`];
      if (!weights || weights.length !== team.actor.weights.length) throw new Error(checkpointMisfit(`team${k}.actor`));
      team.actor.weights.set(weights);
      const average = arrays[`team${k}.averageActor`];
      // Checkpoints without averaging (or from before it existed) carry no average; it is the actor until the average starts.
      if (average?.length === team.averageActor.weights.length) team.averageActor.weights.set(average);
      else if (this.config.actorAverageFrom > 0 && Number(meta.iteration) >= this.config.actorAverageFrom) throw new Error(checkpointMisfit(`team${k}.averageActor`));
      else team.averageActor.weights.set(weights);
      const critic = arrays[`team${k}.critic`];
      // Checkpoints from before warm starts carry no critics; only a warm start needs them.
      if (critic?.length === team.critic.weights.length) team.critic.weights.set(critic);
      else if (this.config.criticWarmStart) throw new Error(checkpointMisfit(`team${k}.critic`));
    });
    this.rng.restore(underPrefix(arrays, 'rng.'));
    this.iteration = Number(meta.iteration);
  }

  dispose(): void {}

  /** h(s) of sample l: the shares of n draws from pi_s per class. */
  private drawTeamActions(l: number): void {
    const { nAgents } = this.env.spec;
    const n = this.config.teamVehicles;
    const { probabilities } = this.behaviour;
    for (const team of this.teams) {
      for (let g = 0; g + 1 < team.groupStart.length; g++) {
        const first = team.groupStart[g];
        const end = team.groupStart[g + 1];
        for (let k = first; k < end; k++) this.h[l * nAgents + team.agents[k]] = 0;
        for (let draw = 0; draw < n; draw++) {
          let u = this.rng.uniform(0);
          let k = first;
          while (k < end - 1 && (u -= probabilities[team.agents[k]]) >= 0) k++;
          this.h[l * nAgents + team.agents[k]] += 1 / n;
        }
      }
    }
  }

  /** Collects the iteration's episodes (public for bench/ltde-gradient-check.ts, which estimates directions at a fixed policy); returns the mean return. */
  collect(): number {
    const { env, config, teams } = this;
    const { nAgents, obsDim } = env.spec;
    let totalReturn = 0;
    for (let episode = 0; episode < config.episodesPerIteration; episode++) {
      env.reset(this.setup.seed + this.iteration * config.episodesPerIteration + episode);
      for (let t = 0; t < this.horizon; t++) {
        const l = episode * this.horizon + t;
        this.obs.set(env.obs, l * nAgents * obsDim);
        this.mass.set(env.nodeMass, l * env.nodeMass.length);
        this.pi.set(this.behaviour.probabilitiesAt(env.obs, 0), l * nAgents);
        this.drawTeamActions(l);
        // The scenario's softmax of log h routes exactly the drawn shares (a share of 0 leaks e^-10 of the largest).
        for (let i = 0; i < nAgents; i++) this.logits[i] = this.h[l * nAgents + i] > 0 ? Math.log(this.h[l * nAgents + i]) : -LOGIT_LIMIT;
        env.step(this.logits);
        teams.forEach((team, k) => {
          let reward = 0;
          for (const i of team.agents) reward += env.rawReward[i];
          this.teamReward[l * teams.length + k] = reward * config.rewardScale;
          totalReturn += reward;
        });
      }
    }
    return totalReturn / config.episodesPerIteration;
  }

  /** Critic input zeta_s^k of sample l into this.input; `meanTeam` >= 0 puts pi instead of h for that team's agents. */
  private criticInput(team: Team, l: number, meanTeam: Team | null): Float64Array {
    const { env } = this;
    const { nAgents } = env.spec;
    const N = env.network.nodeCount;
    for (let k = 0; k < team.inputKind.length; k++) {
      const a = team.inputA[k];
      if (team.inputKind[k] === 0) {
        this.input[k] = this.mass[l * env.nodeMass.length + team.inputB[k] * N + a] / env.classDemand[team.inputB[k]];
      } else {
        const usePi = meanTeam !== null && env.network.linkFrom[env.choices.agentLink[a]] === meanTeam.node;
        this.input[k] = usePi ? this.pi[l * nAgents + a] : this.h[l * nAgents + a];
      }
    }
    this.input[team.inputKind.length] = 1;
    return this.input;
  }

  /**
   * Algorithm 1 for every team: T_critic projected TD steps from omega(0) (or the last critic,
   * criticWarmStart) on random transitions, averaged; returns the late mean squared TD residual.
   * TD(0) as the paper, or n-step targets (criticReturnSteps): a split's cost to the next team
   * arrives one hop later, and an n-step target holds it as an observed reward rather than only
   * through the fitted Q of the next step.
   */
  fitCritics(): number {
    const { config, teams } = this;
    const n = config.criticReturnSteps;
    // The last start whose n-step target stays in the episode (at least burnIn's first step).
    const lastStart = Math.max(this.firstStep, this.horizon - 1 - n);
    const steps = Math.min(n, this.horizon - 1 - lastStart);
    let residualSum = 0;
    let residualCount = 0;
    teams.forEach((team, k) => {
      if (!config.criticWarmStart) team.critic.weights.set(team.critic.initial);
      team.averageCritic.weights.set(team.critic.weights);
      const gradient = this.direction.subarray(0, team.critic.weights.length);
      for (let t = 0; t < config.criticSteps; t++) {
        const episode = this.rng.integer(0, 0, config.episodesPerIteration - 1);
        const l = episode * this.horizon + this.rng.integer(0, this.firstStep, lastStart);
        const next = evaluateTwoLayer(team.critic, this.criticInput(team, l + steps, null));
        // Evaluated last: this.input holds the current input for the step below.
        let residual = evaluateTwoLayer(team.critic, this.criticInput(team, l, null));
        for (let j = 0; j < steps; j++) residual -= Math.pow(config.gamma, j) * this.teamReward[(l + j) * teams.length + k];
        residual -= Math.pow(config.gamma, steps) * next;
        gradient.fill(0);
        addFeatures(team.critic, this.input, 0, -residual, gradient);
        projectedStep(team.critic, gradient, config.lrCritic, config.radius);
        averageInto(team.averageCritic, team.critic, t);
        if (t >= config.criticSteps * 0.9) {
          residualSum += residual * residual;
          residualCount++;
        }
      }
    });
    return residualSum / Math.max(1, residualCount);
  }

  /**
   * Algorithm 2: every actor's projected ascent step along the localized policy gradient (4.14),
   * clipped to gradientClipNorm, at lrActor or its Robbins-Monro decay (lrActorDecayIterations);
   * returns the mean norm before clipping. Then the deployed average (actorAverageFrom,
   * Polyak-Ruppert): near the optimum the step's direction is mostly the critics' error, so a
   * large step's iterates wander, and the deployed mean of the iterates from iteration K on
   * does not (on the grid it sits at the lower edge of their band; docs/ltde.md).
   */
  private stepActors(): number {
    const { config, teams } = this;
    const from = config.actorAverageFrom;
    // This step's iterate is number iteration + 1; n iterates in the average from iteration `from` on.
    const n = from > 0 ? this.iteration + 2 - from : 0;
    const rate = robbinsMonroRate(config.lrActor, this.iteration, config.lrActorDecayIterations, config.lrActorDecayExponent);
    let normSum = 0;
    for (const team of teams) {
      const gradient = this.actorDirection(team);
      normSum += clipGradientNorm(gradient, config.gradientClipNorm);
      projectedStep(team.actor, gradient, rate, config.radius);
      if (n >= 2) averageInto(team.averageActor, team.actor, n - 2);
      else team.averageActor.weights.set(team.actor.weights);
    }
    return normSum / teams.length;
  }

  /** A team actor's ascent direction (eq. 4.14, or its expectation: actorEstimator) on the collected batch, in a scratch array valid until the next call (the bench compares estimators on one batch). */
  actorDirection(team: Team, estimator = this.config.actorEstimator): Float64Array {
    const { config, teams, env } = this;
    const { nAgents, obsDim } = env.spec;
    // The samples from firstStep on in each episode (burnIn leaves out the network filling from empty).
    const B = this.config.episodesPerIteration * (this.horizon - this.firstStep);
    const gradient = this.direction.subarray(0, team.actor.weights.length);
    gradient.fill(0);
    const scale = config.temperature / ((1 - config.gamma) * B);
    const G = this.choiceGradient;
    for (let l = 0; l < this.samples; l++) {
      if (l % this.horizon < this.firstStep) continue;
      if (estimator === 'expected') {
        G.fill(0);
        for (const y of team.neighbours) this.addChoiceGradient(teams[y], team, l, G);
        for (let g = 0; g + 1 < team.groupStart.length; g++) {
          let mean = 0;
          for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) mean += this.pi[l * nAgents + team.agents[k]] * G[k];
          for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) {
            const i = team.agents[k];
            const weight = scale * this.pi[l * nAgents + i] * (G[k] - mean);
            if (weight !== 0) addFeatures(team.actor, this.behaviour.actorFeatures(team, k, this.obs, (l * nAgents + i) * obsDim), 0, weight, gradient);
          }
        }
        continue;
      }
      let qSum = 0;
      let baseline = 0;
      for (const y of team.neighbours) {
        const other = teams[y];
        qSum += evaluateTwoLayer(other.averageCritic, this.criticInput(other, l, null));
        if (config.criticBaseline) baseline += evaluateTwoLayer(other.averageCritic, this.criticInput(other, l, team));
      }
      const weight = (config.temperature * (qSum - baseline) * config.teamVehicles) / ((1 - config.gamma) * B);
      for (let k = 0; k < team.agents.length; k++) {
        const i = team.agents[k];
        const centred = this.h[l * nAgents + i] - this.pi[l * nAgents + i];
        if (centred !== 0) addFeatures(team.actor, this.behaviour.actorFeatures(team, k, this.obs, (l * nAgents + i) * obsDim), 0, weight * centred, gradient);
      }
    }
    return gradient;
  }

  /** G[k] += dQ_y/dh of the k-th agent of `team`, Q_y the averaged critic of `other` at sample l with team's action at its mean pi. */
  private addChoiceGradient(other: Team, team: Team, l: number, G: Float64Array): void {
    const { network, choices } = this.env;
    const input = this.criticInput(other, l, team);
    const derivative = this.inputGradient.subarray(0, other.averageCritic.inputDim);
    derivative.fill(0);
    addInputGradient(other.averageCritic, input, 0, 1, derivative);
    for (let k = 0; k < other.inputKind.length; k++) {
      if (other.inputKind[k] === 1 && network.linkFrom[choices.agentLink[other.inputA[k]]] === team.node) G[this.slot[other.inputA[k]]] += derivative[k];
    }
  }
}
