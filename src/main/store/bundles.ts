/**
 * Run bundles: a self-contained Headway database (same schema, application id and version)
 * holding only some runs with their iterations, metrics, checkpoints and complete episodes,
 * to share runs with colleagues and to bring finished runs home from other machines.
 *
 * Both directions copy row by row between two connections (one table after another, every
 * blob streamed through `iterate()`, never a whole table in memory) with one routine,
 * copyRuns(), which rewrites every reference through the old->new id maps:
 * - export keeps the ids (a bundle is a plain database anyone can open) and writes a temp file
 *   beside the target, renamed over it only when complete, so a failure leaves nothing;
 * - import gives every run, series, checkpoint and episode a fresh id in ONE transaction of
 *   the receiving database, so a failure imports nothing. Importing the same bundle twice
 *   makes two copies: runs have no identity across databases to recognise them by, and a
 *   colleague's re-sent bundle may hold the same runs trained further.
 * References that leave the bundle (a resumed run's parent, an episode's checkpoint or fork
 * parent that was not exported) become NULL. Unfinished episodes are left out: they are a
 * recording in flight, which the store deletes once its writer is gone. A run still
 * 'running' travels as 'interrupted': export refuses live writers, so its writer is gone, and
 * in the receiving database no process will ever write it.
 *
 * An older-schema bundle is upgraded on a temp copy beside the receiving database (the
 * sender's file is never changed); a foreign or newer file is refused by the store's own
 * open checks (database.ts), with the same messages.
 */
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { existingSchemaVersion, openDatabase } from './database.ts';
import { InvalidRecordError, StoreError, toStoreError } from './errors.ts';
import { SCHEMA_VERSION } from './schema.ts';

export interface BundleCounts {
  /** The runs' ids in the source database, in order, and their ids where they were written. */
  runs: { from: number; to: number }[];
  checkpoints: number;
  episodes: number;
}

export interface ExportedBundle extends BundleCounts {
  /** Absolute path of the bundle written. */
  file: string;
  bytes: number;
}

type Row = Record<string, unknown>;

/** Companion files SQLite may keep beside a database. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

const IN_RUNS = 'IN (SELECT value FROM json_each(@runIds))';

/**
 * Writes the runs `runIds` of `source` (checked to exist and not to be training by the
 * caller) to a new bundle at the absolute path `file`; an existing file is replaced only with
 * `overwrite`. `sourceFile` is the source database's path, which is never a target.
 */
export function exportBundle(source: Database.Database, sourceFile: string, runIds: readonly number[], file: string, overwrite: boolean): ExportedBundle {
  if (runIds.length === 0) throw new InvalidRecordError('a bundle needs at least one run');
  if (file === sourceFile) throw new InvalidRecordError(`the bundle cannot be the database it is exported from (${file})`);
  if (!overwrite && existsSync(file)) throw new StoreError('exists', file, `${file} exists; choose another file or overwrite it`);
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}-${Date.now()}.tmp`);
  let bundle: Database.Database | undefined;
  try {
    bundle = openDatabase(temp);
    const target = bundle;
    const counts = target.transaction(() => source.transaction(() => copyRuns(source, target, runIds, true))()).immediate();
    // Back to a rollback journal: the bundle is one file, with no -wal or -shm beside it.
    target.pragma('journal_mode = DELETE');
    target.close();
    renameSync(temp, file);
    return { ...counts, file, bytes: statSync(file).size };
  } catch (error) {
    bundle?.close();
    for (const suffix of ['', ...COMPANIONS]) rmSync(`${temp}${suffix}`, { force: true });
    throw toStoreError(error, file, 'write the bundle');
  }
}

/** Copies every run of the bundle at the absolute path `file` into `target` (at `targetFile`) with new ids, in one transaction. */
export function importBundle(target: Database.Database, targetFile: string, file: string): BundleCounts {
  if (file === targetFile) throw new InvalidRecordError(`${file} is this database; there is nothing to import`);
  const bundle = openBundle(file, targetFile);
  try {
    const { db } = bundle;
    // The run ids are read in the same read transaction as the rows they select.
    const copy = () => copyRuns(db, target, db.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[], false);
    return target.transaction(() => db.transaction(copy)()).immediate();
  } finally {
    bundle.close();
  }
}

/**
 * Opens a bundle for reading: as it is when it has this version's schema, else (older, or a
 * write to it was interrupted) a temp copy beside `targetFile` that the store's open upgrades.
 */
function openBundle(file: string, targetFile: string): { db: Database.Database; close: () => void } {
  try {
    if (!existsSync(file)) throw new StoreError('not-found', file, `${file} does not exist`);
    const version = existingSchemaVersion(file);
    if (version === null) throw new StoreError('not-found', file, `${file} is empty, not a run bundle`);
    if (version === SCHEMA_VERSION) {
      const db = openDatabase(file, { readOnly: true });
      return { db, close: () => db.close() };
    }
    const copy = join(dirname(targetFile), `.import-${process.pid}-${Date.now()}.db`);
    const remove = () => ['', ...COMPANIONS].forEach((suffix) => rmSync(`${copy}${suffix}`, { force: true }));
    try {
      // The -wal or -journal holds pages the file alone lacks; the -shm is rebuilt from them.
      for (const suffix of ['', '-wal', '-journal']) if (existsSync(`${file}${suffix}`)) copyFileSync(`${file}${suffix}`, `${copy}${suffix}`);
      const db = openDatabase(copy);
      return {
        db,
        close: () => {
          db.close();
          remove();
        },
      };
    } catch (error) {
      remove();
      throw error;
    }
  } catch (error) {
    throw toStoreError(error, file, 'read the bundle');
  }
}

/**
 * Copies the runs and everything recorded for them from `source` to `target`, inside the
 * caller's transactions. `keepIds`: rows keep their ids (export into an empty bundle); else
 * the target gives new ones. Every reference goes through the maps filled on the way.
 */
function copyRuns(source: Database.Database, target: Database.Database, runIds: readonly number[], keepIds: boolean): BundleCounts {
  const insert = inserter(target);
  const rows = (sql: string) => source.prepare(sql).iterate({ runIds: JSON.stringify(runIds) }) as IterableIterator<Row>;
  const id = (row: Row) => (keepIds ? row.id : null);
  const runs = new Map<number, number>();
  const series = new Map<number, number>();
  const checkpoints = new Map<number, number>();
  const episodes = new Map<number, number>();
  const runParents: Row[] = [];
  const episodeParents: Row[] = [];

  // Parents are linked once all runs (and episodes) are in: a parent may come after its child.
  for (const row of rows(`SELECT * FROM runs WHERE id ${IN_RUNS} ORDER BY id`)) {
    const settled = row.status === 'running' ? { status: 'interrupted', status_message: 'its training process ended before the run was bundled', ended_at: row.updated_at } : {};
    runs.set(row.id as number, insert('runs', { ...row, ...settled, id: id(row), parent_run_id: null, parent_checkpoint_id: null }));
    if (row.parent_run_id !== null) runParents.push(row);
  }
  for (const row of rows(`SELECT * FROM iterations WHERE run_id ${IN_RUNS}`)) insert('iterations', { ...row, run_id: runs.get(row.run_id as number) });
  for (const row of rows(`SELECT * FROM series WHERE run_id ${IN_RUNS}`)) {
    series.set(row.id as number, insert('series', { ...row, id: id(row), run_id: runs.get(row.run_id as number) }));
  }
  for (const row of rows(`SELECT m.* FROM metrics m JOIN series s ON s.id = m.series_id WHERE s.run_id ${IN_RUNS}`)) {
    insert('metrics', { ...row, series_id: series.get(row.series_id as number) });
  }
  for (const row of rows(`SELECT * FROM checkpoints WHERE run_id ${IN_RUNS} ORDER BY id`)) {
    checkpoints.set(row.id as number, insert('checkpoints', { ...row, id: id(row), run_id: runs.get(row.run_id as number) }));
  }
  for (const row of rows(`SELECT * FROM episodes WHERE run_id ${IN_RUNS} AND complete = 1 ORDER BY id`)) {
    const checkpointId = checkpoints.get(row.checkpoint_id as number) ?? null;
    episodes.set(row.id as number, insert('episodes', { ...row, id: id(row), run_id: runs.get(row.run_id as number), checkpoint_id: checkpointId, parent_episode_id: null }));
    if (row.parent_episode_id !== null) episodeParents.push(row);
  }
  const chunks = `SELECT c.* FROM episode_chunks c JOIN episodes e ON e.id = c.episode_id
    WHERE e.run_id ${IN_RUNS} AND e.complete = 1 ORDER BY c.episode_id, c.first_step`;
  for (const row of rows(chunks)) insert('episode_chunks', { ...row, episode_id: episodes.get(row.episode_id as number) });

  const linkRun = target.prepare('UPDATE runs SET parent_run_id = ?, parent_checkpoint_id = ? WHERE id = ?');
  for (const row of runParents) {
    const parent = runs.get(row.parent_run_id as number);
    if (parent !== undefined) linkRun.run(parent, checkpoints.get(row.parent_checkpoint_id as number) ?? null, runs.get(row.id as number));
  }
  const linkEpisode = target.prepare('UPDATE episodes SET parent_episode_id = ? WHERE id = ?');
  for (const row of episodeParents) {
    const parent = episodes.get(row.parent_episode_id as number);
    if (parent !== undefined) linkEpisode.run(parent, episodes.get(row.id as number));
  }
  return { runs: [...runs].map(([from, to]) => ({ from, to })), checkpoints: checkpoints.size, episodes: episodes.size };
}

/** Inserts a row of a table by its column names (the target's schema: both sides have the same version); returns its rowid. */
function inserter(db: Database.Database): (table: string, row: Row) => number {
  const statements = new Map<string, Database.Statement>();
  return (table, row) => {
    let statement = statements.get(table);
    if (!statement) {
      const columns = (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);
      statement = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((name) => `@${name}`).join(', ')})`);
      statements.set(table, statement);
    }
    return Number(statement.run(row).lastInsertRowid);
  };
}
