/**
 * A training job inside its worker thread: opens the run store (HEADWAY_DB, else the
 * platform's default database), trains with startTraining and turns its hooks into worker
 * messages: the run id and backend once the run exists, then per iteration the progress and
 * the key metrics. Stop is honoured between iterations (the iteration in flight finishes and
 * the run is stored as stopped, resumable with `headway resume`).
 */
import type { TrainConfig } from '../../shared/api.ts';
import { defaultDatabasePath, RunStore } from '../store/index.ts';
import type { FromWorker } from './protocol.ts';
import { startTraining } from './trainingRun.ts';

/** Per-agent series stay in the run store; the live view gets the summaries. */
const PER_AGENT = /\/agent\d+$/;

export async function runTrainingJob(config: TrainConfig, post: (message: FromWorker) => void, shouldStop: () => boolean, database: string = defaultDatabasePath()): Promise<void> {
  const store = RunStore.open(database);
  try {
    const outcome = await startTraining(
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
        // The job already runs in its own worker thread; updates run in it too.
        threads: 1,
      },
      {
        onStart: (run, backend) => post({ type: 'training', runId: run.id, backend }),
        onProgress: (progress) => {
          post({ type: 'progress', iteration: progress.iteration, envSteps: progress.envSteps });
          const values: Record<string, number> = { envSteps: progress.envSteps };
          for (const [key, value] of Object.entries(progress.metrics)) {
            // Non-finite values would not survive JSON; an absent key means "no value".
            if (!PER_AGENT.test(key) && Number.isFinite(value)) values[key] = value;
          }
          post({ type: 'metrics', scope: 'iteration', index: progress.iteration, values });
        },
        shouldStop,
      },
    );
    if (outcome.status === 'failed') post({ type: 'error', message: outcome.message ?? 'training failed' });
    else post({ type: 'state', status: outcome.status, episode: 0, step: 0, speed: 1 });
  } finally {
    store.close();
  }
}
