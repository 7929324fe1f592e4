/**
 * Binary layout of stored trajectories. An episode's frames are stored in chunks of
 * consecutive steps, one blob per chunk. A blob is the chunk's frames one after another,
 * each frame one fixed-size record of little-endian float32 values:
 *
 *   position[nV] speed[nV] accel[nV] gap[nV] vehicleAction[nV]
 *   agentAction[nA] reward[nA] value[nA]
 *   obs[nA * obsDim] actionParams[nA * actionParamDim] rewardTerms[nA * nRewardTerms]
 *   flags[1]   (bit 0 collided, bit 1 terminated, bit 2 truncated; exact as float32)
 *
 * so frame i of a chunk starts at byte 4 * i * floatsPerStep, a partial last chunk is just
 * fewer records, and a frame's arrays are views into the blob (no copying on read).
 * float32 keeps positions to about 0.5 mm on a 5 km road: enough for replay and export.
 */
import type { TrajectoryFrame, TrajectoryStepInput } from '../../shared/runs.ts';
import { InvalidRecordError } from './errors.ts';

// Views over blobs are host-order Float32Arrays; every platform Node ships on is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('Headway stores trajectories as little-endian float32 and needs a little-endian machine');
}

export interface TrajectoryLayout {
  nVehicles: number;
  nAgents: number;
  obsDim: number;
  actionParamDim: number;
  nRewardTerms: number;
}

const FLAG_COLLIDED = 1;
const FLAG_TERMINATED = 2;
const FLAG_TRUNCATED = 4;

/** Chunks aim at this many bytes: big enough that a replay range costs one or two reads, small enough to load instantly. */
const TARGET_CHUNK_BYTES = 256 * 1024;

type ArrayField = Exclude<keyof TrajectoryFrame, 'step' | 'collided' | 'terminated' | 'truncated'>;

export class TrajectoryCodec {
  readonly floatsPerStep: number;
  /** [field, offset in floats within a frame, length] in layout order. */
  private readonly fields: ReadonlyArray<readonly [ArrayField, number, number]>;
  private readonly flagsOffset: number;

  constructor(readonly layout: TrajectoryLayout) {
    const { nVehicles: nV, nAgents: nA, obsDim, actionParamDim, nRewardTerms } = layout;
    const lengths: ReadonlyArray<readonly [ArrayField, number]> = [
      ['position', nV],
      ['speed', nV],
      ['accel', nV],
      ['gap', nV],
      ['vehicleAction', nV],
      ['agentAction', nA],
      ['reward', nA],
      ['value', nA],
      ['obs', nA * obsDim],
      ['actionParams', nA * actionParamDim],
      ['rewardTerms', nA * nRewardTerms],
    ];
    let offset = 0;
    this.fields = lengths.map(([field, length]) => {
      const entry = [field, offset, length] as const;
      offset += length;
      return entry;
    });
    this.flagsOffset = offset;
    this.floatsPerStep = offset + 1;
  }

  get bytesPerStep(): number {
    return 4 * this.floatsPerStep;
  }

  /** Steps per chunk for this layout, near TARGET_CHUNK_BYTES. */
  defaultChunkSteps(): number {
    return Math.min(4096, Math.max(16, Math.floor(TARGET_CHUNK_BYTES / this.bytesPerStep)));
  }

  /** Writes one step's record at float offset `at` of `target`, checking every array's length. */
  encode(step: TrajectoryStepInput, target: Float32Array, at: number): void {
    for (const [field, offset, length] of this.fields) {
      const values = step[field];
      if (values.length !== length) {
        throw new InvalidRecordError(`${field} has ${values.length} values, the episode's layout needs ${length}`);
      }
      target.set(values, at + offset);
    }
    target[at + this.flagsOffset] =
      (step.collided ? FLAG_COLLIDED : 0) | (step.terminated ? FLAG_TERMINATED : 0) | (step.truncated ? FLAG_TRUNCATED : 0);
  }

  /** The frame whose record starts at float offset `at` of `source`, as views into it. */
  decode(source: Float32Array, at: number, step: number): TrajectoryFrame {
    const flags = source[at + this.flagsOffset];
    const frame = {
      step,
      collided: (flags & FLAG_COLLIDED) !== 0,
      terminated: (flags & FLAG_TERMINATED) !== 0,
      truncated: (flags & FLAG_TRUNCATED) !== 0,
    } as TrajectoryFrame;
    for (const [field, offset, length] of this.fields) frame[field] = source.subarray(at + offset, at + offset + length);
    return frame;
  }

  /** Float32 view of a chunk blob read back from SQLite (copied when its bytes are not 4-aligned). */
  static floatsOf(blob: Uint8Array): Float32Array {
    const aligned = blob.byteOffset % 4 === 0 ? blob : new Uint8Array(blob);
    return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  }
}
