/**
 * A training run against the run store: creates (or resumes) the run record, trains the
 * learner iteration by iteration, and writes each iteration's metrics and checkpoints in one
 * transaction (a kill loses at most the iteration in flight), then its evaluation episodes.
 *
 * - Stop (Ctrl-C, the app's Stop): the iteration in flight finishes, the run is marked
 *   stopped and can be resumed.
 * - Divergence guard: a NaN/Inf in the losses or the weights stops the run as failed with a
 *   clear message; the last good checkpoint stays the latest.
 * - Checkpoints: periodic every `checkpointEvery` iterations (the newest few kept), and
 *   'best' whenever an evaluation beats every earlier one.
 */
import type { CheckpointChoice } from '../../shared/api.ts';
import { LEARNERS, resolveLearnerConfig, updateThreads, type LearnerConfig, type LearnerId, type LearnerPresetId } from '../../shared/learners.ts';
import type { JsonObject, RunDetail } from '../../shared/runs.ts';
import { resolveParams, type ScenarioId } from '../../shared/scenarios.ts';
import { decodeState, encodeState } from '../rl/core/checkpoint.ts';
import { actionParamWidth } from '../rl/core/distributions.ts';
import { evaluatePolicy, type EvaluationRecorder, type EvaluationResult } from '../rl/core/evaluation.ts';
import { communicationWidth } from '../rl/core/trainedPolicy.ts';
import type { IterationMetrics } from '../rl/core/iteration.ts';
import type { Learner } from '../rl/core/learner.ts';
import { createLearner } from '../rl/learners/index.ts';
import { selectBackend, type BackendChoice } from '../rl/nn/backend.ts';
import { createUpdatePool, type UpdatePool } from '../rl/parallel/updatePool.ts';
import type { BatchedEnv } from '../sim/env.ts';
import type { EpisodeWriter, RunStore } from '../store/index.ts';
import { backendChecksPath } from '../store/paths.ts';
import { budgetFraction, type TrainingBudget } from './budget.ts';
import { storedEpisodeSpec } from './frames.ts';
import { APP_VERSION } from '../version.ts';

export interface NewTrainingRun {
  scenario: ScenarioId;
  scenarioParams: Readonly<Record<string, unknown>>;
  learner: LearnerId;
  preset: LearnerPresetId;
  settings: Readonly<Record<string, unknown>>;
  seed: number;
  budget: TrainingBudget;
  name?: string;
  tags?: readonly string[];
  backend?: BackendChoice;
  threads?: number;
}

export interface TrainingProgress {
  run: RunDetail;
  iteration: number;
  envSteps: number;
  /** Fraction of the budget done, 0..1. */
  fraction: number;
  metrics: IterationMetrics;
  lastEvalReturn: number | null;
}

export interface TrainingOutcome {
  runId: number;
  status: 'finished' | 'stopped' | 'failed';
  envSteps: number;
  iterations: number;
  lastEvalReturn: number | null;
  message?: string;
}

export interface TrainingHooks {
  /** The run exists and trains on `backend`, towards `budgetIterations` iterations (null: an env-step budget). */
  onStart?: (run: RunDetail, backend: string, budgetIterations: number | null) => void;
  onProgress?: (progress: TrainingProgress) => void;
  /** Checked between iterations: when it returns true the run stops cleanly. */
  shouldStop?: () => boolean;
  /** Awaited between iterations: training waits while the user holds it (the app's pause with "hold training"). */
  waitWhileHeld?: () => Promise<void>;
}

/** Periodic checkpoints kept per run (the best one is kept besides). */
const KEEP_PERIODIC = 3;

/** What the run record stores besides the learner's hyperparameters, to resume it exactly. */
interface StoredRunConfig {
  learner: LearnerConfig;
  budget: TrainingBudget;
  threads: number;
}

export async function startTraining(store: RunStore, request: NewTrainingRun, hooks: TrainingHooks = {}): Promise<TrainingOutcome> {
  const params = resolveParams(request.scenario, request.scenarioParams);
  const config = resolveLearnerConfig(request.learner, request.scenario, request.preset, request.settings);
  checkBudget(request.budget);
  const threads = request.threads ?? 2;
  const pool = await poolFor(request.learner, threads, request.backend ?? 'auto');
  const backend = backendInUse(request.learner, pool.backend.description);
  try {
    const learner = createLearner({ learner: request.learner, scenario: request.scenario, scenarioParams: params, config, seed: request.seed }, pool);
    const stored: StoredRunConfig = { learner: config, budget: request.budget, threads };
    const run = store.createRun({
      name: request.name,
      scenario: request.scenario,
      params,
      algo: request.learner,
      config: stored as unknown as JsonObject,
      seed: request.seed,
      preset: request.preset,
      // which backend and why: "webgpu on NVIDIA ... (self-check passed ...)"
      backend,
      appVersion: APP_VERSION,
      tags: request.tags,
    });
    hooks.onStart?.(run, backend, request.budget.iterations ?? null);
    return await trainLoop(store, run, learner, request.budget, hooks);
  } finally {
    await pool.close();
  }
}

/** Continues a stopped or interrupted run from its latest checkpoint, to its budget. */
export async function resumeTraining(store: RunStore, runId: number, hooks: TrainingHooks = {}, backendChoice: BackendChoice = 'auto'): Promise<TrainingOutcome> {
  const { run, checkpoint } = store.resumeRun(runId);
  const stored = run.config as unknown as StoredRunConfig;
  const pool = await poolFor(run.algo as LearnerId, stored.threads, backendChoice);
  try {
    const learner = learnerOf(run, pool);
    if (checkpoint) learner.restore(decodeState(checkpoint.data));
    hooks.onStart?.(run, backendInUse(run.algo as LearnerId, pool.backend.description), stored.budget.iterations ?? null);
    return await trainLoop(store, run, learner, stored.budget, hooks);
  } finally {
    await pool.close();
  }
}


/** A run's learner restored from a checkpoint, for acting and evaluating; close() when done. */
export interface RestoredPolicy {
  learner: Learner;
  iteration: number;
  close(): Promise<void>;
}

export async function restorePolicy(store: RunStore, runId: number, which: CheckpointChoice = 'best'): Promise<RestoredPolicy> {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const checkpoint =
    typeof which === 'number'
      ? store.listCheckpoints(runId).some((c) => c.id === which)
        ? store.loadCheckpoint(which)
        : null
      : which === 'best'
        ? (store.loadRunCheckpoint(runId, 'best') ?? store.loadRunCheckpoint(runId, 'latest'))
        : store.loadRunCheckpoint(runId, 'latest');
  if (!checkpoint) throw new Error(typeof which === 'number' ? `run ${runId} has no checkpoint ${which}` : `run ${runId} has no checkpoint yet`);
  // Acting only: no update worker, so a backend the calling thread can read synchronously.
  const acting = await selectBackend('auto', { synchronous: true, checkCache: backendChecksPath() });
  const pool = await createUpdatePool({ threads: 1, backend: acting.backend });
  const learner = learnerOf(run, pool);
  learner.restore(decodeState(checkpoint.data));
  return {
    learner,
    iteration: checkpoint.iteration,
    close: async () => {
      learner.dispose();
      await pool.close();
    },
  };
}

/** Evaluates a checkpoint of a run (default: its best, else its latest) and stores every episode. */
export async function evaluateRun(
  store: RunStore,
  runId: number,
  episodes: number,
  seed: number | undefined,
  checkpoint: CheckpointChoice = 'best',
): Promise<EvaluationResult & { iteration: number }> {
  const policy = await restorePolicy(store, runId, checkpoint);
  try {
    const recorder = new StoreRecorder(store, runId, policy.learner, policy.iteration, episodes);
    return { ...evaluatePolicy(policy.learner, episodes, seed ?? undefined, recorder), iteration: policy.iteration };
  } finally {
    await policy.close();
  }
}

function learnerOf(run: RunDetail, pool: UpdatePool): Learner {
  const stored = run.config as unknown as StoredRunConfig;
  return createLearner(
    { learner: run.algo as LearnerId, scenario: run.scenario as ScenarioId, scenarioParams: run.params, config: stored.learner, seed: run.seed },
    pool,
  );
}

/** The update pool of a run: worker threads only for learners that update through it. */
function poolFor(learner: LearnerId, threads: number, backend: BackendChoice): Promise<UpdatePool> {
  return createUpdatePool({ threads: updateThreads(learner, threads), backend, checkCache: backendChecksPath() });
}

/** What the run records as its backend: the tensor backend, or that the learner uses none. */
function backendInUse(learner: LearnerId, tensorBackend: string): string {
  return LEARNERS[learner].plainJavaScript ? `plain JavaScript (${learner} uses no tensor backend)` : tensorBackend;
}

function checkBudget(budget: TrainingBudget): void {
  if ((budget.iterations === undefined) === (budget.envSteps === undefined)) throw new Error('a training budget needs exactly one of iterations or envSteps');
}

async function trainLoop(store: RunStore, run: RunDetail, learner: Learner, budget: TrainingBudget, hooks: TrainingHooks): Promise<TrainingOutcome> {
  const config = learner.setup.config;
  const evalEvery = config.evalEvery;
  const checkpointEvery = config.checkpointEvery;
  let bestReturn = store.bestCheckpoint(run.id)?.evalReturn ?? -Infinity;
  let lastEvalReturn: number | null = run.lastEvalReturn;
  const started = performance.now() - run.wallTimeS * 1000;
  const outcome = (status: TrainingOutcome['status'], message?: string): TrainingOutcome => {
    store.updateStatus(run.id, status, message ?? null);
    learner.dispose();
    return { runId: run.id, status, envSteps: learner.envSteps, iterations: learner.iteration, lastEvalReturn, message };
  };
  try {
    while (budgetFraction(budget, learner.iteration, learner.envSteps) < 1) {
      // An iteration on this thread never yields to the event loop: let Ctrl-C's handler run.
      await new Promise((resolve) => setImmediate(resolve));
      await hooks.waitWhileHeld?.();
      if (hooks.shouldStop?.()) return outcome('stopped');
      const result = await learner.iterate();
      const diverged = divergence(result.metrics, learner);
      if (diverged) return outcome('failed', `training diverged at iteration ${result.iteration}: ${diverged}; the last good checkpoint is kept`);
      // Evaluation episodes; the first is stored with every step for replay. (Stored before
      // the iteration's record: a kill leaves it unfinished or beyond the last checkpoint,
      // and the store drops such episodes.)
      const evaluation =
        evalEvery > 0 && result.iteration % evalEvery === 0
          ? evaluatePolicy(learner, config.evalEpisodes, undefined, new StoreRecorder(store, run.id, learner, result.iteration, 1))
          : null;
      const values: Record<string, number> = { ...result.metrics };
      if (evaluation) {
        lastEvalReturn = evaluation.meanReturn;
        values['eval/return'] = evaluation.meanReturn;
        values['eval/returnStd'] = evaluation.stdReturn;
        for (const [key, value] of Object.entries(evaluation.metrics)) values[`eval/${key}`] = value;
      }
      const finished = budgetFraction(budget, result.iteration, result.envSteps) >= 1;
      const blob = () => encodeState(learner.state());
      const checkpoints = [];
      if (result.iteration % checkpointEvery === 0 || finished) {
        checkpoints.push({ iteration: result.iteration, envSteps: result.envSteps, kind: 'periodic' as const, data: blob(), evalReturn: evaluation?.meanReturn ?? null, keepPeriodic: KEEP_PERIODIC });
      }
      if (evaluation && evaluation.meanReturn > bestReturn) {
        bestReturn = evaluation.meanReturn;
        checkpoints.push({ iteration: result.iteration, envSteps: result.envSteps, kind: 'best' as const, data: blob(), evalReturn: evaluation.meanReturn });
      }
      store.recordIteration(run.id, { iteration: result.iteration, envSteps: result.envSteps, wallTimeS: (performance.now() - started) / 1000, values, checkpoints });
      hooks.onProgress?.({
        run,
        iteration: result.iteration,
        envSteps: result.envSteps,
        fraction: Math.min(1, budgetFraction(budget, result.iteration, result.envSteps)),
        metrics: values,
        lastEvalReturn,
      });
    }
    return outcome('finished');
  } catch (error) {
    const message = (error as Error).message;
    try {
      return outcome('failed', message);
    } catch {
      // The store itself failed (disk full, read-only): the run shows as interrupted on next open.
      learner.dispose();
      throw error;
    }
  }
}

/** Describes the first non-finite loss or weight, or returns null. */
function divergence(metrics: IterationMetrics, learner: Learner): string | null {
  for (const key of ['loss/actor', 'loss/critic', 'kl']) {
    if (key in metrics && !Number.isFinite(metrics[key])) return `${key} is ${metrics[key]}`;
  }
  return learner.policy.nonFiniteParameter();
}

/** Writes the first `stored` evaluation episodes into the store, frame by frame. */
class StoreRecorder implements EvaluationRecorder {
  private readonly writers = new Map<number, EpisodeWriter>();

  constructor(
    private readonly store: RunStore,
    private readonly runId: number,
    private readonly learner: Learner,
    private readonly iteration: number,
    private readonly stored: number,
  ) {}

  begin(episode: number, seed: number, env: BatchedEnv): void {
    if (episode >= this.stored) return;
    const { policy } = this.learner;
    const storedSpec = storedEpisodeSpec(env, episode, { iteration: this.iteration, kind: 'eval', seed, actionParamDim: actionParamWidth(policy.head), communicationDim: communicationWidth(policy) });
    this.writers.set(episode, this.store.beginEpisode(this.runId, storedSpec));
  }

  step(episode: number, frame: Parameters<EpisodeWriter['append']>[0]): void {
    this.writers.get(episode)?.append(frame);
  }

  end(episode: number, metrics: Parameters<EvaluationRecorder['end']>[1]): void {
    const writer = this.writers.get(episode);
    if (!writer) return;
    const stats: Record<string, number> = {};
    for (const [key, value] of Object.entries(metrics)) stats[key] = Number(value);
    writer.finish(stats);
  }
}
