/**
 * Run store: the database file itself. Schema upgrades; files it must refuse without
 * changing a byte (newer schema, another program's SQLite file, not SQLite at all); a
 * read-only file; a full disk.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore, SCHEMA_VERSION, StoreError } from '../../../src/main/store/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'headway-store-files-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let fileCount = 0;
const freshPath = (name: string) => join(folder, `${fileCount++}-${name}`);

const V1_SQL = readFileSync(fileURLToPath(new URL('../../fixtures/store/schemaV1.sql', import.meta.url)), 'utf8');
const READONLY_CHILD = fileURLToPath(new URL('../../fixtures/store/openReadonly.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function openError(file: string, options = {}): StoreError {
  try {
    RunStore.open(file, options).close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(file);
    expect((error as StoreError).message).not.toContain('\n');
    return error as StoreError;
  }
  throw new Error(`opening ${file} should have failed`);
}

/** Asserts that opening `file` fails with `code` and leaves the folder exactly as it was. */
function expectRefusedUntouched(file: string, code: StoreError['code'], message: RegExp): void {
  const before = readFileSync(file);
  const siblings = readdirSync(folder).sort();
  const error = openError(file);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(readFileSync(file).equals(before)).toBe(true);
  expect(readdirSync(folder).sort()).toEqual(siblings);
}

describe('schema versions', () => {
  it('creates a new database, and its folders, at the current version', () => {
    const file = join(folder, 'nested', 'deeper', 'headway.db');
    RunStore.open(file).close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('application_id', { simple: true })).toBe(0x48647779);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('upgrades a version-1 file, keeping its runs, metrics and checkpoints', () => {
    const file = freshPath('v1.db');
    const raw = new Database(file);
    raw.exec(V1_SQL);
    raw.close();
    const store = RunStore.open(file);
    expect(store.getRun(1)).toMatchObject({ name: 'old run', status: 'finished', iterations: 2, envSteps: 6000, tags: ['legacy'], lastEvalReturn: null });
    expect(store.metricSeries(1, 'return').map((p) => p.value)).toEqual([-120.5, -80.25]);
    expect(store.loadRunCheckpoint(1, 'latest')!.data).toEqual(new Uint8Array([1, 2, 3]));
    const writer = store.beginEpisode(1, {
      iteration: 2,
      kind: 'eval',
      seed: 0,
      scenario: 'ring',
      params: {},
      dt: 0.1,
      horizon: 3000,
      vehicleLength: 5,
      nVehicles: 1,
      nAgents: 0,
      obsDim: 2,
      action: { kind: 'continuous', low: -1, high: 1 },
      actionParamDim: 2,
      obsNames: [],
      rewardTermNames: [],
      agentVehicle: [],
      vehicleKind: [0],
      roadLength: 230,
      edges: [],
    });
    writer.append({ position: [1], speed: [2], accel: [0], gap: [229], vehicleAction: [NaN], agentAction: [], reward: [], value: [], obs: [], actionParams: [], rewardTerms: [] });
    expect(writer.finish().steps).toBe(1);
    store.close();
    const upgraded = new Database(file, { readonly: true });
    expect(upgraded.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(upgraded.pragma('integrity_check', { simple: true })).toBe('ok');
    upgraded.close();
  });

  it.each(['delete', 'wal'])('refuses a file from a newer Headway (journal mode %s) and leaves it untouched', (journalMode) => {
    const file = freshPath('newer.db');
    const raw = new Database(file);
    raw.pragma(`journal_mode = ${journalMode}`);
    raw.exec(`PRAGMA application_id = ${0x48647779}; PRAGMA user_version = ${SCHEMA_VERSION + 1}; CREATE TABLE future (x);`);
    raw.close();
    expectRefusedUntouched(file, 'newer-schema', new RegExp(`newer Headway \\(database schema ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}\\)`));
  });

  it("refuses another program's SQLite file, even one without tables, and leaves it untouched", () => {
    const withTables = freshPath('other-app.sqlite');
    const raw = new Database(withTables);
    raw.exec(`CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ann');`);
    raw.close();
    expectRefusedUntouched(withTables, 'foreign', /SQLite database of another application/);

    const marked = freshPath('marked.sqlite');
    const other = new Database(marked);
    other.pragma('journal_mode = wal');
    other.pragma('application_id = 1234');
    other.close();
    expectRefusedUntouched(marked, 'foreign', /another application/);
  });

  it('refuses a file that is not SQLite at all and leaves it untouched', () => {
    const text = freshPath('notes.txt');
    writeFileSync(text, 'Headway run notes: ring, lr 3e-4, looked stable after 200 iterations.\n'.repeat(20));
    expectRefusedUntouched(text, 'foreign', /not a SQLite file/);
    const short = freshPath('short.bin');
    writeFileSync(short, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expectRefusedUntouched(short, 'foreign', /not a SQLite file/);
  });

  it('rolls back a write killed before the file became a WAL database, then judges the file', () => {
    // A process that dies mid-transaction in rollback-journal mode, after spilling pages into the file: a hot journal.
    const killMidWrite = (file: string, before: string) => {
      const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(file)}); db.exec(${JSON.stringify(before)});
        db.pragma('cache_size = 1'); db.exec('BEGIN');
        db.exec("CREATE TABLE spill (x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO spill SELECT randomblob(4000) FROM n");
        process.kill(process.pid, 'SIGKILL');`;
      spawnSync(process.execPath, ['-e', script], { cwd: REPO });
      expect(existsSync(`${file}-journal`)).toBe(true);
    };
    const fresh = freshPath('hot-journal.db');
    killMidWrite(fresh, '');
    RunStore.open(fresh).close();
    const raw = new Database(fresh, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'spill'`).pluck().get()).toBe(0);
    raw.close();

    const foreign = freshPath('hot-journal-foreign.db');
    killMidWrite(foreign, `CREATE TABLE contacts (name TEXT)`);
    expect(openError(foreign).code).toBe('foreign');
  });

  it('sets up an empty file as a new database', () => {
    const file = freshPath('empty.db');
    writeFileSync(file, '');
    RunStore.open(file).close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });
});

describe('read-only databases', () => {
  it('refuses read-write use of a write-protected file with a clear error, and serves it read-only', () => {
    const file = freshPath('protected.db');
    const store = RunStore.open(file);
    store.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' });
    store.updateStatus(1, 'finished');
    store.close();
    chmodSync(file, 0o444);
    chmodSync(folder, 0o777);
    // root writes anything: the check runs as an unprivileged user (nobody) when we are root.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const child = spawnSync(process.execPath, ['--import', 'tsx', READONLY_CHILD, file], { cwd: REPO, encoding: 'utf8', ...asNobody });
    chmodSync(folder, 0o700);
    expect(child.status, child.stderr).toBe(0);
    const { readWrite, readOnly } = JSON.parse(child.stdout);
    expect(readWrite.code).toBe('read-only');
    expect(readWrite.message).toMatch(new RegExp(`^cannot open the run database: ${file} or its folder is read-only`));
    expect(readOnly.value.runs).toBe(1);
    expect(readOnly.value.write.code).toBe('read-only');
  });

  it('refuses to open read-only what does not exist, and upgrades an older file a reader opens', () => {
    expect(openError(freshPath('missing.db'), { readOnly: true }).code).toBe('not-found');
    const file = freshPath('v1-readonly.db');
    const raw = new Database(file);
    raw.exec(V1_SQL);
    raw.close();
    const store = RunStore.open(file, { readOnly: true });
    try {
      expect(store.listRuns().length).toBeGreaterThanOrEqual(0);
    } finally {
      store.close();
    }
    const upgraded = new Database(file, { readonly: true });
    expect(upgraded.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    upgraded.close();
  });
});

describe('disk full', () => {
  it('fails the iteration in flight with a clear error, keeps everything before it, and lets training stop cleanly', () => {
    const file = freshPath('full.db');
    RunStore.open(file).close();
    const store = RunStore.open(file, { maxSizeBytes: 2 * 1024 * 1024 });
    const run = store.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' });
    const checkpoint = new Uint8Array(200 * 1024).fill(7);
    let failure: StoreError | undefined;
    let iteration = 1;
    for (; iteration < 100 && !failure; iteration++) {
      try {
        store.recordIteration(run.id, {
          iteration,
          envSteps: iteration,
          wallTimeS: iteration,
          values: { loss: iteration, [`new/series${iteration}`]: 1 },
          checkpoints: [{ iteration, envSteps: iteration, kind: 'periodic', data: checkpoint }],
        });
      } catch (error) {
        failure = error as StoreError;
      }
    }
    const failed = iteration - 1;
    expect(failure).toBeInstanceOf(StoreError);
    expect(failure!.code).toBe('disk-full');
    expect(failure!.message).toBe(`cannot record iteration ${failed} of run ${run.id}: the disk holding ${file} is full (nothing was half-written; free space and retry)`);
    expect(failed).toBeGreaterThan(3);

    // Nothing of the failed iteration, everything before it.
    expect(store.getRun(run.id)).toMatchObject({ iterations: failed - 1 });
    expect(store.metricSeries(run.id, 'loss')).toHaveLength(failed - 1);
    expect(store.seriesNames(run.id)).not.toContain(`new/series${failed}`);
    expect(store.latestCheckpoint(run.id)!.iteration).toBe(failed - 1);

    // An episode chunk that does not fit fails the same way.
    const writer = store.beginEpisode(run.id, {
      iteration: failed - 1,
      kind: 'eval',
      seed: 0,
      scenario: 'ring',
      params: {},
      dt: 0.1,
      horizon: 3000,
      vehicleLength: 5,
      nVehicles: 2000,
      nAgents: 0,
      obsDim: 0,
      action: { kind: 'continuous', low: -1, high: 1 },
      actionParamDim: 0,
      obsNames: [],
      rewardTermNames: [],
      agentVehicle: [],
      vehicleKind: Array(2000).fill(0),
      roadLength: 9000,
      edges: [],
    });
    const vehicles = new Float32Array(2000);
    const frame = { position: vehicles, speed: vehicles, accel: vehicles, gap: vehicles, vehicleAction: vehicles, agentAction: [], reward: [], value: [], obs: [], actionParams: [], rewardTerms: [] };
    expect(() => {
      for (let step = 0; step < 1000; step++) writer.append(frame);
    }).toThrow(/disk holding .* is full/);
    writer.abort();

    // Training stops cleanly: its final status still fits (it rewrites a page, it does not grow the file).
    expect(store.updateStatus(run.id, 'failed', failure!.message).status).toBe('failed');
    store.close();

    const raw = new Database(file);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    raw.close();
    // With room again, the run resumes where it stopped.
    const reopened = RunStore.open(file);
    expect(reopened.resumeRun(run.id).checkpoint!.iteration).toBe(failed - 1);
    reopened.recordIteration(run.id, { iteration: failed, envSteps: failed, wallTimeS: failed, values: { loss: failed } });
    expect(reopened.metricSeries(run.id, 'loss')).toHaveLength(failed);
    reopened.close();
    expect(existsSync(file)).toBe(true);
  });
});
