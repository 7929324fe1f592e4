/**
 * Real experience for the DMPO local models: whole episodes of every agent recorded from the
 * environment, a FIFO of the latest ones, and the open-loop training windows sampled from it.
 */
import type { BatchedEnv } from '../../../sim/env.ts';
import type { RngStreams } from '../../../sim/rng.ts';
import { restoreArrays, type SnapshotArrays } from '../../../sim/snapshot.ts';
import { checkpointMisfit, type TransitionObserver } from '../../core/rollout.ts';
import type { WindowBatch } from './gcn.ts';
import { unwrapWindowTargets } from './wrappedObservations.ts';

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
    /** Observation fields that wrap from 1 to 0 (EnvSpec.wrappedObs): windows unwrap their targets (wrappedObservations.ts). */
    readonly wrappedObs: readonly number[] = [],
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
   * long, starting at a uniform position, drawn from `rng`'s stream `stream`. Wrapped fields
   * of the next observations are unwrapped from each window's start state.
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
      unwrapWindowTargets(batch, w, agents, obsDim, this.wrappedObs);
    }
    return batch;
  }
}

/** An episode a recorder completed, with the environment copy it ran in. */
export interface CompletedEpisode {
  readonly copy: number;
  readonly episode: RealEpisode;
}

/**
 * Real transitions of every copy of an environment, cut into whole episodes: observes a
 * rollout (DMPO's training copies) or a run to the end (recordEpisodes). A copy that had
 * already ended before a step (frozen until its reset) records nothing.
 */
export class RealEpisodeRecorder implements TransitionObserver {
  private readonly observations: Float32Array[];
  private readonly actions: Float32Array[];
  private readonly rewards: Float32Array[];
  private readonly terminals: Uint8Array[];
  private readonly length: Int32Array;
  private readonly fresh: Uint8Array;
  /** Scratch: whether each copy was running when the current step began. */
  private readonly running: Uint8Array;
  private completed: CompletedEpisode[] = [];

  constructor(
    private readonly copies: number,
    private readonly agents: number,
    private readonly obsDim: number,
    horizon: number,
    /** Maps each raw reward to the learning reward the models learn (e.g. the CACC scaling). */
    private readonly learningReward: (reward: number) => number,
  ) {
    const state = agents * obsDim;
    this.observations = Array.from({ length: copies }, () => new Float32Array((horizon + 1) * state));
    this.actions = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
    this.rewards = Array.from({ length: copies }, () => new Float32Array(horizon * agents));
    this.terminals = Array.from({ length: copies }, () => new Uint8Array(horizon * agents));
    this.length = new Int32Array(copies);
    this.fresh = new Uint8Array(copies).fill(1);
    this.running = new Uint8Array(copies);
  }

  /** The episodes completed since the last call, in the order they ended. */
  takeCompleted(): CompletedEpisode[] {
    const completed = this.completed;
    this.completed = [];
    return completed;
  }

  snapshot(): Record<string, Float32Array | Uint8Array | Int32Array> {
    const arrays: Record<string, Float32Array | Uint8Array | Int32Array> = { length: this.length, fresh: this.fresh };
    for (let e = 0; e < this.copies; e++) {
      arrays[`${e}.observations`] = this.observations[e];
      arrays[`${e}.actions`] = this.actions[e];
      arrays[`${e}.rewards`] = this.rewards[e];
      arrays[`${e}.terminals`] = this.terminals[e];
    }
    return arrays;
  }

  restore(arrays: SnapshotArrays): void {
    restoreArrays(this.snapshot(), arrays, (name) => checkpointMisfit(`recorder.${name}`));
  }

  /** Stores s_0 of copies that just started an episode. */
  beforeStep(env: BatchedEnv): void {
    const state = this.agents * this.obsDim;
    for (let e = 0; e < this.copies; e++) {
      this.running[e] = 1 - (env.terminated[e] | env.truncated[e]);
      if (this.fresh[e] === 0 || this.running[e] === 0) continue;
      this.observations[e].set(env.obs.subarray(e * state, (e + 1) * state));
      this.length[e] = 0;
      this.fresh[e] = 0;
    }
  }

  /** Appends the step just taken with `actions` [E, n]; an episode it ends is completed. */
  afterStep(env: BatchedEnv, actions: Float64Array): void {
    const { agents } = this;
    const state = agents * this.obsDim;
    for (let e = 0; e < this.copies; e++) {
      if (this.running[e] === 0) continue;
      const t = this.length[e];
      for (let i = 0; i < agents; i++) {
        this.actions[e][t * agents + i] = actions[e * agents + i];
        this.rewards[e][t * agents + i] = this.learningReward(env.reward[e * agents + i]);
        this.terminals[e][t * agents + i] = env.terminated[e];
      }
      this.observations[e].set(env.obs.subarray(e * state, (e + 1) * state), (t + 1) * state);
      const length = ++this.length[e];
      if ((env.terminated[e] | env.truncated[e]) === 1) {
        this.completed.push({
          copy: e,
          episode: {
            length,
            observations: this.observations[e].slice(0, (length + 1) * state),
            actions: this.actions[e].slice(0, length * agents),
            rewards: this.rewards[e].slice(0, length * agents),
            terminals: this.terminals[e].slice(0, length * agents),
          },
        });
        this.fresh[e] = 1;
      }
    }
  }
}

/**
 * Runs every copy of `env` from a reset with `seed` to its end and returns one episode per
 * copy, in copy order. `chooseActions(observations, actions)` fills actions [E, n] from
 * observations [E, n, obsDim] (the environment's buffers); `learningReward` maps each reward
 * (e.g. the DMPO CACC scaling clip(r / 100, -5, 5)).
 */
export function recordEpisodes(
  env: BatchedEnv,
  seed: number,
  chooseActions: (observations: Float64Array, actions: Float64Array) => void,
  learningReward: (reward: number) => number = (reward) => reward,
): RealEpisode[] {
  const { nAgents: agents, obsDim, horizon } = env.spec;
  const recorder = new RealEpisodeRecorder(env.numEnvs, agents, obsDim, horizon, learningReward);
  const actions = new Float64Array(env.numEnvs * agents);
  env.reset(seed);
  while (!env.allDone()) {
    chooseActions(env.obs, actions);
    recorder.beforeStep(env);
    env.step(actions);
    recorder.afterStep(env, actions);
  }
  const episodes = new Array<RealEpisode>(env.numEnvs);
  for (const { copy, episode } of recorder.takeCompleted()) episodes[copy] = episode;
  return episodes;
}
