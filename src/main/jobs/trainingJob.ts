/**
 * The run-store jobs inside their worker thread: training a new run, resuming a stored one,
 * and evaluating a stored checkpoint. Each opens the run store (HEADWAY_DB, else the
 * platform's default database) and turns the training hooks into worker messages: the run
 * id and backend once the run exists, then per iteration the progress and the key metrics.
 * Stop is honoured between iterations (the iteration in flight finishes and the run is
 * stored as stopped, resumable).
 */
import type { EvaluateConfig, ResumeConfig, TrainConfig } from '../../shared/api.ts';
import { defaultDatabasePath, RunStore } from '../store/index.ts';
import { displayEpisodeSpec } from './frames.ts';
import type { FromWorker } from './protocol.ts';
import { evaluateRun, resumeTraining, startTraining, type TrainingHooks, type TrainingOutcome } from './trainingRun.ts';

/** Per-agent series stay in the run store; the live view gets the summaries. */
const PER_AGENT = /\/agent\d+$/;

export type RunJobConfig = TrainConfig | ResumeConfig | EvaluateConfig;

/** How the worker lets the user stop training, or hold it between iterations. */
export interface TrainingControl {
  shouldStop: () => boolean;
  waitWhileHeld: () => Promise<void>;
}

export async function runStoreJob(config: RunJobConfig, post: (message: FromWorker, transfer?: ArrayBuffer[]) => void, control: TrainingControl, database: string = defaultDatabasePath()): Promise<void> {
  const store = RunStore.open(database);
  try {
    if (config.kind === 'evaluate') {
      await evaluate(store, config, post);
      post({ type: 'state', status: 'finished', episode: 0, step: 0, speed: 1 });
      return;
    }
    const hooks = trainingHooks(store, post, control);
    const outcome = config.kind === 'train' ? await train(store, config, hooks) : await resume(store, config, hooks);
    if (outcome.status === 'failed') post({ type: 'error', message: outcome.message ?? 'training failed' });
    else post({ type: 'state', status: outcome.status, episode: 0, step: 0, speed: 1 });
  } finally {
    store.close();
  }
}

function trainingHooks(store: RunStore, post: (message: FromWorker, transfer?: ArrayBuffer[]) => void, control: TrainingControl): TrainingHooks {
  return {
    onStart: (run, backend, budgetIterations) => post({ type: 'training', runId: run.id, backend, iteration: run.iterations, iterations: budgetIterations }),
    onProgress: (progress) => {
      post({ type: 'progress', iteration: progress.iteration, envSteps: progress.envSteps });
      postEvaluationEpisode(store, progress.run.id, progress.iteration, post);
      const values: Record<string, number> = { envSteps: progress.envSteps };
      for (const [key, value] of Object.entries(progress.metrics)) {
        // Non-finite values would not survive JSON; an absent key means "no value".
        if (!PER_AGENT.test(key) && Number.isFinite(value)) values[key] = value;
      }
      post({ type: 'metrics', scope: 'iteration', index: progress.iteration, values });
    },
    shouldStop: control.shouldStop,
    waitWhileHeld: control.waitWhileHeld,
  };
}

/** Hands the iteration's stored evaluation episode (if it evaluated) to the live view, whole. */
function postEvaluationEpisode(store: RunStore, runId: number, iteration: number, post: (message: FromWorker, transfer?: ArrayBuffer[]) => void): void {
  const info = store.listEpisodes(runId, { kind: 'eval', iteration }).find((episode) => episode.complete);
  if (!info) return;
  const { layout, records } = store.readStepBlock(info.id, 0, info.steps);
  post({ type: 'displayEpisode', episode: displayEpisodeSpec(info, ''), shape: layout.shape, records }, [records.buffer as ArrayBuffer]);
}

function train(store: RunStore, config: TrainConfig, hooks: TrainingHooks): Promise<TrainingOutcome> {
  return startTraining(
    store,
    {
      scenario: config.scenario,
      scenarioParams: config.params,
      learner: config.learner,
      preset: config.preset,
      settings: config.settings,
      seed: config.seed,
      budget: { iterations: config.iterations },
      name: config.name,
      backend: config.backend,
      // The job already runs in its own worker thread; updates run in it too (on webgpu: one device worker).
      threads: 1,
    },
    hooks,
  );
}

function resume(store: RunStore, config: ResumeConfig, hooks: TrainingHooks): Promise<TrainingOutcome> {
  const run = store.getRun(config.runId);
  if (!run) throw new Error(`run ${config.runId} does not exist`);
  if (run.status === 'finished') throw new Error(`run ${config.runId} has finished its budget; nothing to resume`);
  if (run.status === 'running') throw new Error(`run ${config.runId} is being trained right now`);
  return resumeTraining(store, config.runId, hooks);
}

async function evaluate(store: RunStore, config: EvaluateConfig, post: (message: FromWorker) => void): Promise<void> {
  const run = store.getRun(config.runId);
  if (!run) throw new Error(`run ${config.runId} does not exist`);
  post({ type: 'training', runId: run.id, backend: run.backend ?? 'auto', iteration: 0, iterations: config.episodes });
  const result = await evaluateRun(store, config.runId, config.episodes, config.seed, config.checkpoint);
  post({ type: 'progress', iteration: config.episodes, envSteps: 0 });
  const values: Record<string, number> = { return: result.meanReturn, returnStd: result.stdReturn, iteration: result.iteration };
  for (const [key, value] of Object.entries(result.metrics)) if (Number.isFinite(Number(value))) values[key] = Number(value);
  post({ type: 'metrics', scope: 'episode', index: 0, values });
}
