/**
 * Records one episode step by step: frames accumulate in a chunk buffer (with the agents'
 * actions exactly, as float64, beside the float32 frames: what rebuilding a state for a
 * fork replays), and every full chunk is stored as one row, so memory stays bounded and a reader can replay the episode while it
 * is being recorded. finish() stores the last partial chunk and the summary in one
 * transaction; an episode never finished (process killed) is deleted by the next RunStore
 * that finds its writer gone.
 */
import type { Disturbance } from '../../shared/disturbance.ts';
import type { EpisodeInfo, TrajectoryStepInput } from '../../shared/runs.ts';
import { InvalidRecordError } from './errors.ts';
import type { TrajectoryCodec } from './trajectoryCodec.ts';

export interface StoredChunk {
  firstStep: number;
  steps: number;
  bytes: Uint8Array;
  /** float64 [steps, nAgents]: the actions exactly. */
  actions: Uint8Array;
}

export interface EpisodeSummary {
  return: number;
  collisions: number;
  steps: number;
  stats: Readonly<Record<string, number>>;
  disturbances: readonly Disturbance[];
}

/** The RunStore side of a recorder: each call is one transaction, errors already StoreErrors. */
export interface EpisodeSink {
  storeChunk(episodeId: number, chunk: StoredChunk): void;
  complete(episodeId: number, lastChunk: StoredChunk | null, summary: EpisodeSummary): EpisodeInfo;
  discard(episodeId: number): void;
  /** Wraps a failure of the recorder itself (bad input, misuse) like the store's own. */
  fail(error: unknown, doing: string): Error;
}

type RecorderState = 'recording' | 'finished' | 'aborted' | 'failed';

export class EpisodeWriter {
  private readonly buffer: Float32Array;
  private readonly actions: Float64Array;
  private chunkFirstStep = 0;
  private stepsInChunk = 0;
  private totalReturn = 0;
  private collisions = 0;
  private state: RecorderState = 'recording';

  constructor(
    readonly id: number,
    private readonly codec: TrajectoryCodec,
    readonly chunkSteps: number,
    private readonly sink: EpisodeSink,
  ) {
    this.buffer = new Float32Array(chunkSteps * codec.floatsPerStep);
    this.actions = new Float64Array(chunkSteps * codec.shape.nAgents);
  }

  /** Frames appended so far. */
  get steps(): number {
    return this.chunkFirstStep + this.stepsInChunk;
  }

  /** Appends the next frame (frame 0: the reset state). Input arrays are copied. */
  append(step: TrajectoryStepInput): void {
    this.ensureRecording(`append step ${this.steps} to episode ${this.id}`);
    try {
      this.codec.encode(step, this.buffer, this.stepsInChunk * this.codec.floatsPerStep);
      this.actions.set(step.agentAction, this.stepsInChunk * this.codec.shape.nAgents);
    } catch (error) {
      throw this.sink.fail(error, `append step ${this.steps} to episode ${this.id}`);
    }
    for (let i = 0; i < step.reward.length; i++) {
      const reward = step.reward[i];
      if (Number.isFinite(reward)) this.totalReturn += reward;
    }
    if (step.collided) this.collisions++;
    if (++this.stepsInChunk === this.chunkSteps) {
      this.runOrFail(() => this.sink.storeChunk(this.id, this.pendingChunk()));
      this.chunkFirstStep += this.chunkSteps;
      this.stepsInChunk = 0;
    }
  }

  /**
   * Stores what is left and marks the episode complete. Return and collisions are computed
   * from the frames; `stats` adds the recorder's own summary figures.
   */
  finish(stats: Readonly<Record<string, number>> = {}, disturbances: readonly Disturbance[] = []): EpisodeInfo {
    this.ensureRecording(`finish episode ${this.id}`);
    const lastChunk = this.stepsInChunk > 0 ? this.pendingChunk() : null;
    const info = this.runOrFail(() =>
      this.sink.complete(this.id, lastChunk, { return: this.totalReturn, collisions: this.collisions, steps: this.steps, stats, disturbances }),
    );
    this.state = 'finished';
    return info;
  }

  /** Deletes the episode and everything stored of it; harmless after finish() or a failure. */
  abort(): void {
    if (this.state === 'aborted' || this.state === 'finished') return;
    this.sink.discard(this.id);
    this.state = 'aborted';
  }

  private pendingChunk(): StoredChunk {
    const floats = this.stepsInChunk * this.codec.floatsPerStep;
    return {
      firstStep: this.chunkFirstStep,
      steps: this.stepsInChunk,
      bytes: new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, floats * 4),
      actions: new Uint8Array(this.actions.buffer, this.actions.byteOffset, this.stepsInChunk * this.codec.shape.nAgents * 8),
    };
  }

  /** A failed store leaves the recorder unusable: its frames no longer match the database. */
  private runOrFail<T>(store: () => T): T {
    try {
      return store();
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
  }

  private ensureRecording(doing: string): void {
    if (this.state !== 'recording') {
      throw this.sink.fail(new InvalidRecordError(`the recorder is ${this.state}`), doing);
    }
  }
}
