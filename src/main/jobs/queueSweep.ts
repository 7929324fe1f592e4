/**
 * A sweep across machines (`headway sweep FILE --queue URL`): this process, the coordinator,
 * puts the grid's runs on the queue as one BullMQ flow (the sweep as parent job, a child job per
 * run), then collects each run as it ends: its bundle is imported into this database and
 * recorded as the cell's run, in one transaction (RunStore.importSweepRun), so a run lands
 * exactly once however often its result is seen. Workers (queueWorker.ts) do the training.
 *
 * What each cell needs comes from the record, as for a local sweep (planSweep): finished and
 * failed runs are kept; a stopped or interrupted local run travels as a snapshot for a worker
 * to resume; a missing one is trained. Cells whose job is still on the queue from an earlier
 * coordinator (Ctrl-C, a crash) are not queued again: their jobs are watched and collected.
 * A cell whose job failed for good is reported and queued anew by the next run of the sweep.
 */
import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isRunDone } from '../../shared/runs.ts';
import type { SweepFile } from '../../shared/sweep.ts';
import type { RunStore } from '../store/index.ts';
import { SCHEMA_VERSION } from '../store/schema.ts';
import { APP_VERSION } from '../version.ts';
import { cellStates, type CellPlan, type CellProgress, type CellState } from './localSweep.ts';
import { bullConnection, QUEUE_PROTOCOL, QueueError, RUNS_QUEUE, sweepKeys, sweepToken, SWEEPS_QUEUE, sendRunBundle, withBundle, type RunJobData, type RunJobProgress, type RunJobResult } from './sweepQueue.ts';

export interface QueueSweepOptions {
  store: RunStore;
  sweep: SweepFile;
  sweepId: number;
  url: string;
  /** Keys (bundles) on the queue's Redis. */
  redis: Redis;
  /** Update threads of each run. */
  threads: number;
  /** How often the jobs' states are read. */
  pollMs: number;
}

/** A run job's tries before it fails for good (a stalled job counts separately: maxStalledCount). */
const JOB_ATTEMPTS = 3;

export class QueueSweep {
  readonly cells: CellState[];
  /** Where each running cell is, from its worker's heartbeat. */
  private readonly progress = new Map<CellState, RunJobProgress>();
  private readonly runs: Queue<RunJobData, RunJobResult>;
  private readonly flows: FlowProducer;
  /** Completes the parent jobs of sweeps whose runs have all ended (any coordinator may: it only marks the flow done). */
  private readonly parents: Worker;
  /** Names this sweep's jobs and keys on Redis. */
  private readonly token: string;
  private readonly keys: ReturnType<typeof sweepKeys>;
  private readonly running = new Set<CellState>();
  private stopping = false;

  constructor(
    private readonly options: QueueSweepOptions,
    plans: readonly CellPlan[],
  ) {
    const { store, url, sweepId } = options;
    this.cells = cellStates(store, plans);
    const busy = this.cells.find((c) => c.action === 'busy');
    if (busy) throw new QueueError(`${busy.cell.key}: run ${busy.runId} is training on this machine right now; let it end or stop it before queueing the sweep`);
    this.token = sweepToken(store.file, store.getSweep(sweepId)!);
    this.keys = sweepKeys(this.token);
    const connection = bullConnection(url);
    this.runs = new Queue(RUNS_QUEUE, { connection });
    this.flows = new FlowProducer({ connection });
    this.parents = new Worker(SWEEPS_QUEUE, async (job) => ({ runs: Object.keys(await job.getChildrenValues()).length }), { connection });
    // A dropped connection is retried by the clients; the poll loop reports what it cannot read.
    this.runs.on('error', () => undefined);
    this.flows.on('error', () => undefined);
    this.parents.on('error', () => undefined);
  }

  /** The cells whose run is training on a worker now. */
  get active(): CellState[] {
    return [...this.running];
  }

  /** How far a running cell's run is, from its worker's last heartbeat. */
  progressOf(cell: CellState): CellProgress {
    const progress = this.progress.get(cell);
    return progress ? { fraction: progress.fraction, detail: `run ${progress.runId} on ${progress.worker}, iteration ${progress.iteration}` } : { fraction: 0, detail: 'starting on a worker' };
  }

  /** Stops watching: the queued runs go on on the workers, and running the sweep again collects them. */
  stop(): void {
    this.stopping = true;
  }

  /** Queues what needs it, then collects every run as it ends; resolves when all have ended (or the sweep was stopped). */
  async run(): Promise<CellState[]> {
    try {
      const jobIds = await this.enqueue();
      const watched = this.cells.filter((cell) => jobIds.has(cell));
      while (!this.stopping && watched.some((cell) => cell.status === 'pending' || cell.status === 'running')) {
        for (const cell of watched) await this.check(cell, jobIds.get(cell)!);
        if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, this.options.pollMs));
      }
      return this.cells;
    } finally {
      await Promise.all([this.runs.close(), this.flows.close(), this.parents.close()]);
    }
  }

  /**
   * The job of every cell to train: the one an earlier coordinator queued where it is still
   * there and not failed, else a new one; the new ones go on the queue as one flow.
   */
  private async enqueue(): Promise<Map<CellState, string>> {
    const { redis, sweep, threads, store } = this.options;
    const jobIds = new Map<CellState, string>();
    const queued = await redis.hgetall(this.keys.jobs);
    const fresh: { cell: CellState; index: number }[] = [];
    for (const [index, cell] of this.cells.entries()) {
      if (cell.action === 'keep') continue;
      const earlier = queued[cell.cell.key];
      const state = earlier === undefined ? null : await this.runs.getJobState(earlier);
      if (earlier !== undefined && state !== 'failed' && state !== 'unknown') jobIds.set(cell, earlier);
      else fresh.push({ cell, index });
    }
    if (fresh.length === 0) return jobIds;
    const flow = await redis.incr(this.keys.flows);
    for (const { cell, index } of fresh) {
      // A local run to continue travels as the job's snapshot; otherwise an old snapshot must not be resumed.
      if (cell.action === 'resume') await sendRunBundle(store, redis, cell.runId!, this.keys.snapshot(index), false);
      else await redis.del(this.keys.snapshot(index));
      jobIds.set(cell, `${this.token}-${flow}-${index}`);
    }
    const data = (cell: CellState, index: number): RunJobData => ({
      protocol: QUEUE_PROTOCOL,
      headway: APP_VERSION,
      schema: SCHEMA_VERSION,
      sweep,
      cell: cell.cell,
      threads,
      snapshotKey: this.keys.snapshot(index),
      resultPrefix: this.keys.resultPrefix(index),
    });
    await this.flows.add({
      name: sweep.name,
      queueName: SWEEPS_QUEUE,
      data: { sweep: sweep.name, database: store.file },
      opts: { jobId: `${this.token}-${flow}` },
      children: fresh.map(({ cell, index }) => ({
        name: cell.cell.key,
        queueName: RUNS_QUEUE,
        data: data(cell, index),
        opts: { jobId: jobIds.get(cell)!, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 2000 }, ignoreDependencyOnFailure: true },
      })),
    });
    await redis.hset(this.keys.jobs, Object.fromEntries(fresh.map(({ cell }) => [cell.cell.key, jobIds.get(cell)!])));
    return jobIds;
  }

  /** Reads a cell's job: where it runs, or its result to import, or why it failed. */
  private async check(cell: CellState, jobId: string): Promise<void> {
    const job = (await this.runs.getJob(jobId)) as Job<RunJobData, RunJobResult> | undefined;
    if (!job) return this.settle(cell, 'failed', `its job ${jobId} is gone from the queue; run the sweep again to queue it anew`);
    const state = await job.getState();
    if (state === 'completed') return this.collect(cell, job.returnvalue, job.data);
    if (state === 'failed') return this.settle(cell, 'failed', `on the queue: ${job.failedReason} (after ${job.attemptsMade} attempts)`);
    const progress = job.progress as RunJobProgress | number;
    if (state === 'active' && typeof progress === 'object') this.progress.set(cell, progress);
    cell.status = state === 'active' ? 'running' : 'pending';
    if (state === 'active') this.running.add(cell);
    else this.running.delete(cell);
  }

  /** Imports an ended run's bundle as the cell's run (once), then drops its keys from Redis. */
  private async collect(cell: CellState, result: RunJobResult, data: RunJobData): Promise<void> {
    const { store, sweepId, redis } = this.options;
    const landed = await withBundle(redis, result.resultKey, (file) => store.importSweepRun(sweepId, cell.cell.key, file));
    // No bundle: this coordinator (or an earlier one) imported it already, or it is lost.
    const runId = landed?.runId ?? store.getSweep(sweepId)!.cells.find((c) => c.key === cell.cell.key)!.runId;
    const run = runId === null ? null : store.getRun(runId);
    if (!run || !isRunDone(run.status)) {
      return this.settle(cell, 'failed', `its result bundle ${result.resultKey} is gone from Redis; run the sweep again to train it anew`);
    }
    await redis.del(result.resultKey, data.snapshotKey);
    cell.runId = run.id;
    cell.lastEvalReturn = run.lastEvalReturn;
    this.settle(cell, run.status, run.status === 'finished' ? null : run.statusMessage);
  }

  private settle(cell: CellState, status: CellState['status'], message: string | null): void {
    cell.status = status;
    cell.message = message;
    this.running.delete(cell);
    this.progress.delete(cell);
  }
}
