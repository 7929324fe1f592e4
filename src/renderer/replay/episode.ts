/**
 * Decoding of stored episodes for replay: the record layout of an episode, the frame shown
 * (one reusable record per viewport) and whole-episode traces. The policy's action
 * distribution, live and stored, is read by inspect/actions.ts.
 */
import type { EpisodeStepBlock, EpisodeTraces } from '../../shared/api.ts';
import { decodeFloat32 } from '../../shared/base64.ts';
import type { EpisodeInfo, TrajectoryFrame } from '../../shared/runs.ts';
import { isScenarioId } from '../../shared/scenarios.ts';
import { TRAJECTORY_FLAG, TrajectoryLayout, trajectoryShape } from '../../shared/trajectoryLayout.ts';
import type { SceneEpisode } from '../scene/SceneView.ts';
import { forkLabel } from './fork.ts';

/** CACC targets of the reward (specs/scenarios.md §1): headway h* in m, speed v* in m/s. */
export const CACC_TARGET = { headway: 20, speed: 15 } as const;

export const isCacc = (scenario: string): boolean => scenario.startsWith('cacc-');

/** What the 3D view needs of a stored episode; null for a scenario this build does not know or one drawn as a scene. */
export function sceneEpisodeOf(info: EpisodeInfo): SceneEpisode | null {
  // A scenario without vehicles is drawn by its own view, not the 3D road.
  if (!isScenarioId(info.scenario) || info.scene) return null;
  return {
    scenario: info.scenario,
    nVehicles: info.nVehicles,
    roadLength: info.roadLength,
    vehicleLength: info.vehicleLength,
    vehicleKind: info.vehicleKind,
    defaultFollow: info.agentVehicle[0] ?? 0,
  };
}

export function layoutOf(info: EpisodeInfo): TrajectoryLayout {
  return new TrajectoryLayout(trajectoryShape(info));
}

/** The float32 records of a step block from the api. */
export function blockRecords(block: EpisodeStepBlock): Float32Array {
  return decodeFloat32(block.records);
}

/**
 * The frame a viewport shows: one record copied out of its block into a buffer of its own,
 * decoded once into views, so showing another step allocates nothing.
 */
export class ShownFrame {
  private readonly record: Float32Array;
  readonly frame: TrajectoryFrame;

  constructor(private readonly layout: TrajectoryLayout) {
    this.record = new Float32Array(layout.floatsPerStep).fill(NaN);
    this.frame = layout.decode(this.record, 0, -1);
  }

  /** Shows frame `step` of `records`, whose first frame is step `from`. */
  show(records: Float32Array, from: number, step: number): TrajectoryFrame {
    const width = this.layout.floatsPerStep;
    const at = (step - from) * width;
    for (let k = 0; k < width; k++) this.record[k] = records[at + k];
    const flags = this.layout.flagsAt(this.record, 0);
    const frame = this.frame;
    frame.step = step;
    frame.collided = (flags & TRAJECTORY_FLAG.collided) !== 0;
    frame.terminated = (flags & TRAJECTORY_FLAG.terminated) !== 0;
    frame.truncated = (flags & TRAJECTORY_FLAG.truncated) !== 0;
    return frame;
  }
}

/** Whole-episode series, [frame][vehicle], frame k = step k * stride. */
export interface DecodedTraces {
  steps: number;
  stride: number;
  frames: number;
  nVehicles: number;
  position: Float32Array;
  speed: Float32Array;
  gap: Float32Array;
  accel: Float32Array;
  collided: Float32Array;
  /** [frame][nState] the scene's state (src/shared/scene.ts); empty for roads. */
  nState: number;
  state: Float32Array;
  /** returnSoFar[k]: the episode return up to frame k (exact at stride 1, else the strided sum scaled by the stride). */
  returnSoFar: Float64Array;
}

/** Frames of the traces asked for: every step up to this many steps, strided beyond. */
export const TRACE_FRAMES = 6000;

export const traceStride = (steps: number): number => Math.max(1, Math.ceil(steps / TRACE_FRAMES));

export function decodeTraces(traces: EpisodeTraces): DecodedTraces {
  const reward = decodeFloat32(traces.reward);
  const returnSoFar = new Float64Array(traces.frames);
  let sum = 0;
  for (let k = 0; k < traces.frames; k++) {
    sum += reward[k] * traces.stride;
    returnSoFar[k] = sum;
  }
  return {
    steps: traces.steps,
    stride: traces.stride,
    frames: traces.frames,
    nVehicles: traces.nVehicles,
    position: decodeFloat32(traces.position),
    speed: decodeFloat32(traces.speed),
    gap: decodeFloat32(traces.gap),
    accel: decodeFloat32(traces.accel),
    collided: decodeFloat32(traces.collided),
    nState: traces.nState,
    state: decodeFloat32(traces.state),
    returnSoFar,
  };
}

/** Where a stored episode comes from, for labels: "eval iteration 3", or "fork of #12 at step 800 · idle (no control input)". */
export function episodeOrigin(info: EpisodeInfo): string {
  return info.fork ? forkLabel(info.fork) : `${info.kind} iteration ${info.iteration}`;
}
