/**
 * The learning report's results (one learning curve per run), and how they are read from a
 * sweep in a run database (`learning-report.ts --db FILE --sweep ID|NAME`) instead of trained
 * by the report itself: every finished run of the sweep, its curve the evaluations its
 * training job recorded (eval/return and eval/collision at each evaluated iteration).
 */
import { TRAIN_METRICS } from '../src/shared/apiJobs.ts';
import { isLearnerId, PRESET_IDS, resolveLearnerConfig, type LearnerId, type LearnerPresetId } from '../src/shared/learners.ts';
import type { RunDetail } from '../src/shared/runs.ts';
import { isScenarioId, type ScenarioId } from '../src/shared/scenarios.ts';
import { sweepFileSchema, type SweepRecord } from '../src/shared/sweep.ts';
import type { LearnerSetup } from '../src/main/rl/core/learner.ts';
import type { RunStore } from '../src/main/store/index.ts';

export interface CurvePoint {
  envSteps: number;
  evalReturn: number;
  /** Fraction of the evaluation episodes that ended in a collision (absent in reports written before it was recorded). */
  collisionRate?: number;
  /** Training wall time up to this evaluation (rollouts and updates, evaluations excluded), seconds; absent in reports written before it was recorded. */
  seconds?: number;
}

/** A model-based learner's final model errors (MSE / variance on held-out real data, the DMPO paper's Figure 3). */
export interface ModelErrors {
  state: number;
  reward: number;
}

export interface RunResult {
  learner: LearnerId;
  scenario: ScenarioId;
  seed: number;
  /** Evaluations in env-step order; the first is the untrained policy's when the report trained the run itself (envSteps 0). */
  curve: CurvePoint[];
  finalReturn: number;
  seconds: number;
  /** The model errors of the last iteration, for learners that fit models. */
  modelErrors?: ModelErrors;
}

/** The metrics a learner reports its iteration's timings and model errors under. */
export const ITERATION_METRICS = {
  rolloutSeconds: 'time/rolloutSeconds',
  updateSeconds: 'time/updateSeconds',
  modelStateError: 'model/stateError',
  modelRewardError: 'model/rewardError',
} as const;

/** Iteration metrics to what the report keeps of them: the iteration's training seconds and its model errors (when the learner fits models). */
export function iterationFacts(metrics: Readonly<Record<string, number>>): { seconds: number; modelErrors?: ModelErrors } {
  const seconds = (metrics[ITERATION_METRICS.rolloutSeconds] ?? 0) + (metrics[ITERATION_METRICS.updateSeconds] ?? 0);
  const state = metrics[ITERATION_METRICS.modelStateError];
  const reward = metrics[ITERATION_METRICS.modelRewardError];
  return state === undefined || reward === undefined ? { seconds } : { seconds, modelErrors: { state, reward } };
}

/** The metric a training job records the evaluation's collision rate under (evaluation metrics are stored as eval/<name>). */
const EVAL_COLLISION = 'eval/collision';

/** How a run's learner was created, so that its untrained policy (the same seed: the same initial weights) can be evaluated on the run's evaluation episodes. */
export interface RunOrigin {
  setup: LearnerSetup;
  evalEpisodes: number;
}

/** What the report reads from a sweep: its finished runs' results, and what the setting line says about them. */
export interface SweepResults {
  sweep: SweepRecord;
  results: RunResult[];
  /** Each result's learner as its run created it (the training jobs record no evaluation before training). */
  origins: Map<RunResult, RunOrigin>;
  /** Cells of the grid left out, with why ("ring/dppo/2/default: failed"). */
  leftOut: string[];
  setting: string;
}

/** Thrown for a sweep that cannot be reported (missing, nothing finished): the message says what to do. */
export class SweepReportError extends Error {
  override name = 'SweepReportError';
}

/** The sweep of this id ("12") or name in the store. */
export function findSweep(store: RunStore, ref: string): SweepRecord {
  const byId = /^\d+$/.test(ref.trim()) ? store.getSweep(Number(ref.trim())) : null;
  const sweep = byId ?? store.findSweep(ref);
  if (!sweep) throw new SweepReportError(`--sweep ${JSON.stringify(ref)}: no sweep of this id or name in ${store.file}; the Runs tab's sweep filter lists the recorded sweeps`);
  return sweep;
}

/** One run's learning curve as its training job recorded it, with the training time up to each evaluation. */
function runResult(store: RunStore, run: RunDetail & { algo: LearnerId; scenario: ScenarioId }): RunResult | null {
  const returns = store.metricSeries(run.id, TRAIN_METRICS.evalReturn);
  if (returns.length === 0) return null;
  const byIteration = (name: string) => new Map(store.metricSeries(run.id, name).map((point) => [point.iteration, point.value]));
  const collisions = byIteration(EVAL_COLLISION);
  const rollout = store.metricSeries(run.id, ITERATION_METRICS.rolloutSeconds);
  const update = byIteration(ITERATION_METRICS.updateSeconds);
  // Both series run in iteration order: one pass sums the training seconds up to each evaluation.
  let seconds = 0;
  let summed = 0;
  const curve = returns.map((point): CurvePoint => {
    const collisionRate = collisions.get(point.iteration);
    for (; summed < rollout.length && rollout[summed].iteration <= point.iteration; summed++) {
      seconds += rollout[summed].value + (update.get(rollout[summed].iteration) ?? 0);
    }
    return { envSteps: point.envSteps, evalReturn: point.value, ...(collisionRate === undefined ? {} : { collisionRate }), ...(rollout.length === 0 ? {} : { seconds }) };
  });
  const state = store.metricSeries(run.id, ITERATION_METRICS.modelStateError).at(-1);
  const reward = store.metricSeries(run.id, ITERATION_METRICS.modelRewardError).at(-1);
  const modelErrors = state && reward ? { modelErrors: { state: state.value, reward: reward.value } } : {};
  return { learner: run.algo, scenario: run.scenario, seed: run.seed, curve, finalReturn: curve[curve.length - 1].evalReturn, seconds: run.wallTimeS, ...modelErrors };
}

/** The results of the sweep's finished runs with an evaluation; the rest of the grid is listed in `leftOut`. */
export function readSweepResults(store: RunStore, ref: string): SweepResults {
  const sweep = findSweep(store, ref);
  const results: RunResult[] = [];
  const origins = new Map<RunResult, RunOrigin>();
  const leftOut: string[] = [];
  const evaluation = new Set<string>();
  for (const cell of sweep.cells) {
    const run = cell.runId === null ? null : store.getRun(cell.runId);
    const reason = !run
      ? 'no run yet'
      : run.status !== 'finished'
        ? run.status
        : !isLearnerId(run.algo) || !isScenarioId(run.scenario)
          ? `learner ${run.algo} or scenario ${run.scenario} unknown to this version`
          : null;
    const result = run && reason === null ? runResult(store, run as RunDetail & { algo: LearnerId; scenario: ScenarioId }) : null;
    if (!result) {
      leftOut.push(`${cell.key}: ${reason ?? 'no evaluation recorded'}`);
      continue;
    }
    const learner = run!.config.learner as { evalEpisodes?: number; evalEvery?: number } | undefined;
    evaluation.add(`${learner?.evalEpisodes ?? '?'} episodes every ${learner?.evalEvery ?? '?'} iterations`);
    results.push(result);
    origins.set(result, runOrigin(run!, result));
  }
  if (results.length === 0) {
    throw new SweepReportError(`sweep ${sweep.id} "${sweep.name}" has no finished run with an evaluation yet (${sweep.cells.length} cells); run it with \`headway sweep\` first`);
  }
  return { sweep, results, origins, leftOut, setting: settingLine(sweep, results, [...evaluation], leftOut) };
}

/** The run's learner setup: its preset with the configuration it recorded on top (what `headway train` resolved and stored). */
function runOrigin(run: RunDetail, result: RunResult): RunOrigin {
  const stored = (run.config.learner ?? {}) as Record<string, unknown>;
  const preset = PRESET_IDS.includes(run.preset as LearnerPresetId) ? (run.preset as LearnerPresetId) : 'default';
  const config = resolveLearnerConfig(result.learner, result.scenario, preset, stored);
  return { setup: { learner: result.learner, scenario: result.scenario, scenarioParams: run.params, config, seed: run.seed }, evalEpisodes: config.evalEpisodes };
}

function settingLine(sweep: SweepRecord, results: readonly RunResult[], evaluation: readonly string[], leftOut: readonly string[]): string {
  const file = sweepFileSchema.safeParse(JSON.parse(sweep.file));
  const budget = !file.success
    ? 'budget as recorded per run'
    : file.data.envSteps !== undefined
      ? `${file.data.envSteps.toLocaleString('en-US')} env steps per run`
      : `${file.data.iterations ?? '?'} iterations per run`;
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const presets = file.success ? file.data.presets.join(', ') : 'as recorded';
  const parts = [
    `Read from sweep ${sweep.id} "${sweep.name}" (last run ${sweep.updated}): ${results.length} finished runs, ${budget}, seeds ${seeds.join(', ')}, presets ${presets}`,
    `evaluation on ${evaluation.join(' or ')} (as the training jobs recorded it; the untrained policy of each run's seed evaluated by the report on the same episodes)`,
  ];
  if (leftOut.length > 0) parts.push(`left out: ${summariseLeftOut(leftOut)}`);
  return `${parts.join('; ')}.`;
}

/** Cells left out, named where a reason has few of them, else counted ("88 cells: no run yet"), so a large sweep in progress stays readable. */
function summariseLeftOut(leftOut: readonly string[]): string {
  const byReason = new Map<string, string[]>();
  for (const entry of leftOut) {
    const [cell, reason] = [entry.slice(0, entry.indexOf(': ')), entry.slice(entry.indexOf(': ') + 2)];
    byReason.set(reason, [...(byReason.get(reason) ?? []), cell]);
  }
  return [...byReason].map(([reason, cells]) => (cells.length <= NAMED_LEFT_OUT ? cells.map((cell) => `${cell}: ${reason}`).join('; ') : `${cells.length} cells: ${reason}`)).join('; ');
}

/** Cells of one reason the setting line names one by one. */
const NAMED_LEFT_OUT = 5;
