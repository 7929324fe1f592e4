/**
 * The api contract between the UI and the backend. One contract, implemented twice: over
 * Electron IPC (src/main/app + src/preload) and over a WebSocket (src/main/server, browser
 * mode). The renderer talks only to `HeadwayApi`, built by `createApiClient` over either
 * transport, so every UI feature works the same in the desktop app and in a browser.
 *
 * Shape of the conversation
 * - Requests: `invoke(method, payload)` -> `ApiResult`. Every payload is validated in the
 *   backend against `API_REQUESTS` (zod) before anything runs; failures come back as data
 *   (`{ ok: false, error }`), never as thrown errors across the transport.
 * - Events: the backend pushes `ApiEvent`s to every connected UI: job lifecycle (`job`),
 *   the static description of a live episode (`episode`), its frames (`frame`, decimated to
 *   display rate), metrics (`metrics`: per episode for simulations, per iteration for
 *   training) and log lines.
 *
 * Jobs. A job is anything long that runs off the UI and main threads, in a worker: a live
 * simulation (`kind: 'simulate'`) or a training run (`kind: 'train'`), with the same
 * lifecycle and controls (training honours stop only). Training reports each iteration as
 * a `metrics` event with `scope: 'iteration'` (keys in TRAIN_METRICS) and its progress, run
 * id and tensor backend in `JobInfo.progress`.
 */
import { z } from 'zod';
import { isLearnerId, LEARNER_IDS, PRESET_IDS, resolveLearnerConfig, type LearnerPresetId } from './learners.ts';
import { RUN_STATUSES, type CheckpointInfo, type EpisodeInfo, type RunDetail } from './runs.ts';
import { isScenarioId, ParamError, resolveParams, SCENARIO_IDS, type ParamValue, type ResolvedParams, type ScenarioId } from './scenarios.ts';

export const API_VERSION = 1;

/** Electron IPC channels (preload <-> main). */
export const IPC_INVOKE_CHANNEL = 'headway:invoke';
export const IPC_EVENT_CHANNEL = 'headway:event';
/** WebSocket path of the browser-mode api. */
export const WS_PATH = '/api';
/** Largest request payload either transport accepts, in bytes of JSON. */
export const MAX_REQUEST_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------
// Job configuration

/** Simulation speed: a multiple of real time (1 = 10 control steps per second), or as fast as the worker can. */
export type Speed = number | 'max';
export const MIN_SPEED = 0.05;
export const MAX_SPEED = 1000;
/** The choices the UI offers. */
export const SPEED_CHOICES: readonly Speed[] = [0.25, 0.5, 1, 2, 5, 10, 50, 'max'];

const speedSchema = z.union([z.number().min(MIN_SPEED).max(MAX_SPEED), z.literal('max')], {
  error: `speed must be a number from ${MIN_SPEED} to ${MAX_SPEED} (times real time) or "max"`,
});

const paramValueSchema = z.union([z.number(), z.boolean(), z.string().max(64), z.null()], {
  error: 'a parameter value must be a number, true/false, text or null',
});

/** Largest seed the app accepts (the random policy draws from seed + an offset; this keeps both safe integers). */
export const MAX_SEED = 2 ** 32 - 1;

/** A whole number in [min, max], every failure with the one message that names the field and the range. */
function wholeNumber(name: string, min: number, max: number) {
  const message = `${name} must be a whole number from ${min} to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

const seedSchema = wholeNumber('seed', 0, MAX_SEED).default(0);

export const simulateConfigSchema = z.strictObject({
  kind: z.literal('simulate'),
  scenario: z.enum(SCENARIO_IDS, { error: `scenario must be one of ${SCENARIO_IDS.join(', ')}` }),
  /** Scenario parameters as text or JSON values; resolved and checked by resolveParams (the CLI's --param). */
  params: z.record(z.string().max(64), paramValueSchema).default({}),
  /** idle, random or constant:K (the CLI's --policy). */
  policy: z.string().max(64, { error: 'policy must be idle, random or constant:K' }).default('idle'),
  seed: seedSchema,
  /** After an episode ends, start the next one (seed + 1) instead of finishing. */
  repeat: z.boolean().default(false),
  speed: speedSchema.default(1),
  /** Most frames per second streamed to the UI (the live view interpolates between them). */
  frameRate: wholeNumber('frame rate', 1, 60).default(30),
  startPaused: z.boolean().default(false),
});
export type SimulateConfig = z.output<typeof simulateConfigSchema>;
export type SimulateConfigInput = z.input<typeof simulateConfigSchema>;

/** Largest iteration budget the app accepts for one training job. */
export const MAX_TRAIN_ITERATIONS = 100_000;

/**
 * A training run from the app: the same inputs as `headway train` (scenario and its
 * --param values, --algo, --preset, --set hyperparameters, --seed, --iterations), validated
 * by the same resolveParams / resolveLearnerConfig. The run is stored in the run store.
 */
export const trainConfigSchema = z.strictObject({
  kind: z.literal('train'),
  scenario: z.enum(SCENARIO_IDS, { error: `scenario must be one of ${SCENARIO_IDS.join(', ')}` }),
  params: z.record(z.string().max(64), paramValueSchema).default({}),
  learner: z.enum(LEARNER_IDS, { error: `learner must be one of ${LEARNER_IDS.join(', ')}` }),
  preset: z.enum(PRESET_IDS, { error: `preset must be one of ${PRESET_IDS.join(', ')}` }).default('default'),
  /** Learner hyperparameters as text or JSON values (the CLI's --set); resolved by resolveLearnerConfig. */
  settings: z.record(z.string().max(64), paramValueSchema).default({}),
  seed: seedSchema,
  /** Budget in training iterations. */
  iterations: wholeNumber('iterations', 1, MAX_TRAIN_ITERATIONS).default(20),
  name: z.string().max(200).optional(),
});
export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

const runIdSchema = z
  .number({ error: 'runId must be a run id (a positive whole number)' })
  .int({ error: 'runId must be a run id (a positive whole number)' })
  .positive({ error: 'runId must be a run id (a positive whole number)' });

/** Continues a stopped or interrupted run from its latest checkpoint to its budget (`headway resume`). */
export const resumeConfigSchema = z.strictObject({
  kind: z.literal('resume'),
  runId: runIdSchema,
});
export type ResumeConfig = z.output<typeof resumeConfigSchema>;

/** Largest number of episodes one evaluation job runs. */
export const MAX_EVAL_EPISODES = 20;

/**
 * Evaluates a checkpoint of a run with a chosen seed (`headway eval`); the episodes are
 * stored with the run (kind 'eval', iteration = the checkpoint's) for replay.
 */
export const evaluateConfigSchema = z.strictObject({
  kind: z.literal('evaluate'),
  runId: runIdSchema,
  /** best (by evaluation return, else the latest), latest, or a checkpoint id. */
  checkpoint: z
    .union([z.enum(['best', 'latest']), z.number().int().positive()], { error: 'checkpoint must be best, latest or a checkpoint id' })
    .default('best'),
  seed: seedSchema,
  episodes: wholeNumber('episodes', 1, MAX_EVAL_EPISODES).default(1),
});
export type EvaluateConfig = z.output<typeof evaluateConfigSchema>;
export type EvaluateConfigInput = z.input<typeof evaluateConfigSchema>;

/** Every kind of job; the JobRunner runs each in its own worker thread and picks the work by kind. */
export const jobConfigSchema = z.discriminatedUnion('kind', [simulateConfigSchema, trainConfigSchema, resumeConfigSchema, evaluateConfigSchema], {
  error: 'kind must be "simulate", "train", "resume" or "evaluate"',
});
export type JobConfig = z.output<typeof jobConfigSchema>;
export type JobConfigInput = z.input<typeof jobConfigSchema>;
export type JobKind = JobConfig['kind'];

/** A problem with one field of a form or config: `field` is its path (`seed`, `params.length`). */
export interface FieldError {
  field: string;
  message: string;
}

// ---------------------------------------------------------------------------------------
// Policies of a simulation (the same language as the CLI's --policy)

export type PolicySpec = { kind: 'idle' } | { kind: 'random' } | { kind: 'constant'; value: number };

/** Parses idle | random | constant:K; null when the text is none of them. */
export function parsePolicy(text: string): PolicySpec | null {
  const trimmed = text.trim();
  if (trimmed === 'idle') return { kind: 'idle' };
  if (trimmed === 'random') return { kind: 'random' };
  const match = /^constant:(.+)$/.exec(trimmed);
  if (match) {
    const value = Number(match[1]);
    if (match[1].trim() !== '' && Number.isFinite(value)) return { kind: 'constant', value };
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Validation shared by the backend (authoritative) and the UI (instant feedback)

export type ValidatedJob =
  | { ok: true; config: JobConfig; params: ResolvedParams }
  | { ok: false; errors: FieldError[] };

function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const at = issue.path.join('.');
      for (const key of issue.keys) {
        const field = at === '' ? key : `${at}.${key}`;
        errors.push({ field, message: `unknown field '${field}'` });
      }
      continue;
    }
    errors.push({ field: issue.path.map(String).join('.'), message: issue.message });
  }
  return errors;
}

/**
 * Checks a job configuration: its shape (zod), the scenario parameters (resolveParams, the
 * CLI's own validation, so messages match `headway simulate --param`) and the policy
 * syntax. The backend adds checks that need the environment (the action space of
 * constant:K) on top.
 */
export function validateJobConfig(input: unknown): ValidatedJob {
  const parsed = jobConfigSchema.safeParse(input);
  const errors = parsed.success ? [] : issuesToFieldErrors(parsed.error.issues);
  const has = (prefix: string) => errors.some((e) => e.field === prefix || e.field.startsWith(`${prefix}.`));
  // Parameters and policy are checked whenever they are readable, so every field's problem shows at once.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const params = raw.params ?? {};
  let resolved: ResolvedParams = {};
  if (typeof raw.scenario === 'string' && isScenarioId(raw.scenario) && typeof params === 'object' && params !== null && !has('params')) {
    try {
      resolved = resolveParams(raw.scenario, params as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      errors.push({ field: `params.${error.field}`, message: error.message });
    }
  }
  if (raw.kind === 'train') {
    // Learner settings: resolveLearnerConfig, the validation of `headway train --set`.
    const settings = raw.settings ?? {};
    const preset = raw.preset ?? 'default';
    if (
      typeof raw.learner === 'string' &&
      isLearnerId(raw.learner) &&
      typeof raw.scenario === 'string' &&
      isScenarioId(raw.scenario) &&
      typeof preset === 'string' &&
      (PRESET_IDS as readonly string[]).includes(preset) &&
      typeof settings === 'object' &&
      settings !== null &&
      !has('settings')
    ) {
      try {
        resolveLearnerConfig(raw.learner, raw.scenario, preset as LearnerPresetId, settings as Record<string, unknown>);
      } catch (error) {
        if (!(error instanceof ParamError)) throw error;
        errors.push({ field: `settings.${error.field}`, message: error.message });
      }
    }
  } else if (raw.kind === 'simulate' && typeof raw.policy === 'string' && !has('policy') && parsePolicy(raw.policy) === null) {
    errors.push({ field: 'policy', message: `policy ${JSON.stringify(raw.policy)} is not allowed; expected idle, random or constant:K` });
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, config: parsed.data, params: resolved };
}

// ---------------------------------------------------------------------------------------
// Jobs

export const JOB_STATUSES = ['starting', 'running', 'paused', 'finished', 'stopped', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const isJobEnded = (status: JobStatus): boolean => status === 'finished' || status === 'stopped' || status === 'failed';

export interface JobInfo {
  id: string;
  kind: JobKind;
  /** One line for lists: "Ring attenuation · idle · seed 0". */
  title: string;
  status: JobStatus;
  config: JobConfig;
  /** Episode shown live (0-based) and its step. */
  episode: number;
  step: number;
  speed: Speed;
  created: string;
  ended: string | null;
  /** Why it failed; null otherwise. */
  error: string | null;
  /** Training jobs: progress of the learner; null for simulations. */
  progress: TrainingProgressInfo | null;
  /**
   * Training jobs: the live view of their evaluation episodes is paused (the job itself runs
   * on unless progress.held). Simulations: always false (their status says paused).
   */
  displayPaused: boolean;
}

export interface TrainingProgressInfo {
  /** Iterations done and the budget. */
  iteration: number;
  iterations: number;
  envSteps: number;
  /** The run in the run store, once created. */
  runId: number | null;
  /** The tensor backend in use ("tfjs-node (CPU)" ...), once chosen. */
  backend: string | null;
  /** Training waits between iterations because the user paused the view with holdTraining. */
  held: boolean;
}

/**
 * Metrics of a training iteration (`metrics` events with scope 'iteration'), by key: the
 * learner's own names, as `headway runs show` lists them. Absent when the iteration has no
 * value (no evaluation that iteration, no model for learners other than DMPO).
 */
export const TRAIN_METRICS = {
  return: 'train/episodeReturn',
  evalReturn: 'eval/return',
  actorLoss: 'loss/actor',
  criticLoss: 'loss/critic',
  kl: 'kl',
  stepsPerSecond: 'time/envStepsPerSecond',
  modelError: 'model/stateError',
  envSteps: 'envSteps',
} as const;

const jobIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, { error: 'jobId must be a job id' });

export const jobCommandSchema = z.discriminatedUnion(
  'type',
  [
    /**
     * Pauses the live view. Simulations pause. Training keeps training (the displayed
     * evaluation episode pauses) unless holdTraining: then it also pauses between iterations.
     */
    z.strictObject({ type: z.literal('pause'), holdTraining: z.boolean().default(false) }),
    z.strictObject({ type: z.literal('resume') }),
    /** Single-step forward (pauses a running job first). */
    z.strictObject({ type: z.literal('step'), steps: z.number().int().min(1).max(10_000).default(1) }),
    z.strictObject({ type: z.literal('stop') }),
    z.strictObject({ type: z.literal('speed'), speed: speedSchema }),
  ],
  { error: 'command type must be pause, resume, step, stop or speed' },
);
export type JobCommand = z.output<typeof jobCommandSchema>;
export type JobCommandInput = z.input<typeof jobCommandSchema>;

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
  /** Where the episode comes from: a live simulation, or the evaluation episode of a training iteration. */
  source: { kind: 'simulation' } | { kind: 'evaluation'; runId: number; iteration: number };
  /**
   * Environment copies shown side by side (batched envs, e.g. during training); absent = 1.
   * Copy c owns vehicles [c * nVehicles / copies, (c + 1) * nVehicles / copies), each on
   * its own copy of the road.
   */
  copies?: number;
}

/** Bits of Frame.flags. */
export const FrameFlag = { collision: 1 } as const;

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
] as const satisfies readonly (readonly [keyof Frame, 'f64' | 'u8'])[];

export type MetricsScope = 'episode' | 'iteration';

export type ApiEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'episode'; episode: EpisodeSpec }
  | { type: 'frame'; frame: Frame }
  /** Simulations: per finished episode (return, meanSpeed, ...). Training: per iteration. */
  | { type: 'metrics'; jobId: string; scope: MetricsScope; index: number; values: Record<string, number> }
  | { type: 'log'; jobId: string | null; level: 'info' | 'warn' | 'error'; message: string };

// ---------------------------------------------------------------------------------------
// Methods

export type Transport = 'ipc' | 'websocket';

export interface HelloInfo {
  apiVersion: number;
  appVersion: string;
  transport: Transport;
  /** Where the backend runs, for the status bar ("Electron 38", "Node 20 on 127.0.0.1:8877"). */
  host: string;
}

const empty = z.strictObject({});

// ---------------------------------------------------------------------------------------
// Experiment history (the run store): runs, their metrics, stored episodes for replay

/** Narrows the run list; every given field must match. Runs come newest first. */
export const runQuerySchema = z.strictObject({
  /** Case-insensitive part of the name, or "#12" for run 12. */
  search: z.string().max(200).optional(),
  scenario: z.string().max(64).optional(),
  /** Learner id (ippo, mappo, ..., dmpo). */
  algo: z.string().max(64).optional(),
  tag: z.string().max(64).optional(),
  status: z.array(z.enum(RUN_STATUSES, { error: `status must be one of ${RUN_STATUSES.join(', ')}` })).max(RUN_STATUSES.length).optional(),
  limit: z.number().int().min(1).max(1000).default(500),
});
export type RunQuery = z.input<typeof runQuerySchema>;

const tagSchema = z.string().trim().min(1, { error: 'a tag cannot be empty' }).max(64, { error: 'a tag has at most 64 characters' });

export const runEditSchema = z.strictObject({
  runId: runIdSchema,
  name: z.string().trim().min(1, { error: 'name cannot be empty' }).max(200, { error: 'name has at most 200 characters' }).optional(),
  tags: z.array(tagSchema).max(50, { error: 'a run has at most 50 tags' }).optional(),
  notes: z.string().max(20_000, { error: 'notes have at most 20,000 characters' }).optional(),
});
export type RunEdit = z.input<typeof runEditSchema>;

/** Most runs and metric names one runMetrics request may ask for. */
export const MAX_COMPARE_RUNS = 200;
export const MAX_COMPARE_METRICS = 16;
/** Most frames one readEpisodeSteps request returns. */
export const MAX_STEP_BLOCK = 1024;

/** Everything the run details page shows about a run. */
export interface RunOverview {
  run: RunDetail;
  checkpoints: CheckpointInfo[];
  /** Stored episodes, newest iteration first. */
  episodes: EpisodeInfo[];
  /** Names of its metric series (per-agent ones included). */
  series: string[];
  /** The job of this app that trains or evaluates it now, if any. */
  activeJobId: string | null;
}

/**
 * One metric series of one run as columns (compact for comparisons of many runs). Values
 * that were NaN or infinite are null.
 */
export interface MetricColumns {
  runId: number;
  name: string;
  iteration: number[];
  envSteps: number[];
  wallTimeS: number[];
  value: (number | null)[];
}

/**
 * Frames [from, from + steps) of a stored episode as their raw records: base64 of the
 * little-endian float32 records in the layout of src/shared/trajectoryLayout.ts
 * (decodeStepBlock turns it into TrajectoryFrames).
 */
export interface EpisodeStepBlock {
  episodeId: number;
  from: number;
  steps: number;
  floatsPerStep: number;
  records: string;
}

/**
 * Whole-episode per-vehicle series for time-space diagrams and traces: every `stride`-th
 * frame, base64 float32 arrays laid out [frame][vehicle]. Frame k is step k * stride.
 */
export interface EpisodeTraces {
  episodeId: number;
  /** Frames stored in the episode, and how many of them are in the traces. */
  steps: number;
  stride: number;
  frames: number;
  nVehicles: number;
  position: string;
  speed: string;
  gap: string;
  accel: string;
  /** [frame] sum over agents of the raw reward of the step that led to the frame (0 at reset). */
  reward: string;
  /** [frame] 1 where a frame of the stride window [k * stride, (k + 1) * stride) is flagged as a collision. */
  collided: string;
}

/** Request payload schema of every method: the backend validates with these before dispatching. */
export const API_REQUESTS = {
  hello: empty,
  /** Full validation of a job config without starting it: field errors, empty when valid. */
  validateJob: z.strictObject({ config: z.unknown() }),
  /** Starts a job; its config is validated like validateJob (field errors in error.fields). */
  startJob: z.strictObject({ config: z.unknown() }),
  controlJob: z.strictObject({ jobId: jobIdSchema, command: jobCommandSchema }),
  listJobs: empty,
  /** Jobs, and (as events to the caller only) each live job's episode and latest frame. */
  snapshot: empty,
  listRuns: runQuerySchema,
  getRun: z.strictObject({ runId: runIdSchema }),
  updateRun: runEditSchema,
  /** Deletes a run with everything stored for it; refused (busy) while a job trains it. */
  deleteRun: z.strictObject({ runId: runIdSchema }),
  runMetrics: z.strictObject({
    runIds: z.array(runIdSchema).min(1).max(MAX_COMPARE_RUNS, { error: `at most ${MAX_COMPARE_RUNS} runs at once` }),
    names: z.array(z.string().min(1).max(200)).min(1).max(MAX_COMPARE_METRICS, { error: `at most ${MAX_COMPARE_METRICS} metrics at once` }),
  }),
  readEpisodeSteps: z
    .strictObject({
      episodeId: z.number().int().positive({ error: 'episodeId must be an episode id' }),
      from: z.number().int().min(0, { error: 'from must be a step number (0 or more)' }),
      to: z.number().int().min(0, { error: 'to must be a step number (0 or more)' }),
    })
    .refine((range) => range.to >= range.from && range.to - range.from <= MAX_STEP_BLOCK, {
      error: `the range needs from <= to and at most ${MAX_STEP_BLOCK} steps`,
      path: ['to'],
    }),
  readEpisodeTraces: z.strictObject({
    episodeId: z.number().int().positive({ error: 'episodeId must be an episode id' }),
    stride: z.number().int().min(1).max(1000).default(1),
  }),
} as const;

export type ApiMethod = keyof typeof API_REQUESTS;
export const API_METHODS = Object.keys(API_REQUESTS) as ApiMethod[];

export interface ApiResponses {
  hello: HelloInfo;
  validateJob: { errors: FieldError[] };
  startJob: JobInfo;
  controlJob: JobInfo;
  listJobs: JobInfo[];
  snapshot: JobInfo[];
  listRuns: RunDetail[];
  getRun: RunOverview;
  updateRun: RunDetail;
  deleteRun: { runId: number };
  runMetrics: MetricColumns[];
  readEpisodeSteps: EpisodeStepBlock;
  readEpisodeTraces: EpisodeTraces;
}

export type ApiRequestPayload<M extends ApiMethod> = z.input<(typeof API_REQUESTS)[M]>;
export type ApiParsedPayload<M extends ApiMethod> = z.output<(typeof API_REQUESTS)[M]>;

export const API_ERROR_CODES = ['invalid-request', 'invalid-config', 'not-found', 'busy', 'unauthorized', 'internal'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  code: ApiErrorCode;
  message: string;
  /** invalid-config / invalid-request: the fields at fault. */
  fields?: FieldError[];
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export type ParsedRequest = { [M in ApiMethod]: { method: M; payload: ApiParsedPayload<M> } }[ApiMethod];

/** Validates a request from a UI: the method must exist and its payload match the schema. */
export function parseRequest(method: unknown, payload: unknown): { ok: true; request: ParsedRequest } | { ok: false; error: ApiError } {
  if (typeof method !== 'string' || !Object.hasOwn(API_REQUESTS, method)) {
    return { ok: false, error: { code: 'invalid-request', message: `unknown method ${JSON.stringify(method)}; expected one of ${API_METHODS.join(', ')}` } };
  }
  const schema = API_REQUESTS[method as ApiMethod];
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    const fields = issuesToFieldErrors(parsed.error.issues);
    return {
      ok: false,
      error: { code: 'invalid-request', message: `${method}: ${fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ')}`, fields },
    };
  }
  return { ok: true, request: { method, payload: parsed.data } as ParsedRequest };
}

// ---------------------------------------------------------------------------------------
// Transports and the typed client

/** What a transport carries: the Electron preload exposes exactly this as `window.headway`. */
export interface ApiTransport {
  invoke(method: ApiMethod, payload: unknown): Promise<ApiResult<unknown>>;
  /** Subscribes to backend events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
export type HeadwayBridge = ApiTransport;

/** A failed request, as the client raises it. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(readonly error: ApiError) {
    super(error.message);
  }
  get code(): ApiErrorCode {
    return this.error.code;
  }
  get fields(): FieldError[] {
    return this.error.fields ?? [];
  }
}

/** The api as the UI uses it, identical over IPC and WebSocket. */
export interface HeadwayApi {
  readonly transport: Transport;
  hello(): Promise<HelloInfo>;
  validateJob(config: unknown): Promise<FieldError[]>;
  startJob(config: JobConfigInput): Promise<JobInfo>;
  controlJob(jobId: string, command: JobCommandInput): Promise<JobInfo>;
  listJobs(): Promise<JobInfo[]>;
  snapshot(): Promise<JobInfo[]>;
  listRuns(query?: RunQuery): Promise<RunDetail[]>;
  getRun(runId: number): Promise<RunOverview>;
  updateRun(edit: RunEdit): Promise<RunDetail>;
  deleteRun(runId: number): Promise<void>;
  runMetrics(runIds: number[], names: string[]): Promise<MetricColumns[]>;
  readEpisodeSteps(episodeId: number, from: number, to: number): Promise<EpisodeStepBlock>;
  readEpisodeTraces(episodeId: number, stride?: number): Promise<EpisodeTraces>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
}

export function createApiClient(transport: ApiTransport, kind: Transport): HeadwayApi {
  async function call<M extends ApiMethod>(method: M, payload: ApiRequestPayload<M>): Promise<ApiResponses[M]> {
    const result = await transport.invoke(method, payload);
    if (!result.ok) throw new ApiRequestError(result.error);
    return result.value as ApiResponses[M];
  }
  return {
    transport: kind,
    hello: () => call('hello', {}),
    validateJob: async (config) => (await call('validateJob', { config })).errors,
    startJob: (config) => call('startJob', { config }),
    controlJob: (jobId, command) => call('controlJob', { jobId, command }),
    listJobs: () => call('listJobs', {}),
    snapshot: () => call('snapshot', {}),
    listRuns: (query = {}) => call('listRuns', query),
    getRun: (runId) => call('getRun', { runId }),
    updateRun: (edit) => call('updateRun', edit),
    deleteRun: async (runId) => {
      await call('deleteRun', { runId });
    },
    runMetrics: (runIds, names) => call('runMetrics', { runIds, names }),
    readEpisodeSteps: (episodeId, from, to) => call('readEpisodeSteps', { episodeId, from, to }),
    readEpisodeTraces: (episodeId, stride = 1) => call('readEpisodeTraces', { episodeId, stride }),
    onEvent: (listener) => transport.onEvent(listener),
  };
}
