/**
 * k-hop neighbourhoods N_i^k of the agent graph, computed from its edge list (what the api's
 * EpisodeSpec carries), for the live view's inspector. Same definition and order as the
 * simulator's AgentGraph (src/main/sim/graph.ts): self first, then by graph distance, then
 * by agent index; a unit test checks that the two agree. Single-source, so a 2,000-agent
 * ring costs one breadth-first search per selection, not an n x n table.
 */

export type Adjacency = readonly (readonly number[])[];

export function buildAdjacency(n: number, edges: readonly (readonly [number, number])[]): number[][] {
  const adjacency: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) {
    if (a === b || a < 0 || b < 0 || a >= n || b >= n) continue;
    if (!adjacency[a].includes(b)) adjacency[a].push(b);
    if (!adjacency[b].includes(a)) adjacency[b].push(a);
  }
  return adjacency;
}

/** Hop distance from `source` to every agent; -1 when unreachable. */
export function distancesFrom(adjacency: Adjacency, source: number): Int32Array {
  const n = adjacency.length;
  const distance = new Int32Array(n).fill(-1);
  if (source < 0 || source >= n) return distance;
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = source;
  distance[source] = 0;
  while (head < tail) {
    const node = queue[head++];
    for (const next of adjacency[node]) {
      if (distance[next] < 0) {
        distance[next] = distance[node] + 1;
        queue[tail++] = next;
      }
    }
  }
  return distance;
}

/** N^k from a distance row: members ordered self, then by distance, then by index. */
export function neighbourhoodFromDistances(distance: Int32Array, k: number): number[] {
  const members: number[] = [];
  for (let j = 0; j < distance.length; j++) {
    const d = distance[j];
    if (d >= 0 && d <= k) members.push(j);
  }
  return members.sort((a, b) => distance[a] - distance[b] || a - b);
}

/** N_i^k of agent i. */
export function neighbourhood(adjacency: Adjacency, i: number, k: number): number[] {
  return neighbourhoodFromDistances(distancesFrom(adjacency, i), k);
}

/** Largest finite distance in a distance row (the agent's eccentricity); 0 for a lone agent. */
export function eccentricity(distance: Int32Array): number {
  let max = 0;
  for (const d of distance) if (d > max) max = d;
  return max;
}

/** An agent's neighbourhoods for display: as agents, as the vehicles they drive, and the graph edges inside N^k. */
export interface NeighbourhoodView {
  kappa: number;
  policyAgents: number[];
  criticAgents: number[];
  policyVehicles: number[];
  criticVehicles: number[];
  /** Vehicle indices of each edge's agents; 'policy' for the agent's own edges (inside N^1), 'critic' for the others inside N^k. */
  edges: { a: number; b: number; kind: 'policy' | 'critic' }[];
}

/** N^1 and N^k of agent `self` (its distance row `distance`), with the edges of the graph inside N^k. */
export function neighbourhoodView(
  edges: readonly (readonly [number, number])[],
  agentVehicle: readonly number[],
  distance: Int32Array,
  self: number,
  k: number,
): NeighbourhoodView {
  const policyAgents = neighbourhoodFromDistances(distance, 1);
  const criticAgents = neighbourhoodFromDistances(distance, k);
  const inCritic = new Set(criticAgents);
  const shown: NeighbourhoodView['edges'] = [];
  for (const [a, b] of edges) {
    if (!inCritic.has(a) || !inCritic.has(b)) continue;
    shown.push({ a: agentVehicle[a], b: agentVehicle[b], kind: a === self || b === self ? 'policy' : 'critic' });
  }
  return {
    kappa: k,
    policyAgents,
    criticAgents,
    policyVehicles: policyAgents.map((agent) => agentVehicle[agent]),
    criticVehicles: criticAgents.map((agent) => agentVehicle[agent]),
    edges: shown,
  };
}
