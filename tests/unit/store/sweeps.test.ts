/** Sweep records: a grid's cells by name, the run of each cell, deleted runs leaving their cell empty, runs listed by sweep, sweeps listed with their progress. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/store/index.ts';
import type { NewRun } from '../../../src/shared/runs.ts';

const folder = mkdtempSync(join(tmpdir(), 'headway-store-sweeps-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let store: RunStore;
let fileCount = 0;
beforeEach(() => {
  store = RunStore.open(join(folder, `sweeps-${fileCount++}.db`));
});
afterEach(() => store.close());

const newRun = (seed: number): NewRun => ({ scenario: 'cacc-catchup', params: {}, algo: 'ippo', config: {}, seed, appVersion: '0.1.0' });

/** A run that has ended, as a finished child process leaves it. */
function endedRun(seed: number): number {
  const run = store.createRun(newRun(seed));
  store.updateStatus(run.id, 'finished');
  return run.id;
}

describe('sweeps', () => {
  it('records a grid once by name, its cells in grid order, each empty until its run starts', () => {
    const sweep = store.openSweep('grid', '{"name":"grid"}', ['a/ippo/0/default', 'a/ippo/1/default']);
    expect(sweep).toMatchObject({ name: 'grid', file: '{"name":"grid"}', cells: [{ key: 'a/ippo/0/default', runId: null }, { key: 'a/ippo/1/default', runId: null }] });
    const runId = endedRun(0);
    store.setSweepRun(sweep.id, 'a/ippo/0/default', runId);
    // Opened again with a grown grid: the same sweep, its run kept, the new cell added last, the file replaced.
    const again = store.openSweep('grid', '{"name":"grid","seeds":[0,1,2]}', ['a/ippo/0/default', 'a/ippo/1/default', 'a/ippo/2/default']);
    expect(again.id).toBe(sweep.id);
    expect(again.file).toBe('{"name":"grid","seeds":[0,1,2]}');
    expect(again.cells).toEqual([
      { key: 'a/ippo/0/default', runId },
      { key: 'a/ippo/1/default', runId: null },
      { key: 'a/ippo/2/default', runId: null },
    ]);
    expect(store.findSweep('grid')?.id).toBe(sweep.id);
    expect(store.openSweep('other', '{}', ['x']).id).not.toBe(sweep.id);
    expect(store.getSweep(999)).toBeNull();
    expect(store.findSweep('nope')).toBeNull();
  });

  it('lists the runs of a sweep, and a deleted run leaves its cell to be trained again', () => {
    const sweep = store.openSweep('grid', '{}', ['c0', 'c1']);
    const [first, second, outside] = [endedRun(0), endedRun(1), endedRun(2)];
    store.setSweepRun(sweep.id, 'c0', first);
    store.setSweepRun(sweep.id, 'c1', second);
    expect(store.listRuns({ sweepId: sweep.id }).map((r) => r.id).sort()).toEqual([first, second]);
    expect(store.listRuns().map((r) => r.id)).toContain(outside);
    store.deleteRun(second);
    expect(store.getSweep(sweep.id)!.cells).toEqual([
      { key: 'c0', runId: first },
      { key: 'c1', runId: null },
    ]);
    expect(store.listRuns({ sweepId: sweep.id }).map((r) => r.id)).toEqual([first]);
  });

  it('brings a cell\'s run home from a bundle once, superseding the unfinished run a worker continued', () => {
    const sweep = store.openSweep('grid', '{}', ['c0', 'c1']);
    // c1's run stopped here; a worker continued it from its snapshot, taken while it still trained.
    const stopped = store.createRun(newRun(1)).id;
    const snapshot = join(folder, `snapshot-${fileCount}.db`);
    store.exportBundle([stopped], snapshot, { snapshot: true });
    store.updateStatus(stopped, 'stopped');
    store.setSweepRun(sweep.id, 'c1', stopped);

    const worker = RunStore.open(join(folder, `worker-${fileCount}.db`));
    const results: Record<string, string> = {};
    try {
      const continued = worker.importBundle(snapshot).runs[0]!.to;
      expect(worker.getRun(continued)!.status).toBe('interrupted');
      worker.resumeRun(continued);
      worker.updateStatus(continued, 'finished');
      const fresh = worker.createRun(newRun(0)).id;
      worker.updateStatus(fresh, 'finished');
      for (const [cell, runId] of [['c0', fresh], ['c1', continued]] as const) {
        results[cell] = join(folder, `result-${cell}-${fileCount}.db`);
        worker.exportBundle([runId], results[cell]!);
      }
    } finally {
      worker.close();
    }

    const c0 = store.importSweepRun(sweep.id, 'c0', results.c0!);
    const c1 = store.importSweepRun(sweep.id, 'c1', results.c1!);
    expect([c0.imported, c1.imported]).toEqual([true, true]);
    expect(store.getRun(stopped)).toBeNull();
    expect(store.getSweep(sweep.id)!.cells).toEqual([
      { key: 'c0', runId: c0.runId },
      { key: 'c1', runId: c1.runId },
    ]);
    // Delivered again (a coordinator that stopped before dropping the key): nothing new lands.
    expect(store.importSweepRun(sweep.id, 'c1', results.c1!)).toEqual({ runId: c1.runId, imported: false });
    expect(store.listRuns().map((r) => r.id).sort()).toEqual([c0.runId, c1.runId].sort());
  });

  it('lists every sweep with its grid size, its runs by status and their scenarios and learners, the latest updated first', () => {
    expect(store.listSweeps()).toEqual([]);
    const older = store.openSweep('older', '{}', ['c0']);
    const grid = store.openSweep('grid', '{}', ['ring/dppo/0', 'ring/ippo/0', 'cacc/ippo/0', 'cacc/ippo/1', 'cacc/ippo/2']);
    const ring = (algo: string) => store.createRun({ ...newRun(0), scenario: 'ring', algo }).id;
    const dppo = ring('dppo');
    store.updateStatus(dppo, 'finished');
    const failed = ring('ippo');
    store.updateStatus(failed, 'failed', 'diverged');
    const running = store.createRun(newRun(1)).id;
    store.setSweepRun(grid.id, 'ring/dppo/0', dppo);
    store.setSweepRun(grid.id, 'ring/ippo/0', failed);
    store.setSweepRun(grid.id, 'cacc/ippo/0', running);
    // A run outside every sweep counts nowhere; a deleted run leaves its cell not started.
    endedRun(5);
    const deleted = endedRun(2);
    store.setSweepRun(grid.id, 'cacc/ippo/2', deleted);
    store.deleteRun(deleted);

    const [first, second] = store.listSweeps();
    expect(first).toMatchObject({
      id: grid.id,
      name: 'grid',
      cells: 5,
      runs: { running: 1, stopped: 0, finished: 1, failed: 1, interrupted: 0, notStarted: 2 },
      scenarios: ['cacc-catchup', 'ring'],
      learners: ['dppo', 'ippo'],
    });
    expect(first.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(second).toMatchObject({ id: older.id, name: 'older', cells: 1, runs: { finished: 0, notStarted: 1 }, scenarios: [], learners: [] });
  });

  it('refuses a run for a cell the sweep does not have', () => {
    const sweep = store.openSweep('grid', '{}', ['c0']);
    const runId = endedRun(0);
    expect(() => store.setSweepRun(sweep.id, 'c9', runId)).toThrow(StoreError);
    expect(() => store.setSweepRun(sweep.id, 'c9', runId)).toThrow(/sweep \d+ has no cell c9/);
  });
});
