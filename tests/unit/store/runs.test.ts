/** Run store: runs, metrics and checkpoints round trips, resume, cascading delete, writer liveness. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDatabasePath, RunStore, StoreError } from '../../../src/main/store/index.ts';
import type { StoredEpisodeSpec, NewRun } from '../../../src/shared/runs.ts';

const folder = mkdtempSync(join(tmpdir(), 'headway-store-runs-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let file: string;
let store: RunStore;
let fileCount = 0;
beforeEach(() => {
  file = join(folder, `runs-${fileCount++}.db`);
  store = RunStore.open(file);
});
afterEach(() => store.close());

const newRun = (overrides: Partial<NewRun> = {}): NewRun => ({
  name: 'ring baseline',
  scenario: 'ring',
  params: { length: 230, safetyCap: true, preset: 'dmpo' },
  algo: 'dmpo',
  config: { lr: 3e-4, layers: [64, 64], clip: { ratio: 0.2 }, note: null },
  seed: 42,
  preset: 'paper',
  backend: 'wasm',
  appVersion: '0.1.0',
  tags: ['baseline', 'ring'],
  notes: 'first try',
  ...overrides,
});

const tinyEpisode = (iteration: number): StoredEpisodeSpec => ({
  iteration,
  kind: 'eval',
  seed: 1,
  scenario: 'ring',
  params: {},
  dt: 0.1,
  horizon: 3000,
  vehicleLength: 5,
  nVehicles: 1,
  nAgents: 1,
  obsDim: 1,
  action: { kind: 'continuous', low: -1, high: 1 },
  actionParamDim: 2,
  obsNames: ['v'],
  rewardTermNames: [],
  agentVehicle: [0],
  vehicleKind: [1],
  roadLength: 100,
  edges: [],
});

function recordEpisode(runId: number, iteration: number, rewards: number[]): number {
  const writer = store.beginEpisode(runId, tinyEpisode(iteration));
  for (const reward of rewards) {
    writer.append({ position: [0], speed: [0], accel: [0], gap: [0], vehicleAction: [0], agentAction: [0], reward: [reward], value: [0], obs: [0], actionParams: [0, 1], rewardTerms: [] });
  }
  return writer.finish().id;
}

/** A pid that surely belongs to no process: a child that has already exited and been reaped. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

function setWriter(runId: number, pid: number): void {
  const raw = new Database(file);
  raw.prepare(`UPDATE runs SET status = 'running', writer_pid = ? WHERE id = ?`).run(pid, runId);
  raw.close();
}

function expectStoreError(work: () => unknown, code: StoreError['code']): StoreError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(code);
    expect((error as StoreError).message).not.toContain('\n');
    return error as StoreError;
  }
  throw new Error(`expected a StoreError ${code}`);
}

describe('runs', () => {
  it('round-trips every field of a run', () => {
    const parent = store.createRun(newRun({ name: 'parent' }));
    const run = store.createRun(newRun({ parent: { runId: parent.id, relation: 'fork', checkpointId: 9 } }));
    const read = store.getRun(run.id)!;
    expect(read).toEqual(run);
    expect(read).toMatchObject({
      name: 'ring baseline',
      scenario: 'ring',
      algo: 'dmpo',
      status: 'running',
      iterations: 0,
      envSteps: 0,
      lastEvalReturn: null,
      params: { length: 230, safetyCap: true, preset: 'dmpo' },
      config: { lr: 3e-4, layers: [64, 64], clip: { ratio: 0.2 }, note: null },
      seed: 42,
      preset: 'paper',
      backend: 'wasm',
      appVersion: '0.1.0',
      tags: ['baseline', 'ring'],
      notes: 'first try',
      parent: { runId: parent.id, relation: 'fork', checkpointId: 9 },
      ended: null,
      statusMessage: null,
      writer: { pid: process.pid },
    });
    expect(Date.parse(read.created)).toBeGreaterThan(Date.now() - 60_000);
    expect(store.getRun(999)).toBeNull();
    expect(store.createRun(newRun({ name: undefined })).name).toBe('dmpo on ring, seed 42');
  });

  it('lists runs newest first and filters them', () => {
    const a = store.createRun(newRun({ name: 'Alpha wave', tags: ['x'] }));
    const b = store.createRun(newRun({ name: 'beta', scenario: 'figure-eight', algo: 'ippo', tags: ['x', 'y'] }));
    const c = store.createRun(newRun({ name: 'gamma', parent: { runId: a.id, relation: 'resume', checkpointId: null } }));
    store.updateStatus(a.id, 'finished');
    store.updateStatus(b.id, 'failed', 'NaN loss');
    const ids = (filter: Parameters<RunStore['listRuns']>[0]) => store.listRuns(filter).map((run) => run.id);
    expect(ids({})).toEqual([c.id, b.id, a.id]);
    expect(ids({ status: 'finished' })).toEqual([a.id]);
    expect(ids({ status: ['failed', 'running'] })).toEqual([c.id, b.id]);
    expect(ids({ scenario: 'figure-eight' })).toEqual([b.id]);
    expect(ids({ algo: 'dmpo' })).toEqual([c.id, a.id]);
    expect(ids({ tag: 'y' })).toEqual([b.id]);
    expect(ids({ tag: 'x' })).toEqual([b.id, a.id]);
    expect(ids({ nameContains: 'alpha' })).toEqual([a.id]);
    expect(ids({ parentRunId: a.id })).toEqual([c.id]);
    expect(ids({ limit: 1, offset: 1 })).toEqual([b.id]);
    expect(store.listRuns({ scenario: 'figure-eight' })[0]).toEqual({
      id: b.id,
      name: 'beta',
      scenario: 'figure-eight',
      algo: 'ippo',
      status: 'failed',
      iterations: 0,
      envSteps: 0,
      lastEvalReturn: null,
      created: b.created,
    });
  });

  it('updates status, tags, notes and name', () => {
    const run = store.createRun(newRun());
    store.setTags(run.id, [' seed-sweep ', 'ring', 'ring', '']);
    store.setNotes(run.id, 'lr too high');
    store.renameRun(run.id, 'sweep 1');
    const stopped = store.updateStatus(run.id, 'stopped');
    expect(stopped).toMatchObject({ status: 'stopped', tags: ['seed-sweep', 'ring'], notes: 'lr too high', name: 'sweep 1', statusMessage: null });
    expect(stopped.ended).not.toBeNull();
    expect(store.updateStatus(run.id, 'failed', 'out of memory').statusMessage).toBe('out of memory');
    expectStoreError(() => store.setNotes(404, 'x'), 'not-found');
    expectStoreError(() => store.renameRun(run.id, '  '), 'invalid');
  });

  it('reports the mean return of the latest evaluated iteration', () => {
    const run = store.createRun(newRun());
    recordEpisode(run.id, 1, [5]);
    recordEpisode(run.id, 2, [1, 2]);
    recordEpisode(run.id, 2, [NaN, 4, 1]);
    const train = store.beginEpisode(run.id, { ...tinyEpisode(3), kind: 'train' });
    train.finish();
    expect(store.getRun(run.id)!.lastEvalReturn).toBe(4);
    expect(store.listRuns()[0].lastEvalReturn).toBe(4);
  });

  it('reports the latest evaluation\'s eval/return metric, the mean over all its episodes, not the one episode a job stores', () => {
    // A training job stores the first of an evaluation's episodes; the metric is the mean of all of them.
    const run = store.createRun(newRun());
    recordEpisode(run.id, 1, [5]);
    recordEpisode(run.id, 2, [1, 2]);
    store.recordIteration(run.id, { iteration: 1, envSteps: 10, wallTimeS: 1, values: { 'eval/return': -7 } });
    store.recordIteration(run.id, { iteration: 2, envSteps: 20, wallTimeS: 2, values: { 'eval/return': -9, loss: 1 } });
    store.recordIteration(run.id, { iteration: 3, envSteps: 30, wallTimeS: 3, values: { loss: 0.5 } });
    expect(store.getRun(run.id)!.lastEvalReturn).toBe(-9);
    expect(store.listRuns()[0].lastEvalReturn).toBe(-9);
  });
});

describe('metrics', () => {
  it('round-trips named and per-agent series, NaN and infinities included', () => {
    const run = store.createRun(newRun());
    store.appendMetrics(run.id, 1, 3000, 1.5, { return: -10, 'loss/agent0': 0.5, 'loss/agent1': NaN });
    store.appendMetrics(run.id, 2, 6000, 3.25, { return: -5, 'loss/agent0': Infinity, 'loss/agent1': -Infinity, entropy: 1.25 });
    expect(store.seriesNames(run.id)).toEqual(['entropy', 'loss/agent0', 'loss/agent1', 'return']);
    expect(store.metricSeries(run.id, 'return')).toEqual([
      { iteration: 1, envSteps: 3000, wallTimeS: 1.5, value: -10 },
      { iteration: 2, envSteps: 6000, wallTimeS: 3.25, value: -5 },
    ]);
    expect(store.metricSeries(run.id, 'loss/agent1').map((p) => p.value)).toEqual([NaN, -Infinity]);
    expect(store.metricSeries(run.id, 'entropy').map((p) => p.iteration)).toEqual([2]);
    expect(store.metricSeries(run.id, 'missing')).toEqual([]);
    expect(store.iterationMetrics(run.id)).toEqual({
      iteration: 2,
      envSteps: 6000,
      wallTimeS: 3.25,
      values: { return: -5, 'loss/agent0': Infinity, 'loss/agent1': -Infinity, entropy: 1.25 },
    });
    expect(store.iterationMetrics(run.id, 1)!.values['loss/agent1']).toBeNaN();
    expect(store.iterationMetrics(run.id, 7)).toBeNull();
    expect(store.getRun(run.id)).toMatchObject({ iterations: 2, envSteps: 6000, wallTimeS: 3.25 });
  });

  it('replaces a re-recorded iteration without moving the run back', () => {
    const run = store.createRun(newRun());
    store.appendMetrics(run.id, 1, 100, 1, { loss: 1 });
    store.appendMetrics(run.id, 2, 200, 2, { loss: 2 });
    store.appendMetrics(run.id, 1, 100, 1, { loss: 10 });
    expect(store.metricSeries(run.id, 'loss').map((p) => p.value)).toEqual([10, 2]);
    expect(store.getRun(run.id)).toMatchObject({ iterations: 2, envSteps: 200 });
  });

  it('compares one series across runs', () => {
    const a = store.createRun(newRun());
    const b = store.createRun(newRun({ seed: 2 }));
    store.appendMetrics(a.id, 1, 10, 1, { return: 1 });
    store.appendMetrics(b.id, 1, 10, 1, { return: 2 });
    store.appendMetrics(b.id, 2, 20, 2, { return: 3 });
    const compared = store.compareMetric([b.id, a.id, 99], 'return');
    expect(compared.map((series) => series.runId)).toEqual([b.id, a.id, 99]);
    expect(compared[0].value).toEqual([2, 3]);
    expect(compared[1]).toEqual({ runId: a.id, iteration: [1], envSteps: [10], wallTimeS: [1], value: [1] });
    expect(compared[2]).toEqual({ runId: 99, iteration: [], envSteps: [], wallTimeS: [], value: [] });
  });

  it('rejects what it cannot record, recording nothing', () => {
    const run = store.createRun(newRun());
    expectStoreError(() => store.appendMetrics(run.id, 1.5, 0, 0, {}), 'invalid');
    expectStoreError(() => store.appendMetrics(run.id, 1, 0, 0, { a: 1, b: 'x' as unknown as number }), 'invalid');
    expectStoreError(() => store.appendMetrics(404, 1, 0, 0, { a: 1 }), 'not-found');
    expect(store.seriesNames(run.id)).toEqual([]);
    expect(store.getRun(run.id)!.iterations).toBe(0);
    store.appendMetrics(run.id, 1, 0, 0, { a: 1 });
    expect(store.metricSeries(run.id, 'a')).toHaveLength(1);
  });
});

describe('checkpoints', () => {
  const blob = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  it('round-trips periodic and best checkpoints; a new best replaces the old', () => {
    const run = store.createRun(newRun());
    const saved = store.recordIteration(run.id, {
      iteration: 1,
      envSteps: 100,
      wallTimeS: 1,
      values: { loss: 1 },
      checkpoints: [
        { iteration: 1, envSteps: 100, kind: 'periodic', data: blob(1000, 1), meta: { format: 'tfjs', shapes: [[2, 64]] } },
        { iteration: 1, envSteps: 100, kind: 'best', data: blob(10, 2), evalReturn: -3 },
      ],
    });
    expect(saved.map((c) => c.kind)).toEqual(['periodic', 'best']);
    store.saveCheckpoint(run.id, { iteration: 2, envSteps: 200, kind: 'best', data: blob(20, 3), evalReturn: -1 });
    const loaded = store.loadCheckpoint(saved[0].id);
    expect(loaded).toMatchObject({ runId: run.id, iteration: 1, envSteps: 100, kind: 'periodic', evalReturn: null, bytes: 1000, meta: { format: 'tfjs', shapes: [[2, 64]] } });
    expect(loaded.data).toEqual(blob(1000, 1));
    expect(store.listCheckpoints(run.id).map((c) => [c.iteration, c.kind])).toEqual([
      [1, 'periodic'],
      [2, 'best'],
    ]);
    expect(store.bestCheckpoint(run.id)).toMatchObject({ iteration: 2, evalReturn: -1, bytes: 20 });
    expect(store.latestCheckpoint(run.id)).toMatchObject({ iteration: 2, kind: 'best' });
    expect(store.loadRunCheckpoint(run.id, 'best')!.data).toEqual(blob(20, 3));
    expect(store.loadRunCheckpoint(run.id, 'latest')!.iteration).toBe(2);
    expectStoreError(() => store.loadCheckpoint(12345), 'not-found');
    expect(store.loadRunCheckpoint(404, 'latest')).toBeNull();
  });

  it('prefers the periodic checkpoint when both kinds share the latest iteration, and prunes old periodic ones on request', () => {
    const run = store.createRun(newRun());
    for (let iteration = 1; iteration <= 5; iteration++) {
      store.saveCheckpoint(run.id, { iteration, envSteps: iteration, kind: 'periodic', data: blob(4, iteration), keepPeriodic: 2 });
    }
    store.saveCheckpoint(run.id, { iteration: 5, envSteps: 5, kind: 'best', data: blob(4, 9) });
    expect(store.listCheckpoints(run.id).map((c) => `${c.iteration}${c.kind[0]}`)).toEqual(['4p', '5p', '5b']);
    expect(store.latestCheckpoint(run.id)!.kind).toBe('periodic');
  });

  it('records an iteration whole or not at all', () => {
    const run = store.createRun(newRun());
    store.appendMetrics(run.id, 1, 100, 1, { loss: 1 });
    const bad = { iteration: 2, envSteps: 200, kind: 'periodic' as const, data: 'not bytes' as unknown as Uint8Array };
    expectStoreError(() => store.recordIteration(run.id, { iteration: 2, envSteps: 200, wallTimeS: 2, values: { loss: 2, fresh: 1 }, checkpoints: [bad] }), 'invalid');
    expect(store.metricSeries(run.id, 'loss')).toHaveLength(1);
    expect(store.seriesNames(run.id)).toEqual(['loss']);
    expect(store.getRun(run.id)).toMatchObject({ iterations: 1, envSteps: 100 });
    // The rolled-back series must not linger in the store's cache.
    store.appendMetrics(run.id, 2, 200, 2, { fresh: 5 });
    expect(store.metricSeries(run.id, 'fresh').map((p) => p.value)).toEqual([5]);
  });
});

describe('resume and writers', () => {
  it('resumes from the latest checkpoint, dropping what was recorded after it', () => {
    const run = store.createRun(newRun());
    for (let iteration = 1; iteration <= 5; iteration++) {
      store.recordIteration(run.id, {
        iteration,
        envSteps: iteration * 100,
        wallTimeS: iteration,
        values: { loss: iteration },
        checkpoints: iteration <= 3 ? [{ iteration, envSteps: iteration * 100, kind: 'periodic', data: new Uint8Array([iteration]) }] : [],
      });
      recordEpisode(run.id, iteration, [iteration]);
    }
    store.updateStatus(run.id, 'stopped');
    const { run: resumed, checkpoint } = store.resumeRun(run.id);
    expect(checkpoint).toMatchObject({ iteration: 3, envSteps: 300, data: new Uint8Array([3]) });
    expect(resumed).toMatchObject({ status: 'running', iterations: 3, envSteps: 300, wallTimeS: 3, ended: null });
    expect(store.metricSeries(run.id, 'loss').map((p) => p.iteration)).toEqual([1, 2, 3]);
    expect(store.listEpisodes(run.id).map((e) => e.iteration)).toEqual([1, 2, 3]);
    expectStoreError(() => store.resumeRun(run.id), 'conflict');
    expectStoreError(() => store.deleteRun(run.id), 'conflict');
  });

  it('resumes a run without checkpoints from the start', () => {
    const run = store.createRun(newRun());
    store.appendMetrics(run.id, 1, 100, 1, { loss: 1 });
    store.updateStatus(run.id, 'stopped');
    const { run: resumed, checkpoint } = store.resumeRun(run.id);
    expect(checkpoint).toBeNull();
    expect(resumed).toMatchObject({ iterations: 0, envSteps: 0 });
    expect(store.metricSeries(run.id, 'loss')).toEqual([]);
  });

  it('refuses to touch a run another live process trains, and marks it interrupted once that process is gone', () => {
    const run = store.createRun(newRun());
    setWriter(run.id, process.ppid);
    expectStoreError(() => store.resumeRun(run.id), 'conflict');
    expectStoreError(() => store.deleteRun(run.id), 'conflict');
    expect(store.updateStatus.bind(store, run.id, 'stopped')).toThrow(/being trained by process/);
    expect(store.markInterruptedRuns()).toEqual([]);

    const pid = deadPid();
    setWriter(run.id, pid);
    expect(store.markInterruptedRuns()).toEqual([run.id]);
    expect(store.getRun(run.id)).toMatchObject({ status: 'interrupted', statusMessage: expect.stringContaining(`pid ${pid}`) });
    expect(store.resumeRun(run.id).run.status).toBe('running');
  });

  it('shows a run this process left running as interrupted once its store is closed', () => {
    const run = store.createRun(newRun());
    const recording = store.beginEpisode(run.id, tinyEpisode(1));
    recording.append({ position: [0], speed: [0], accel: [0], gap: [0], vehicleAction: [0], agentAction: [0], reward: [1], value: [0], obs: [0], actionParams: [0, 1], rewardTerms: [] });
    store.close();
    store = RunStore.open(file);
    expect(store.getRun(run.id)!.status).toBe('interrupted');
    expect(store.listEpisodes(run.id)).toEqual([]);
  });
});

describe('deleteRun', () => {
  it('deletes a run and everything of it in one transaction, leaving other runs whole', () => {
    const keep = store.createRun(newRun());
    const drop = store.createRun(newRun({ parent: { runId: keep.id, relation: 'fork', checkpointId: null } }));
    const child = store.createRun(newRun({ parent: { runId: drop.id, relation: 'resume', checkpointId: null } }));
    for (const run of [keep, drop]) {
      store.recordIteration(run.id, {
        iteration: 1,
        envSteps: 1,
        wallTimeS: 1,
        values: { loss: 1, 'loss/agent0': 2 },
        checkpoints: [{ iteration: 1, envSteps: 1, kind: 'periodic', data: new Uint8Array(100) }],
      });
      const writer = store.beginEpisode(run.id, tinyEpisode(1), { chunkSteps: 2 });
      for (let step = 0; step < 5; step++) {
        writer.append({ position: [0], speed: [0], accel: [0], gap: [0], vehicleAction: [0], agentAction: [0], reward: [1], value: [0], obs: [0], actionParams: [0, 1], rewardTerms: [] });
      }
      writer.finish();
      store.updateStatus(run.id, 'finished');
    }
    const counts = () => {
      const raw = new Database(file, { readonly: true });
      const count = (table: string) => raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
      const result = Object.fromEntries(['runs', 'iterations', 'series', 'metrics', 'checkpoints', 'episodes', 'episode_chunks'].map((t) => [t, count(t)]));
      raw.close();
      return result;
    };
    expect(counts()).toEqual({ runs: 3, iterations: 2, series: 4, metrics: 4, checkpoints: 2, episodes: 2, episode_chunks: 6 });
    store.deleteRun(drop.id);
    expect(counts()).toEqual({ runs: 2, iterations: 1, series: 2, metrics: 2, checkpoints: 1, episodes: 1, episode_chunks: 3 });
    expect(store.getRun(drop.id)).toBeNull();
    expect(store.getRun(child.id)!.parent).toBeNull();
    expect(store.metricSeries(keep.id, 'loss/agent0')).toHaveLength(1);
    expectStoreError(() => store.deleteRun(drop.id), 'not-found');
  });
});

describe('defaultDatabasePath', () => {
  it("follows Electron's userData folder per platform, and HEADWAY_DB", () => {
    expect(defaultDatabasePath({}, 'linux', '/home/ann')).toBe('/home/ann/.config/Headway/headway.db');
    expect(defaultDatabasePath({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ann')).toBe('/cfg/Headway/headway.db');
    expect(defaultDatabasePath({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/Headway/headway.db');
    expect(defaultDatabasePath({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Headway\\headway.db',
    );
    expect(defaultDatabasePath({ HEADWAY_DB: '/data/h.db', XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ann')).toBe('/data/h.db');
  });
});
