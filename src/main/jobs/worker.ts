/**
 * Entry of a job's worker thread: runs the job (a live simulation or a training run) off the
 * main and UI threads, relaying its events to the JobRunner and taking commands from it.
 * Built as its own entry for the Electron app (out/main/job-worker.js); from source it is
 * started through worker.mjs, which registers the TypeScript loader first.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { parsePolicy, type ForkRequest, type SimulateConfig } from '../../shared/api.ts';
import { RunStore } from '../store/index.ts';
import { defaultDatabasePath } from '../store/paths.ts';
import { loadForkSource } from './fork.ts';
import type { RunPolicy } from './runPolicy.ts';
import type { FromWorker, JobWorkerData, ToWorker } from './protocol.ts';
import type { RunJobConfig } from './trainingJob.ts';
import { SimulationLoop, type ForkStart } from './simulationLoop.ts';

if (parentPort === null) throw new Error('the job worker runs only as a worker thread');
const port = parentPort;

const { jobId, config } = workerData as JobWorkerData;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let timer: ReturnType<typeof setTimeout> | undefined;
let loop: SimulationLoop;
/** A recorded fork's history, open for writing while the simulation runs. */
let forkStore: RunStore | null = null;

function schedule(): void {
  clearTimeout(timer);
  timer = undefined;
  let wait: number | null;
  try {
    wait = loop.tick();
  } catch (error) {
    fail(error);
    return;
  }
  if (loop.closed) {
    closeForkStore();
    port.close();
    return;
  }
  if (wait !== null) timer = setTimeout(schedule, wait);
}

function closeForkStore(): void {
  forkStore?.close();
  forkStore = null;
}

function fail(error: unknown): void {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  closeForkStore();
  port.close();
}

async function simulate(config: SimulateConfig): Promise<void> {
  const policy = parsePolicy(config.policy);
  const fork = config.fork ? openFork(config.fork) : null;
  forkStore = fork?.store ?? null;
  // A trained run's policy acts on the loop's own environment, restored before the first step.
  let restored: RunPolicy | null = null;
  loop = new SimulationLoop(jobId, config, post, undefined, policy?.kind === 'run' ? (t, out) => restored!.policy(t, out) : null, fork);
  if (policy?.kind === 'run') {
    const { restoreRunPolicy } = await import('./runPolicy.ts');
    restored = await restoreRunPolicy(policy, loop.env, defaultDatabasePath()).catch((error: Error) => {
      throw new Error(`policy ${config.policy}: ${error.message}`);
    });
  }
  loop.start();
  port.on('message', (message: ToWorker) => {
    if (message.type !== 'command') return;
    try {
      loop.command(message.command);
    } catch (error) {
      fail(error);
      return;
    }
    schedule();
  });
  schedule();
}

/** A fork's parent episode read from the history, and the history opened for writing when the fork is recorded. */
function openFork(request: ForkRequest): ForkStart {
  const store = RunStore.open(defaultDatabasePath(), { readOnly: !request.record });
  try {
    const source = loadForkSource(store, request);
    if (request.record) return { source, store };
    store.close();
    return { source, store: null };
  } catch (error) {
    store.close();
    throw error;
  }
}

/**
 * Training, resuming, evaluating: iterations keep this thread busy, so Stop is read
 * synchronously off the port between iterations (receiveMessageOnPort) as well as by the
 * message listener.
 */
function runStoreJob(config: RunJobConfig): void {
  let stop = false;
  let held = false;
  const take = (message: ToWorker) => {
    if (message.type !== 'command') return;
    const { command } = message;
    if (command.type === 'stop') stop = true;
    else if (command.type === 'pause' && command.holdTraining) held = true;
    else if (command.type === 'resume') held = false;
  };
  port.on('message', take);
  const shouldStop = () => {
    for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) take(next.message as ToWorker);
    return stop;
  };
  post({ type: 'state', status: 'running', episode: 0, step: 0, speed: 1 });
  // Loaded only for training: the learners pull in the tensor backend.
  import('./trainingJob.ts')
    .then((job) =>
      job.runStoreJob(config, post, {
        shouldStop,
        waitWhileHeld: async () => {
          if (!held || stop) return;
          // Reported once training really waits (the iteration in flight has finished).
          post({ type: 'held', held: true });
          // The message listener releases the hold (or stops the job) while this waits.
          while (held && !stop) await new Promise((resolve) => setTimeout(resolve, 50));
          post({ type: 'held', held: false });
        },
      }),
    )
    .then(() => port.close(), fail);
}

try {
  if (config.kind === 'simulate') simulate(config).catch(fail);
  else runStoreJob(config);
} catch (error) {
  fail(error);
}
