/**
 * Real training killed at random moments: `headway train` and `headway resume` in child
 * processes, SIGKILLed mid-run several times. After every kill the database is intact, the
 * run shows as interrupted, its last checkpoint is at its last recorded iteration, and
 * `headway resume` carries it on; the last resume finishes the budget.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/index.ts';
import { REPO_ROOT, runCliProcess, tempDir } from './cli.helpers.ts';

const KILLS = 6;
const BUDGET = 80;
const settings = ['--set', 'rolloutSteps=50', '--set', 'numEnvs=2', '--set', 'epochs=1', '--set', 'criticEpochs=1', '--param', 'horizon=50', '--threads', '1'];

function iterationsIn(db: string): number {
  try {
    const store = RunStore.open(db, { readOnly: true });
    try {
      return store.getRun(1)?.iterations ?? 0;
    } finally {
      store.close();
    }
  } catch {
    return 0; // not created yet
  }
}

/** Starts a CLI child and SIGKILLs it a random while after it has recorded one more iteration. */
async function killMidRun(db: string, args: string[], seed: number): Promise<void> {
  const before = iterationsIn(db);
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/headway.mjs'), ...args, '--db', db], { cwd: REPO_ROOT, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (iterationsIn(db) <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, (seed * 97) % 400));
  child.kill('SIGKILL');
  await exited;
}

describe('training killed with SIGKILL', () => {
  it('loses at most the iteration in flight and resumes to the end', async () => {
    const db = join(tempDir(), 'kill.db');
    await killMidRun(db, ['train', '--scenario', 'cacc-catchup', '--algo', 'ippo', '--iterations', String(BUDGET), ...settings], 1);
    for (let kill = 1; kill <= KILLS; kill++) {
      const raw = new Database(db, { readonly: true });
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      raw.close();
      const store = RunStore.open(db);
      const run = store.getRun(1)!;
      expect(run.status).toBe('interrupted');
      expect(store.latestCheckpoint(1)?.iteration).toBe(run.iterations);
      expect(store.metricSeries(1, 'loss/critic').at(-1)?.iteration).toBe(run.iterations);
      store.close();
      if (kill < KILLS) await killMidRun(db, ['resume', '1'], kill + 1);
    }
    const finished = runCliProcess(['resume', '1', '--json', '--db', db]);
    expect(finished.code, finished.stderr).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ runId: 1, status: 'finished' });
    const store = RunStore.open(db, { readOnly: true });
    const run = store.getRun(1)!;
    expect(run.iterations).toBe(BUDGET);
    expect(store.metricSeries(1, 'loss/critic').map((p) => p.iteration)).toEqual(Array.from({ length: BUDGET }, (_, k) => k + 1));
    store.close();
  }, 180_000);
});
