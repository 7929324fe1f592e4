/**
 * The api contract, part one: jobs. What a job is configured with (simulate, train, resume,
 * evaluate; zod schemas with the CLI's own messages), the validation the backend (authoritative)
 * and the UI (instant feedback) share, the policy language of a simulation, a job's
 * lifecycle as JobInfo and the commands that control it. Imported through src/shared/api.ts.
 *
 * Jobs. A job is anything long that runs off the UI and main threads, in a worker: a live
 * simulation (`kind: 'simulate'`) or a training run (`kind: 'train'`), with the same
 * lifecycle and controls (training honours stop only). Training reports each iteration as
 * a `metrics` event with `scope: 'iteration'` (keys in TRAIN_METRICS) and its progress, run
 * id and tensor backend in `JobInfo.progress`.
 */
import { z } from 'zod';
import { BACKEND_CHOICES } from './backends.ts';
import { isLearnerId, LEARNER_IDS, PRESET_IDS, resolveLearnerConfig, type LearnerPresetId } from './learners.ts';
import { isScenarioId, ParamError, resolveParams, SCENARIO_IDS, type ResolvedParams } from './scenarios.ts';

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

const POLICY_CHOICES = 'policy must be idle, human, random, constant:K or run:RUN_ID[@best|latest|CHECKPOINT_ID]';

// ---------------------------------------------------------------------------------------
// Disturbances of a live simulation (src/main/sim/disturbances.ts; the CLI's --disturb)

/** Longest disturbance the app applies, in seconds. */
export const MAX_DISTURBANCE_S = 600;
const vehicleIndexSchema = z.number({ error: 'vehicle must be a vehicle index' }).int({ error: 'vehicle must be a vehicle index' }).min(0, { error: 'vehicle must be a vehicle index' });
const durationSchema = z
  .number({ error: `duration must be a number of seconds from 0.1 to ${MAX_DISTURBANCE_S}` })
  .min(0.1, { error: `duration must be a number of seconds from 0.1 to ${MAX_DISTURBANCE_S}` })
  .max(MAX_DISTURBANCE_S, { error: `duration must be a number of seconds from 0.1 to ${MAX_DISTURBANCE_S}` });
const finite = (what: string) => z.number({ error: `${what} must be a number` }).refine(Number.isFinite, { error: `${what} must be a finite number` });

/**
 * One disturbance as the app asks for it: which vehicle, what, for how many seconds (rounded
 * to whole 0.1 s steps). brake: accel m/s^2 < 0; hold: speed m/s >= 0; stop; dip (the CACC
 * leader's speed profile): depth m/s > 0. The simulator checks the vehicle and the values
 * against the scenario (src/main/sim/disturbances.ts checkDisturbance).
 */
function disturbanceShapes<Extra extends z.ZodRawShape>(extra: Extra) {
  return z.discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('brake'), vehicle: vehicleIndexSchema, duration: durationSchema, accel: finite('accel'), ...extra }),
      z.strictObject({ kind: z.literal('hold'), vehicle: vehicleIndexSchema, duration: durationSchema, speed: finite('speed'), ...extra }),
      z.strictObject({ kind: z.literal('stop'), vehicle: vehicleIndexSchema, duration: durationSchema, ...extra }),
      z.strictObject({ kind: z.literal('dip'), vehicle: vehicleIndexSchema, duration: durationSchema, depth: finite('depth'), ...extra }),
    ],
    { error: 'kind must be brake, hold, stop or dip' },
  );
}
export const disturbanceSchema = disturbanceShapes({});
/** A disturbance scheduled `at` seconds after each reset (whole 0.1 s steps). */
export const scriptedDisturbanceSchema = disturbanceShapes({ at: z.number({ error: 'at must be a time in s' }).min(0, { error: 'at must be a time >= 0 s' }) });
export type DisturbanceRequest = z.output<typeof disturbanceSchema>;
export type DisturbanceKindName = DisturbanceRequest['kind'];
export type ScriptedDisturbance = z.output<typeof scriptedDisturbanceSchema>;

const episodeIdSchema = z
  .number({ error: 'episodeId must be an episode id (a positive whole number)' })
  .int({ error: 'episodeId must be an episode id (a positive whole number)' })
  .positive({ error: 'episodeId must be an episode id (a positive whole number)' });

/**
 * Continue a stored episode live from state `step`: the simulation rebuilds that state
 * exactly (from the episode's seed, its exact actions and disturbances) and plays on under
 * the config's policy; `record` stores it as a new episode of the same run, linked to its
 * parent episode and step. Scenario, params and seed must be the episode's.
 */
export const forkSchema = z.strictObject({
  episodeId: episodeIdSchema,
  step: z.number({ error: 'step must be a whole number >= 0' }).int({ error: 'step must be a whole number >= 0' }).min(0, { error: 'step must be a whole number >= 0' }),
  record: z.boolean().default(false),
});
export type ForkRequest = z.output<typeof forkSchema>;

export const simulateConfigSchema = z.strictObject({
  kind: z.literal('simulate'),
  scenario: z.enum(SCENARIO_IDS, { error: `scenario must be one of ${SCENARIO_IDS.join(', ')}` }),
  /** Scenario parameters as text or JSON values; resolved and checked by resolveParams (the CLI's --param). */
  params: z.record(z.string().max(64), paramValueSchema).default({}),
  /** idle, human, random, constant:K or run:RUN_ID[@best|latest|CHECKPOINT_ID] (the CLI's --policy). */
  policy: z.string().max(64, { error: POLICY_CHOICES }).default('idle'),
  /** Scripted disturbances of every episode, each from `at` seconds after reset (the CLI's --disturb). */
  disturbances: z
    .array(scriptedDisturbanceSchema, { error: 'disturbances must be a list' })
    .max(32, { error: 'at most 32 disturbances' })
    .default([]),
  seed: seedSchema,
  /** After an episode ends, start the next one (seed + 1) instead of finishing. */
  repeat: z.boolean().default(false),
  speed: speedSchema.default(1),
  /** Most frames per second streamed to the UI (the live view interpolates between them). */
  frameRate: wholeNumber('frame rate', 1, 60).default(30),
  startPaused: z.boolean().default(false),
  /** Start from a step of a stored episode instead of a reset (the first episode only; repeats reset as usual). */
  fork: forkSchema.optional(),
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
  /** The tensor backend (the CLI's --backend); 'auto' picks the fastest that passes its self-check. */
  backend: z.enum(BACKEND_CHOICES, { error: `backend must be one of ${BACKEND_CHOICES.join(', ')}` }).default('auto'),
});
export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

export const runIdSchema = z
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

/** A run's checkpoint: its best by evaluation return (else its latest), its latest, or one by id. */
export type CheckpointChoice = 'best' | 'latest' | number;

export type PolicySpec =
  | { kind: 'idle' }
  /** The automated vehicles drive as the scenario's human drivers (Flow's IDM, without noise): ring and figure eight. */
  | { kind: 'human' }
  | { kind: 'random' }
  | { kind: 'constant'; value: number }
  /** A trained run's deterministic policy. */
  | { kind: 'run'; runId: number; checkpoint: CheckpointChoice };

/** Parses idle | human | random | constant:K | run:RUN_ID[@best|latest|CHECKPOINT_ID]; null when the text is none of them. */
export function parsePolicy(text: string): PolicySpec | null {
  const trimmed = text.trim();
  if (trimmed === 'idle') return { kind: 'idle' };
  if (trimmed === 'human') return { kind: 'human' };
  if (trimmed === 'random') return { kind: 'random' };
  const run = /^run:([1-9]\d{0,14})(?:@(best|latest|[1-9]\d{0,14}))?$/.exec(trimmed);
  if (run) return { kind: 'run', runId: Number(run[1]), checkpoint: run[2] === undefined || run[2] === 'best' ? 'best' : run[2] === 'latest' ? 'latest' : Number(run[2]) };
  const match = /^constant:(.+)$/.exec(trimmed);
  if (match) {
    const value = Number(match[1]);
    if (match[1].trim() !== '' && Number.isFinite(value)) return { kind: 'constant', value };
  }
  return null;
}

/** The field error of a policy text parsePolicy does not read. */
export function policyNotAllowed(text: string): FieldError {
  return { field: 'policy', message: `policy ${JSON.stringify(text)} is not allowed; expected idle, human, random, constant:K or run:RUN_ID[@best|latest|CHECKPOINT_ID]` };
}

// ---------------------------------------------------------------------------------------
// Validation shared by the backend (authoritative) and the UI (instant feedback)

export type ValidatedJob =
  | { ok: true; config: JobConfig; params: ResolvedParams }
  | { ok: false; errors: FieldError[] };

export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
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
    errors.push(policyNotAllowed(raw.policy));
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
  /** The tensor backend in use, its device and why ("webgpu on NVIDIA ... (self-check passed ...)"), once chosen. */
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

export const jobIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, { error: 'jobId must be a job id' });

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
    /** Simulations: applies a disturbance from the current step on (it replaces one still acting on that vehicle). */
    z.strictObject({ type: z.literal('disturb'), disturbance: disturbanceSchema }),
  ],
  { error: 'command type must be pause, resume, step, stop, speed or disturb' },
);
export type JobCommand = z.output<typeof jobCommandSchema>;
export type JobCommandInput = z.input<typeof jobCommandSchema>;
