/**
 * LTDE on a road network without learning noise (the grid diagnosis, docs/ltde.md): where the
 * policy gradient LTDE estimates would lead if its critics were exact. Not part of
 * `npm run bench`: it runs descents of a few minutes.
 *
 * In steady state a split ratio p (class d, link a from node s) costs, per unit of the mass
 * M_ds it routes, the marginal cost of its link plus what follows. LTDE's actor of s sums the
 * team Q-values within kappa road hops, discounted by gamma per hop, so the cost it sees is
 * C_da = mc_a + gamma W_d(to a) with W of depth kappa: the marginal costs of the links the mass
 * takes over the next kappa hops, discounted (mc = t + x t', the system-optimum's link cost).
 * Descending logits along -M p (C - mean C):
 * - `freeSplits`: one logit per class and approaching link (detours closed): the fixed point
 *   of the truncated, discounted gradient itself;
 * - `actor`: the same exact gradient through LTDE's actor (the energy softmax(tau f - beta
 *   detour) of the observations at the end of an episode routed by the policy), with and
 *   without choiceIdentity: what the policy class can reach.
 *
 *   npx tsx bench/ltde-policy-class.ts [--network grid-5x5] [--kappa 1] [--gamma 0.8]
 *       [--free-steps 4000] [--actor-steps 400] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { Ltde } from '../src/main/rl/learners/ltde.ts';
import { addFeatures, projectedStep } from '../src/main/rl/core/twoLayerNet.ts';
import { isDetour, RoutingEnv } from '../src/main/sim/routing.ts';
import { linkTime, marginalLinkCost } from '../src/main/sim/network/roadNetwork.ts';
import { resolveLearnerConfig } from '../src/shared/learners.ts';

/** Logit step per unit of relative marginal cost on free splits, and actor step per unit of M p (C - mean C) / TSTT(SO). */
const FREE_STEP = 0.05;
const ACTOR_STEP = 20;
/** Sweeps of the node-throughput recursion (mass leaves within the longest route; loops decay). */
const THROUGHPUT_SWEEPS = 400;

const { values } = parseArgs({
  options: {
    network: { type: 'string', default: 'grid-5x5' },
    kappa: { type: 'string', default: '1' },
    gamma: { type: 'string', default: '0.8' },
    'free-steps': { type: 'string', default: '4000' },
    'actor-steps': { type: 'string', default: '400' },
    seed: { type: 'string', default: '1' },
  },
});
const kappa = Number(values.kappa);
const gamma = Number(values.gamma);
const env = new RoutingEnv({ network: values.network });
const { network } = env;
const L = network.linkCount;
const N = network.nodeCount;
const D = network.destinations.length;
const so = env.reference('so').tstt;

/** Steady state of split ratios p [class, link]: node throughput M [class, node] (per hour), link flows, marginal costs. */
class SteadyState {
  readonly split = new Float64Array(D * L);
  readonly throughput = new Float64Array(D * N);
  readonly flow = new Float64Array(L);
  readonly marginal = new Float64Array(L);
  private readonly origin = new Float64Array(D * N);
  private readonly next = new Float64Array(D * N);
  private readonly depth = new Float64Array(D * N);
  readonly choiceCost = new Float64Array(D * L);

  constructor() {
    network.odRate.forEach((rate, i) => (this.origin[network.destinationIndex[network.odDestination[i]] * N + network.odOrigin[i]] += rate));
  }

  /** Flows and marginal costs of this.split; returns the TSTT. */
  solve(): number {
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

  /** C_da = mc_a + gamma W_d(to a), W of depth kappa (the kappa-hop, discounted cost LTDE's actor sees), into this.choiceCost. */
  truncatedCosts(): Float64Array {
    const { depth, next, split } = this;
    depth.fill(0);
    for (let level = 0; level < kappa; level++) {
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
        this.choiceCost[d * L + a] = this.marginal[a] + (to === network.destinations[d] ? 0 : gamma * depth[d * N + to]);
      }
    }
    return this.choiceCost;
  }
}

/** The fixed point on free splits over the approaching links (a softmax per class and node). */
function freeSplits(steps: number): number {
  const state = new SteadyState();
  const { agentClass, agentLink } = env.choices;
  const open = Array.from({ length: env.spec.nAgents }, (_, i) => i).filter((i) => !isDetour(env, i));
  const logit = new Float64Array(D * L);
  const setSplits = () => {
    state.split.fill(0);
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < N; s++) {
        const here = open.filter((i) => agentClass[i] === d && network.linkFrom[agentLink[i]] === s);
        const largest = Math.max(...here.map((i) => logit[d * L + agentLink[i]]));
        const total = here.reduce((sum, i) => sum + Math.exp(logit[d * L + agentLink[i]] - largest), 0);
        for (const i of here) state.split[d * L + agentLink[i]] = Math.exp(logit[d * L + agentLink[i]] - largest) / total;
      }
    }
  };
  setSplits();
  let tstt = state.solve();
  for (let step = 0; step < steps; step++) {
    const cost = state.truncatedCosts();
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < N; s++) {
        let mean = 0;
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) mean += state.split[d * L + network.outLinks[k]] * cost[d * L + network.outLinks[k]];
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) logit[d * L + network.outLinks[k]] -= FREE_STEP * (cost[d * L + network.outLinks[k]] - mean);
      }
    }
    setSplits();
    tstt = state.solve();
  }
  return tstt / so;
}

/** Exact-gradient descent through LTDE's actors (default preset, choiceIdentity as given): TSTT / SO every tenth of the steps. */
function actor(steps: number, choiceIdentity: boolean): number[] {
  const config = resolveLearnerConfig('ltde', 'network-routing', 'default', { choiceIdentity });
  const ltde = new Ltde({ learner: 'ltde', scenario: 'network-routing', scenarioParams: { network: values.network }, config, seed: Number(values.seed) });
  const { policy } = ltde;
  const { nAgents, obsDim } = env.spec;
  const { agentClass, agentLink } = env.choices;
  const state = new SteadyState();
  const logits = new Float64Array(nAgents);
  const gradient = new Float64Array(Math.max(...policy.teams.map((team) => team.actor.weights.length)));
  const curve: number[] = [ltde.steadyTstt() / so];
  for (let step = 1; step <= steps; step++) {
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
    for (const team of policy.teams) {
      const teamGradient = gradient.subarray(0, team.actor.weights.length);
      teamGradient.fill(0);
      for (let g = 0; g + 1 < team.groupStart.length; g++) {
        let mean = 0;
        for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) mean += pi[team.agents[k]] * cost[agentClass[team.agents[k]] * L + agentLink[team.agents[k]]];
        for (let k = team.groupStart[g]; k < team.groupStart[g + 1]; k++) {
          const i = team.agents[k];
          const d = agentClass[i];
          const descent = (-state.throughput[d * N + team.node] * pi[i] * (cost[d * L + agentLink[i]] - mean)) / so;
          addFeatures(team.actor, policy.actorFeatures(team, k, env.obs, i * obsDim), 0, config.temperature * descent, teamGradient);
        }
      }
      projectedStep(team.actor, teamGradient, ACTOR_STEP, config.radius);
    }
    if (step % Math.max(1, Math.round(steps / 10)) === 0) curve.push(ltde.steadyTstt() / so);
  }
  return curve;
}

const round = (x: number) => Number(x.toFixed(4));
const actorSteps = Number(values['actor-steps']);
console.log(
  JSON.stringify({
    network: values.network,
    kappa,
    gamma,
    ueOverSo: round(env.reference('ue').tstt / so),
    freeSplitsOverSo: round(freeSplits(Number(values['free-steps']))),
    actorCurveSteps: Array.from({ length: 11 }, (_, k) => Math.round((k * actorSteps) / 10)),
    actorOverSo: actor(actorSteps, false).map(round),
    actorWithChoiceIdentityOverSo: actor(actorSteps, true).map(round),
  }),
);
