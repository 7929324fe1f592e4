/**
 * `headway sweep FILE`: trains the grid of a sweep file on this machine, N runs at a time
 * (jobs/localSweep.ts), with one progress display for the sweep and one bar per running run.
 * The sweep is recorded by name in the database; running the file again (or `--resume ID`)
 * keeps the finished runs, resumes the stopped and interrupted ones and starts the missing.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { sweepCells, sweepRunSettings, validateSweep, type SweepFile } from '../../shared/sweep.ts';
import { runFraction } from '../jobs/budget.ts';
import { LocalSweep, planSweep, type CellState } from '../jobs/localSweep.ts';
import type { RunStore } from '../store/index.ts';
import { parseIntegerOption, UsageError } from './errors.ts';
import { dbOption, withStore } from './runs.ts';

const print = (text: string) => process.stdout.write(`${text}\n`);

export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('train a grid of runs (scenarios x learners x seeds x presets) from a sweep file, N at a time; run it again to continue it')
    .argument('[FILE]', 'sweep file (JSON; fields in the README)')
    .option('--resume <SWEEP_ID>', 'continue a recorded sweep with the file it was run with (instead of FILE)')
    .option('--parallel <n>', 'runs trained at once (default: the cores / --threads, at least 1)')
    .option('--threads <n>', 'update threads of each run', '1')
    .option('--json', 'print the summary as JSON: {sweepId, name, cells: [{cell, runId, status, lastEvalReturn, message}]}')
    .addOption(dbOption())
    .action(async (file: string | undefined, options) => {
      if ((file === undefined) === (options.resume === undefined)) throw new UsageError('sweep needs exactly one of FILE or --resume SWEEP_ID');
      const threads = parseIntegerOption('--threads', options.threads, 1, 64);
      const parallel = options.parallel === undefined ? Math.max(1, Math.floor(availableParallelism() / threads)) : parseIntegerOption('--parallel', options.parallel, 1, 256);
      // A bad file is refused before the database is opened (or created).
      const fromFile = file === undefined ? null : readSweepFile(file);
      const resumeId = options.resume === undefined ? null : parseIntegerOption('--resume', options.resume, 1);
      await withStore(options.db, async (store) => {
        const { sweep, sweepId } = resumeId !== null ? resumeRecorded(store, resumeId) : record(store, file!, fromFile!);
        const local = new LocalSweep({ store, sweep, sweepId, db: store.file, parallel, threads }, planSweep(store, store.getSweep(sweepId)!, sweepCells(sweep)));
        const cells = await runWithDisplay(store, local);
        printSummary(sweepId, sweep.name, cells, options.json === true);
        const failed = cells.filter((c) => c.status === 'failed').length;
        const unfinished = cells.filter((c) => c.status !== 'finished' && c.status !== 'failed').length;
        if (failed + unfinished > 0) {
          throw new Error(`sweep ${sweepId}: ${failed} run(s) failed, ${unfinished} not finished${unfinished > 0 ? ' (run the sweep again to continue them)' : ''}`);
        }
      });
    });
}

function readSweepFile(file: string): SweepFile {
  if (['.yaml', '.yml'].includes(extname(file).toLowerCase())) throw new UsageError(`${file}: sweep files are JSON; YAML is not read yet`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseSweep(file, text);
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

/** JSON text to a checked sweep; every problem in one usage error. */
function parseSweep(source: string, text: string): SweepFile {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const checked = validateSweep(input);
  if (!checked.ok) throw new UsageError(`${source}: ${checked.errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; ')}`);
  return checked.sweep;
}

/** How often the display reads the running runs' progress from the store. */
const DISPLAY_INTERVAL_MS = 500;

/**
 * Runs the sweep under one display on stderr (nothing where stderr is not a terminal): the
 * sweep's bar (runs done, running, failed, ETA) and one bar per running run, read from the
 * store, where the children write their iterations. Ctrl-C stops the children cleanly; a
 * second Ctrl-C aborts them.
 */
async function runWithDisplay(store: RunStore, local: LocalSweep): Promise<CellState[]> {
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    process.stderr.write(interrupts === 1 ? "\nstopping the sweep's runs after their current iteration (Ctrl-C again to abort them)...\n" : '\naborting the runs...\n');
    local.stop();
  };
  process.on('SIGINT', onSigint);
  const toRun = local.cells.filter((c) => c.action === 'train' || c.action === 'resume');
  const bars = new MultiBar({ stream: process.stderr, hideCursor: true, noTTYOutput: false, format: '{label} |{bar}| {value}/{total} {detail}' });
  const sweepBar = bars.create(toRun.length, 0, { label: 'sweep', detail: '' }, { format: '{label} |{bar}| {value}/{total} runs done | {running} running | {failed} failed | ETA {eta_formatted}' });
  const runBars = new Map<CellState, SingleBar>();
  const refresh = () => {
    const running = local.running;
    for (const [cell, bar] of runBars) {
      if (running.includes(cell)) continue;
      bars.remove(bar);
      runBars.delete(cell);
    }
    for (const cell of running) {
      const run = cell.runId === null ? null : store.getRun(cell.runId);
      let bar = runBars.get(cell);
      if (!bar) runBars.set(cell, (bar = bars.create(100, 0, { label: cell.cell.key, detail: '' }, { format: '{label} |{bar}| {percentage}% {detail}' })));
      bar.update(run ? Math.round(runFraction(run) * 100) : 0, { label: cell.cell.key, detail: run ? `run ${run.id}, iteration ${run.iterations}` : 'starting' });
    }
    const ended = toRun.filter((c) => c.status !== 'pending' && c.status !== 'running');
    sweepBar.update(ended.length, { label: 'sweep', running: running.length, failed: ended.filter((c) => c.status === 'failed').length });
  };
  refresh();
  const timer = setInterval(refresh, DISPLAY_INTERVAL_MS);
  try {
    return await local.run();
  } finally {
    clearInterval(timer);
    refresh();
    bars.stop();
    process.off('SIGINT', onSigint);
  }
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
