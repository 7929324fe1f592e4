/**
 * The agent graph of a scenario (undirected, self-loops implied) and the k-hop
 * neighbourhoods N_i^k the policies and critics consume.
 *
 * Neighbour order, as the DMPO paper's agents see it: self first, then by graph distance,
 * then by agent index. Short neighbourhoods (chain ends) are padded with zeros and a mask,
 * so one network shape serves every agent.
 */
export class AgentGraph {
  /** distance[i * n + j]: hop count between agents, -1 when unreachable. */
  readonly distance: Int32Array;
  readonly neighbours: readonly (readonly number[])[];

  constructor(
    readonly n: number,
    readonly edges: readonly (readonly [number, number])[],
  ) {
    const adjacency: number[][] = Array.from({ length: n }, () => []);
    for (const [a, b] of edges) {
      if (a === b || a < 0 || b < 0 || a >= n || b >= n) throw new Error(`bad edge ${a}-${b} for ${n} agents`);
      if (!adjacency[a].includes(b)) adjacency[a].push(b);
      if (!adjacency[b].includes(a)) adjacency[b].push(a);
    }
    for (const list of adjacency) list.sort((x, y) => x - y);
    this.neighbours = adjacency;
    this.distance = new Int32Array(n * n).fill(-1);
    for (let source = 0; source < n; source++) {
      const queue = [source];
      this.distance[source * n + source] = 0;
      for (let head = 0; head < queue.length; head++) {
        const node = queue[head];
        for (const next of adjacency[node]) {
          if (this.distance[source * n + next] < 0) {
            this.distance[source * n + next] = this.distance[source * n + node] + 1;
            queue.push(next);
          }
        }
      }
    }
  }

  /** A path 0 - 1 - ... - (n-1). */
  static chain(n: number): AgentGraph {
    return new AgentGraph(n, Array.from({ length: Math.max(0, n - 1) }, (_, i) => [i, i + 1] as const));
  }

  /** A cycle i ~ i+1 mod n (a chain for n <= 2). */
  static cycle(n: number): AgentGraph {
    if (n <= 2) return AgentGraph.chain(n);
    return new AgentGraph(n, Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as const));
  }

  /** N_i^k ordered self, then by distance, then by index. */
  neighbourhood(i: number, k: number): number[] {
    const members: number[] = [];
    for (let j = 0; j < this.n; j++) {
      const d = this.distance[i * this.n + j];
      if (d >= 0 && d <= k) members.push(j);
    }
    return members.sort((a, b) => this.distance[i * this.n + a] - this.distance[i * this.n + b] || a - b);
  }

  /** The largest |N_i^k| over agents: the padded width of a gather. */
  maxNeighbourhoodSize(k: number): number {
    let size = 0;
    for (let i = 0; i < this.n; i++) size = Math.max(size, this.neighbourhood(i, k).length);
    return size;
  }
}

/**
 * Precomputed gather of neighbour observations for one neighbourhood radius:
 * out[e, i, slot, :] = obs[e, index[i, slot], :], zeros where the slot is padding.
 */
export class NeighbourhoodGather {
  /** Width: slots per agent. */
  readonly width: number;
  /** index[i * width + slot]: the agent in that slot, -1 for padding. */
  readonly index: Int32Array;
  /** mask[i * width + slot]: 1 for a real neighbour, 0 for padding. */
  readonly mask: Float32Array;

  constructor(
    readonly graph: AgentGraph,
    readonly radius: number,
  ) {
    this.width = graph.maxNeighbourhoodSize(radius);
    this.index = new Int32Array(graph.n * this.width).fill(-1);
    this.mask = new Float32Array(graph.n * this.width);
    for (let i = 0; i < graph.n; i++) {
      graph.neighbourhood(i, radius).forEach((j, slot) => {
        this.index[i * this.width + slot] = j;
        this.mask[i * this.width + slot] = 1;
      });
    }
  }

  /**
   * Gathers for `envs` environment copies: obs is [envs, n, obsDim], out is
   * [envs, n, width, obsDim] (any float array, written in full).
   */
  gather(obs: ArrayLike<number>, obsDim: number, envs: number, out: Float32Array | Float64Array): void {
    const rowSize = this.width * obsDim;
    const expected = envs * this.graph.n * rowSize;
    if (out.length < expected) throw new Error(`gather output holds ${out.length} values, needs ${expected}`);
    for (let e = 0; e < envs; e++) {
      for (let i = 0; i < this.graph.n; i++) this.gatherRow(obs, obsDim, e, i, out, (e * this.graph.n + i) * rowSize);
    }
  }

  /**
   * Agent-major gather, as learners store data: writes agent i of copy e to row
   * i * rowsPerAgent + firstRow + e of out, each row width * obsDim values.
   */
  gatherAgentMajor(obs: ArrayLike<number>, obsDim: number, envs: number, out: Float32Array, rowsPerAgent: number, firstRow: number): void {
    const rowSize = this.width * obsDim;
    for (let i = 0; i < this.graph.n; i++) {
      for (let e = 0; e < envs; e++) this.gatherRow(obs, obsDim, e, i, out, (i * rowsPerAgent + firstRow + e) * rowSize);
    }
  }

  private gatherRow(obs: ArrayLike<number>, obsDim: number, e: number, i: number, out: Float32Array | Float64Array, at: number): void {
    const base = e * this.graph.n * obsDim;
    let w = at;
    for (let slot = 0; slot < this.width; slot++) {
      const j = this.index[i * this.width + slot];
      if (j < 0) {
        for (let d = 0; d < obsDim; d++) out[w++] = 0;
      } else {
        const src = base + j * obsDim;
        for (let d = 0; d < obsDim; d++) out[w++] = obs[src + d];
      }
    }
  }
}
