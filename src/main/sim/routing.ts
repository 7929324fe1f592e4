/**
 * Routing on a road network (`network-routing`, shared/specs/routing.md): mean-field
 * dynamics of vehicle mass moving hop by hop, as in the LTDE paper's network of states.
 *
 * Each step: every origin emits q_od x stepHours vehicles per destination; the mass of each
 * destination class at each node is split over the node's outgoing links; all of it crosses
 * its link in the step (one hop) and what reaches its destination leaves. The flow entering
 * link a, per hour, is x_a = mass / stepHours; the link costs x_a t_a(x_a) stepHours
 * vehicle-hours with BPR time t_a. With stationary split ratios every step loads the links
 * with exactly the static-assignment flows once the network is filled, so the steady-state
 * cost per hour is the TSTT of the static assignment.
 *
 * Agents are routing choices: one per (destination class, usable outgoing link) of a node;
 * its continuous action is the link's logit in [-10, 10] and a class splits over its node's
 * links by the softmax of their logits. The team of node s (its agents) earns minus the cost
 * of s's outgoing links, shared equally among its agents so that the agents' rewards sum to
 * the cooperative objective (minus the total cost). With `policy` set to a baseline there
 * are no agents and the fixed splits of that baseline route the mass.
 *
 * Choices where the spec is silent:
 * - Traffic never passes through a zone below the network's first thru node (TNTP), so no
 *   agent chooses a link into one unless it is the class's destination.
 * - A clipped logit of -10 still sends e^-20 of the best link's share: softmax splits never
 *   close a link; the baselines' splits do.
 * - Observation of an agent (class d, link a from node s), each from the previous step:
 *   its class's mass at s over the class's demand per step, the link's volume/capacity, its
 *   time and its free-flow route time to d, each over the class's trip time scale: the
 *   longest free-flow time from an origin of the class to d. (Not the route time from s:
 *   a link of zero free-flow time into d, as Braess's x-cost links, made that ratio 1e9.)
 *   The learners' critics see the agents within kappa hops of the agent graph: the agents of
 *   the same class at the same node and at the link's end node.
 */
import { ParamError, resolveParams, type ScenarioParams } from '../../shared/scenarios.ts';
import { BatchedEnv, type EnvSpec } from './env.ts';
import { AgentGraph } from './graph.ts';
import { assign, ShortestRoutes, type AssignmentObjective, type AssignmentResult } from './network/assignment.ts';
import { loadNetwork } from './network/index.ts';
import { linkTime, NetworkError, type RoadNetwork } from './network/roadNetwork.ts';

export const LOGIT_LIMIT = 10;
/** The least episode length when the horizon is unset, and its factor on the most hops of a route. */
const MIN_AUTO_HORIZON = 20;
const AUTO_HORIZON_HOPS = 8;
/** Gap the baselines' and the metrics' reference assignments are solved to. */
const REFERENCE_GAP = 1e-5;
const OBS_NAMES = ['class mass at node / class demand per step', 'link volume/capacity', 'link time / class trip time scale', 'route free-flow time via link / class trip time scale'] as const;

/** The routing choices of a network: agent i picks link agentLink[i] for destination class agentClass[i]. */
interface Choices {
  agentClass: Int32Array;
  agentLink: Int32Array;
  /** agentOf[d * L + a]: the agent of class d on link a, -1 when the class may not use it. */
  agentOf: Int32Array;
  /** teamSize[s]: agents at node s. */
  teamSize: Int32Array;
}

function routingChoices(network: RoadNetwork): Choices {
  const L = network.linkCount;
  const agentClass: number[] = [];
  const agentLink: number[] = [];
  const agentOf = new Int32Array(network.destinations.length * L).fill(-1);
  const teamSize = new Int32Array(network.nodeCount);
  network.destinations.forEach((destination, d) => {
    for (let a = 0; a < L; a++) {
      const from = network.linkFrom[a];
      const to = network.linkTo[a];
      if (from === destination || (to !== destination && to < network.firstThruNode)) continue;
      agentOf[d * L + a] = agentClass.length;
      agentClass.push(d);
      agentLink.push(a);
      teamSize[from]++;
    }
  });
  return { agentClass: Int32Array.from(agentClass), agentLink: Int32Array.from(agentLink), agentOf, teamSize };
}

/** Agents of one class are neighbours when they leave the same node or one's link ends where the other's starts. */
function choiceGraph(network: RoadNetwork, choices: Choices): AgentGraph {
  const edges: [number, number][] = [];
  const { agentClass, agentLink, agentOf } = choices;
  const L = network.linkCount;
  agentLink.forEach((a, i) => {
    const d = agentClass[i];
    for (const node of [network.linkFrom[a], network.linkTo[a]]) {
      for (let k = network.outStart[node]; k < network.outStart[node + 1]; k++) {
        const j = agentOf[d * L + network.outLinks[k]];
        if (j > i) edges.push([i, j]);
      }
    }
  });
  return new AgentGraph(agentClass.length, edges);
}

export interface RoutingMetrics {
  /** Mean cost per hour over the second half of the episode (vehicles per hour x network time unit). */
  steadyTstt: number;
  tsttOverUe: number;
  tsttOverSo: number;
}

export function routingMetrics(env: RoutingEnv, copy: number): RoutingMetrics {
  const steadyTstt = env.steadyTstt(copy);
  return { steadyTstt, tsttOverUe: steadyTstt / env.reference('ue').tstt, tsttOverSo: steadyTstt / env.reference('so').tstt };
}

/** The most hops of a free-flow least-time route between an OD pair. */
function longestRouteHops(network: RoadNetwork, freeFlow: ShortestRoutes): number {
  let most = 1;
  const N = network.nodeCount;
  for (let i = 0; i < network.odRate.length; i++) {
    const d = network.destinationIndex[network.odDestination[i]];
    let hops = 0;
    for (let s = network.odOrigin[i]; s !== network.odDestination[i]; s = network.linkTo[freeFlow.nextLink[d * N + s]]) hops++;
    most = Math.max(most, hops);
  }
  return most;
}

/**
 * Fixed split ratios [class, link] routing each class as the flows do: x_d[a] over the class's
 * flow out of a's node; where a class has no flow at a node, its free-flow least-time link.
 */
function splitsOf(network: RoadNetwork, destinationFlows: Float64Array | null, freeFlow: ShortestRoutes): Float64Array {
  const L = network.linkCount;
  const N = network.nodeCount;
  const splits = new Float64Array(network.destinations.length * L);
  for (let d = 0; d < network.destinations.length; d++) {
    for (let s = 0; s < N; s++) {
      let out = 0;
      for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) out += destinationFlows?.[d * L + network.outLinks[k]] ?? 0;
      if (out > 0) {
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) splits[d * L + network.outLinks[k]] = destinationFlows![d * L + network.outLinks[k]] / out;
      } else if (freeFlow.nextLink[d * N + s] >= 0) {
        splits[d * L + freeFlow.nextLink[d * N + s]] = 1;
      }
    }
  }
  return splits;
}

export class RoutingEnv extends BatchedEnv {
  readonly network: RoadNetwork;
  readonly choices: Choices;
  /** Hours of demand per step (the stepHours parameter). */
  readonly stepHours: number;
  private readonly policy: ScenarioParams<'network-routing'>['policy'];
  /** The baseline's fixed splits [class, link]; null when agents route. */
  private readonly fixedSplits: Float64Array | null;
  /** Free-flow least-time route time from each node to each destination [class, node]. */
  readonly freeFlowTime: Float64Array;
  /** Demand per step of each class (vehicles). */
  readonly classDemand: Float64Array;
  /** Per class, the longest free-flow time from one of its origins to its destination: the scale of its time observations. */
  private readonly classTimeScale: Float64Array;
  private readonly references = new Map<AssignmentObjective, AssignmentResult>();
  /** Scratch of one step: node mass after the hop [class, node]; cost of each node's outgoing links. */
  private readonly arriving: Float64Array;
  private readonly nodeCost: Float64Array;

  /** Vehicle mass waiting at each node [E, class, node] (after the arrivals of the last step). */
  readonly nodeMass: Float64Array;
  /** Split ratios in force in the last step [E, class, link]. */
  readonly splitRatio: Float64Array;
  /** Flow entering each link in the last step, per hour [E, link], and its BPR time. */
  readonly linkFlow: Float64Array;
  readonly linkTimes: Float64Array;
  /** Vehicle-hours of the last step, and summed over the steady-state half of the episode. */
  readonly stepCost: Float64Array;
  readonly steadyCost: Float64Array;
  readonly steadySteps: Int32Array;
  /** Vehicles emitted and arrived since reset. */
  readonly emitted: Float64Array;
  readonly arrived: Float64Array;

  constructor(params: Readonly<Record<string, unknown>> = {}, numEnvs = 1) {
    const resolved = resolveParams('network-routing', params);
    const network = loadRoutingNetwork(resolved.network);
    const freeFlow = new ShortestRoutes(network);
    freeFlow.update(network.freeFlowTime);
    const choices = resolved.policy === 'agents' ? routingChoices(network) : { agentClass: new Int32Array(0), agentLink: new Int32Array(0), agentOf: new Int32Array(0), teamSize: new Int32Array(network.nodeCount) };
    const nAgents = choices.agentClass.length;
    const spec: EnvSpec = {
      scenario: 'network-routing',
      params: resolved,
      nAgents,
      nVehicles: 0,
      obsDim: OBS_NAMES.length,
      obsNames: OBS_NAMES,
      action: { kind: 'continuous', low: -LOGIT_LIMIT, high: LOGIT_LIMIT },
      horizon: resolved.horizon ?? Math.max(MIN_AUTO_HORIZON, AUTO_HORIZON_HOPS * longestRouteHops(network, freeFlow)),
      graph: resolved.policy === 'agents' ? choiceGraph(network, choices) : AgentGraph.chain(0),
      agentVehicle: new Int32Array(nAgents).fill(-1),
      vehicleKind: new Uint8Array(0),
      rewardTermNames: ['cost'],
      closedRoad: false,
      maxDecel: 0,
    };
    super(spec, numEnvs);
    this.network = network;
    this.choices = choices;
    this.stepHours = resolved.stepHours;
    this.policy = resolved.policy;
    const D = network.destinations.length;
    const L = network.linkCount;
    const N = network.nodeCount;
    this.freeFlowTime = freeFlow.dist.slice();
    this.classDemand = new Float64Array(D);
    this.classTimeScale = new Float64Array(D);
    network.odRate.forEach((rate, i) => {
      const d = network.destinationIndex[network.odDestination[i]];
      this.classDemand[d] += rate * this.stepHours;
      this.classTimeScale[d] = Math.max(this.classTimeScale[d], this.freeFlowTime[d * N + network.odOrigin[i]]);
    });
    this.fixedSplits =
      this.policy === 'agents' ? null : splitsOf(network, this.policy === 'shortest-path' ? null : this.reference(this.policy).destinationFlows, freeFlow);
    this.arriving = new Float64Array(D * N);
    this.nodeCost = new Float64Array(N);
    this.nodeMass = new Float64Array(numEnvs * D * N);
    this.splitRatio = new Float64Array(numEnvs * D * L);
    this.linkFlow = new Float64Array(numEnvs * L);
    this.linkTimes = new Float64Array(numEnvs * L);
    this.stepCost = new Float64Array(numEnvs);
    this.steadyCost = new Float64Array(numEnvs);
    this.steadySteps = new Int32Array(numEnvs);
    this.emitted = new Float64Array(numEnvs);
    this.arrived = new Float64Array(numEnvs);
  }

  /** The network's user equilibrium or system optimum (solved once, to REFERENCE_GAP). */
  reference(objective: AssignmentObjective): AssignmentResult {
    let result = this.references.get(objective);
    if (!result) {
      result = assign(this.network, { objective, targetGap: REFERENCE_GAP });
      this.references.set(objective, result);
    }
    return result;
  }

  /** Mean cost per hour over the steady-state half of the episode so far: the TSTT the routing achieves (NaN before that half). */
  steadyTstt(e = 0): number {
    return this.steadyCost[e] / this.steadySteps[e] / this.stepHours;
  }

  /** Vehicles in the network now: waiting at nodes (after the last hop). */
  massInNetwork(e = 0): number {
    const size = this.network.destinations.length * this.network.nodeCount;
    let total = 0;
    for (let k = e * size; k < (e + 1) * size; k++) total += this.nodeMass[k];
    return total;
  }

  protected resetCopy(e: number): void {
    const { network } = this;
    const D = network.destinations.length;
    this.nodeMass.fill(0, e * D * network.nodeCount, (e + 1) * D * network.nodeCount);
    this.splitRatio.fill(0, e * D * network.linkCount, (e + 1) * D * network.linkCount);
    this.linkFlow.fill(0, e * network.linkCount, (e + 1) * network.linkCount);
    for (let a = 0; a < network.linkCount; a++) this.linkTimes[e * network.linkCount + a] = network.freeFlowTime[a];
    this.stepCost[e] = 0;
    this.steadyCost[e] = 0;
    this.steadySteps[e] = 0;
    this.emitted[e] = 0;
    this.arrived[e] = 0;
    this.writeObservations(e);
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const { network, stepHours, arriving, nodeCost } = this;
    const D = network.destinations.length;
    const L = network.linkCount;
    const N = network.nodeCount;
    const mass0 = e * D * N;
    const split0 = e * D * L;
    const link0 = e * L;
    this.setSplits(e, actions, a0);
    for (let i = 0; i < network.odRate.length; i++) {
      const amount = network.odRate[i] * stepHours;
      this.nodeMass[mass0 + network.destinationIndex[network.odDestination[i]] * N + network.odOrigin[i]] += amount;
      this.emitted[e] += amount;
    }
    arriving.fill(0);
    this.linkFlow.fill(0, link0, link0 + L);
    for (let d = 0; d < D; d++) {
      const destination = network.destinations[d];
      for (let s = 0; s < N; s++) {
        const mass = this.nodeMass[mass0 + d * N + s];
        if (mass === 0) continue;
        let sent = 0;
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) {
          const a = network.outLinks[k];
          const share = mass * this.splitRatio[split0 + d * L + a];
          if (share === 0) continue;
          sent += share;
          this.linkFlow[link0 + a] += share;
          const to = network.linkTo[a];
          if (to === destination) this.arrived[e] += share;
          else arriving[d * N + to] += share;
        }
        // A class with no way on from this node (a dead end) stays where it is.
        if (sent === 0) arriving[d * N + s] += mass;
      }
    }
    this.nodeMass.set(arriving, mass0);

    nodeCost.fill(0);
    let cost = 0;
    for (let a = 0; a < L; a++) {
      const flow = this.linkFlow[link0 + a] / stepHours;
      const time = linkTime(network, a, flow);
      this.linkFlow[link0 + a] = flow;
      this.linkTimes[link0 + a] = time;
      nodeCost[network.linkFrom[a]] += flow * time * stepHours;
      cost += flow * time * stepHours;
    }
    this.stepCost[e] = cost;
    // Steps counted from 1: the steady-state half is the second half of the horizon.
    if (this.steps[e] + 1 > this.spec.horizon / 2) {
      this.steadyCost[e] += cost;
      this.steadySteps[e]++;
    }
    const { agentLink, teamSize } = this.choices;
    for (let i = 0; i < this.spec.nAgents; i++) {
      const s = network.linkFrom[agentLink[i]];
      const reward = -nodeCost[s] / teamSize[s];
      this.reward[a0 + i] = reward;
      this.rawReward[a0 + i] = reward;
      this.rewardTerms[a0 + i] = reward;
    }
    this.writeObservations(e);
    return false;
  }

  /** The splits of this step: the baseline's, or the softmax of the agents' clipped logits per class and node. */
  private setSplits(e: number, actions: ArrayLike<number>, a0: number): void {
    const { network } = this;
    const D = network.destinations.length;
    const L = network.linkCount;
    const split0 = e * D * L;
    if (this.fixedSplits) {
      this.splitRatio.set(this.fixedSplits, split0);
      return;
    }
    const { agentOf } = this.choices;
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < network.nodeCount; s++) {
        let largest = -Infinity;
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) {
          const i = agentOf[d * L + network.outLinks[k]];
          if (i >= 0) largest = Math.max(largest, clipLogit(actions[a0 + i]));
        }
        let total = 0;
        for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) {
          const a = network.outLinks[k];
          const i = agentOf[d * L + a];
          const weight = i >= 0 ? Math.exp(clipLogit(actions[a0 + i]) - largest) : 0;
          this.splitRatio[split0 + d * L + a] = weight;
          total += weight;
        }
        if (total > 0) for (let k = network.outStart[s]; k < network.outStart[s + 1]; k++) this.splitRatio[split0 + d * L + network.outLinks[k]] /= total;
      }
    }
  }

  private writeObservations(e: number): void {
    const { network, freeFlowTime } = this;
    const { agentClass, agentLink } = this.choices;
    const { nAgents, obsDim } = this.spec;
    const N = network.nodeCount;
    const D = network.destinations.length;
    for (let i = 0; i < nAgents; i++) {
      const d = agentClass[i];
      const a = agentLink[i];
      const s = network.linkFrom[a];
      const timeScale = this.classTimeScale[d];
      const o = (e * nAgents + i) * obsDim;
      this.obs[o] = this.nodeMass[e * D * N + d * N + s] / this.classDemand[d];
      this.obs[o + 1] = this.linkFlow[e * network.linkCount + a] / network.capacity[a];
      this.obs[o + 2] = this.linkTimes[e * network.linkCount + a] / timeScale;
      this.obs[o + 3] = (network.freeFlowTime[a] + freeFlowTime[d * N + network.linkTo[a]]) / timeScale;
    }
  }
}

/** The `network` parameter's network; a bad name or file is a parameter error naming it. */
function loadRoutingNetwork(network: string): RoadNetwork {
  try {
    return loadNetwork(network);
  } catch (error) {
    if (error instanceof NetworkError) throw new ParamError('network', `scenario network-routing: parameter network: ${error.message}`);
    throw error;
  }
}

/** Whether agent i's link brings its class no closer to its destination in free-flow time (a link Dial's stochastic loading leaves out). */
export function isDetour(env: RoutingEnv, i: number): boolean {
  const { network, freeFlowTime, choices } = env;
  const N = network.nodeCount;
  const a = choices.agentLink[i];
  const d = choices.agentClass[i];
  return freeFlowTime[d * N + network.linkTo[a]] >= freeFlowTime[d * N + network.linkFrom[a]];
}

function clipLogit(value: number): number {
  if (Number.isNaN(value)) throw new Error('network-routing: an action (link logit) is NaN');
  return Math.min(LOGIT_LIMIT, Math.max(-LOGIT_LIMIT, value));
}
