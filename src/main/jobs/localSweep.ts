/**
 * A sweep run on this machine: each cell of the grid trained by its own `headway train` (or
 * `headway resume`) child process, a fixed number at a time. Children, not worker threads:
 * each run is a process exactly as if typed by hand (its own backend, threads and Ctrl-C
 * handling), and a crash takes down one run, never the sweep.
 *
 * What each cell needs comes from the record (planSweep): a finished or failed run is kept,
 * a stopped or interrupted one is resumed from its checkpoint, a missing one is trained. The
 * run id of a new run is recorded in the sweep as soon as the child announces it, so a sweep
 * killed mid-run still knows which run to resume.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunStatus } from '../../shared/runs.ts';
import type { SweepCell, SweepFile, SweepRecord } from '../../shared/sweep.ts';
import type { RunStore } from '../store/index.ts';

const HEADWAY_BIN = fileURLToPath(new URL('../../../bin/headway.mjs', import.meta.url));

/** keep: finished or failed (delete the run to train it again); busy: training in another live process. */
export type CellAction = 'keep' | 'resume' | 'train' | 'busy';

export interface CellPlan {
  cell: SweepCell;
  runId: number | null;
  action: CellAction;
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
    if (run.status === 'finished' || run.status === 'failed') return { cell, runId: run.id, action: 'keep' };
    // The store marked runs of dead writers interrupted when it was opened: 'running' is a live process.
    if (run.status === 'running') return { cell, runId: run.id, action: 'busy' };
    return { cell, runId: run.id, action: 'resume' };
  });
}

export interface LocalSweepOptions {
  store: RunStore;
  sweep: SweepFile;
  sweepId: number;
  /** Database file the children write (the store's). */
  db: string;
  parallel: number;
  threads: number;
}

/** The arguments of `headway train` for a cell. */
function trainArgs(sweep: SweepFile, cell: SweepCell, threads: number): string[] {
  const budget = sweep.envSteps !== undefined ? ['--env-steps', String(sweep.envSteps)] : sweep.iterations !== undefined ? ['--iterations', String(sweep.iterations)] : [];
  return [
    'train',
    ...['--scenario', cell.scenario, '--algo', cell.learner, '--preset', cell.preset, '--seed', String(cell.seed)],
    ...Object.entries(sweep.set).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
    ...Object.entries(sweep.param).flatMap(([key, value]) => ['--param', `${key}=${value}`]),
    ...budget,
    ...['--name', `${sweep.name}: ${cell.key}`],
    ...sweep.tags.flatMap((tag) => ['--tag', tag]),
    ...['--threads', String(threads)],
  ];
}

/** `run 12: ippo on ring, backend ...`, the first line `headway train` writes to stderr once its run exists. */
const RUN_STARTED = /^run (\d+): /m;

export class LocalSweep {
  readonly cells: CellState[];
  private readonly children = new Map<CellState, ChildProcess>();
  private stopping = false;

  constructor(
    private readonly options: LocalSweepOptions,
    plans: readonly CellPlan[],
  ) {
    this.cells = plans.map((plan) => {
      const run = plan.runId === null ? null : options.store.getRun(plan.runId);
      return { ...plan, status: run?.status ?? 'pending', lastEvalReturn: run?.lastEvalReturn ?? null, message: run?.statusMessage ?? null };
    });
  }

  /** The cells whose child is training now. */
  get running(): CellState[] {
    return [...this.children.keys()];
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

  /** Trains every cell that needs it, `parallel` at a time; resolves when all have ended (or the sweep was stopped). */
  async run(): Promise<CellState[]> {
    const queue = this.cells.filter((cell) => cell.action === 'train' || cell.action === 'resume');
    await new Promise<void>((resolve) => {
      const next = () => {
        while (!this.stopping && queue.length > 0 && this.children.size < this.options.parallel) this.start(queue.shift()!, next);
        if (this.children.size === 0) resolve();
      };
      next();
    });
    return this.cells;
  }

  private start(cell: CellState, onExit: () => void): void {
    const { store, sweep, sweepId, db, threads } = this.options;
    const args = cell.action === 'resume' ? ['resume', String(cell.runId)] : trainArgs(sweep, cell.cell, threads);
    // detached: a terminal's Ctrl-C reaches the sweep alone, which forwards exactly one SIGINT per press (stop()).
    const child = spawn(process.execPath, [HEADWAY_BIN, ...args, '--json', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.children.set(cell, child);
    cell.status = 'running';
    cell.message = null;
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const started = cell.runId === null ? RUN_STARTED.exec(stderr) : null;
      if (started) {
        cell.runId = Number(started[1]);
        store.setSweepRun(sweepId, cell.cell.key, cell.runId);
      }
    });
    // A child that cannot start at all ends with 'close' too; its reason is its last words.
    child.on('error', (error) => (stderr += `\n${error.message}`));
    child.on('close', () => {
      this.children.delete(cell);
      this.settle(cell, stdout, stderr);
      onExit();
    });
  }

  /** A child has ended: its result line, else what the store says of its run, else its last words. */
  private settle(cell: CellState, stdout: string, stderr: string): void {
    const { store } = this.options;
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    const result = lastLine.startsWith('{') ? (JSON.parse(lastLine) as { runId: number; status: RunStatus; lastEvalReturn: number | null }) : null;
    // A child that died mid-run left its run 'running': this marks it interrupted.
    store.markInterruptedRuns();
    const run = cell.runId === null ? null : store.getRun(cell.runId);
    // A child stopped before it had created its run has started nothing.
    cell.status = result?.status ?? run?.status ?? (this.stopping ? 'pending' : 'failed');
    cell.lastEvalReturn = result?.lastEvalReturn ?? run?.lastEvalReturn ?? null;
    const lastWords = stderr.trim().split('\n').at(-1)?.replace(/^headway: /, '') ?? null;
    cell.message = cell.status === 'finished' ? null : (run?.statusMessage ?? lastWords);
  }
}
