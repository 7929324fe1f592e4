/**
 * The replay buffer of the off-policy learners: a ring of the last `capacity` transitions of
 * all agents of one environment copy (s, a, learning reward, terminated, s'), in typed
 * arrays allocated once. Observations are stored raw per agent ([n, obsDim] per transition)
 * and gathered into neighbourhood inputs when a batch is drawn, so one buffer serves the
 * policy's N^1 and the critics' N^kappa.
 *
 * s' of a truncated episode is its final state (stored before the copy is reset), and only
 * `terminated` stops the bootstrap: a horizon is not a terminal state.
 *
 * Each step writes its copies side by side, so the next step of the copy that produced
 * transition k sits at k + copiesPerStep (n-step targets walk along it, `successor`).
 */
import type { RngStreams } from '../../../sim/rng.ts';
import type { TypedArray } from '../../../sim/snapshot.ts';

export class ReplayBuffer {
  /** [capacity, n * obsDim]. */
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  /** [capacity, n] discrete action indices. */
  readonly actions: Uint8Array;
  /** [capacity, n] learning rewards. */
  readonly rewards: Float32Array;
  /** [capacity]: 1 where the episode truly ended (collision), so s' is not bootstrapped. */
  readonly terminated: Uint8Array;
  /** Transitions held (at most capacity). */
  size = 0;
  /** Where the next transition goes. */
  cursor = 0;
  private readonly obsWidth: number;

  constructor(
    readonly capacity: number,
    readonly agents: number,
    readonly obsDim: number,
    /** Environment copies every addStep stores (the collector's numEnvs). */
    readonly copiesPerStep = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`replay capacity must be a positive integer, got ${capacity}`);
    this.obsWidth = agents * obsDim;
    this.obs = new Float32Array(capacity * this.obsWidth);
    this.nextObs = new Float32Array(capacity * this.obsWidth);
    this.actions = new Uint8Array(capacity * agents);
    this.rewards = new Float32Array(capacity * agents);
    this.terminated = new Uint8Array(capacity);
  }

  /**
   * Stores one step of `envs` copies: obs and nextObs [E, n, obsDim], actions [E, n],
   * rewards [E, n] (already learning rewards), terminated [E].
   */
  addStep(obs: ArrayLike<number>, actions: ArrayLike<number>, rewards: ArrayLike<number>, terminated: ArrayLike<number>, nextObs: ArrayLike<number>, envs: number): void {
    const { obsWidth, agents } = this;
    for (let e = 0; e < envs; e++) {
      const at = this.cursor;
      for (let k = 0; k < obsWidth; k++) {
        this.obs[at * obsWidth + k] = obs[e * obsWidth + k];
        this.nextObs[at * obsWidth + k] = nextObs[e * obsWidth + k];
      }
      for (let i = 0; i < agents; i++) {
        this.actions[at * agents + i] = actions[e * agents + i];
        this.rewards[at * agents + i] = rewards[e * agents + i];
      }
      this.terminated[at] = terminated[e];
      this.cursor = (at + 1) % this.capacity;
      this.size = Math.min(this.size + 1, this.capacity);
    }
  }

  /** Fills `indices` with transitions drawn uniformly (with replacement) from stream 0 of `rng`. */
  sampleIndices(rng: RngStreams, indices: Int32Array): void {
    if (this.size === 0) throw new Error('cannot sample from an empty replay buffer');
    for (let b = 0; b < indices.length; b++) indices[b] = Math.min(this.size - 1, Math.floor(rng.uniform(0) * this.size));
  }

  /**
   * The transition that continues transition `index` in its copy (the next step of the same
   * episode), or -1 when there is none yet, it was overwritten, or the episode ended there.
   * Continuity is read from the stored states themselves: the successor's s is exactly this
   * transition's s' (both stored from the same values), while a reset copy starts from a
   * fresh initial state; so no episode-boundary flag is stored and checkpoints keep their form.
   */
  successor(index: number): number {
    const next = (index + this.copiesPerStep) % this.capacity;
    const newest = (this.cursor - 1 + this.capacity) % this.capacity;
    const ahead = (newest - index + this.capacity) % this.capacity;
    if (this.terminated[index] === 1 || this.copiesPerStep > ahead) return -1;
    const { obsWidth } = this;
    for (let k = 0; k < obsWidth; k++) if (this.obs[next * obsWidth + k] !== this.nextObs[index * obsWidth + k]) return -1;
    return next;
  }

  /** The filled part, for a checkpoint (views, not copies; the ring position goes in the meta). */
  snapshot(): Record<string, TypedArray> {
    const { size, obsWidth, agents } = this;
    return {
      obs: this.obs.subarray(0, size * obsWidth),
      nextObs: this.nextObs.subarray(0, size * obsWidth),
      actions: this.actions.subarray(0, size * agents),
      rewards: this.rewards.subarray(0, size * agents),
      terminated: this.terminated.subarray(0, size),
    };
  }

  /** Restores what snapshot saved with its size and cursor; refuses entries that do not fit, writing nothing. */
  restore(arrays: Readonly<Record<string, ArrayLike<number>>>, size: number, cursor: number, misfit: (name: string) => string): void {
    if (!Number.isInteger(size) || size < 0 || size > this.capacity || !Number.isInteger(cursor) || cursor < 0 || cursor >= this.capacity) {
      throw new Error(misfit(`replay size ${size} / cursor ${cursor} (capacity ${this.capacity})`));
    }
    const widths = { obs: this.obsWidth, nextObs: this.obsWidth, actions: this.agents, rewards: this.agents, terminated: 1 } as const;
    for (const [name, width] of Object.entries(widths)) {
      if (arrays[name]?.length !== size * width) throw new Error(misfit(`replay.${name}`));
    }
    this.obs.set(arrays.obs);
    this.nextObs.set(arrays.nextObs);
    this.actions.set(arrays.actions);
    this.rewards.set(arrays.rewards);
    this.terminated.set(arrays.terminated);
    this.size = size;
    this.cursor = cursor;
  }
}
