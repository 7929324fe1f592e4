/**
 * The run store's crash guarantees, for real: a child process records iterations as fast as
 * it can and is SIGKILLed at random moments (while opening, resuming, mid-transaction,
 * mid-episode, mid-WAL-checkpoint). After every kill the database must be intact, the run
 * interrupted, the last checkpoint and the last metrics at the same iteration, and the next
 * child must resume from that checkpoint. A reader in this process reads concurrently
 * without ever waiting for the writer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/index.ts';
import {
  checkpointIteration,
  ENV_STEPS_PER_ITERATION,
  EPISODE_CHUNK_STEPS,
  EPISODE_FRAMES,
  frameFor,
  metricsFor,
} from '../../fixtures/store/crashData.ts';

const WRITER = fileURLToPath(new URL('../../fixtures/store/crashWriter.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const KILLS = 20;

const folder = mkdtempSync(join(tmpdir(), 'headway-store-crash-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Writer {
  child: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  lines: string[];
}

function startWriter(file: string, ...args: string[]): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => {
    stdout += data.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      lines.push(line);
      for (const wait of waiting.filter((w) => line.startsWith(w.prefix))) wait.resolve(line);
    }
  });
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    // 'close' comes after the child is reaped and its output drained: its pid is free.
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return resolve(seen);
      waiting.push({ prefix, resolve });
      void exited.then(({ code, stderr: err }) => reject(new Error(`writer exited (${code}) before printing "${prefix}": ${err}`)));
    });
  return { child, line, exited, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks the database after a kill; returns the run's id and last iteration (null before the run existed). */
function verifyAfterKill(file: string, context: string): { runId: number; iterations: number } | null {
  const raw = new Database(file);
  try {
    expect(raw.pragma('integrity_check', { simple: true }), context).toBe('ok');
    expect(raw.pragma('foreign_key_check'), context).toEqual([]);
  } finally {
    raw.close();
  }
  const store = RunStore.open(file);
  try {
    const runs = store.listRuns();
    if (runs.length === 0) return null;
    expect(runs, context).toHaveLength(1);
    const run = runs[0];
    expect(run.status, context).toBe('interrupted');

    const loss = store.metricSeries(run.id, 'loss');
    expect(loss.map((p) => p.iteration), context).toEqual(Array.from({ length: run.iterations }, (_, i) => i + 1));
    for (const point of loss) {
      expect(point.value).toBe(metricsFor(point.iteration).loss);
      expect(point.envSteps).toBe(point.iteration * ENV_STEPS_PER_ITERATION);
    }
    expect(store.seriesNames(run.id).length, context).toBe(run.iterations > 0 ? 25 : 0);
    const latest = store.latestCheckpoint(run.id);
    expect(latest?.iteration ?? 0, context).toBe(run.iterations);
    if (latest) expect(checkpointIteration(store.loadCheckpoint(latest.id).data), context).toBe(run.iterations);
    expect(store.loadRunCheckpoint(run.id, 'best')?.iteration ?? 0, context).toBe(4 * Math.floor(run.iterations / 4));
    expect(run.envSteps).toBe(run.iterations * ENV_STEPS_PER_ITERATION);

    const episodes = store.listEpisodes(run.id);
    for (const episode of episodes) {
      expect(episode.complete && episode.steps === EPISODE_FRAMES && episode.iteration <= run.iterations, context).toBe(true);
    }
    const newest = episodes.at(-1);
    if (newest) {
      const from = EPISODE_CHUNK_STEPS - 3;
      const frames = store.readSteps(newest.id, from, from + 70);
      expect(frames.map((f) => f.step)).toEqual(Array.from({ length: 70 }, (_, i) => from + i));
      for (const frame of frames) {
        const expected = frameFor(newest.iteration, frame.step);
        expect(Array.from(frame.position)).toEqual(Array.from(expected.position, Math.fround));
        expect(Array.from(frame.rewardTerms)).toEqual(Array.from(expected.rewardTerms, Math.fround));
      }
    }
    return { runId: run.id, iterations: run.iterations };
  } finally {
    store.close();
  }
}

describe('run store under SIGKILL', () => {
  it(`keeps the database whole and resumable over ${KILLS} random kills`, async () => {
    const file = join(folder, 'crash.db');
    const delays: number[] = [];
    let state: { runId: number; iterations: number } | null = null;
    let resumes = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const writer = state ? startWriter(file, 'resume', String(state.runId)) : startWriter(file, 'new');
      await writer.line('ready');
      // Squared uniform: many kills in the first milliseconds (open, migration, resume), some deep into the loop.
      const delay = Math.floor(Math.random() ** 2 * 150);
      delays.push(delay);
      await sleep(delay);
      writer.child.kill('SIGKILL');
      const { signal, stderr } = await writer.exited;
      const context = `kill ${kill} after ${delays.join(', ')} ms; child said: ${writer.lines.join(' | ')} ${stderr}`;
      expect(signal, context).toBe('SIGKILL');
      const resumed = writer.lines.find((line) => line.startsWith('resumed'));
      if (resumed && state) {
        expect(resumed, context).toBe(`resumed ${state.runId} ${state.iterations}`);
        resumes++;
      }
      const before = state?.iterations ?? 0;
      state = verifyAfterKill(file, context);
      // Nothing recorded before a kill is ever lost: killed during a resume, the run may only stay where it was.
      expect(state?.iterations ?? 0, context).toBeGreaterThanOrEqual(before);
    }
    expect(resumes, `delays ${delays.join(', ')}`).toBeGreaterThan(0);

    // A last child resumes and runs to the end by itself.
    const runId = state?.runId;
    const from = state?.iterations ?? 0;
    const last = runId === undefined ? startWriter(file, 'new', '', '3') : startWriter(file, 'resume', String(runId), '3');
    const { code, stderr } = await last.exited;
    expect(code, stderr).toBe(0);
    const store = RunStore.open(file);
    const [run] = store.listRuns();
    expect(run.status).toBe('finished');
    expect(run.iterations).toBe(from + 3);
    expect(store.latestCheckpoint(run.id)?.iteration).toBe(from + 3);
    store.close();
  });

  it('serves a reader in another connection while the writer writes, without it ever waiting', async () => {
    const file = join(folder, 'concurrent.db');
    const writer = startWriter(file, 'new');
    const runId = Number((await writer.line('run')).split(' ')[1]);
    await sleep(50);
    // busy timeout 0: any lock wait would throw SQLITE_BUSY at once instead of waiting.
    const reader = RunStore.open(file, { busyTimeoutMs: 0 });
    let reads = 0;
    let firstSeen = -1;
    let lastSeen = -1;
    try {
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        const [run] = reader.listRuns();
        if (firstSeen < 0) firstSeen = run.iterations;
        lastSeen = run.iterations;
        reader.metricSeries(runId, 'loss/agent3');
        const checkpoint = reader.loadRunCheckpoint(runId, 'latest');
        if (checkpoint) expect(checkpointIteration(checkpoint.data)).toBe(checkpoint.iteration);
        // The newest episode may still be recording: it shows the chunks stored so far, and more by the time we read.
        const episode = reader.listEpisodes(runId).at(-1);
        if (episode) {
          const frames = reader.readSteps(episode.id, 30, 130).length;
          if (episode.complete) expect(frames).toBe(100);
          else expect(frames).toBeGreaterThanOrEqual(Math.max(0, Math.min(130, episode.steps) - 30));
        }
        reader.iterationMetrics(runId);
        reads++;
      }
    } finally {
      reader.close();
      writer.child.kill('SIGKILL');
      await writer.exited;
    }
    expect(reads).toBeGreaterThan(20);
    // The writer kept going while we read.
    expect(lastSeen).toBeGreaterThan(firstSeen);
  });
});
