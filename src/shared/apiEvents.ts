/**
 * The api contract, part two: what the backend pushes to every connected UI (`ApiEvent`):
 * job lifecycle (`job`), the static description of a live episode (`episode`), its frames
 * (`frame`, decimated to display rate), metrics (`metrics`: per episode for simulations, per
 * iteration for training), log lines and a simulation's disturbances with their string-stability
 * readouts (`disturbances`). Imported through src/shared/api.ts.
 */
import type { DisturbanceRequest, JobInfo } from './apiJobs.ts';
import type { ParamValue, ScenarioId } from './scenarios.ts';
import type { SceneSpec } from './scene.ts';
import type { StringStabilitySummary } from './stringStability.ts';

// ---------------------------------------------------------------------------------------
// Live episodes and frames

export const VEHICLE_KINDS = ['human', 'agent', 'leader'] as const;
/** Numeric codes in EpisodeSpec.vehicleKind (the simulator's VehicleKind). */
export const VehicleKindCode = { human: 0, agent: 1, leader: 2 } as const;

export type ActionSpaceInfo = { kind: 'discrete'; n: number } | { kind: 'continuous'; low: number; high: number };

/** The static description of one live episode: everything a view needs besides the frames. */
export interface EpisodeSpec {
  jobId: string;
  episode: number;
  seed: number;
  scenario: ScenarioId;
  params: Record<string, ParamValue>;
  nAgents: number;
  nVehicles: number;
  obsDim: number;
  obsNames: string[];
  rewardTermNames: string[];
  action: ActionSpaceInfo;
  horizon: number;
  /** Seconds per control step. */
  dt: number;
  vehicleLength: number;
  /** Loop length in m (ring, figure eight); null for the straight CACC road. */
  roadLength: number | null;
  /** vehicleKind[v]: VehicleKindCode of vehicle v. */
  vehicleKind: number[];
  /** agentVehicle[i]: the vehicle agent i drives. */
  agentVehicle: number[];
  /** Undirected edges of the agent graph (agent indices), no self-loops. */
  edges: [number, number][];
  /**
   * Width of an agent's action distribution in Frame.actionParams: discrete, the probability
   * of each action; continuous, mean and std (2). 0 when no learned policy acts (simulations).
   */
  actionParamDim: number;
  /** Width of an agent's record in Frame.communication (src/shared/communication.ts); 0 or absent when its policy does not communicate. */
  communicationDim?: number;
  /**
   * Where the episode comes from: a live simulation, the evaluation episode of a training
   * iteration, or a fork continuing a stored episode from state `step` (`storedEpisodeId`:
   * the episode it is being stored as, null when it is not stored).
   */
  source:
    | { kind: 'simulation' }
    | { kind: 'evaluation'; runId: number; iteration: number }
    | { kind: 'fork'; runId: number; parentEpisodeId: number; step: number; storedEpisodeId: number | null };
  /**
   * Environment copies shown side by side (batched envs, e.g. during training); absent = 1.
   * Copy c owns vehicles [c * nVehicles / copies, (c + 1) * nVehicles / copies), each on
   * its own copy of the road.
   */
  copies?: number;
  /** What the view draws instead of a road (network-routing, mabc, demand-response; scene.ts); null for the road scenarios. */
  scene: SceneSpec | null;
}

/** Bits of Frame.flags. */
export const FrameFlag = { collision: 1, disturbed: 2 } as const;

/** One displayed state of a live episode. Per-vehicle arrays are [nVehicles], per-agent ones [nAgents(, dim)]. */
export interface Frame {
  jobId: string;
  episode: number;
  /** Control steps since reset (0 = the reset state). */
  step: number;
  /** Simulated seconds since reset. */
  time: number;
  collided: boolean;
  done: boolean;
  /** Sum over the steps so far and over agents of the raw reward (the episode return so far). */
  episodeReturn: number;
  /** Simulation steps per wall-clock second, as the job measures it. */
  stepsPerSecond: number;
  position: Float64Array;
  speed: Float64Array;
  accel: Float64Array;
  gap: Float64Array;
  /** Action applied per vehicle (NaN for vehicles no agent drives). */
  action: Float64Array;
  /** FrameFlag bits per vehicle. */
  flags: Uint8Array;
  /** [nAgents * obsDim] observations on the new state. */
  obs: Float64Array;
  /** [nAgents] raw reward of the step that led here (0 at reset). */
  reward: Float64Array;
  /** [nAgents * rewardTermNames.length] raw reward terms. */
  rewardTerms: Float64Array;
  /** [nAgents] the critic's value estimate; empty when no learned policy acts. */
  value: Float64Array;
  /** [nAgents * actionParamDim] the policy's action distribution (see EpisodeSpec.actionParamDim); empty when none. */
  actionParams: Float64Array;
  /** The scene's state (scene.ts: per-link flow and time, node masses and splits; or the tabular columns); empty for roads. */
  state: Float64Array;
  /** [nAgents * communicationDim] what each agent sent and received (src/shared/communication.ts); empty when its policy does not communicate. */
  communication: Float64Array;
}

/** The numeric arrays of a Frame in wire order, with their element type. */
export const FRAME_ARRAYS = [
  ['position', 'f64'],
  ['speed', 'f64'],
  ['accel', 'f64'],
  ['gap', 'f64'],
  ['action', 'f64'],
  ['flags', 'u8'],
  ['obs', 'f64'],
  ['reward', 'f64'],
  ['rewardTerms', 'f64'],
  ['value', 'f64'],
  ['actionParams', 'f64'],
  ['state', 'f64'],
  ['communication', 'f64'],
] as const satisfies readonly (readonly [keyof Frame, 'f64' | 'u8'])[];

export type MetricsScope = 'episode' | 'iteration';

export type ApiEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'episode'; episode: EpisodeSpec }
  | { type: 'frame'; frame: Frame }
  /** Simulations: per finished episode (return, meanSpeed, ...). Training: per iteration. */
  | { type: 'metrics'; jobId: string; scope: MetricsScope; index: number; values: Record<string, number> }
  | { type: 'log'; jobId: string | null; level: 'info' | 'warn' | 'error'; message: string }
  /** Simulations: the disturbances of the shown episode and each one's string-stability readout so far (null before it starts). */
  | { type: 'disturbances'; jobId: string; episode: number; disturbances: LiveDisturbance[] };

/** How the message of a `log` event (level error) starts when the simulation could not apply a requested disturbance. */
export const DISTURBANCE_NOT_APPLIED = 'disturbance not applied';

/** A disturbance of a live episode: what, from which step (state), and its readout over the states so far. */
export interface LiveDisturbance {
  disturbance: DisturbanceRequest;
  /** The state it starts from (control steps since reset). */
  start: number;
  readout: StringStabilitySummary | null;
}
