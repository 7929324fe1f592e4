/**
 * One training run of a sweep as a `headway train` (or `headway resume`) child process: the
 * local sweep starts these N at a time, a queue worker one per job. Children, not worker
 * threads: each run is a process exactly as if typed by hand (its own backend, threads and
 * Ctrl-C handling), and a crash takes down one run, never the sweep.
 *
 * The child's stdin is a pipe it never reads from; it is told (HEADWAY_STOP_WITH_PARENT) to
 * stop after its iteration when that pipe closes. The pipe closes when the parent dies, even by
 * SIGKILL, so no run trains on for a sweep or a worker that is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunStatus } from '../../shared/runs.ts';
import type { SweepCell, SweepFile } from '../../shared/sweep.ts';

const HEADWAY_BIN = fileURLToPath(new URL('../../../bin/headway.mjs', import.meta.url));

/** Set in a child's environment: stop (as on Ctrl-C) when stdin closes, i.e. when the parent is gone. */
export const STOP_WITH_PARENT_ENV = 'HEADWAY_STOP_WITH_PARENT';

/** The arguments of `headway train` for a cell of a sweep. */
export function trainArgs(sweep: SweepFile, cell: SweepCell, threads: number): string[] {
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

/** The result line `headway train --json` prints last. */
export interface RunResult {
  runId: number;
  status: RunStatus;
  lastEvalReturn: number | null;
}

/** How a child ended: its result line where it printed one, and its last words on stderr. */
export interface RunProcessEnd {
  result: RunResult | null;
  lastWords: string | null;
}

export interface RunProcess {
  child: ChildProcess;
  ended: Promise<RunProcessEnd>;
}

/** `run 12: ippo on ring, backend ...`, the first line `headway train` writes to stderr once its run exists. */
const RUN_STARTED = /^run (\d+): /m;

/**
 * Starts `headway ARGS --json --db DB`. `onRunId` hears the run's id as soon as the child has
 * created it. `detached`: the child has its own process group, so that a terminal's Ctrl-C
 * reaches the parent alone, which forwards it (the local sweep's one SIGINT per press).
 */
export function startRunProcess(args: readonly string[], db: string, options: { detached: boolean; onRunId: (runId: number) => void }): RunProcess {
  const child = spawn(process.execPath, [HEADWAY_BIN, ...args, '--json', '--db', db], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached,
    env: { ...process.env, [STOP_WITH_PARENT_ENV]: '1' },
  });
  let stdout = '';
  let stderr = '';
  let announced = false;
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    const started = announced ? null : RUN_STARTED.exec(stderr);
    if (started) {
      announced = true;
      options.onRunId(Number(started[1]));
    }
  });
  // The child never reads stdin; a write error after it has ended is of no interest.
  child.stdin!.on('error', () => undefined);
  // A child that cannot start at all ends with 'close' too; its reason is its last words.
  child.on('error', (error) => (stderr += `\n${error.message}`));
  const ended = new Promise<RunProcessEnd>((resolve) => {
    child.on('close', () => {
      const lastLine = stdout.trim().split('\n').at(-1) ?? '';
      const result = lastLine.startsWith('{') ? (JSON.parse(lastLine) as RunResult) : null;
      const lastWords = stderr.trim().split('\n').at(-1)?.replace(/^headway: /, '') || null;
      resolve({ result, lastWords });
    });
  });
  return { child, ended };
}
