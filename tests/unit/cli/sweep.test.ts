/**
 * `headway sweep`: a bad sweep file is refused with every problem listed and nothing started;
 * a 2 x 2 x 2 grid of tiny runs trains with --parallel 2 into one sweep record; running it
 * again starts nothing; a deleted run is trained anew and a stopped one resumed, nothing else;
 * Ctrl-C stops the running runs cleanly and the next sweep finishes only what was missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/store/index.ts';
import { REPO_ROOT, runCliInProcess, tempDir } from './cli.helpers.ts';

/** Tiny runs (a few seconds each): one iteration of 50 steps in one environment. */
const GRID = {
  name: 'tiny grid',
  tags: ['sweep-test'],
  scenarios: ['cacc-catchup', 'cacc-slowdown'],
  learners: ['ippo', 'dppo'],
  seeds: [1, 2],
  set: { rolloutSteps: 50, numEnvs: 1, epochs: 1 },
  param: { horizon: 50 },
  iterations: 1,
};

function sweepFile(dir: string, content: unknown, name = 'sweep.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

interface Summary {
  sweepId: number;
  name: string;
  cells: { cell: string; runId: number | null; status: string; lastEvalReturn: number | null }[];
}

async function sweep(args: string[]): Promise<Summary> {
  const result = await runCliInProcess(['sweep', ...args, '--parallel', '2', '--threads', '1', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Summary;
}

describe('headway sweep', () => {
  it('refuses a bad sweep file before any run starts, listing every problem', async () => {
    const dir = tempDir();
    const db = join(dir, 'history.db');
    const file = sweepFile(dir, { ...GRID, scenarios: ['cacc-catchup', 'highway'], seeds: [1, -1, 1], tags: [''], set: { lrActor: 'fast', nope: 1 }, param: { lenght: 230 }, extra: true });
    const result = await runCliInProcess(['sweep', file, '--db', db]);
    expect(result.code).toBe(2);
    for (const problem of [
      "unknown field 'extra'",
      'scenarios.1: "highway" is not allowed; expected one of cacc-catchup, cacc-slowdown, ring, figure-eight',
      'seeds.1: -1 is not allowed; a seed must be a whole number',
      'tags.0: a tag must not be empty',
    ]) {
      expect(result.stderr).toContain(problem);
    }
    // The shape is right, the keys are not: every bad key of set and param, named by the resolvers of `headway train`.
    const keys = await runCliInProcess(['sweep', sweepFile(dir, { ...GRID, set: { lrActor: 'fast', nope: 1 }, param: { lenght: 230 } }), '--db', db]);
    expect(keys.code).toBe(2);
    expect(keys.stderr).toMatch(/set\.lrActor: .*lrActor/);
    expect(keys.stderr).toMatch(/set\.nope: .*'nope'/);
    expect(keys.stderr).toMatch(/param\.lenght: scenario cacc-catchup has no parameter 'lenght'/);
    expect(keys.stderr).toMatch(/param\.lenght: scenario cacc-slowdown has no parameter 'lenght'/);
    // YAML files are read as well, with the same checks.
    const yaml = join(dir, 'sweep.yaml');
    writeFileSync(yaml, 'name: tiny grid\nscenarios: [cacc-catchup, highway]\nlearners: [ippo]\nseeds: [1]\n');
    const fromYaml = await runCliInProcess(['sweep', yaml, '--db', db]);
    expect(fromYaml.code).toBe(2);
    expect(fromYaml.stderr).toContain('scenarios.1: "highway" is not allowed');
    writeFileSync(yaml, 'name: [unclosed\n');
    const broken = await runCliInProcess(['sweep', yaml, '--db', db]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/sweep\.yaml: not valid YAML \(/);
    expect(existsSync(db)).toBe(false);
  });

  it('trains the grid, starts nothing when run again, and continues only what is missing', async () => {
    const dir = tempDir();
    const db = join(dir, 'history.db');
    const file = sweepFile(dir, GRID);
    const first = await sweep([file, '--db', db]);
    // The 2 x 2 x 2 grid in order: scenario, learner, preset, seed.
    expect(first.cells.map((c) => c.cell)).toEqual(['cacc-catchup', 'cacc-slowdown'].flatMap((s) => ['ippo', 'dppo'].flatMap((l) => [1, 2].map((seed) => `${s}/${l}/${seed}/default`))));
    expect(first.cells.map((c) => c.status)).toEqual(Array(8).fill('finished'));
    expect(first.cells.every((c) => typeof c.lastEvalReturn === 'number')).toBe(true);
    const runIds = first.cells.map((c) => c.runId!);
    let store = RunStore.open(db);
    expect(store.getSweep(first.sweepId)!.cells.map((c) => c.runId)).toEqual(runIds);
    expect(store.listRuns({ sweepId: first.sweepId }).map((r) => r.id).sort()).toEqual([...runIds].sort());
    expect(store.getRun(runIds[0])).toMatchObject({ name: 'tiny grid: cacc-catchup/ippo/1/default', tags: ['sweep-test'], seed: 1, iterations: 1 });
    const updated = runIds.map((id) => store.getRun(id)!.updated);
    store.close();

    const again = await sweep([file, '--db', db]);
    expect(again).toEqual(first);
    // The same name with other settings is another experiment: refused, nothing started.
    const other = await runCliInProcess(['sweep', sweepFile(dir, { ...GRID, set: { ...GRID.set, epochs: 2 } }, 'other.json'), '--db', db]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`sweep ${first.sweepId} "tiny grid" was run with other set, param or budget; give this grid another name`);
    store = RunStore.open(db);
    expect(store.listRuns().length).toBe(8);
    expect(runIds.map((id) => store.getRun(id)!.updated)).toEqual(updated);

    // As an interrupted sweep leaves it: one cell's run gone, another's stopped.
    store.deleteRun(runIds[1]);
    store.updateStatus(runIds[2], 'stopped');
    store.close();
    const resumed = await sweep(['--resume', String(first.sweepId), '--db', db]);
    expect(resumed.cells.map((c) => c.status)).toEqual(Array(8).fill('finished'));
    const [kept, retrained, continued, ...untouched] = resumed.cells.map((c) => c.runId!);
    expect([kept, continued, ...untouched]).toEqual([runIds[0], ...runIds.slice(2)]);
    expect(runIds).not.toContain(retrained);
    store = RunStore.open(db, { readOnly: true });
    expect(store.listRuns().length).toBe(8);
    expect([kept, ...untouched].map((id) => store.getRun(id)!.updated)).toEqual([updated[0], ...updated.slice(3)]);
    store.close();
  }, 90_000);

  it('stops every run cleanly on Ctrl-C, and the next sweep finishes only what was missing', async () => {
    const dir = tempDir();
    const db = join(dir, 'history.db');
    // Long enough (40 iterations) to be mid-run when Ctrl-C comes; three runs for two slots, so one has not started.
    const file = sweepFile(dir, { ...GRID, name: 'stopped grid', scenarios: ['cacc-catchup'], learners: ['ippo'], seeds: [1, 2, 3], iterations: 40 });
    const child = spawn(process.execPath, ['bin/headway.mjs', 'sweep', file, '--parallel', '2', '--threads', '1', '--json', '--db', db], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const bothTraining = () => {
      if (!existsSync(db)) return false;
      let store: RunStore;
      try {
        store = RunStore.open(db, { readOnly: true });
      } catch (error) {
        // The sweep has created the file but not its schema yet.
        if (error instanceof StoreError && error.code === 'not-found') return false;
        throw error;
      }
      try {
        // Both running children have created their runs (their Ctrl-C handlers are installed), one has trained.
        const runs = store.listRuns();
        return runs.length === 2 && runs.some((run) => run.iterations >= 1);
      } finally {
        store.close();
      }
    };
    const deadline = Date.now() + 30_000;
    while (!bothTraining() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const stopped = JSON.parse(stdout) as Summary;
    expect(stopped.cells.map((c) => c.status)).toEqual(['stopped', 'stopped', 'pending']);
    const store = RunStore.open(db, { readOnly: true });
    expect(stopped.cells.slice(0, 2).map((c) => store.getRun(c.runId!)!.status)).toEqual(['stopped', 'stopped']);
    expect(store.listRuns().length).toBe(2);
    store.close();

    const finished = await sweep([file, '--db', db]);
    expect(finished.sweepId).toBe(stopped.sweepId);
    expect(finished.cells.map((c) => c.status)).toEqual(['finished', 'finished', 'finished']);
    expect(finished.cells.slice(0, 2).map((c) => c.runId)).toEqual(stopped.cells.slice(0, 2).map((c) => c.runId));
    const after = RunStore.open(db, { readOnly: true });
    expect(after.listRuns().map((r) => [r.status, r.iterations])).toEqual([
      ['finished', 40],
      ['finished', 40],
      ['finished', 40],
    ]);
    after.close();
  }, 90_000);
});
