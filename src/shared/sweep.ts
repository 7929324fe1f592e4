/**
 * A sweep file (`headway sweep FILE`): a grid of training runs, scenarios x learners x seeds x
 * presets, every run with the same `set` hyperparameters, `param` scenario parameters and
 * budget. Declared once here as a zod schema; `set` and `param` are checked by the resolvers
 * `headway train` uses (resolveLearnerConfig, resolveParams), for every scenario, learner and
 * preset of the grid, so a bad key is refused before any run starts, with every problem listed.
 */
import { z } from 'zod';
import { issuesToFieldErrors, MAX_SEED, MAX_TRAIN_ITERATIONS, type FieldError } from './apiJobs.ts';
import { LEARNER_IDS, learnerTrainsOn, PRESET_IDS, resolveLearnerConfig, type LearnerId, type LearnerPresetId } from './learners.ts';
import { withSortedKeys, type RunStatus } from './runs.ts';
import { ParamError, resolveParams, SCENARIO_IDS, type ScenarioId } from './scenarios.ts';

/** Largest environment-step budget of one run of a sweep. */
export const MAX_SWEEP_ENV_STEPS = 10 ** 12;

/** The value as a message shows it ("missing" where there is none). */
const shown = (input: unknown) => (input === undefined ? 'missing' : `${JSON.stringify(input)} is not allowed`);

const valueSchema = z.union([z.number(), z.boolean(), z.string().max(64)], {
  error: (issue) => `${shown(issue.input)}; a value must be a number, true/false or text (at most 64 characters)`,
});

/** A whole number in [min, max]; every failure names the value and the range. */
function wholeNumber(what: string, min: number, max: number) {
  const error = (issue: { input?: unknown }) => `${shown(issue.input)}; ${what} must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A non-empty list without repeats, each entry from `allowed`; messages name the value and the choices. */
function choices<T extends string>(field: string, allowed: readonly [T, ...T[]]) {
  const entry = z.enum(allowed, { error: (issue) => `${shown(issue.input)}; expected one of ${allowed.join(', ')}` });
  return uniqueList(field, entry);
}

/** The first entry a list repeats, as JSON; undefined when none. */
function repeated(list: readonly unknown[]): string | undefined {
  const seen = new Set<string>();
  for (const entry of list.map((v) => JSON.stringify(v))) {
    if (seen.has(entry)) return entry;
    seen.add(entry);
  }
  return undefined;
}

function uniqueList<T extends z.ZodType>(field: string, entry: T) {
  return z
    .array(entry, { error: (issue) => `${shown(issue.input)}; ${field} must be a list` })
    .min(1, { error: `${field} must list at least one entry` })
    .refine((list) => repeated(list) === undefined, { error: (issue) => `${repeated(issue.input as unknown[])} is listed twice; ${field} must not repeat an entry` });
}

export const sweepFileSchema = z
  .strictObject({
    /** Names the sweep in the history: running a file of the same name again continues that sweep. */
    name: z.string({ error: (issue) => `${shown(issue.input)}; name must be text` }).trim().min(1, { error: 'name must not be empty' }).max(200, { error: 'name must be at most 200 characters' }),
    /** Given to every run of the sweep (shown and filtered in Runs). */
    tags: z
      .array(z.string({ error: (issue) => `${shown(issue.input)}; a tag must be text` }).trim().min(1, { error: 'a tag must not be empty' }).max(64, { error: 'a tag must be at most 64 characters' }), {
        error: (issue) => `${shown(issue.input)}; tags must be a list of text`,
      })
      .default([]),
    scenarios: choices('scenarios', SCENARIO_IDS),
    learners: choices('learners', LEARNER_IDS),
    seeds: uniqueList('seeds', wholeNumber('a seed', 0, MAX_SEED)),
    presets: choices('presets', PRESET_IDS).default(['default']),
    /** Learner hyperparameters of every run (train's --set). */
    set: z.record(z.string().max(64), valueSchema, { error: 'set must be an object of KEY: VALUE' }).default({}),
    /** Scenario parameters of every run (train's --param). */
    param: z.record(z.string().max(64), valueSchema, { error: 'param must be an object of KEY: VALUE' }).default({}),
    iterations: wholeNumber('iterations', 1, MAX_TRAIN_ITERATIONS).optional(),
    envSteps: wholeNumber('envSteps', 1, MAX_SWEEP_ENV_STEPS).optional(),
  })
  .refine((sweep) => sweep.iterations === undefined || sweep.envSteps === undefined, { error: 'iterations and envSteps cannot be combined', path: ['envSteps'] });

export type SweepFile = z.output<typeof sweepFileSchema>;

/** One run of the grid. `key` (scenario/learner/seed/preset) names it in the sweep record. */
export interface SweepCell {
  key: string;
  scenario: ScenarioId;
  learner: LearnerId;
  seed: number;
  preset: LearnerPresetId;
}

export type ValidatedSweep = { ok: true; sweep: SweepFile } | { ok: false; errors: FieldError[] };

/** Checks a parsed sweep file: its shape, then every `set` and `param` key against every scenario, learner and preset of the grid. */
export function validateSweep(input: unknown): ValidatedSweep {
  const parsed = sweepFileSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: issuesToFieldErrors(parsed.error.issues) };
  const sweep = parsed.data;
  const errors = new Map<string, FieldError>();
  // One key at a time: the resolvers stop at the first problem, and every problem is listed.
  const check = (field: string, resolve: () => unknown) => {
    try {
      resolve();
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      errors.set(`${field}\n${error.message}`, { field, message: error.message });
    }
  };
  if (sweepCells(sweep).length === 0) {
    const field = 'learners';
    errors.set(field, { field, message: `no learner of [${sweep.learners.join(', ')}] trains on a scenario of [${sweep.scenarios.join(', ')}]` });
  }
  for (const scenario of sweep.scenarios) {
    for (const [key, value] of Object.entries(sweep.param)) check(`param.${key}`, () => resolveParams(scenario, { [key]: value }));
    for (const learner of sweep.learners.filter((id) => learnerTrainsOn(id, scenario))) {
      for (const preset of sweep.presets) {
        for (const [key, value] of Object.entries(sweep.set)) check(`set.${key}`, () => resolveLearnerConfig(learner, scenario, preset, { [key]: value }));
      }
    }
  }
  return errors.size === 0 ? { ok: true, sweep } : { ok: false, errors: [...errors.values()] };
}

/**
 * The grid in a fixed order (scenario, learner, preset, seed): runs of one group start
 * together. Pairs of a learner and a scenario it does not train on (ltde off
 * network-routing, dadc off mabc, demand-response and CACC) are left out.
 */
export function sweepCells(sweep: SweepFile): SweepCell[] {
  const cells: SweepCell[] = [];
  for (const scenario of sweep.scenarios) {
    for (const learner of sweep.learners.filter((id) => learnerTrainsOn(id, scenario))) {
      for (const preset of sweep.presets) {
        for (const seed of sweep.seeds) cells.push({ key: `${scenario}/${learner}/${seed}/${preset}`, scenario, learner, seed, preset });
      }
    }
  }
  return cells;
}

/** What every run of the sweep shares; a file of the same name with other settings is another experiment. */
export function sweepRunSettings(sweep: SweepFile): string {
  return JSON.stringify({ set: withSortedKeys(sweep.set), param: withSortedKeys(sweep.param), iterations: sweep.iterations ?? null, envSteps: sweep.envSteps ?? null });
}

/** A sweep as recorded in the history: its file (the JSON it was last run with) and the run of each cell. */
export interface SweepRecord {
  id: number;
  name: string;
  /** The sweep file, as JSON text. */
  file: string;
  created: string;
  updated: string;
  /** Every cell of the grid, in the order of sweepCells; runId is null until its run has started (or after it was deleted). */
  cells: { key: string; runId: number | null }[];
}

/** A sweep as the Runs tab lists it: the size of its grid and how far its runs got. */
export interface SweepSummary {
  id: number;
  name: string;
  created: string;
  updated: string;
  /** Cells of the grid. */
  cells: number;
  /** The cells' runs by status; `notStarted` counts the cells without a run (not started yet, or their run was deleted). */
  runs: Record<RunStatus, number> & { notStarted: number };
  /** Scenarios and learners of its runs, sorted: Compare opens a sweep per scenario, grouped by learner. */
  scenarios: string[];
  learners: string[];
}
