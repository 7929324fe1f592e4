/**
 * LTDE's deployed policy (src/main/rl/learners/ltde.ts): the teams' energy-based actors
 * routing every class by pi itself, and the actor inputs the learner's gradient shares.
 */
import type { BatchedEnv } from '../../sim/env.ts';
import { LOGIT_LIMIT, type RoutingEnv } from '../../sim/routing.ts';
import type { PolicyHead } from '../core/distributions.ts';
import type { PolicyOutput, TrainedPolicy } from '../core/trainedPolicy.ts';
import { evaluateTwoLayer, type TwoLayerNet } from '../core/twoLayerNet.ts';
import type { Team } from './ltdeTeams.ts';

/**
 * The teams' actors as a policy: a vehicle of class d at node s takes outgoing link a with
 * probability pi_s(a) = softmax_a(tau f(zeta_a; theta_s) - beta detour_a) (the
 * mean-field limit of infinitely many vehicles per team), so a
 * routing choice's action is the log of its share. Stored frames carry that logit as a
 * Gaussian mean with standard deviation 0. The team critics are re-estimated for every
 * iteration's policy on its own batch, so there is no value per state to report: NaN.
 */
export class LtdePolicy implements TrainedPolicy {
  readonly head: PolicyHead = { kind: 'gaussian', actionSize: 1 };
  /** pi of every agent after probabilitiesAt. */
  readonly probabilities: Float64Array;
  private readonly logits: Float64Array;
  private readonly deterministicLogStd: Float32Array;
  /** One actor input: the observation (boundedInputs: log(1 + x) of it), then (choiceIdentity) the one-hot of the choice within its team. */
  private readonly actorInput: Float64Array;

  constructor(
    readonly spec: RoutingEnv['spec'],
    readonly teams: readonly Team[],
    private readonly temperature: number,
    /** Per agent, beta (detourPenalty) on a detour link, else 0. */
    private readonly penalty: Float64Array,
    private readonly inputs: { boundedInputs: boolean; choiceIdentity: boolean },
    /** Route by each team's averageActor (the deployed policy under actorAverageFrom) instead of its actor (the iterate that collects and steps). */
    private readonly averaged = false,
  ) {
    this.probabilities = new Float64Array(spec.nAgents);
    this.logits = new Float64Array(spec.nAgents);
    this.deterministicLogStd = new Float32Array(spec.nAgents).fill(-Infinity);
    this.actorInput = new Float64Array(Math.max(...teams.map((team) => team.actor.inputDim), spec.obsDim));
  }

  /** The network this policy routes a team by. */
  actorOf(team: Team): TwoLayerNet {
    return this.averaged ? team.averageActor : team.actor;
  }

  /** The input of the k-th agent of a team's actor, its observation at obs[offset ...]. */
  actorFeatures(team: Team, k: number, obs: Float64Array, offset: number): Float64Array {
    const { obsDim } = this.spec;
    const input = this.actorInput;
    for (let j = 0; j < obsDim; j++) input[j] = this.inputs.boundedInputs ? Math.log1p(obs[offset + j]) : obs[offset + j];
    if (this.inputs.choiceIdentity) {
      input.fill(0, obsDim, obsDim + team.agents.length);
      input[obsDim + k] = 1;
    }
    return input;
  }

  /** pi of every agent from observations obs[offset ...]: the softmax of tau f - beta detour over each class's links at its node. */
  probabilitiesAt(obs: Float64Array, offset: number): Float64Array {
    const { obsDim } = this.spec;
    const { logits, probabilities } = this;
    for (const team of this.teams) {
      for (let k = 0; k < team.agents.length; k++) {
        const i = team.agents[k];
        logits[i] = this.temperature * evaluateTwoLayer(this.actorOf(team), this.actorFeatures(team, k, obs, offset + i * obsDim)) - this.penalty[i];
      }
      for (let g = 0; g + 1 < team.groupStart.length; g++) {
        let largest = -Infinity;
        for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) largest = Math.max(largest, logits[team.agents[k]]);
        let total = 0;
        for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) total += Math.exp(logits[team.agents[k]] - largest);
        for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) probabilities[team.agents[k]] = Math.exp(logits[team.agents[k]] - largest) / total;
      }
    }
    return probabilities;
  }

  /** Routes every copy by pi itself: each choice's logit is log pi (the scenario's softmax then splits exactly by pi). */
  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const { nAgents, obsDim } = this.spec;
    const envs = env.numEnvs;
    const output = new Float32Array(nAgents * envs);
    for (let e = 0; e < envs; e++) {
      const pi = this.probabilitiesAt(env.obs, e * nAgents * obsDim);
      for (let i = 0; i < nAgents; i++) {
        const logit = logShare(pi[i]);
        actions[e * nAgents + i] = logit;
        output[i * envs + e] = logit;
      }
    }
    return { output, logStd: this.deterministicLogStd };
  }

  values(env: BatchedEnv): Float32Array {
    return new Float32Array(this.spec.nAgents * env.numEnvs).fill(NaN);
  }

  nonFiniteParameter(): string | null {
    const team = this.teams.find((t) => !this.actorOf(t).weights.every(Number.isFinite));
    return team ? `actor weights of the team at node ${team.node + 1} are not finite` : null;
  }

  dispose(): void {}
}

/** The routing logit that splits a class by share p (log p, within the scenario's logit range). */
export function logShare(p: number): number {
  return Math.max(-LOGIT_LIMIT, Math.log(p));
}
