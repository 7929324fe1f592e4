/**
 * Generalised advantage estimation over a rollout laid out [T, S] (S = series: environment
 * copies x agents), truncation-aware: a true end (terminated) bootstraps from 0, a time limit
 * (truncated) bootstraps from V(s_T) of the final state, and neither lets the estimate leak
 * into the next episode that follows in the same series after a reset.
 * (The DMPO reference code treated the horizon as terminal; the paper's estimator does not.)
 */
export interface GaeInput {
  steps: number;
  series: number;
  /** [T, S] rewards r_t. */
  rewards: Float32Array | Float64Array;
  /** [T, S] V(s_t). */
  values: Float32Array | Float64Array;
  /** [S] V(s_T) of the state after the last step, for series still running. */
  lastValues: Float32Array | Float64Array;
  /** [T, S] 1 where step t ended the episode for real. */
  terminated: Uint8Array;
  /** [T, S] 1 where step t hit the time limit. */
  truncated: Uint8Array;
  /** [T, S] V(s_{t+1}) of the final state where truncated (ignored elsewhere). */
  truncationValues: Float32Array | Float64Array;
  gamma: number;
  lambda: number;
}

/** Writes advantages and returns (advantage + value, the critic's target), both [T, S]. */
export function computeGae(input: GaeInput, advantages: Float32Array, returns: Float32Array): void {
  const { steps, series, rewards, values, lastValues, terminated, truncated, truncationValues, gamma, lambda } = input;
  for (let s = 0; s < series; s++) {
    let running = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const k = t * series + s;
      let nextValue: number;
      let carry: number;
      if (terminated[k] === 1) {
        nextValue = 0;
        carry = 0;
      } else if (truncated[k] === 1) {
        nextValue = truncationValues[k];
        carry = 0;
      } else {
        nextValue = t === steps - 1 ? lastValues[s] : values[k + series];
        carry = running;
      }
      const delta = rewards[k] + gamma * nextValue - values[k];
      running = delta + gamma * lambda * carry;
      advantages[k] = running;
      returns[k] = running + values[k];
    }
  }
}

/**
 * Normalises each agent's advantages to zero mean and unit variance over the batch
 * (all steps and environment copies of that agent). Layout [T, E, n].
 */
export function normalisePerAgent(advantages: Float32Array, nAgents: number): void {
  const count = advantages.length / nAgents;
  for (let i = 0; i < nAgents; i++) {
    let sum = 0;
    for (let k = i; k < advantages.length; k += nAgents) sum += advantages[k];
    const mean = sum / count;
    let sq = 0;
    for (let k = i; k < advantages.length; k += nAgents) sq += (advantages[k] - mean) ** 2;
    const std = Math.sqrt(sq / count) + 1e-8;
    for (let k = i; k < advantages.length; k += nAgents) advantages[k] = (advantages[k] - mean) / std;
  }
}
