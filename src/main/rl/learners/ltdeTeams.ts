/**
 * LTDE's teams (src/main/rl/learners/ltde.ts): the nodes with routing choices, their
 * kappa-hop neighbourhoods on the road graph, and each team's actor and critic networks with
 * the critic's input layout.
 */
import type { LearnerConfig } from '../../../shared/learners.ts';
import type { RngStreams } from '../../sim/rng.ts';
import type { RoutingEnv } from '../../sim/routing.ts';
import { cloneTwoLayer, createTwoLayerNet, type TwoLayerNet } from '../core/twoLayerNet.ts';

/** A team: the node, its routing choices (agents), and what its critic reads. */
export interface Team {
  node: number;
  /** Its agents, grouped by destination class: group g is agents[groupStart[g] .. groupStart[g + 1]). */
  agents: Int32Array;
  groupStart: Int32Array;
  /** Teams within kappa hops (itself included): whose Q-values its actor sums. */
  neighbours: Int32Array;
  /** Critic input layout: per entry a node-class mass (kind 0: node, class) or an agent's action (kind 1: agent). */
  inputKind: Uint8Array;
  inputA: Int32Array;
  inputB: Int32Array;
  actor: TwoLayerNet;
  /** The deployed actor under actorAverageFrom: the running mean of the actor's iterates from that iteration on (before it, the actor itself). */
  averageActor: TwoLayerNet;
  critic: TwoLayerNet;
  averageCritic: TwoLayerNet;
}

/** Teams (nodes with routing choices), their kappa-hop neighbourhoods on the road graph, critic layouts and networks. */
export function buildTeams(env: RoutingEnv, config: LearnerConfig<'ltde'>, rng: RngStreams): Team[] {
  const { network, choices } = env;
  const N = network.nodeCount;
  const D = network.destinations.length;
  // Agents are numbered class by class (routingChoices), so each node's list is grouped by class.
  const agentsAt: number[][] = Array.from({ length: N }, () => []);
  choices.agentLink.forEach((a, i) => agentsAt[network.linkFrom[a]].push(i));
  const groupStarts = (agents: number[]) => Int32Array.from([...agents.keys(), agents.length].filter((k) => k === 0 || k === agents.length || choices.agentClass[agents[k]] !== choices.agentClass[agents[k - 1]]));
  const teamNodes = agentsAt.flatMap((agents, s) => (agents.length > 0 ? [s] : []));
  const teamOf = new Int32Array(N).fill(-1);
  teamNodes.forEach((s, k) => (teamOf[s] = k));
  const within = (s: number): number[] => {
    const hops = new Int32Array(N).fill(-1);
    hops[s] = 0;
    const queue = [s];
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head];
      if (hops[u] === config.kappa) continue;
      for (let a = 0; a < network.linkCount; a++) {
        const v = network.linkFrom[a] === u ? network.linkTo[a] : network.linkTo[a] === u ? network.linkFrom[a] : -1;
        if (v >= 0 && hops[v] < 0) {
          hops[v] = hops[u] + 1;
          queue.push(v);
        }
      }
    }
    return queue;
  };
  return teamNodes.map((s) => {
    const nodes = within(s);
    const kinds: number[] = [];
    const inputA: number[] = [];
    const inputB: number[] = [];
    for (const y of nodes) {
      for (let d = 0; d < D; d++) {
        kinds.push(0);
        inputA.push(y);
        inputB.push(d);
      }
      for (const i of agentsAt[y]) {
        kinds.push(1);
        inputA.push(i);
        inputB.push(-1);
      }
    }
    const critic = createTwoLayerNet(kinds.length + 1, config.width, rng);
    const actor = createTwoLayerNet(env.spec.obsDim + (config.choiceIdentity ? agentsAt[s].length : 0), config.width, rng);
    return {
      node: s,
      agents: Int32Array.from(agentsAt[s]),
      groupStart: groupStarts(agentsAt[s]),
      neighbours: Int32Array.from(nodes.filter((y) => teamOf[y] >= 0).map((y) => teamOf[y])),
      inputKind: Uint8Array.from(kinds),
      inputA: Int32Array.from(inputA),
      inputB: Int32Array.from(inputB),
      actor,
      averageActor: cloneTwoLayer(actor),
      critic,
      averageCritic: cloneTwoLayer(critic),
    };
  });
}
