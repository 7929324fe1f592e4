/**
 * Stored trajectories: an episode's frames are stored in chunks of consecutive steps, one
 * blob per chunk, each blob the chunk's frame records one after another in the layout of
 * src/shared/trajectoryLayout.ts (a partial last chunk is just fewer records).
 */
import type { TrajectoryStepInput } from '../../shared/runs.ts';
import { TRAJECTORY_FLAG, TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { InvalidRecordError } from './errors.ts';

// Views over blobs are host-order Float32Arrays; every platform Node ships on is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('Headway stores trajectories as little-endian float32 and needs a little-endian machine');
}

/** Chunks aim at this many bytes: big enough that a replay range costs one or two reads, small enough to load instantly. */
const TARGET_CHUNK_BYTES = 256 * 1024;
/** What an input without the optional state (a road's frame) stores. */
const EMPTY: readonly number[] = [];

export class TrajectoryCodec extends TrajectoryLayout {
  /** Steps per chunk for this layout, near TARGET_CHUNK_BYTES. */
  defaultChunkSteps(): number {
    return Math.min(4096, Math.max(16, Math.floor(TARGET_CHUNK_BYTES / this.bytesPerStep)));
  }

  /** Writes one step's record at float offset `at` of `target`, checking every array's length. */
  encode(step: TrajectoryStepInput, target: Float32Array, at: number): void {
    for (const [field, offset, length] of this.fields) {
      const values = step[field] ?? EMPTY;
      if (values.length !== length) {
        throw new InvalidRecordError(`${field} has ${values.length} values, the episode's layout needs ${length}`);
      }
      target.set(values, at + offset);
    }
    target[at + this.flagsOffset] =
      (step.collided ? TRAJECTORY_FLAG.collided : 0) | (step.terminated ? TRAJECTORY_FLAG.terminated : 0) | (step.truncated ? TRAJECTORY_FLAG.truncated : 0);
  }

  /** Float32 view of a chunk blob read back from SQLite (copied when its bytes are not 4-aligned). */
  static floatsOf(blob: Uint8Array): Float32Array {
    const aligned = blob.byteOffset % 4 === 0 ? blob : new Uint8Array(blob);
    return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  }

  /** Float64 view of a blob of exact actions (copied when its bytes are not 8-aligned). */
  static doublesOf(blob: Uint8Array): Float64Array {
    const aligned = blob.byteOffset % 8 === 0 ? blob : new Uint8Array(blob);
    return new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
  }
}
