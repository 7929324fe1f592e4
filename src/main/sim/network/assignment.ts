/**
 * Static traffic assignment: user equilibrium (UE, every used route of an OD pair costs the
 * least) and system optimum (SO, least total travel time: routes equalise marginal cost
 * t + x t'), by the conjugate Frank-Wolfe method (Mitradjieva and Lindberg 2013): Frank-Wolfe
 * whose direction mixes the all-or-nothing target with the previous direction so that
 * successive directions are conjugate, with an exact line search.
 *
 * Flows are kept per destination ([destinations, links]) so that a solution also gives the
 * split ratios of every node and destination: the routing scenario's `ue` and `so` policies.
 */
import { distancesTo, incomingLinks, linkTime, marginalLinkCost, totalTravelTime, type Incoming, type RoadNetwork } from './roadNetwork.ts';

export type AssignmentObjective = 'ue' | 'so';

export interface AssignmentOptions {
  objective: AssignmentObjective;
  /** Stop once the relative gap is at or below this (default 1e-5). */
  targetGap?: number;
  /** Stop after this many iterations even if the gap is larger (default 10000). */
  maxIterations?: number;
}

export interface AssignmentResult {
  objective: AssignmentObjective;
  /** Link flows (vehicles per hour). */
  flows: Float64Array;
  /** Link flows by destination, [destination k of network.destinations, link]. */
  destinationFlows: Float64Array;
  /** Link travel times t_a(x_a). */
  times: Float64Array;
  /** Total system travel time sum_a x_a t_a(x_a). */
  tstt: number;
  /**
   * Relative gap of the last iteration: 1 - (demand x least route cost) / (flow x link cost),
   * with link cost t (UE) or the marginal cost t + x t' (SO); 0 at the exact solution.
   */
  relativeGap: number;
  iterations: number;
}

/** A conjugate weight at or above this restarts the direction (the method's safeguard against stalling). */
const CONJUGATE_LIMIT = 0.99;
const LINE_SEARCH_STEPS = 60;

export function assign(network: RoadNetwork, options: AssignmentOptions): AssignmentResult {
  const { objective } = options;
  const targetGap = options.targetGap ?? 1e-5;
  const maxIterations = options.maxIterations ?? 10_000;
  const L = network.linkCount;
  const size = network.destinations.length * L;
  const x = new Float64Array(size);
  const target = new Float64Array(size);
  const direction = new Float64Array(size);
  const totals = { x: new Float64Array(L), target: new Float64Array(L), direction: new Float64Array(L), probe: new Float64Array(L) };
  const cost = new Float64Array(L);
  const costOf = objective === 'ue' ? linkTime : marginalLinkCost;
  const costSlope = objective === 'ue' ? linkTimeSlope : marginalCostSlope;
  const routing = new ShortestRoutes(network);
  const updateCost = (flows: Float64Array) => {
    for (let a = 0; a < L; a++) cost[a] = costOf(network, a, flows[a]);
  };

  updateCost(totals.x);
  routing.loadAllOrNothing(cost, x);
  sumDestinations(network, x, totals.x);
  let relativeGap = Infinity;
  let iterations = 0;
  let hasDirection = false;
  while (iterations < maxIterations) {
    updateCost(totals.x);
    const leastCost = routing.loadAllOrNothing(cost, target);
    sumDestinations(network, target, totals.target);
    let current = 0;
    for (let a = 0; a < L; a++) current += totals.x[a] * cost[a];
    relativeGap = current > 0 ? 1 - leastCost / current : 0;
    if (relativeGap <= targetGap) break;
    iterations++;

    // Conjugate mix: alpha makes the new direction conjugate to the previous one under the Hessian diag(c'(x)).
    let alpha = 0;
    if (hasDirection) {
      let numerator = 0;
      let denominator = 0;
      for (let a = 0; a < L; a++) {
        const slope = costSlope(network, a, totals.x[a]);
        const previous = totals.direction[a] - totals.x[a];
        numerator += previous * slope * (totals.target[a] - totals.x[a]);
        denominator += previous * slope * (totals.target[a] - totals.direction[a]);
      }
      const conjugate = denominator !== 0 ? numerator / denominator : 0;
      // Near-parallel successive directions stall the method: restart from the plain Frank-Wolfe step.
      alpha = conjugate > 0 && conjugate < CONJUGATE_LIMIT ? conjugate : 0;
    }
    for (let i = 0; i < size; i++) direction[i] = alpha * direction[i] + (1 - alpha) * target[i];
    sumDestinations(network, direction, totals.direction);
    // A conjugate direction that no longer descends (it can stall near ties) restarts as plain Frank-Wolfe.
    if (alpha > 0 && descent(network, totals.x, totals.direction, cost) >= 0) {
      direction.set(target);
      totals.direction.set(totals.target);
    }
    hasDirection = true;

    const step = lineSearch(network, totals.x, totals.direction, totals.probe, costOf);
    for (let i = 0; i < size; i++) x[i] += step * (direction[i] - x[i]);
    sumDestinations(network, x, totals.x);
  }
  const times = Float64Array.from(totals.x, (flow, a) => linkTime(network, a, flow));
  return { objective, flows: totals.x, destinationFlows: x, times, tstt: totalTravelTime(network, totals.x), relativeGap, iterations };
}

/** The step in [0, 1] towards the direction's flows where the derivative of the objective along the segment changes sign (bisection). */
function lineSearch(network: RoadNetwork, x: Float64Array, direction: Float64Array, probe: Float64Array, costOf: typeof linkTime): number {
  const slopeAt = (step: number) => {
    let slope = 0;
    for (let a = 0; a < network.linkCount; a++) {
      probe[a] = x[a] + step * (direction[a] - x[a]);
      slope += (direction[a] - x[a]) * costOf(network, a, probe[a]);
    }
    return slope;
  };
  if (slopeAt(1) <= 0) return 1;
  let low = 0;
  let high = 1;
  for (let k = 0; k < LINE_SEARCH_STEPS; k++) {
    const middle = (low + high) / 2;
    if (slopeAt(middle) > 0) high = middle;
    else low = middle;
  }
  return (low + high) / 2;
}

/** The objective's derivative at x along the direction: negative when moving towards it improves. */
function descent(network: RoadNetwork, x: Float64Array, direction: Float64Array, cost: Float64Array): number {
  let slope = 0;
  for (let a = 0; a < network.linkCount; a++) slope += (direction[a] - x[a]) * cost[a];
  return slope;
}

function sumDestinations(network: RoadNetwork, byDestination: Float64Array, totals: Float64Array): void {
  const L = network.linkCount;
  totals.fill(0);
  for (let k = 0; k < network.destinations.length; k++) for (let a = 0; a < L; a++) totals[a] += byDestination[k * L + a];
}

function linkTimeSlope(network: RoadNetwork, a: number, flow: number): number {
  const p = network.power[a];
  const c = network.capacity[a];
  return (network.freeFlowTime[a] * network.b[a] * p * Math.pow(flow / c, p - 1)) / c;
}

function marginalCostSlope(network: RoadNetwork, a: number, flow: number): number {
  return (network.power[a] + 1) * linkTimeSlope(network, a, flow);
}

/**
 * Least-cost routes to every destination under given link costs: the next link of each node
 * towards each destination, and the all-or-nothing loading of the demand on them.
 */
export class ShortestRoutes {
  private readonly incoming: Incoming;
  private readonly heap: Int32Array;
  private readonly order: Int32Array;
  private readonly mass: Float64Array;
  /** Least cost from each node to destination k: dist[k * nodeCount + s]. */
  readonly dist: Float64Array;
  /** The next link from node s towards destination k (-1 at the destination or when unreachable): nextLink[k * nodeCount + s]. */
  readonly nextLink: Int32Array;

  constructor(private readonly network: RoadNetwork) {
    this.incoming = incomingLinks(network);
    this.heap = new Int32Array(network.linkCount + 1);
    this.order = new Int32Array(network.nodeCount);
    this.mass = new Float64Array(network.nodeCount);
    this.dist = new Float64Array(network.destinations.length * network.nodeCount);
    this.nextLink = new Int32Array(network.destinations.length * network.nodeCount);
  }

  /** Computes dist and nextLink for every destination under `cost`. */
  update(cost: Float64Array): void {
    const { network } = this;
    const N = network.nodeCount;
    for (let k = 0; k < network.destinations.length; k++) {
      const destination = network.destinations[k];
      const dist = this.dist.subarray(k * N, (k + 1) * N);
      distancesTo(network, destination, cost, dist, this.incoming, this.heap);
      for (let s = 0; s < N; s++) {
        let best = -1;
        let bestCost = Infinity;
        if (s !== destination) {
          for (let j = network.outStart[s]; j < network.outStart[s + 1]; j++) {
            const a = network.outLinks[j];
            const to = network.linkTo[a];
            // Zones other than the destination relay no traffic (see distancesTo).
            if (to !== destination && to < network.firstThruNode) continue;
            const through = cost[a] + dist[to];
            if (through < bestCost) {
              bestCost = through;
              best = a;
            }
          }
        }
        this.nextLink[k * N + s] = best;
      }
    }
  }

  /**
   * Routes all demand on least-cost routes under `cost`, writing link flows by destination
   * into `flows` ([destinations, links]); returns the demand-weighted least route cost.
   */
  loadAllOrNothing(cost: Float64Array, flows: Float64Array): number {
    const { network, mass, order } = this;
    const N = network.nodeCount;
    const L = network.linkCount;
    this.update(cost);
    flows.fill(0);
    let leastCost = 0;
    for (let k = 0; k < network.destinations.length; k++) {
      const dist = this.dist.subarray(k * N, (k + 1) * N);
      mass.fill(0);
      for (let i = 0; i < network.odRate.length; i++) {
        if (network.destinationIndex[network.odDestination[i]] !== k) continue;
        mass[network.odOrigin[i]] += network.odRate[i];
        leastCost += network.odRate[i] * dist[network.odOrigin[i]];
      }
      // Farthest first: every node passes on its mass after all its upstream nodes have.
      for (let s = 0; s < N; s++) order[s] = s;
      order.sort((p, q) => (dist[q] === dist[p] ? 0 : dist[q] > dist[p] ? 1 : -1));
      for (const s of order) {
        const a = this.nextLink[k * N + s];
        if (mass[s] === 0 || a < 0) continue;
        flows[k * L + a] += mass[s];
        mass[network.linkTo[a]] += mass[s];
      }
    }
    return leastCost;
  }
}
