/**
 * Advantages over a rollout stored agent-major, [n, T, E] (agent, step, environment copy):
 * the layout the per-agent updates consume.
 *
 * GAE is truncation-aware: a true end (terminated) bootstraps from 0, a time limit
 * (truncated) from V(s_T) of the final state, and neither lets the estimate leak into the
 * next episode that follows in the same copy after a reset. (The DMPO reference code treated
 * the horizon as terminal; the paper's estimator does not.)
 */
import type { RolloutBuffer } from './rollout.ts';

export interface RolloutShape {
  agents: number;
  steps: number;
  envs: number;
}

export interface GaeInput extends RolloutShape {
  /** [n, T, E] learning rewards r_t. */
  rewards: Float32Array;
  /** [n, T, E] V(s_t). */
  values: Float32Array;
  /** [n, E] V(s_T) of the state after the last step (used where the copy is still running). */
  lastValues: Float32Array;
  /** [T, E] 1 where step t ended the copy's episode for real. */
  terminated: Uint8Array;
  /** [T, E] 1 where step t hit the time limit. */
  truncated: Uint8Array;
  /** [n, T, E] V of the final state where truncated (ignored elsewhere). */
  truncationValues: Float32Array;
  gamma: number;
  lambda: number;
}

/** Writes GAE advantages and the critic's targets (advantage + value), both [n, T, E]. */
export function computeGae(input: GaeInput, advantages: Float32Array, returns: Float32Array): void {
  const { agents, steps, envs, rewards, values, lastValues, terminated, truncated, truncationValues, gamma, lambda } = input;
  for (let i = 0; i < agents; i++) {
    for (let e = 0; e < envs; e++) {
      let running = 0;
      for (let t = steps - 1; t >= 0; t--) {
        const flag = t * envs + e;
        const k = i * steps * envs + flag;
        let nextValue: number;
        let carry = 0;
        if (terminated[flag] === 1) {
          nextValue = 0;
        } else if (truncated[flag] === 1) {
          nextValue = truncationValues[k];
        } else {
          nextValue = t === steps - 1 ? lastValues[i * envs + e] : values[k + envs];
          carry = running;
        }
        running = rewards[k] + gamma * nextValue - values[k] + gamma * lambda * carry;
        advantages[k] = running;
        returns[k] = running + values[k];
      }
    }
  }
}

/**
 * Extended-value advantages (DMPO paper eq. 6): agent i's advantage from
 * V~_i = (1/n) sum_{j in N_i^kappa} V_j. GAE is linear in rewards and values, so this equals
 * (1/n) sum_{j in N_i^kappa} A_j ('mean-value'); the reference code summed the neighbours'
 * advantages instead ('sum-advantage').
 */
export function aggregateNeighbourAdvantages(
  own: Float32Array,
  neighbourhoods: readonly (readonly number[])[],
  samplesPerAgent: number,
  mode: 'mean-value' | 'sum-advantage',
  out: Float32Array,
): void {
  const n = neighbourhoods.length;
  const scale = mode === 'mean-value' ? 1 / n : 1;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const target = i * samplesPerAgent;
    for (const j of neighbourhoods[i]) {
      const source = j * samplesPerAgent;
      for (let s = 0; s < samplesPerAgent; s++) out[target + s] += scale * own[source + s];
    }
  }
}

/**
 * Normalises each agent's advantages to mean 0, std 1 over its samples. `excluded` [samples
 * per agent] (null: none), the same for every agent: samples left out of the statistics and
 * set to 0 (steps whose actions have no effect, which the policy loss leaves out).
 */
export function normalisePerAgent(advantages: Float32Array, agents: number, excluded: Uint8Array | null = null): void {
  const samples = advantages.length / agents;
  if (excluded !== null && excluded.length !== samples) throw new Error(`normalisePerAgent: excluded has ${excluded.length} entries, the agents ${samples} samples each`);
  const kept = excluded === null ? samples : samples - excluded.reduce((sum, x) => sum + (x === 0 ? 0 : 1), 0);
  for (let i = 0; i < agents; i++) {
    const row = advantages.subarray(i * samples, (i + 1) * samples);
    if (excluded !== null) for (let s = 0; s < samples; s++) if (excluded[s] !== 0) row[s] = 0;
    if (kept === 0) continue;
    let sum = 0;
    for (const a of row) sum += a;
    const mean = sum / kept;
    let squares = 0;
    for (let s = 0; s < samples; s++) if (excluded === null || excluded[s] === 0) squares += (row[s] - mean) ** 2;
    const scale = 1 / (Math.sqrt(squares / kept) + 1e-8);
    for (let s = 0; s < samples; s++) row[s] = excluded === null || excluded[s] === 0 ? (row[s] - mean) * scale : 0;
  }
}

/**
 * The agents' own GAE advantages on a filled buffer, [n, T, E]: evaluates the critic on it
 * (values, the last state and truncations) and writes the critic's targets into its returns.
 */
export function rolloutAdvantages(buffer: RolloutBuffer, gamma: number, lambda: number): Float32Array {
  buffer.evaluateValues();
  const advantages = new Float32Array(buffer.rewards.length);
  computeGae(
    {
      agents: buffer.agents,
      steps: buffer.steps,
      envs: buffer.envs,
      rewards: buffer.rewards,
      values: buffer.values,
      lastValues: buffer.lastValues,
      terminated: buffer.terminated,
      truncated: buffer.truncated,
      truncationValues: buffer.truncationValues,
      gamma,
      lambda,
    },
    advantages,
    buffer.returns,
  );
  return advantages;
}

/** Extended-value advantages of every agent from the agents' own ones (see aggregateNeighbourAdvantages). */
export function extendedAdvantages(own: Float32Array, neighbourhoods: readonly (readonly number[])[], mode: 'mean-value' | 'sum-advantage'): Float32Array {
  const extended = new Float32Array(own.length);
  aggregateNeighbourAdvantages(own, neighbourhoods, own.length / neighbourhoods.length, mode, extended);
  return extended;
}

/**
 * Spatially discounted learning rewards, in place on [n, T, E]: agent i learns from
 * sum_j alpha^d(i,j) r_j over the agents its graph reaches (d the hop count, `distance`
 * [n * n] with -1 where unreachable), the reward Chu et al.'s NMARL code (where the CACC
 * scenarios come from) trains its agents on, alpha its coop_gamma: 0 is each agent's own
 * reward, 1 the sum over every reachable agent (its global reward, coop_gamma -1 in its CACC
 * configs). Sharing the reward changes what each agent's gradient pays for: a collision costs
 * every agent the whole platoon's penalty, and the leader's headway error is everyone's.
 */
export function spatiallyDiscountRewards(rewards: Float32Array, distance: Int32Array, agents: number, alpha: number): void {
  if (distance.length !== agents * agents) throw new Error(`spatiallyDiscountRewards: distance has ${distance.length} entries, not ${agents} x ${agents}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`spatiallyDiscountRewards: alpha ${alpha} is outside [0, 1]`);
  const samples = rewards.length / agents;
  const own = rewards.slice();
  rewards.fill(0);
  for (let i = 0; i < agents; i++) {
    const target = rewards.subarray(i * samples, (i + 1) * samples);
    for (let j = 0; j < agents; j++) {
      const hops = distance[i * agents + j];
      if (hops < 0) continue;
      // alpha^0 = 1: the agent's own reward always counts in full.
      const weight = alpha ** hops;
      if (weight === 0) continue;
      const source = own.subarray(j * samples, (j + 1) * samples);
      for (let s = 0; s < samples; s++) target[s] += weight * source[s];
    }
  }
}
