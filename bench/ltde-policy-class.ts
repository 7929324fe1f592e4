/**
 * LTDE on a road network without learning noise (the grid diagnosis, docs/ltde.md): where the
 * policy gradient LTDE estimates would lead if its critics were exact. Not part of
 * `npm run bench`: it runs descents of a few minutes.
 *
 * The exact gradient is bench/ltde-exact.ts's (C_da = mc_a + gamma W_d(to a), kappa hops).
 * Descending logits along -M p (C - mean C):
 * - `freeSplits`: one logit per class and approaching link (detours closed): the fixed point
 *   of the truncated, discounted gradient itself;
 * - `actor`: the same exact gradient through LTDE's actor (the energy softmax(tau f - beta
 *   detour) of the observations at the end of an episode routed by the policy), with and
 *   without choiceIdentity: what the policy class can reach.
 *
 *   npx tsx bench/ltde-policy-class.ts [--network grid-5x5] [--kappa 1] [--gamma 0.8]
 *       [--free-steps 4000] [--actor-steps 400] [--seed 1] [--onward 1]
 */
import { parseArgs } from 'node:util';
import { Ltde } from '../src/main/rl/learners/ltde.ts';
import { projectedStep } from '../src/main/rl/core/twoLayerNet.ts';
import { isDetour, RoutingEnv } from '../src/main/sim/routing.ts';
import { resolveLearnerConfig } from '../src/shared/learners.ts';
import { EXACT_ACTOR_STEP, exactDirections, SteadyState } from './ltde-exact.ts';

/** Logit step per unit of relative marginal cost on free splits. */
const FREE_STEP = 0.05;

const { values } = parseArgs({
  options: {
    network: { type: 'string', default: 'grid-5x5' },
    kappa: { type: 'string', default: '1' },
    gamma: { type: 'string', default: '0.8' },
    'free-steps': { type: 'string', default: '4000' },
    'actor-steps': { type: 'string', default: '400' },
    seed: { type: 'string', default: '1' },
    onward: { type: 'string', default: '1' },
  },
});
const kappa = Number(values.kappa);
const gamma = Number(values.gamma);
/** The share of the onward cost W the actor sees (1: exact critics; below 1: critics that learn the next hop's cost only in part). */
const onward = Number(values.onward);
const env = new RoutingEnv({ network: values.network });
const { network } = env;
const L = network.linkCount;
const N = network.nodeCount;
const D = network.destinations.length;
const so = env.reference('so').tstt;

/** The fixed point on free splits over the approaching links (a softmax per class and node). */
function freeSplits(steps: number): number {
  const state = new SteadyState(env, kappa, gamma, onward);
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
  const state = new SteadyState(env, kappa, gamma, onward);
  const directions = policy.teams.map((team) => new Float64Array(team.actor.weights.length));
  const curve: number[] = [ltde.steadyTstt() / so];
  for (let step = 1; step <= steps; step++) {
    exactDirections(policy, state, config.temperature, so, directions);
    policy.teams.forEach((team, t) => projectedStep(team.actor, directions[t], EXACT_ACTOR_STEP, config.radius));
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
    onward,
    ueOverSo: round(env.reference('ue').tstt / so),
    freeSplitsOverSo: round(freeSplits(Number(values['free-steps']))),
    actorCurveSteps: Array.from({ length: 11 }, (_, k) => Math.round((k * actorSteps) / 10)),
    actorOverSo: actor(actorSteps, false).map(round),
    actorWithChoiceIdentityOverSo: actor(actorSteps, true).map(round),
  }),
);
