/**
 * Value iteration on a finite coordinator MDP: the common-information approach (Nayyar,
 * Mahajan, Teneketzis) turns a team problem into one coordinator who sees the common
 * information and picks prescriptions; its state is the belief on what it does not see.
 * The planners (mabcPlanner.ts, demandResponsePlanner.ts) enumerate the beliefs reachable
 * from the initial one and hand this solver the resulting finite MDP.
 */

/** A finite MDP over belief nodes: successors of (node, action) in CSR form. */
export interface BeliefMdp {
  nodes: number;
  actions: number;
  /** Expected reward of (node, action), [nodes * actions]. */
  reward: Float64Array;
  /** Successors of (node, action) k are next[start[k] .. start[k + 1]) with probabilities prob[...]. */
  start: Int32Array;
  next: Int32Array;
  prob: Float64Array;
}

export interface PlannerSolution {
  /** Optimal value of every node (discounted over the horizon, or infinite-horizon). */
  values: Float64Array;
  /** An optimal action per node (at the first step for a finite horizon); ties go to the lowest index. */
  policy: Int32Array;
  sweeps: number;
  /** Largest change of the last sweep (infinite horizon: the values are within residual * gamma / (1 - gamma) of the fixed point). */
  residual: number;
}

/**
 * Infinite horizon (horizon undefined): sweeps until the largest change is below
 * tolerance. Finite horizon T: exactly T backward-induction sweeps from V = 0.
 */
export function valueIteration(mdp: BeliefMdp, gamma: number, options: { horizon?: number; tolerance?: number } = {}): PlannerSolution {
  const { nodes, actions, reward, start, next, prob } = mdp;
  const tolerance = options.tolerance ?? 1e-10;
  let values = new Float64Array(nodes);
  let updated = new Float64Array(nodes);
  const policy = new Int32Array(nodes);
  let sweeps = 0;
  let residual = Infinity;
  for (;;) {
    if (options.horizon !== undefined ? sweeps >= options.horizon : residual < tolerance) break;
    residual = 0;
    for (let s = 0; s < nodes; s++) {
      let best = -Infinity;
      let bestAction = 0;
      for (let a = 0; a < actions; a++) {
        const k = s * actions + a;
        let q = 0;
        for (let j = start[k]; j < start[k + 1]; j++) q += prob[j] * values[next[j]];
        q = reward[k] + gamma * q;
        if (q > best + 1e-13) {
          best = q;
          bestAction = a;
        }
      }
      updated[s] = best;
      policy[s] = bestAction;
      residual = Math.max(residual, Math.abs(best - values[s]));
    }
    [values, updated] = [updated, values];
    sweeps++;
  }
  return { values, policy, sweeps, residual };
}

/**
 * A policy's value estimated against a plan: the plan's value minus the mean over episodes of
 * each episode's discounted loss against it (its regret terms), with the standard error of
 * that mean.
 */
export function valueAgainstPlan(planValue: number, losses: ArrayLike<number>): { value: number; standardError: number } {
  const n = losses.length;
  let sum = 0;
  for (let e = 0; e < n; e++) sum += losses[e];
  const mean = sum / n;
  let squares = 0;
  for (let e = 0; e < n; e++) squares += (losses[e] - mean) ** 2;
  const variance = squares / n;
  return { value: planValue - mean, standardError: Math.sqrt(variance / n) };
}

/** Builds a BeliefMdp node by node: nodes are found breadth-first from the initial belief through `expand`. */
export class BeliefGraphBuilder<B> {
  private readonly index = new Map<string, number>();
  private readonly beliefs: B[] = [];
  private readonly rewards: number[] = [];
  private readonly starts: number[] = [0];
  private readonly nexts: number[] = [];
  private readonly probs: number[] = [];

  constructor(
    private readonly actions: number,
    private readonly key: (belief: B) => string,
  ) {}

  /** The node of a belief, added when new. */
  node(belief: B): number {
    const key = this.key(belief);
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.beliefs.length;
      this.index.set(key, id);
      this.beliefs.push(belief);
    }
    return id;
  }

  /**
   * Expands every node reachable from `initial`: expand(belief, action) gives the expected
   * reward and the successor beliefs with their probabilities (zero-probability ones dropped).
   * With maxDepth (a finite horizon T) nodes first reached after T steps stay leaves: T
   * backward-induction sweeps only read their zero terminal value.
   */
  build(
    initial: B,
    expand: (belief: B, action: number) => { reward: number; successors: readonly (readonly [B, number])[] },
    limits: { maxNodes: number; maxDepth?: number },
  ): { mdp: BeliefMdp; beliefs: readonly B[]; initial: number } {
    const first = this.node(initial);
    const depth = [0];
    for (let s = 0; s < this.beliefs.length; s++) {
      if (s >= limits.maxNodes) throw new Error(`the coordinator's reachable beliefs exceed ${limits.maxNodes} nodes`);
      const leaf = limits.maxDepth !== undefined && depth[s] >= limits.maxDepth;
      for (let a = 0; a < this.actions; a++) {
        const { reward, successors } = leaf ? { reward: 0, successors: [] } : expand(this.beliefs[s], a);
        this.rewards.push(reward);
        for (const [belief, p] of successors) {
          if (p <= 0) continue;
          const node = this.node(belief);
          if (node === depth.length) depth.push(depth[s] + 1);
          this.nexts.push(node);
          this.probs.push(p);
        }
        this.starts.push(this.nexts.length);
      }
    }
    const mdp: BeliefMdp = {
      nodes: this.beliefs.length,
      actions: this.actions,
      reward: Float64Array.from(this.rewards),
      start: Int32Array.from(this.starts),
      next: Int32Array.from(this.nexts),
      prob: Float64Array.from(this.probs),
    };
    return { mdp, beliefs: this.beliefs, initial: first };
  }
}
