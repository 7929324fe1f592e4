/**
 * Real experience for the DMPO local models: whole episodes of every agent, a FIFO of the
 * latest ones, and the open-loop training windows sampled from it.
 */
import type { BatchedEnv } from '../../sim/env.ts';
import type { RngStreams } from '../../sim/rng.ts';
import type { WindowBatch } from './gcn.ts';

/** One real episode of all n agents; `length` transitions. */
export interface RealEpisode {
  readonly length: number;
  /** [length + 1, n, obsDim]: s_0 .. s_length, so the next observation of step t is row t + 1. */
  readonly observations: Float32Array;
  /** [length, n]: discrete indices or continuous values, as given to the environment. */
  readonly actions: Float32Array;
  /** [length, n]: the learning rewards (after any scaling the learner applies). */
  readonly rewards: Float32Array;
  /**
   * [length, n]: 1 where the transition ended the episode for real. A time-limit truncation
   * is not a terminal: the horizon is no property of the state (the reference code also
   * clears d at its maximum episode length).
   */
  readonly terminals: Uint8Array;
}

/** The last `capacity` real episodes, oldest dropped first. */
export class EpisodeFifo {
  private readonly stored: RealEpisode[] = [];

  constructor(
    readonly capacity: number,
    readonly agents: number,
    readonly obsDim: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`episode FIFO capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.stored.length;
  }

  /** The stored episodes, oldest first. */
  get all(): readonly RealEpisode[] {
    return this.stored;
  }

  /** The most recently added episode. */
  get latest(): RealEpisode | undefined {
    return this.stored[this.stored.length - 1];
  }

  clear(): void {
    this.stored.length = 0;
  }

  add(episode: RealEpisode): void {
    const { agents, obsDim } = this;
    const { length } = episode;
    if (!Number.isInteger(length) || length < 1) throw new Error(`an episode needs at least one transition, got length ${length}`);
    const expect = (name: string, actual: number, wanted: number): void => {
      if (actual !== wanted) throw new Error(`episode ${name} has ${actual} values, expected ${wanted}`);
    };
    expect('observations', episode.observations.length, (length + 1) * agents * obsDim);
    expect('actions', episode.actions.length, length * agents);
    expect('rewards', episode.rewards.length, length * agents);
    expect('terminals', episode.terminals.length, length * agents);
    this.stored.push(episode);
    if (this.stored.length > this.capacity) this.stored.shift();
  }

  /**
   * `count` windows of `steps` consecutive transitions: each from an episode drawn uniformly
   * (with replacement, as the reference samples trajectories) among those at least `steps`
   * long, starting at a uniform position, drawn from `rng`'s stream `stream`.
   */
  sampleWindows(count: number, steps: number, rng: RngStreams, stream: number): WindowBatch {
    const eligible = this.stored.filter((episode) => episode.length >= steps);
    if (eligible.length === 0) throw new Error(`no stored episode has the ${steps} transitions a training window needs`);
    const { agents, obsDim } = this;
    const stateSize = agents * obsDim;
    const batch = {
      windows: count,
      steps,
      startObservations: new Float32Array(count * stateSize),
      actions: new Float32Array(steps * count * agents),
      nextObservations: new Float32Array(steps * count * stateSize),
      rewards: new Float32Array(steps * count * agents),
      terminals: new Float32Array(steps * count * agents),
    };
    for (let w = 0; w < count; w++) {
      const episode = eligible[rng.integer(stream, 0, eligible.length - 1)];
      const start = rng.integer(stream, 0, episode.length - steps);
      batch.startObservations.set(episode.observations.subarray(start * stateSize, (start + 1) * stateSize), w * stateSize);
      for (let t = 0; t < steps; t++) {
        const source = start + t;
        const row = t * count + w;
        batch.nextObservations.set(episode.observations.subarray((source + 1) * stateSize, (source + 2) * stateSize), row * stateSize);
        batch.actions.set(episode.actions.subarray(source * agents, (source + 1) * agents), row * agents);
        batch.rewards.set(episode.rewards.subarray(source * agents, (source + 1) * agents), row * agents);
        batch.terminals.set(episode.terminals.subarray(source * agents, (source + 1) * agents), row * agents);
      }
    }
    return batch;
  }
}

/**
 * Runs every copy of `env` from a reset with `seed` to its end and returns one episode per
 * copy. `chooseActions(observations, actions)` fills actions [E, n] from observations
 * [E, n, obsDim] (the environment's buffers); `learningReward` maps each learning reward
 * (e.g. the DMPO CACC scaling clip(r / 100, -5, 5)).
 */
export function recordEpisodes(
  env: BatchedEnv,
  seed: number,
  chooseActions: (observations: Float64Array, actions: Float64Array) => void,
  learningReward: (reward: number) => number = (reward) => reward,
): RealEpisode[] {
  const { nAgents: agents, obsDim, horizon } = env.spec;
  const copies = env.numEnvs;
  const stateSize = agents * obsDim;
  env.reset(seed);
  const observations = Array.from({ length: copies }, (_, e) => {
    const rows = new Float32Array((horizon + 1) * stateSize);
    rows.set(env.obs.subarray(e * stateSize, (e + 1) * stateSize));
    return rows;
  });
  const actionRows = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
  const rewardRows = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
  const terminalRows = Array.from({ length: copies }, () => new Uint8Array(horizon * agents));
  const actions = new Float64Array(copies * agents);
  const running = new Uint8Array(copies);
  while (!env.allDone()) {
    for (let e = 0; e < copies; e++) running[e] = 1 - (env.terminated[e] | env.truncated[e]);
    chooseActions(env.obs, actions);
    env.step(actions);
    for (let e = 0; e < copies; e++) {
      if (running[e] === 0) continue;
      const t = env.steps[e] - 1;
      observations[e].set(env.obs.subarray(e * stateSize, (e + 1) * stateSize), (t + 1) * stateSize);
      for (let i = 0; i < agents; i++) {
        actionRows[e][t * agents + i] = actions[e * agents + i];
        rewardRows[e][t * agents + i] = learningReward(env.reward[e * agents + i]);
        terminalRows[e][t * agents + i] = env.terminated[e];
      }
    }
  }
  return Array.from({ length: copies }, (_, e) => {
    const length = env.steps[e];
    return {
      length,
      observations: observations[e].slice(0, (length + 1) * stateSize),
      actions: actionRows[e].slice(0, length * agents),
      rewards: rewardRows[e].slice(0, length * agents),
      terminals: terminalRows[e].slice(0, length * agents),
    };
  });
}
