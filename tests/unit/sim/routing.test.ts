import { describe, expect, it } from 'vitest';
import { ParamError } from '../../../src/shared/scenarios.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { isDetour, RoutingEnv } from '../../../src/main/sim/routing.ts';

const FIXTURES = new URL('../../fixtures/tntp/', import.meta.url).pathname;

/** Runs a copy to its horizon with the given actions; returns the env. */
function run(env: RoutingEnv, actions: Float64Array, onStep?: () => void): RoutingEnv {
  env.reset(0);
  while (!env.allDone()) {
    env.step(actions);
    onStep?.();
  }
  return env;
}

describe('network-routing', () => {
  it('conserves mass: emitted = in the network + arrived, at every step, under random splits', () => {
    const env = new RoutingEnv({ network: 'grid-3x3' });
    const actions = new Float64Array(env.spec.nAgents);
    let seed = 1;
    env.reset(0);
    while (!env.allDone()) {
      for (let i = 0; i < actions.length; i++) actions[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647) * 20 - 10;
      env.step(actions);
      expect(env.massInNetwork() + env.arrived[0]).toBeCloseTo(env.emitted[0], 9);
    }
    expect(env.emitted[0]).toBeCloseTo(12 * 1000 * 0.01 * env.spec.horizon, 6);
  });

  for (const [network, objective] of [
    ['braess', 'ue'],
    ['braess', 'so'],
    ['grid-5x5', 'so'],
  ] as const) {
    it(`reaches the static ${objective} link flows and TSTT in steady state on ${network} under policy=${objective}`, () => {
      const env = new RoutingEnv({ network, policy: objective });
      expect(env.spec.nAgents).toBe(0);
      run(env, new Float64Array(0));
      const reference = env.reference(objective);
      for (let a = 0; a < env.network.linkCount; a++) expect(env.linkFlow[a]).toBeCloseTo(reference.flows[a], 6);
      expect(env.steadyTstt() / reference.tstt).toBeCloseTo(1, 9);
    });
  }

  it('lets the agents route: logits that close the Braess bridge reach the system optimum', () => {
    const env = new RoutingEnv({ network: 'braess' });
    // Agents are (class, link) choices of nodes 1, 3 and 4: links 1->3, 1->4, 3->2, 3->4, 4->2.
    expect(env.spec.nAgents).toBe(5);
    const actions = Float64Array.of(0, 0, 10, -10, 10);
    run(env, actions);
    expect(env.steadyTstt()).toBeCloseTo(498, 3);
    // Every agent's reward is its node's cost share; the rewards sum to minus the step cost.
    const total = Array.from(env.rawReward).reduce((sum, r) => sum + r, 0);
    expect(total).toBeCloseTo(-env.stepCost[0], 9);
    expect(env.obs.length).toBe(5 * env.spec.obsDim);
  });

  it('marks as detours the links that bring a class no closer to its destination: none on Braess, the two away from a grid corner', () => {
    const braess = new RoutingEnv({ network: 'braess' });
    expect(Array.from({ length: braess.spec.nAgents }, (_, i) => isDetour(braess, i))).toEqual([false, false, false, false, false]);
    // grid-3x3, nodes numbered row by row from 0: from the centre (4) toward the corner 0, links to 1 and 3 come closer, 5 and 7 lead away.
    const grid = new RoutingEnv({ network: 'grid-3x3' });
    const { network, choices } = grid;
    const towardCorner = network.destinationIndex[0];
    const detoursFromCentre = Array.from(choices.agentLink.keys())
      .filter((i) => choices.agentClass[i] === towardCorner && network.linkFrom[choices.agentLink[i]] === 4)
      .map((i) => [network.linkTo[choices.agentLink[i]], isDetour(grid, i)]);
    expect(Object.fromEntries(detoursFromCentre)).toEqual({ 1: false, 3: false, 5: true, 7: true });
  });

  it('runs a TNTP network with shortest-path routing and sets its horizon from the routes', () => {
    const env = createEnv('network-routing', { network: `${FIXTURES}SiouxFalls_net.tntp`, policy: 'shortest-path' }) as RoutingEnv;
    expect(env.spec.horizon).toBeGreaterThanOrEqual(20);
    run(env, new Float64Array(0));
    expect(env.steadyTstt()).toBeGreaterThan(env.reference('ue').tstt);
  });

  it('names the parameter for a network that does not exist', () => {
    expect(() => new RoutingEnv({ network: 'atlantis' })).toThrow(ParamError);
    expect(() => new RoutingEnv({ network: 'atlantis' })).toThrow('scenario network-routing: parameter network: "atlantis" is not allowed; expected braess, grid-3x3, grid-5x5 or a TNTP file <name>_net.tntp');
  });
});
