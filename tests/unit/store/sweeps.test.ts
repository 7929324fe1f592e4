/** Sweep records: a grid's cells by name, the run of each cell, deleted runs leaving their cell empty, runs listed by sweep. */
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

  it('refuses a run for a cell the sweep does not have', () => {
    const sweep = store.openSweep('grid', '{}', ['c0']);
    const runId = endedRun(0);
    expect(() => store.setSweepRun(sweep.id, 'c9', runId)).toThrow(StoreError);
    expect(() => store.setSweepRun(sweep.id, 'c9', runId)).toThrow(/sweep \d+ has no cell c9/);
  });
});
