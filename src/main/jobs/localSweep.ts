/**
 * A sweep run on this machine: each cell of the grid trained by its own `headway train` (or
 * `headway resume`) child process (runProcess.ts), a fixed number at a time.
 *
 * What each cell needs comes from the record (planSweep): a finished or failed run is kept,
 * a stopped or interrupted one is resumed from its checkpoint, a missing one is trained. The
 * run id of a new run is recorded in the sweep as soon as the child announces it, so a sweep
 * killed mid-run still knows which run to resume.
 */
import type { ChildProcess } from 'node:child_process';
import { updateThreads } from '../../shared/learners.ts';
import { isRunDone, type RunStatus } from '../../shared/runs.ts';
import type { SweepCell, SweepFile, SweepRecord } from '../../shared/sweep.ts';
import type { RunStore } from '../store/index.ts';
import { runFraction } from './budget.ts';
import { startRunProcess, trainArgs, type RunProcessEnd } from './runProcess.ts';

/** keep: finished or failed (delete the run to train it again); busy: training in another live process. */
export type CellAction = 'keep' | 'resume' | 'train' | 'busy';

export interface CellPlan {
  cell: SweepCell;
  runId: number | null;
  action: CellAction;
}

/** A running cell's progress for the sweep's display. */
export interface CellProgress {
  fraction: number;
  detail: string;
}

export interface CellState extends CellPlan {
  /** 'pending' until its child starts; the run's status once known. */
  status: 'pending' | RunStatus;
  lastEvalReturn: number | null;
  /** Why the run failed, or what its child said last when it ended without a result. */
  message: string | null;
}

/** What each cell of the grid needs, from the runs the sweep record names. */
export function planSweep(store: RunStore, record: SweepRecord, cells: readonly SweepCell[]): CellPlan[] {
  const runOf = new Map(record.cells.map((c) => [c.key, c.runId]));
  return cells.map((cell) => {
    const runId = runOf.get(cell.key) ?? null;
    const run = runId === null ? null : store.getRun(runId);
    if (!run) return { cell, runId: null, action: 'train' };
    if (isRunDone(run.status)) return { cell, runId: run.id, action: 'keep' };
    // The store marked runs of dead writers interrupted when it was opened: 'running' is a live process.
    if (run.status === 'running') return { cell, runId: run.id, action: 'busy' };
    return { cell, runId: run.id, action: 'resume' };
  });
}

/** The cells of a sweep about to run: one to train is pending until it runs; a kept (or busy) one shows its run. */
export function cellStates(store: RunStore, plans: readonly CellPlan[]): CellState[] {
  return plans.map((plan) => {
    const run = plan.runId === null ? null : store.getRun(plan.runId);
    const toTrain = plan.action === 'train' || plan.action === 'resume';
    return { ...plan, status: toTrain ? 'pending' : (run?.status ?? 'pending'), lastEvalReturn: run?.lastEvalReturn ?? null, message: run?.statusMessage ?? null };
  });
}

/**
 * How many cells train at once: exactly `runs`, or as many as `cores` hold, each counting
 * the threads it trains with (`--threads` for learners with update workers, one for the
 * rest), so a grid that mixes them keeps every core busy. At least one always trains.
 */
export type SweepConcurrency = { runs: number } | { cores: number };

/** Whether a cell training on `threads` threads may start beside running cells that train on `running` threads each. */
export function fitsBeside(running: readonly number[], threads: number, concurrency: SweepConcurrency): boolean {
  if (running.length === 0) return true;
  if ('runs' in concurrency) return running.length < concurrency.runs;
  return running.reduce((sum, n) => sum + n, 0) + threads <= concurrency.cores;
}

export interface LocalSweepOptions {
  store: RunStore;
  sweep: SweepFile;
  sweepId: number;
  /** Database file the children write (the store's). */
  db: string;
  concurrency: SweepConcurrency;
  threads: number;
}

export class LocalSweep {
  readonly cells: CellState[];
  private readonly children = new Map<CellState, ChildProcess>();
  private stopping = false;

  constructor(
    private readonly options: LocalSweepOptions,
    plans: readonly CellPlan[],
  ) {
    this.cells = cellStates(options.store, plans);
  }

  /** The cells whose child is training now. */
  get active(): CellState[] {
    return [...this.children.keys()];
  }

  /** How far a running cell's run is, from the store its child writes. */
  progressOf(cell: CellState): CellProgress {
    const run = cell.runId === null ? null : this.options.store.getRun(cell.runId);
    return run ? { fraction: runFraction(run), detail: `run ${run.id}, iteration ${run.iterations}` } : { fraction: 0, detail: 'starting' };
  }

  /**
   * Stops the sweep: no further child starts, and each running child gets SIGINT. Called
   * once, the children finish their iteration and end their runs 'stopped' (resumable);
   * called again, they abort at once (their runs show as interrupted, resumable too).
   */
  stop(): void {
    this.stopping = true;
    for (const child of this.children.values()) child.kill('SIGINT');
  }

  /** Trains every cell that needs it, in the grid's order, as many at a time as the concurrency allows; resolves when all have ended (or the sweep was stopped). */
  async run(): Promise<CellState[]> {
    const queue = this.cells.filter((cell) => cell.action === 'train' || cell.action === 'resume');
    const threadsOf = (cell: CellState) => updateThreads(cell.cell.learner, this.options.threads);
    await new Promise<void>((resolve) => {
      const next = () => {
        while (!this.stopping && queue.length > 0 && fitsBeside(this.active.map(threadsOf), threadsOf(queue[0]), this.options.concurrency)) this.start(queue.shift()!, next);
        if (this.children.size === 0) resolve();
      };
      next();
    });
    return this.cells;
  }

  private start(cell: CellState, onExit: () => void): void {
    const { store, sweep, sweepId, db, threads } = this.options;
    const args = cell.action === 'resume' ? ['resume', String(cell.runId)] : trainArgs(sweep, cell.cell, threads);
    const run = startRunProcess(args, db, {
      detached: true,
      onRunId: (runId) => {
        if (cell.runId !== null) return;
        cell.runId = runId;
        store.setSweepRun(sweepId, cell.cell.key, runId);
      },
    });
    this.children.set(cell, run.child);
    cell.status = 'running';
    cell.message = null;
    void run.ended.then((end) => {
      this.children.delete(cell);
      this.settle(cell, end);
      onExit();
    });
  }

  /** A child has ended: its result line, else what the store says of its run, else its last words. */
  private settle(cell: CellState, { result, lastWords }: RunProcessEnd): void {
    const { store } = this.options;
    // A child that died mid-run left its run 'running': this marks it interrupted.
    store.markInterruptedRuns();
    const run = cell.runId === null ? null : store.getRun(cell.runId);
    // A child stopped before it had created its run has started nothing.
    cell.status = result?.status ?? run?.status ?? (this.stopping ? 'pending' : 'failed');
    cell.lastEvalReturn = result?.lastEvalReturn ?? run?.lastEvalReturn ?? null;
    cell.message = cell.status === 'finished' ? null : (run?.statusMessage ?? lastWords);
  }
}
