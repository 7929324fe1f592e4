/**
 * A worker of sweeps across machines (`headway worker --queue URL`): takes run jobs from the
 * queue, trains each in a `headway train` child process (runProcess.ts) into this machine's
 * database, and answers with the run as a bundle that its coordinator imports.
 *
 * A job, in the order it runs:
 * 1. refuse it (for good) when the coordinator runs another Headway version;
 * 2. where the job has a snapshot (a worker that died had trained it this far, or the
 *    coordinator sent a local run to continue), import it and resume it; else train anew;
 * 3. heartbeat while it trains: the run's progress on the job, and after every new
 *    checkpoint a snapshot bundle to the job's snapshot key;
 * 4. when the run has ended (finished, or failed by the learner), send its bundle under a key
 *    of this attempt and return the key; when this worker is stopped (Ctrl-C), send the
 *    stopped run's snapshot and put the job back in the queue for any worker; when the child
 *    died, fail the attempt (BullMQ retries it, from the snapshot).
 *
 * A worker killed outright holds its job's lock no longer; BullMQ's stalled-job check (run
 * by every other worker) then hands the job to another worker, which resumes it from the last
 * snapshot. The child of a killed worker stops by itself (its stdin closes).
 */
import { Queue, Worker, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { isRunDone } from '../../shared/runs.ts';
import { runFraction } from './budget.ts';
import { startRunProcess, trainArgs, type RunProcess } from './runProcess.ts';
import type { RunStore } from '../store/index.ts';
import { bullConnection, incompatibility, RUNS_QUEUE, sendRunBundle, withBundle, type RunJobData, type RunJobProgress, type RunJobResult } from './sweepQueue.ts';

export interface SweepWorkerOptions {
  url: string;
  /** Keys (bundles) on the queue's Redis. */
  redis: Redis;
  /** This machine's database, where runs are trained. */
  store: RunStore;
  /** Runs trained at once. */
  concurrency: number;
  /** How long a job stays this worker's without a lock renewal before another worker may take it over. */
  lockDurationMs: number;
  /** How often a running job reports its progress and checks for a new checkpoint to send. */
  heartbeatMs: number;
  /** Stop once nothing was trained and the queue held no job for this long; null: never. */
  idleExitMs: number | null;
  /** One line per event, for the worker's log. */
  log: (line: string) => void;
}

/** This worker in messages and in the coordinator's display. */
const WORKER_NAME = `${hostname()}:${process.pid}`;

export class SweepWorker {
  private readonly worker: Worker<RunJobData, RunJobResult>;
  private readonly running = new Set<RunProcess>();
  private stopping = false;
  private markClosed!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(private readonly options: SweepWorkerOptions) {
    this.worker = new Worker<RunJobData, RunJobResult>(RUNS_QUEUE, (job, token) => this.process(job, token), {
      connection: bullConnection(options.url),
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      // A job whose workers die twice fails for good, with BullMQ's reason.
      maxStalledCount: 2,
    });
    this.worker.on('error', (error) => options.log(`queue: ${error.message}`));
    this.worker.on('failed', (job, error) => job && options.log(`${job.data.cell.key}: attempt ${job.attemptsMade} failed: ${error.message}`));
    if (options.idleExitMs !== null) this.watchIdle(options.idleExitMs);
  }

  /** Stops the worker once it has trained nothing and the queue has held no job for `idleMs`. */
  private watchIdle(idleMs: number): void {
    const queue = new Queue(RUNS_QUEUE, { connection: bullConnection(this.options.url) });
    queue.on('error', () => undefined);
    let idleSince = Date.now();
    const timer = setInterval(() => {
      void queue
        .getJobCounts('waiting', 'active', 'delayed', 'prioritized')
        .then((counts) => {
          const queued = Object.values(counts).reduce((sum, n) => sum + n, 0);
          if (this.running.size > 0 || queued > 0) idleSince = Date.now();
          else if (Date.now() - idleSince >= idleMs && !this.stopping) {
            this.options.log(`no job for ${Math.round(idleMs / 1000)} s; stopping`);
            void this.stop();
          }
        })
        .catch(() => undefined);
    }, Math.min(idleMs, 1000));
    void this.closedPromise.then(() => {
      clearInterval(timer);
      return queue.close();
    });
  }

  /** Stops taking jobs; each running run stops after its iteration and goes back to the queue as a snapshot. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const run of this.running) run.child.kill('SIGINT');
    await this.worker.close();
    this.markClosed();
  }

  /** Resolves once the worker has stopped (stop()). */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  private async process(job: Job<RunJobData, RunJobResult>, token: string | undefined): Promise<RunJobResult> {
    const { store, redis, log } = this.options;
    const data = job.data;
    const refusal = incompatibility(data);
    if (refusal !== null) throw new UnrecoverableError(refusal);
    const resumed = await withBundle(redis, data.snapshotKey, (file) => store.importBundle(file).runs[0]!.to);
    const args = resumed === null ? trainArgs(data.sweep, data.cell, data.threads) : ['resume', String(resumed)];
    log(`${data.cell.key}: ${resumed === null ? 'training' : `resuming its snapshot as run ${resumed}`} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    let runId = resumed;
    const run = startRunProcess(args, store.file, { detached: true, onRunId: (id) => (runId = id) });
    this.running.add(run);
    let sentCheckpoint: number | null = null;
    const heartbeat = async () => {
      if (runId === null) return;
      const detail = store.getRun(runId);
      if (!detail) return;
      const progress: RunJobProgress = { worker: WORKER_NAME, runId, iteration: detail.iterations, fraction: runFraction(detail) };
      await job.updateProgress(progress);
      const checkpoint = store.latestCheckpoint(runId);
      if (checkpoint !== null && checkpoint.id !== sentCheckpoint) {
        await sendRunBundle(store, redis, runId, data.snapshotKey, true);
        sentCheckpoint = checkpoint.id;
      }
    };
    let beating = Promise.resolve();
    const timer = setInterval(() => (beating = beating.then(heartbeat).catch((error: Error) => log(`${data.cell.key}: heartbeat: ${error.message}`))), this.options.heartbeatMs);
    try {
      const end = await run.ended;
      clearInterval(timer);
      await beating;
      store.markInterruptedRuns();
      const detail = runId === null ? null : store.getRun(runId);
      if (detail && isRunDone(detail.status)) {
        const resultKey = `${data.resultPrefix}${job.attemptsMade}-${WORKER_NAME}`;
        await sendRunBundle(store, redis, detail.id, resultKey, false);
        log(`${data.cell.key}: run ${detail.id} ${detail.status}; sent to the coordinator`);
        return { resultKey, runId: detail.id, status: detail.status, lastEvalReturn: detail.lastEvalReturn, worker: WORKER_NAME };
      }
      if (detail) await sendRunBundle(store, redis, detail.id, data.snapshotKey, false);
      if (this.stopping && token !== undefined) {
        log(`${data.cell.key}: stopped; back in the queue${detail ? ` from run ${detail.id}'s last checkpoint` : ''}`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw new Error(`the training process ended without finishing the run${end.lastWords ? `: ${end.lastWords}` : ''}`);
    } finally {
      clearInterval(timer);
      this.running.delete(run);
    }
  }
}
