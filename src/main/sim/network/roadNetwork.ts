/**
 * A directed road network with BPR link costs and an origin-destination demand, in typed
 * arrays (links as parallel columns, outgoing links per node in compressed rows) so that the
 * assignment and the routing simulator never allocate per link or per step.
 *
 * Units are the network's own: TNTP files give free-flow times in their time unit (Sioux
 * Falls: 0.01 h, usually read as minutes) and demand in vehicles per hour; costs and the total
 * system travel time (TSTT, sum of flow x time) come out in those units.
 */

/** BPR defaults when a network gives none (the Bureau of Public Roads curve). */
export const BPR_B = 0.15;
export const BPR_POWER = 4;

export interface LinkInput {
  from: number;
  to: number;
  capacity: number;
  length: number;
  freeFlowTime: number;
  b: number;
  power: number;
}

export interface DemandInput {
  origin: number;
  destination: number;
  /** Vehicles per hour. */
  rate: number;
}

export interface NetworkInput {
  name: string;
  /** Nodes are 0 .. nodeCount-1 (TNTP node k is index k-1). */
  nodeCount: number;
  /** Nodes below this index are zones that traffic may only start or end at (TNTP FIRST THRU NODE, minus one). */
  firstThruNode: number;
  links: readonly LinkInput[];
  demand: readonly DemandInput[];
  /** Node coordinates for drawing, [x0, y0, x1, y1, ...]; null when the network has none. */
  coordinates: Float64Array | null;
}

export interface RoadNetwork {
  readonly name: string;
  readonly nodeCount: number;
  readonly linkCount: number;
  readonly firstThruNode: number;
  readonly linkFrom: Int32Array;
  readonly linkTo: Int32Array;
  readonly capacity: Float64Array;
  readonly length: Float64Array;
  readonly freeFlowTime: Float64Array;
  readonly b: Float64Array;
  readonly power: Float64Array;
  /** Outgoing links of node s: outLinks[outStart[s] .. outStart[s + 1]). */
  readonly outStart: Int32Array;
  readonly outLinks: Int32Array;
  /** OD pairs with positive demand, in input order. */
  readonly odOrigin: Int32Array;
  readonly odDestination: Int32Array;
  readonly odRate: Float64Array;
  /** Distinct destinations in increasing order, and each node's index among them (-1: not a destination). */
  readonly destinations: Int32Array;
  readonly destinationIndex: Int32Array;
  readonly coordinates: Float64Array | null;
}

/** A network whose input breaks a rule; the message names the link, node or OD pair. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

const positive = (value: number) => Number.isFinite(value) && value > 0;
const nonNegative = (value: number) => Number.isFinite(value) && value >= 0;

/** Checks the input and builds the network's typed arrays. */
export function buildNetwork(input: NetworkInput): RoadNetwork {
  const { name, nodeCount, links, demand } = input;
  if (!Number.isInteger(nodeCount) || nodeCount < 2) throw new NetworkError(`${name}: a network needs at least 2 nodes, got ${nodeCount}`);
  const node = (value: number, what: string) => {
    if (!Number.isInteger(value) || value < 0 || value >= nodeCount) throw new NetworkError(`${name}: ${what} ${value + 1} is not a node (nodes are 1 to ${nodeCount})`);
  };
  if (links.length === 0) throw new NetworkError(`${name}: the network has no links`);
  const linkCount = links.length;
  const columns = {
    linkFrom: new Int32Array(linkCount),
    linkTo: new Int32Array(linkCount),
    capacity: new Float64Array(linkCount),
    length: new Float64Array(linkCount),
    freeFlowTime: new Float64Array(linkCount),
    b: new Float64Array(linkCount),
    power: new Float64Array(linkCount),
  };
  links.forEach((link, a) => {
    const label = `link ${a + 1} (${link.from + 1} -> ${link.to + 1})`;
    node(link.from, `${label}: init node`);
    node(link.to, `${label}: term node`);
    if (link.from === link.to) throw new NetworkError(`${name}: ${label} is a loop; a link must join two different nodes`);
    if (!positive(link.capacity)) throw new NetworkError(`${name}: ${label}: capacity ${link.capacity} must be a positive number`);
    if (!positive(link.freeFlowTime)) throw new NetworkError(`${name}: ${label}: free-flow time ${link.freeFlowTime} must be a positive number`);
    if (!nonNegative(link.length)) throw new NetworkError(`${name}: ${label}: length ${link.length} must be a number >= 0`);
    if (!nonNegative(link.b)) throw new NetworkError(`${name}: ${label}: b ${link.b} must be a number >= 0`);
    if (!(Number.isFinite(link.power) && link.power >= 1)) throw new NetworkError(`${name}: ${label}: power ${link.power} must be a number >= 1`);
    columns.linkFrom[a] = link.from;
    columns.linkTo[a] = link.to;
    columns.capacity[a] = link.capacity;
    columns.length[a] = link.length;
    columns.freeFlowTime[a] = link.freeFlowTime;
    columns.b[a] = link.b;
    columns.power[a] = link.power;
  });

  const outStart = new Int32Array(nodeCount + 1);
  for (const from of columns.linkFrom) outStart[from + 1]++;
  for (let s = 0; s < nodeCount; s++) outStart[s + 1] += outStart[s];
  const outLinks = new Int32Array(linkCount);
  const filled = outStart.slice(0, nodeCount);
  columns.linkFrom.forEach((from, a) => (outLinks[filled[from]++] = a));

  const pairs = demand.filter((pair) => pair.rate !== 0);
  pairs.forEach((pair) => {
    const label = `demand ${pair.origin + 1} -> ${pair.destination + 1}`;
    node(pair.origin, `${label}: origin`);
    node(pair.destination, `${label}: destination`);
    if (!positive(pair.rate)) throw new NetworkError(`${name}: ${label}: rate ${pair.rate} must be a number >= 0`);
    if (pair.origin === pair.destination) throw new NetworkError(`${name}: ${label}: origin and destination are the same node`);
  });
  if (pairs.length === 0) throw new NetworkError(`${name}: the demand is empty (no OD pair with a positive rate)`);
  const destinations = Int32Array.from(new Set(pairs.map((pair) => pair.destination))).sort();
  const destinationIndex = new Int32Array(nodeCount).fill(-1);
  destinations.forEach((d, k) => (destinationIndex[d] = k));
  if (input.coordinates && input.coordinates.length !== 2 * nodeCount) {
    throw new NetworkError(`${name}: coordinates given for ${input.coordinates.length / 2} nodes; the network has ${nodeCount}`);
  }
  const firstThruNode = Math.max(0, Math.min(input.firstThruNode, nodeCount));
  const network: RoadNetwork = {
    name,
    nodeCount,
    linkCount,
    firstThruNode,
    ...columns,
    outStart,
    outLinks,
    odOrigin: Int32Array.from(pairs, (pair) => pair.origin),
    odDestination: Int32Array.from(pairs, (pair) => pair.destination),
    odRate: Float64Array.from(pairs, (pair) => pair.rate),
    destinations,
    destinationIndex,
    coordinates: input.coordinates,
  };
  const unreachable = firstUnreachablePair(network);
  if (unreachable >= 0) {
    throw new NetworkError(`${name}: destination ${network.odDestination[unreachable] + 1} cannot be reached from origin ${network.odOrigin[unreachable] + 1}, which has demand to it`);
  }
  return network;
}

/** BPR travel time t_a(x) = t0 (1 + b (x / c)^p). */
export function linkTime(network: RoadNetwork, a: number, flow: number): number {
  return network.freeFlowTime[a] * (1 + network.b[a] * Math.pow(flow / network.capacity[a], network.power[a]));
}

/** Marginal cost d(x t(x))/dx = t0 (1 + b (p + 1) (x / c)^p): what system-optimal routing equalises. */
export function marginalLinkCost(network: RoadNetwork, a: number, flow: number): number {
  return network.freeFlowTime[a] * (1 + network.b[a] * (network.power[a] + 1) * Math.pow(flow / network.capacity[a], network.power[a]));
}

/** Total system travel time sum_a x_a t_a(x_a) of link flows. */
export function totalTravelTime(network: RoadNetwork, flows: ArrayLike<number>): number {
  let total = 0;
  for (let a = 0; a < network.linkCount; a++) total += flows[a] * linkTime(network, a, flows[a]);
  return total;
}

/**
 * Shortest-path distances to one destination over reversed links (Dijkstra with a binary
 * heap on preallocated arrays): dist[s] is the least cost from s to the destination. Zones
 * below firstThruNode are not passed through. A node may sit in the heap more than once
 * (lazy deletion), but every link is relaxed at most once: `heap` holds linkCount + 1 entries.
 */
export function distancesTo(network: RoadNetwork, destination: number, cost: Float64Array, dist: Float64Array, incoming: Incoming, heap: Int32Array): void {
  dist.fill(Infinity);
  dist[destination] = 0;
  let size = 0;
  const push = (s: number) => {
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (dist[heap[parent]] <= dist[s]) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = s;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap[--size];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && dist[heap[child + 1]] < dist[heap[child]]) child++;
      if (dist[heap[child]] >= dist[last]) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  };
  const settled = incoming.settled;
  settled.fill(0);
  push(destination);
  while (size > 0) {
    const j = pop();
    if (settled[j]) continue;
    settled[j] = 1;
    // Traffic may not pass through a zone node: its distance is final but it relays nothing.
    if (j < network.firstThruNode && j !== destination) continue;
    for (let k = incoming.start[j]; k < incoming.start[j + 1]; k++) {
      const a = incoming.links[k];
      const s = network.linkFrom[a];
      const candidate = dist[j] + cost[a];
      if (candidate < dist[s]) {
        dist[s] = candidate;
        push(s);
      }
    }
  }
}

/** Incoming links of every node (compressed rows) and scratch space for distancesTo. */
export interface Incoming {
  start: Int32Array;
  links: Int32Array;
  settled: Uint8Array;
}

export function incomingLinks(network: RoadNetwork): Incoming {
  const start = new Int32Array(network.nodeCount + 1);
  for (const to of network.linkTo) start[to + 1]++;
  for (let s = 0; s < network.nodeCount; s++) start[s + 1] += start[s];
  const links = new Int32Array(network.linkCount);
  const filled = start.slice(0, network.nodeCount);
  network.linkTo.forEach((to, a) => (links[filled[to]++] = a));
  return { start, links, settled: new Uint8Array(network.nodeCount) };
}

function firstUnreachablePair(network: RoadNetwork): number {
  const incoming = incomingLinks(network);
  const dist = new Float64Array(network.nodeCount);
  const heap = new Int32Array(network.linkCount + 1);
  const unit = new Float64Array(network.linkCount).fill(1);
  for (const d of network.destinations) {
    distancesTo(network, d, unit, dist, incoming, heap);
    for (let k = 0; k < network.odOrigin.length; k++) if (network.odDestination[k] === d && dist[network.odOrigin[k]] === Infinity) return k;
  }
  return -1;
}
