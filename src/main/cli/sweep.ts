/**
 * `headway sweep FILE`: trains the grid of a sweep file on this machine, N runs at a time
 * (jobs/localSweep.ts), or with `--queue redis://HOST:PORT` on the workers of a queue
 * (jobs/queueSweep.ts, `headway worker`), with one progress display for the sweep and one bar
 * per running run. The sweep is recorded by name in the database; running the file again (or
 * `--resume ID`) keeps the finished runs, resumes the stopped and interrupted ones and starts
 * the missing; on a queue it also collects the runs an earlier coordinator had queued.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sweepCells, sweepRunSettings, validateSweep, type SweepFile } from '../../shared/sweep.ts';
import { LocalSweep, planSweep, type CellProgress, type CellState, type SweepConcurrency } from '../jobs/localSweep.ts';
import { QueueSweep } from '../jobs/queueSweep.ts';
import { connectQueue, parseQueueUrl, QueueError } from '../jobs/sweepQueue.ts';
import type { RunStore } from '../store/index.ts';
import { asUsage, parseIntegerOption, UsageError } from './errors.ts';
import { dbOption, withStore } from './runs.ts';

const print = (text: string) => process.stdout.write(`${text}\n`);

export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('train a grid of runs (scenarios x learners x seeds x presets) from a sweep file, N at a time; run it again to continue it')
    .argument('[FILE]', 'sweep file (JSON, or YAML ending .yaml/.yml; fields in the README)')
    .option('--resume <SWEEP_ID>', 'continue a recorded sweep with the file it was run with (instead of FILE)')
    .option('--parallel <n>', 'runs trained at once on this machine (default: as many as the cores hold, a run counting --threads, or 1 for learners that train on one thread)')
    .option('--queue <url>', 'train on the workers of this Redis (redis://HOST:PORT) instead of here; see headway worker')
    .option('--threads <n>', 'update threads of each run', '1')
    .option('--json', 'print the summary as JSON: {sweepId, name, cells: [{cell, runId, status, lastEvalReturn, message}]}')
    .addOption(dbOption())
    .action(async (file: string | undefined, options) => {
      if ((file === undefined) === (options.resume === undefined)) throw new UsageError('sweep needs exactly one of FILE or --resume SWEEP_ID');
      const threads = parseIntegerOption('--threads', options.threads, 1, 64);
      if (options.queue !== undefined && options.parallel !== undefined) throw new UsageError('--parallel is for a sweep on this machine; with --queue, each worker sets its own --concurrency');
      const concurrency: SweepConcurrency = options.parallel === undefined ? { cores: availableParallelism() } : { runs: parseIntegerOption('--parallel', options.parallel, 1, 256) };
      const queueUrl = options.queue === undefined ? null : asUsage([QueueError], () => parseQueueUrl(options.queue));
      // A bad file is refused before the database is opened (or created), and before Redis is reached.
      const fromFile = file === undefined ? null : readSweepFile(file);
      const resumeId = options.resume === undefined ? null : parseIntegerOption('--resume', options.resume, 1);
      const redis = queueUrl === null ? null : await asUsage([QueueError], () => connectQueue(queueUrl));
      try {
        await withStore(options.db, async (store) => {
          const { sweep, sweepId } = resumeId !== null ? resumeRecorded(store, resumeId) : record(store, file!, fromFile!);
          const plans = planSweep(store, store.getSweep(sweepId)!, sweepCells(sweep));
          const runner =
            queueUrl === null
              ? new LocalSweep({ store, sweep, sweepId, db: store.file, concurrency, threads }, plans)
              : asUsage([QueueError], () => new QueueSweep({ store, sweep, sweepId, url: queueUrl, redis: redis!, threads, pollMs: QUEUE_POLL_MS }, plans));
          const cells = await runWithDisplay(runner, queueUrl !== null);
          printSummary(sweepId, sweep.name, cells, options.json === true);
          const failed = cells.filter((c) => c.status === 'failed').length;
          const unfinished = cells.filter((c) => c.status !== 'finished' && c.status !== 'failed').length;
          if (failed + unfinished > 0) {
            throw new Error(`sweep ${sweepId}: ${failed} run(s) failed, ${unfinished} not finished${unfinished > 0 ? ' (run the sweep again to continue them)' : ''}`);
          }
        });
      } finally {
        redis?.disconnect();
      }
    });
}

/** How often a queued sweep reads its jobs. */
const QUEUE_POLL_MS = 1000;


function readSweepFile(file: string): SweepFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseSweep(file, text, ['.yaml', '.yml'].includes(extname(file).toLowerCase()) ? 'yaml' : 'json');
}

/** Records a checked sweep file: a new sweep, or the one of its name. */
function record(store: RunStore, file: string, sweep: SweepFile): { sweep: SweepFile; sweepId: number } {
  const existing = store.findSweep(sweep.name);
  if (existing && sweepRunSettings(parseSweep(`sweep ${existing.id}`, existing.file)) !== sweepRunSettings(sweep)) {
    throw new UsageError(`${file}: sweep ${existing.id} "${sweep.name}" was run with other set, param or budget; give this grid another name`);
  }
  // Stored as parsed (defaults filled in), so --resume runs exactly this grid.
  const recorded = store.openSweep(sweep.name, JSON.stringify(sweep), sweepCells(sweep).map((c) => c.key));
  return { sweep, sweepId: recorded.id };
}

function resumeRecorded(store: RunStore, sweepId: number): { sweep: SweepFile; sweepId: number } {
  const recorded = store.getSweep(sweepId);
  if (!recorded) throw new UsageError(`--resume ${sweepId}: no such sweep in this database`);
  return { sweep: parseSweep(`sweep ${sweepId}`, recorded.file), sweepId };
}

/** JSON (or YAML) text to a checked sweep; every problem in one usage error. */
function parseSweep(source: string, text: string, format: 'json' | 'yaml' = 'json'): SweepFile {
  let input: unknown;
  try {
    input = format === 'yaml' ? parseYaml(text, { prettyErrors: true }) : JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source}: not valid ${format === 'yaml' ? 'YAML' : 'JSON'} (${(error as Error).message.split('\n')[0]})`);
  }
  const checked = validateSweep(input);
  if (!checked.ok) throw new UsageError(`${source}: ${checked.errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; ')}`);
  return checked.sweep;
}

/** How often the display reads the running runs' progress from the store. */
const DISPLAY_INTERVAL_MS = 500;

/** A sweep on this machine or on a queue, as the display sees it. */
interface SweepRunner {
  readonly cells: CellState[];
  /** The cells training now. */
  readonly active: CellState[];
  progressOf(cell: CellState): CellProgress;
  run(): Promise<CellState[]>;
  stop(): void;
}

/**
 * Runs the sweep under one display on stderr: bars on a terminal, else a line per run that
 * ends. Ctrl-C stops a
 * local sweep's children cleanly (a second Ctrl-C aborts them); on a queue it stops watching,
 * and the runs go on on the workers.
 */
async function runWithDisplay(runner: SweepRunner, queued: boolean): Promise<CellState[]> {
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (queued) process.stderr.write("\nstopped watching; the queued runs go on on the workers (run the sweep again to collect them)\n");
    else process.stderr.write(interrupts === 1 ? "\nstopping the sweep's runs after their current iteration (Ctrl-C again to abort them)...\n" : '\naborting the runs...\n');
    runner.stop();
  };
  process.on('SIGINT', onSigint);
  const toRun = runner.cells.filter((c) => c.action === 'train' || c.action === 'resume');
  // Bars on a terminal; elsewhere (a log file, CI) one line per run that ends.
  const display = process.stderr.isTTY ? barDisplay(runner, toRun) : lineDisplay(toRun);
  display.refresh();
  const timer = setInterval(() => display.refresh(), DISPLAY_INTERVAL_MS);
  try {
    return await runner.run();
  } finally {
    clearInterval(timer);
    display.refresh();
    display.stop();
    process.off('SIGINT', onSigint);
  }
}

/** The sweep's bar (runs done, running, failed, ETA) and one bar per running run. */
function barDisplay(runner: SweepRunner, toRun: readonly CellState[]) {
  const bars = new MultiBar({ stream: process.stderr, hideCursor: true, format: '{label} |{bar}| {value}/{total} {detail}' });
  const sweepBar = bars.create(toRun.length, 0, { label: 'sweep', detail: '' }, { format: '{label} |{bar}| {value}/{total} runs done | {running} running | {failed} failed | ETA {eta_formatted}' });
  const runBars = new Map<CellState, SingleBar>();
  return {
    refresh() {
      const active = runner.active;
      for (const [cell, bar] of runBars) {
        if (active.includes(cell)) continue;
        bars.remove(bar);
        runBars.delete(cell);
      }
      for (const cell of active) {
        const { fraction, detail } = runner.progressOf(cell);
        let bar = runBars.get(cell);
        if (!bar) runBars.set(cell, (bar = bars.create(100, 0, { label: cell.cell.key, detail: '' }, { format: '{label} |{bar}| {percentage}% {detail}' })));
        bar.update(Math.round(fraction * 100), { label: cell.cell.key, detail });
      }
      const ended = toRun.filter((c) => c.status !== 'pending' && c.status !== 'running');
      sweepBar.update(ended.length, { label: 'sweep', running: active.length, failed: ended.filter((c) => c.status === 'failed').length });
    },
    stop: () => bars.stop(),
  };
}

/** One line on stderr per run that ends: `sweep: 3/8 runs done (ring/ippo/1/default finished, run 3)`. */
function lineDisplay(toRun: readonly CellState[]) {
  const reported = new Set<CellState>();
  return {
    refresh() {
      const ended = toRun.filter((c) => c.status !== 'pending' && c.status !== 'running');
      for (const cell of ended.filter((c) => !reported.has(c))) {
        reported.add(cell);
        process.stderr.write(`sweep: ${reported.size}/${toRun.length} runs done (${cell.cell.key} ${cell.status}${cell.runId === null ? '' : `, run ${cell.runId}`})\n`);
      }
    },
    stop: () => undefined,
  };
}

function printSummary(sweepId: number, name: string, cells: readonly CellState[], json: boolean): void {
  const rows = cells.map((c) => ({ cell: c.cell.key, runId: c.runId, status: c.status, lastEvalReturn: c.lastEvalReturn, message: c.message }));
  if (json) {
    print(JSON.stringify({ sweepId, name, cells: rows }));
    return;
  }
  print(`sweep ${sweepId} "${name}": ${rows.filter((r) => r.status === 'finished').length} of ${rows.length} runs finished`);
  const width = Math.max(4, ...rows.map((r) => r.cell.length));
  print(`${'cell'.padEnd(width)}  run   status       eval return`);
  for (const r of rows) {
    const ret = r.lastEvalReturn === null ? '-' : r.lastEvalReturn.toFixed(1);
    print(`${r.cell.padEnd(width)}  ${String(r.runId ?? '-').padEnd(5)} ${r.status.padEnd(12)} ${ret.padStart(11)}${r.message ? `  ${r.message}` : ''}`);
  }
}
