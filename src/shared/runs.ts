/**
 * Records of the experiment history that every side shares (run store, CLI, app): runs, their
 * metrics, checkpoints and stored episodes with their per-step trajectory frames.
 *
 * Times are ISO-8601 strings in UTC. Ids are positive integers assigned by the database.
 * Iterations are numbered from 1; a run's `iterations` is the last one recorded.
 */
import type { Disturbance } from './disturbance.ts';
import type { ParamValue, ScenarioId } from './scenarios.ts';
import type { SceneSpec } from './scene.ts';

export const RUN_STATUSES = ['running', 'stopped', 'finished', 'failed', 'interrupted'] as const;
/**
 * running: a training process writes it now. stopped: the user stopped it (resumable).
 * finished: it reached its budget. failed: it stopped on an error (see statusMessage).
 * interrupted: its process died without closing it (crash, kill, power loss); resumable.
 */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run that will train no further by itself: it finished its budget or failed (stopped and interrupted ones resume). */
export const isRunDone = (status: RunStatus): boolean => status === 'finished' || status === 'failed';

export function isRunStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(value);
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The record with its keys in sorted order: what compares as JSON whatever order the keys were given in. */
export function withSortedKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** What `headway runs list --json` prints for each run. */
export interface RunSummary {
  id: number;
  name: string;
  /** A ScenarioId when written by this version; kept as text so older or newer ids still read. */
  scenario: string;
  algo: string;
  status: RunStatus;
  iterations: number;
  envSteps: number;
  /** Mean return of the stored evaluation episodes of the latest evaluated iteration; null before any. */
  lastEvalReturn: number | null;
  created: string;
}

/**
 * How a run descends from another. resume: it continues the parent's training (same config)
 * from the parent's checkpoint; fork: it starts from that checkpoint with changes.
 * (Resuming a run in place keeps its id and needs no parent: RunStore.resumeRun.)
 */
export interface RunParent {
  runId: number;
  relation: 'resume' | 'fork';
  checkpointId: number | null;
}

export interface RunDetail extends RunSummary {
  params: Record<string, ParamValue>;
  /** The learner's full resolved configuration, as the learner reported it. */
  config: JsonObject;
  seed: number;
  preset: string | null;
  /** Tensor backend the run trained on, its device and why it was chosen, e.g. "wasm on CPU (tfjs-node not installed; ...)"; older runs: the name alone. */
  backend: string | null;
  appVersion: string;
  tags: string[];
  notes: string;
  /** Null when the parent was never set or has since been deleted. */
  parent: RunParent | null;
  wallTimeS: number;
  updated: string;
  ended: string | null;
  /** Why it failed or was interrupted; null otherwise. */
  statusMessage: string | null;
  /** The process that last trained it, and when it last recorded an iteration. */
  writer: { pid: number; host: string; heartbeat: string } | null;
}

export interface NewRun {
  /** Defaults to "<algo> on <scenario>, seed <seed>". */
  name?: string;
  scenario: ScenarioId;
  params: Readonly<Record<string, ParamValue>>;
  algo: string;
  config: JsonObject;
  seed: number;
  preset?: string | null;
  backend?: string | null;
  appVersion: string;
  tags?: readonly string[];
  notes?: string;
  parent?: RunParent | null;
}

/** Every given field narrows the list; runs come newest first. */
export interface RunFilter {
  status?: RunStatus | readonly RunStatus[];
  scenario?: string;
  algo?: string;
  tag?: string;
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  parentRunId?: number;
  /** Runs of a sweep (`headway sweep`). */
  sweepId?: number;
  limit?: number;
  offset?: number;
}

/** One value of one metric series, with the x axes a chart may plot it against. */
export interface MetricPoint {
  iteration: number;
  envSteps: number;
  wallTimeS: number;
  /** NaN when the learner reported NaN. */
  value: number;
}

/** One metric series of one run as columns, as compared across runs (value NaN where the learner reported NaN). */
export interface RunColumns {
  runId: number;
  iteration: number[];
  envSteps: number[];
  wallTimeS: number[];
  value: number[];
}

/**
 * One iteration's metrics. Series names are free text; per-agent series end in `/agent<i>`
 * (e.g. `loss/agent3`), which the app groups under their prefix.
 */
export interface IterationMetrics {
  iteration: number;
  envSteps: number;
  wallTimeS: number;
  values: Readonly<Record<string, number>>;
}

export type CheckpointKind = 'periodic' | 'best';

export interface CheckpointInfo {
  id: number;
  runId: number;
  iteration: number;
  envSteps: number;
  /** periodic: saved on schedule; best: the best evaluation return so far (one per run). */
  kind: CheckpointKind;
  evalReturn: number | null;
  bytes: number;
  created: string;
  /** Learner-defined description of the blob (format, shapes, optimizer state, ...). */
  meta: JsonObject;
}

export interface LoadedCheckpoint extends CheckpointInfo {
  data: Uint8Array;
}

export type EpisodeKind = 'eval' | 'train';

/**
 * Where a fork episode branches off: it continues its parent episode live from state `step`
 * (rebuilt exactly) under `policy`; its frames 0..step-1 are the parent's.
 */
export interface EpisodeFork {
  /** Null once the parent has been deleted. */
  parentEpisodeId: number | null;
  step: number;
  /** The policy that acted from `step` on (idle, human, random, constant:K, run:RUN_ID[@CHECKPOINT]). */
  policy: string;
}

/** Same shape as the live api's ActionSpaceInfo. */
export type StoredActionSpace = { kind: 'discrete'; n: number } | { kind: 'continuous'; low: number; high: number };

/**
 * What a stored episode was recorded from, fixed for the whole episode: what replay and the
 * inspectors need besides the frames. (The live api's EpisodeSpec describes a live episode;
 * this one a stored one.)
 */
export interface StoredEpisodeSpec {
  /** The training iteration whose policy acted (the checkpoint's iteration for `headway eval`). */
  iteration: number;
  kind: EpisodeKind;
  seed: number;
  scenario: string;
  params: Readonly<Record<string, ParamValue>>;
  /** Control step in seconds. */
  dt: number;
  horizon: number;
  nVehicles: number;
  nAgents: number;
  obsDim: number;
  action: StoredActionSpace;
  /** Width of one agent's action distribution record: discrete, the probability of each action (n); continuous, mean and std (2). */
  actionParamDim: number;
  /** Width of one agent's communication record (src/shared/communication.ts; IC3Net); 0 or absent: its policy does not communicate. */
  communicationDim?: number;
  obsNames: readonly string[];
  rewardTermNames: readonly string[];
  /** agentVehicle[i]: the vehicle agent i drives. */
  agentVehicle: readonly number[];
  /** vehicleKind[v]: 0 human, 1 agent, 2 leader (the simulator's VehicleKind). */
  vehicleKind: readonly number[];
  /** Undirected edges of the agent graph (agent indices), no self-loops. */
  edges: readonly (readonly [number, number])[];
  /** Loop length in m (ring, figure eight); null (or Infinity, stored as null) for the open CACC road. */
  roadLength: number | null;
  vehicleLength: number;
  checkpointId?: number | null;
  /** Set for a fork of another episode. */
  fork?: EpisodeFork | null;
  /** The scene of a scenario without vehicles (src/shared/scene.ts), whose state each frame stores; null or absent for roads. */
  scene?: SceneSpec | null;
  /** The disturbances the episode was played with (none for training and evaluation episodes). */
  disturbances?: readonly Disturbance[];
}

export interface EpisodeInfo extends Required<StoredEpisodeSpec> {
  id: number;
  runId: number;
  /** Frames stored so far (all of them once complete). */
  steps: number;
  /** False while it is being recorded. */
  complete: boolean;
  /** Sum over frames of the sum over agents of the raw reward; null until complete. */
  return: number | null;
  /** Frames flagged as a collision; null until complete. */
  collisions: number | null;
  /** Further summary figures the recorder gave (e.g. mean speed). */
  stats: Record<string, number>;
  created: string;
  finished: string | null;
}

/**
 * One stored step, what the env buffers held after it (frame 0: the reset state, with NaN
 * actions and rewards). All arrays are float32; agent arrays are agent-major
 * ([nAgents, dim]). Frames read together share one buffer: copy what you keep long.
 */
export interface TrajectoryFrame {
  step: number;
  collided: boolean;
  terminated: boolean;
  truncated: boolean;
  /** [nVehicles] m along the road, m/s, m/s^2, bumper-to-bumper gap in m, applied action (NaN: none). */
  position: Float32Array;
  speed: Float32Array;
  accel: Float32Array;
  gap: Float32Array;
  vehicleAction: Float32Array;
  /** [nAgents] the action each agent chose (discrete index or acceleration). */
  agentAction: Float32Array;
  /** [nAgents] raw scenario reward (no training-only terms). */
  reward: Float32Array;
  /** [nAgents] the critic's value estimate. */
  value: Float32Array;
  /** [nAgents, obsDim] */
  obs: Float32Array;
  /** [nAgents, actionParamDim] */
  actionParams: Float32Array;
  /** [nAgents, rewardTermNames.length] */
  rewardTerms: Float32Array;
  /** The scene's state (src/shared/scene.ts); empty for roads. */
  state: Float32Array;
  /** [nAgents, communicationDim] what each agent sent and received (src/shared/communication.ts); empty when its policy does not communicate. */
  communication: Float32Array;
}

/** One step handed to an episode recorder: same fields as a frame, any numeric arrays. */
export interface TrajectoryStepInput {
  collided?: boolean;
  terminated?: boolean;
  truncated?: boolean;
  position: ArrayLike<number>;
  speed: ArrayLike<number>;
  accel: ArrayLike<number>;
  gap: ArrayLike<number>;
  vehicleAction: ArrayLike<number>;
  agentAction: ArrayLike<number>;
  reward: ArrayLike<number>;
  value: ArrayLike<number>;
  obs: ArrayLike<number>;
  actionParams: ArrayLike<number>;
  rewardTerms: ArrayLike<number>;
  /** The scene's state (src/shared/scene.ts); absent for roads. */
  state?: ArrayLike<number>;
  /** [nAgents * communicationDim]; absent when the policy does not communicate. */
  communication?: ArrayLike<number>;
}
