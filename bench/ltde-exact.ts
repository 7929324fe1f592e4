/**
 * The policy gradient LTDE estimates, computed exactly on a road network's steady state
 * (docs/ltde.md, the grid diagnosis), shared by bench/ltde-policy-class.ts (descents on it)
 * and bench/ltde-gradient-check.ts (the learner's estimate against it).
 *
 * In steady state a split ratio p (class d, link a from node s) costs, per unit of the mass
 * M_ds it routes, the marginal cost of its link plus what follows. LTDE's actor of s sums the
 * team Q-values within kappa road hops, discounted by gamma per hop, so the cost it sees is
 * C_da = mc_a + gamma W_d(to a) with W of depth kappa: the marginal costs of the links the mass
 * takes over the next kappa hops, discounted (mc = t + x t', the system-optimum's link cost).
 */
import type { LtdePolicy } from '../src/main/rl/learners/ltdePolicy.ts';
import { addFeatures } from '../src/main/rl/core/twoLayerNet.ts';
import type { RoutingEnv } from '../src/main/sim/routing.ts';
import { linkTime, marginalLinkCost } from '../src/main/sim/network/roadNetwork.ts';

/** Actor step per unit of the exact direction (M p (C - mean C) / TSTT(SO)): the descents of docs/ltde.md. */
export const EXACT_ACTOR_STEP = 20;
/** Sweeps of the node-throughput recursion (mass leaves within the longest route; loops decay). */
const THROUGHPUT_SWEEPS = 400;

/** Steady state of split ratios p [class, link]: node throughput M [class, node] (per hour), link flows, marginal costs. */
export class SteadyState {
  readonly split: Float64Array;
  readonly throughput: Float64Array;
  readonly flow: Float64Array;
  readonly marginal: Float64Array;
  readonly choiceCost: Float64Array;
  private readonly origin: Float64Array;
  private readonly next: Float64Array;
  private readonly depth: Float64Array;

  /** onward: the share of the onward cost W the actor sees (1: exact critics; below 1: critics that learn the next hops' cost in part). */
  constructor(
    readonly env: RoutingEnv,
    readonly kappa: number,
    readonly gamma: number,
    readonly onward = 1,
  ) {
    const { network } = env;
    const L = network.linkCount;
    const N = network.nodeCount;
    const D = network.destinations.length;
    this.split = new Float64Array(D * L);
    this.throughput = new Float64Array(D * N);
    this.flow = new Float64Array(L);
    this.marginal = new Float64Array(L);
    this.choiceCost = new Float64Array(D * L);
    this.origin = new Float64Array(D * N);
    this.next = new Float64Array(D * N);
    this.depth = new Float64Array(D * N);
    network.odRate.forEach((rate, i) => (this.origin[network.destinationIndex[network.odDestination[i]] * N + network.odOrigin[i]] += rate));
  }

  /** Flows and marginal costs of this.split; returns the TSTT. */
  solve(): number {
    const { network } = this.env;
    const L = network.linkCount;
    const N = network.nodeCount;
    const D = network.destinations.length;
    const { throughput, next, split } = this;
    throughput.fill(0);
    for (let sweep = 0; sweep < THROUGHPUT_SWEEPS; sweep++) {
      next.set(this.origin);
      for (let d = 0; d < D; d++) {
        for (let a = 0; a < L; a++) if (network.linkTo[a] !== network.destinations[d]) next[d * N + network.linkTo[a]] += throughput[d * N + network.linkFrom[a]] * split[d * L + a];
      }
      throughput.set(next);
    }
    this.flow.fill(0);
    for (let d = 0; d < D; d++) for (let a = 0; a < L; a++) this.flow[a] += throughput[d * N + network.linkFrom[a]] * split[d * L + a];
    let tstt = 0;
    for (let a = 0; a < L; a++) {
      tstt += this.flow[a] * linkTime(network, a, this.flow[a]);
      this.marginal[a] = marginalLinkCost(network, a, this.flow[a]);
    }
    return tstt;
  }

  /** C_da = mc_a + onward gamma W_d(to a), W of depth kappa (the kappa-hop, discounted cost LTDE's actor sees), into this.choiceCost. */
  truncatedCosts(): Float64Array {
    const { network } = this.env;
    const L = network.linkCount;
    const N = network.nodeCount;
    const D = network.destinations.length;
    const { depth, next, split, gamma } = this;
    depth.fill(0);
    for (let level = 0; level < this.kappa; level++) {
      next.fill(0);
      for (let d = 0; d < D; d++) {
        for (let a = 0; a < L; a++) {
          const to = network.linkTo[a];
          const onward = to === network.destinations[d] ? 0 : gamma * depth[d * N + to];
          next[d * N + network.linkFrom[a]] += split[d * L + a] * (this.marginal[a] + onward);
        }
      }
      depth.set(next);
    }
    for (let d = 0; d < D; d++) {
      for (let a = 0; a < L; a++) {
        const to = network.linkTo[a];
        this.choiceCost[d * L + a] = this.marginal[a] + (to === network.destinations[d] ? 0 : this.onward * gamma * depth[d * N + to]);
      }
    }
    return this.choiceCost;
  }
}

/**
 * The exact descent direction of every team actor at the policy's steady state: routes an
 * episode of `env` by pi, takes the splits and observations of its last step and writes
 * sum_a -M p_a (C_a - mean C) tau phi_a / scale per team into directions[team] (scale: the SO TSTT, so steps are relative).
 */
export function exactDirections(policy: LtdePolicy, state: SteadyState, temperature: number, scale: number, directions: Float64Array[]): void {
  const { env } = state;
  const { network } = env;
  const L = network.linkCount;
  const N = network.nodeCount;
  const { nAgents, obsDim } = env.spec;
  const { agentClass, agentLink } = env.choices;
  const logits = new Float64Array(nAgents);
  env.reset(0);
  while (!env.allDone()) {
    const pi = policy.probabilitiesAt(env.obs, 0);
    for (let i = 0; i < nAgents; i++) logits[i] = Math.log(Math.max(pi[i], 1e-300));
    env.step(logits);
  }
  const pi = policy.probabilitiesAt(env.obs, 0);
  state.split.fill(0);
  for (let i = 0; i < nAgents; i++) state.split[agentClass[i] * L + agentLink[i]] = pi[i];
  state.solve();
  const cost = state.truncatedCosts();
  policy.teams.forEach((team, t) => {
    const direction = directions[t];
    direction.fill(0);
    for (let g = 0; g + 1 < team.groupStart.length; g++) {
      let mean = 0;
      for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) mean += pi[team.agents[k]] * cost[agentClass[team.agents[k]] * L + agentLink[team.agents[k]]];
      for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) {
        const i = team.agents[k];
        const d = agentClass[i];
        const descent = (-state.throughput[d * N + team.node] * pi[i] * (cost[d * L + agentLink[i]] - mean)) / scale;
        addFeatures(team.actor, policy.actorFeatures(team, k, env.obs, i * obsDim), 0, temperature * descent, direction);
      }
    }
  });
}
