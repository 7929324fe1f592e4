/**
 * Binary layout of stored trajectory frames, shared by the run store (which writes and reads
 * them) and the replay UI (which receives step ranges of them over the api, base64-encoded).
 * Each frame is one fixed-size record of little-endian float32 values:
 *
 *   position[nV] speed[nV] accel[nV] gap[nV] vehicleAction[nV]
 *   agentAction[nA] reward[nA] value[nA]
 *   obs[nA * obsDim] actionParams[nA * actionParamDim] rewardTerms[nA * nRewardTerms]
 *   state[nState]   (the scene's state, src/shared/scene.ts; none for roads)
 *   communication[nA * communicationDim]   (src/shared/communication.ts; none unless the policy communicates)
 *   flags[1]   (bit 0 collided, bit 1 terminated, bit 2 truncated; exact as float32)
 *
 * so frame i of a block starts at float i * floatsPerStep and a frame's arrays are views
 * into the block (no copying on read). float32 keeps positions to about 0.5 mm on a 5 km road.
 */
import type { StoredEpisodeSpec, TrajectoryFrame } from './runs.ts';
import { sceneStateLength } from './scene.ts';

export interface TrajectoryShape {
  nVehicles: number;
  nAgents: number;
  obsDim: number;
  actionParamDim: number;
  nRewardTerms: number;
  /** Values of the scene's state per frame (0 for roads). */
  nState: number;
  /** Values per agent of its communication record (0 unless the policy communicates). */
  communicationDim: number;
}

/** The layout of a stored episode's frames. */
export function trajectoryShape(spec: Pick<StoredEpisodeSpec, 'nVehicles' | 'nAgents' | 'obsDim' | 'actionParamDim' | 'communicationDim' | 'rewardTermNames' | 'scene'>): TrajectoryShape {
  const { nVehicles, nAgents, obsDim, actionParamDim } = spec;
  return { nVehicles, nAgents, obsDim, actionParamDim, nRewardTerms: spec.rewardTermNames.length, nState: sceneStateLength(spec.scene, nAgents), communicationDim: spec.communicationDim ?? 0 };
}

export const TRAJECTORY_FLAG = { collided: 1, terminated: 2, truncated: 4 } as const;

export type TrajectoryArrayField = Exclude<keyof TrajectoryFrame, 'step' | 'collided' | 'terminated' | 'truncated'>;

export class TrajectoryLayout {
  readonly floatsPerStep: number;
  /** [field, offset in floats within a frame, length] in layout order. */
  protected readonly fields: ReadonlyArray<readonly [TrajectoryArrayField, number, number]>;
  protected readonly flagsOffset: number;

  constructor(readonly shape: TrajectoryShape) {
    const { nVehicles: nV, nAgents: nA, obsDim, actionParamDim, nRewardTerms, nState, communicationDim } = shape;
    const lengths: ReadonlyArray<readonly [TrajectoryArrayField, number]> = [
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
      ['state', nState],
      ['communication', nA * communicationDim],
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

  /** Offset (in floats within a frame) and length of one field. */
  fieldRange(field: TrajectoryArrayField): { offset: number; length: number } {
    const entry = this.fields.find(([name]) => name === field)!;
    return { offset: entry[1], length: entry[2] };
  }

  /** The TRAJECTORY_FLAG bits of the record that starts at float offset `at` of `source`. */
  flagsAt(source: Float32Array, at: number): number {
    return source[at + this.flagsOffset];
  }

  /** The frame whose record starts at float offset `at` of `source`, as views into it. */
  decode(source: Float32Array, at: number, step: number): TrajectoryFrame {
    const flags = this.flagsAt(source, at);
    const frame = {
      step,
      collided: (flags & TRAJECTORY_FLAG.collided) !== 0,
      terminated: (flags & TRAJECTORY_FLAG.terminated) !== 0,
      truncated: (flags & TRAJECTORY_FLAG.truncated) !== 0,
    } as TrajectoryFrame;
    for (const [field, offset, length] of this.fields) frame[field] = source.subarray(at + offset, at + offset + length);
    return frame;
  }
}
