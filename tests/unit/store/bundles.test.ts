/** Run bundles: export runs to a self-contained database and import them elsewhere with new ids. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, SCHEMA_VERSION } from '../../../src/main/store/index.ts';
import { APPLICATION_ID, MIGRATIONS } from '../../../src/main/store/schema.ts';
import type { StoredEpisodeSpec, TrajectoryStepInput } from '../../../src/shared/runs.ts';
import { ringEpisodeSpec } from '../../fixtures/store/ringEpisode.ts';

const root = mkdtempSync(join(tmpdir(), 'headway-store-bundles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folder: string;
let source: RunStore;
let folderCount = 0;
beforeEach(() => {
  folder = join(root, String(folderCount++));
  source = RunStore.open(join(folder, 'source.db'));
});
afterEach(() => source.close());

const N = 6;
const FRAMES = 3001;
const RING: StoredEpisodeSpec = ringEpisodeSpec(N, { iteration: 2, seed: 5, rewardTermNames: ['speed'] });

/** Step t's buffers; the actions are float64 values no float32 holds, so exactness is checked. */
function step(t: number, salt: number): TrajectoryStepInput {
  const values = (length: number, k0: number) => Float64Array.from({ length }, (_, k) => Math.sin(t * 0.013 + k + k0 + salt) * 7 + 1 / 3);
  return {
    position: values(N, 0),
    speed: values(N, 1),
    accel: values(N, 2),
    gap: values(N, 3),
    vehicleAction: values(N, 4),
    agentAction: values(N, 5),
    reward: values(N, 6),
    value: values(N, 7),
    obs: values(2 * N, 8),
    actionParams: values(2 * N, 9),
    rewardTerms: values(N, 10),
  };
}

function storeEpisode(store: RunStore, runId: number, spec: Partial<StoredEpisodeSpec>, salt: number, frames = FRAMES): number {
  const writer = store.beginEpisode(runId, { ...RING, ...spec });
  for (let t = 0; t < frames; t++) writer.append(step(t, salt));
  return writer.finish().id;
}

const checkpointBytes = (seed: number) => Uint8Array.from({ length: 70_000 }, (_, i) => (i * seed + 13) & 255);

/** Two runs: `first` with 3 iterations, 2 checkpoints and an episode; `second` resumed from it, with a fork of that episode. */
function twoRuns(store: RunStore) {
  const first = store.createRun({ scenario: 'ring', params: { length: 230 }, algo: 'ippo', config: { lr: 1e-3 }, seed: 1, appVersion: 'test', tags: ['a'] }).id;
  for (let iteration = 1; iteration <= 3; iteration++) {
    store.recordIteration(first, {
      iteration,
      envSteps: iteration * 3000,
      wallTimeS: iteration / 2,
      values: { return: -iteration, loss: Number.NaN, [`return/agent0`]: iteration * 1.5 },
      checkpoints: iteration === 3 ? [] : [{ iteration, envSteps: iteration * 3000, kind: 'periodic', data: checkpointBytes(iteration), meta: { iteration } }],
    });
  }
  const checkpoint = store.latestCheckpoint(first)!.id;
  const episode = storeEpisode(store, first, { checkpointId: checkpoint }, 0);
  store.updateStatus(first, 'finished');
  const second = store.createRun({ scenario: 'ring', params: { length: 230 }, algo: 'ippo', config: {}, seed: 2, appVersion: 'test', parent: { runId: first, relation: 'resume', checkpointId: checkpoint } }).id;
  store.appendMetrics(second, 1, 3000, 1, { return: 4 });
  const fork = storeEpisode(store, second, { fork: { parentEpisodeId: episode, step: 800, policy: 'idle' } }, 1, 400);
  store.updateStatus(second, 'stopped');
  return { first, second, checkpoint, episode, fork };
}

describe('run bundles', () => {
  it('round-trips two runs: metrics, checkpoint bytes, a 3000-step episode with exact actions, a fork linked to its parent', () => {
    const { first, second, episode, fork } = twoRuns(source);
    const file = join(folder, 'share.db');
    const exported = source.exportBundle([first, second], file);
    expect(exported).toMatchObject({ file, checkpoints: 2, episodes: 2, runs: [{ from: first, to: first }, { from: second, to: second }] });
    expect(readdirSync(folder).sort()).toEqual(['share.db', 'source.db', 'source.db-shm', 'source.db-wal']);

    const target = RunStore.open(join(folder, 'target.db'));
    try {
      const other = target.createRun({ scenario: 'ring', params: {}, algo: 'dmpo', config: {}, seed: 9, appVersion: 'test' });
      target.appendMetrics(other.id, 1, 10, 1, { return: 99 });
      target.updateStatus(other.id, 'finished');
      const imported = target.importBundle(file);
      expect(imported.checkpoints).toBe(2);
      expect(imported.episodes).toBe(2);
      const ids = new Map(imported.runs.map(({ from, to }) => [from, to]));
      expect([...ids.keys()]).toEqual([first, second]);
      expect(new Set([other.id, ...ids.values()]).size).toBe(3);
      // What was there is untouched.
      expect(target.getRun(other.id)).toMatchObject({ algo: 'dmpo', status: 'finished' });
      expect(target.metricSeries(other.id, 'return').map((p) => p.value)).toEqual([99]);

      for (const [from, to] of ids) {
        // Everything but the id and the parent (checked below) travels as it was.
        expect({ ...target.getRun(to)!, id: from, parent: null }).toEqual({ ...source.getRun(from)!, parent: null });
        expect(target.seriesNames(to)).toEqual(source.seriesNames(from));
        for (const name of source.seriesNames(from)) expect(target.metricSeries(to, name)).toEqual(source.metricSeries(from, name));
        const [sourceCheckpoints, targetCheckpoints] = [source.listCheckpoints(from), target.listCheckpoints(to)];
        expect(targetCheckpoints.map((c) => c.iteration)).toEqual(sourceCheckpoints.map((c) => c.iteration));
        sourceCheckpoints.forEach((c, k) => expect(Buffer.from(target.loadCheckpoint(targetCheckpoints[k].id).data)).toEqual(Buffer.from(source.loadCheckpoint(c.id).data)));
      }
      const newCheckpoint = target.latestCheckpoint(ids.get(first)!)!.id;
      expect(target.getRun(ids.get(second)!)!.parent).toEqual({ runId: ids.get(first), relation: 'resume', checkpointId: newCheckpoint });

      const [newEpisode] = target.listEpisodes(ids.get(first)!);
      const [newFork] = target.listEpisodes(ids.get(second)!);
      expect(newEpisode).toMatchObject({ steps: FRAMES, complete: true, checkpointId: newCheckpoint });
      expect(newFork.fork).toEqual({ parentEpisodeId: newEpisode.id, step: 800, policy: 'idle' });
      expect(target.readSteps(newEpisode.id, 0, FRAMES)).toEqual(source.readSteps(episode, 0, FRAMES));
      expect(target.readActions(newEpisode.id, 0, FRAMES)).toEqual(source.readActions(episode, 0, FRAMES));
      expect(target.readActions(newFork.id, 0, 400)).toEqual(source.readActions(fork, 0, 400));

      // A second import is a second copy, with ids of its own.
      const again = target.importBundle(file);
      expect(again.runs.map((r) => r.to).some((id) => ids.has(id) || [...ids.values()].includes(id))).toBe(false);
      expect(target.listRuns()).toHaveLength(5);
    } finally {
      target.close();
    }
  });

  it('drops links leaving the bundle, and turns a run whose writer is gone into interrupted', () => {
    const { second, fork } = twoRuns(source);
    const file = join(folder, 'second.db');
    source.exportBundle([second], file);
    const target = RunStore.open(join(folder, 'target.db'));
    try {
      const [{ to }] = target.importBundle(file).runs;
      expect(target.getRun(to)!.parent).toBeNull();
      const [episode] = target.listEpisodes(to);
      expect(episode.fork).toEqual({ parentEpisodeId: null, step: 800, policy: 'idle' });
      expect(target.readSteps(episode.id, 0, 400)).toEqual(source.readSteps(fork, 0, 400));
    } finally {
      target.close();
    }

    // A 'running' run whose process died (pid 2^31 - 1 exists nowhere) is exported and imported as interrupted.
    const bundled = join(folder, 'dead.db');
    const orphan = source.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: 3, appVersion: 'test' }).id;
    const raw = new Database(source.file);
    raw.prepare('UPDATE runs SET writer_pid = 2147483647 WHERE id = ?').run(orphan);
    raw.close();
    source.exportBundle([orphan], bundled);
    const receiver = RunStore.open(join(folder, 'receiver.db'));
    try {
      const [{ to }] = receiver.importBundle(bundled).runs;
      expect(receiver.getRun(to)).toMatchObject({ status: 'interrupted', statusMessage: 'its training process ended before the run was bundled' });
    } finally {
      receiver.close();
    }
  });

  it('refuses missing and live runs, an existing target, and the source itself, leaving no file', () => {
    const { first } = twoRuns(source);
    const live = source.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: 3, appVersion: 'test' }).id;
    const file = join(folder, 'out.db');
    expect(() => source.exportBundle([first, 404], file)).toThrow(expect.objectContaining({ code: 'not-found', message: expect.stringMatching(/run 404 does not exist/) }));
    expect(() => source.exportBundle([live], file)).toThrow(expect.objectContaining({ code: 'conflict', message: expect.stringMatching(`cannot export it: run ${live} is training in this process`) }));
    expect(() => source.exportBundle([first], source.file)).toThrow(/cannot be the database it is exported from/);
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, 'keep me');
    expect(() => source.exportBundle([first], file)).toThrow(expect.objectContaining({ code: 'exists' }));
    source.exportBundle([first], file, { overwrite: true });
    expect(readdirSync(folder).filter((name) => name.includes('out.db'))).toEqual(['out.db']);
  });

  it('refuses a missing file, a file that is not Headway’s and a newer schema with the store’s messages', () => {
    const target = RunStore.open(join(folder, 'target.db'));
    try {
      const missing = join(folder, 'missing.db');
      expect(() => target.importBundle(missing)).toThrow(expect.objectContaining({ code: 'not-found', message: `${missing} does not exist` }));
      const text = join(folder, 'notes.db');
      writeFileSync(text, 'x'.repeat(200));
      expect(() => target.importBundle(text)).toThrow(expect.objectContaining({ code: 'foreign', message: `${text} is not a Headway database (not a SQLite file); it was left untouched` }));
      const other = join(folder, 'other.db');
      const otherDb = new Database(other);
      otherDb.exec('CREATE TABLE t (x)');
      otherDb.close();
      expect(() => target.importBundle(other)).toThrow(expect.objectContaining({ code: 'foreign' }));

      const newer = join(folder, 'newer.db');
      source.exportBundle([twoRuns(source).first], newer);
      const newerDb = new Database(newer);
      newerDb.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      newerDb.close();
      for (const open of [() => target.importBundle(newer), () => RunStore.open(newer)]) {
        expect(open).toThrow(expect.objectContaining({ code: 'newer-schema', message: expect.stringMatching(`database schema ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}`) }));
      }
      expect(target.listRuns()).toEqual([]);
    } finally {
      target.close();
    }
  });

  it('upgrades an older-schema bundle on a copy, leaving the file as it was', () => {
    const old = join(folder, 'old.db');
    const db = new Database(old);
    for (const migration of MIGRATIONS.slice(0, 2)) db.exec(migration);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 2');
    db.prepare(`INSERT INTO runs (name, scenario, params, algo, config, seed, app_version, status, created_at, updated_at)
      VALUES ('old run', 'ring', '{}', 'ippo', '{}', 1, '0.1', 'finished', 1, 1)`).run();
    db.close();
    const target = RunStore.open(join(folder, 'target.db'));
    try {
      const [{ to }] = target.importBundle(old).runs;
      expect(target.getRun(to)).toMatchObject({ name: 'old run', status: 'finished' });
      expect(readdirSync(folder).filter((name) => name.startsWith('.import'))).toEqual([]);
    } finally {
      target.close();
    }
    const again = new Database(old, { readonly: true });
    expect(again.pragma('user_version', { simple: true })).toBe(2);
    again.close();
  });

  it('writes and imports nothing when a row fails half-way (an episode that breaks a constraint)', () => {
    const { first, second } = twoRuns(source);
    const file = join(folder, 'broken.db');
    source.exportBundle([first, second], file);
    // The last episode gets a kind the schema forbids: its insert fails after runs, metrics, checkpoints and the first episode.
    const breakLastEpisode = (path: string) => {
      const db = new Database(path);
      db.pragma('ignore_check_constraints = ON');
      db.exec(`UPDATE episodes SET kind = 'bogus' WHERE id = (SELECT max(id) FROM episodes)`);
      db.close();
    };
    breakLastEpisode(file);
    breakLastEpisode(source.file);
    expect(() => source.exportBundle([first, second], join(folder, 'never.db'))).toThrow(/CHECK constraint failed/);
    expect(readdirSync(folder).filter((name) => !name.startsWith('source.db'))).toEqual(['broken.db']);

    const target = RunStore.open(join(folder, 'target.db'));
    try {
      const kept = target.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' }).id;
      target.updateStatus(kept, 'finished');
      expect(() => target.importBundle(file)).toThrow(/CHECK constraint failed/);
      expect(target.listRuns().map((r) => r.id)).toEqual([kept]);
      const raw = new Database(target.file, { readonly: true });
      for (const table of ['series', 'metrics', 'iterations', 'checkpoints', 'episodes', 'episode_chunks']) {
        expect(raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), table).toBe(0);
      }
      raw.close();
    } finally {
      target.close();
    }
  });
});
