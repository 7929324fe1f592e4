/**
 * The experiment history: runs, per-iteration metrics, checkpoints and recorded episodes in
 * one SQLite file (better-sqlite3, synchronous).
 *
 * Concurrency: WAL mode, so any number of readers (the app, the CLI) read while one process
 * trains; a run has one writer at a time, the process that created or resumed it, recorded
 * by host and pid. Reads are single statements or short read transactions, never holding
 * the database while the caller works.
 *
 * Durability: every public write is one transaction. recordIteration() writes an iteration's
 * metrics and checkpoints together, so a process killed at any moment loses at most the
 * iteration in flight; the next RunStore opened read-write marks the run interrupted and
 * deletes its unfinished episode, and resumeRun() continues from the last checkpoint.
 * synchronous=NORMAL: a killed process loses nothing committed; a power cut may lose the last
 * commits but never corrupts the file.
 *
 * Every failure is a StoreError naming the file (errors.ts).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  CheckpointInfo,
  CheckpointKind,
  EpisodeInfo,
  EpisodeKind,
  IterationMetrics,
  JsonObject,
  LoadedCheckpoint,
  MetricPoint,
  NewRun,
  RunDetail,
  RunFilter,
  RunColumns,
  RunStatus,
  RunSummary,
  StoredEpisodeSpec,
  TrajectoryFrame,
} from '../../shared/runs.ts';
import { EpisodeWriter, type EpisodeSink, type EpisodeSummary, type StoredChunk } from './episodeWriter.ts';
import { InvalidRecordError, StoreError, toStoreError } from './errors.ts';
import { defaultDatabasePath } from './paths.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { TrajectoryCodec } from './trajectoryCodec.ts';
import { TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { isWriterGone, THIS_HOST, type WriterClaim } from './writerLiveness.ts';

export interface OpenOptions {
  /** Open without writing anything (no migration, no interrupted-run marking). */
  readOnly?: boolean;
  /** How long a write waits for another process's write lock before failing 'busy' (default 5000). */
  busyTimeoutMs?: number;
  /** Refuse to grow the file beyond about this size: writes past it fail as 'disk-full'. */
  maxSizeBytes?: number;
}

export interface CheckpointInput {
  iteration: number;
  envSteps: number;
  kind: CheckpointKind;
  data: Uint8Array;
  meta?: JsonObject;
  evalReturn?: number | null;
  /** After saving a periodic checkpoint, keep only the newest this many periodic ones of the run. */
  keepPeriodic?: number;
}

export interface IterationRecord extends IterationMetrics {
  checkpoints?: readonly CheckpointInput[];
}

export interface ResumedRun {
  run: RunDetail;
  /** The checkpoint to continue from; null when the run has none (start it over). */
  checkpoint: LoadedCheckpoint | null;
}

export interface EpisodeFilter {
  kind?: EpisodeKind;
  iteration?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const PAGE_SIZE = 16384;

/** Claims held by this thread, `${file}\0${runId}` (see isWriterGone for a pid equal to ours without one). */
const runsClaimedHere = new Set<string>();
const episodesClaimedHere = new Set<string>();
/** Claims this thread gave up by closing its store without closing the run or episode: their writer is gone. */
const runsReleasedHere = new Set<string>();
const episodesReleasedHere = new Set<string>();

function claimOf(key: string, claimed: Set<string>, released: Set<string>): WriterClaim {
  return claimed.has(key) ? 'held' : released.has(key) ? 'released' : 'none';
}

interface RunRow {
  id: number;
  name: string;
  scenario: string;
  params: string;
  algo: string;
  config: string;
  seed: number;
  preset: string | null;
  backend: string | null;
  app_version: string;
  status: RunStatus;
  status_message: string | null;
  tags: string;
  notes: string;
  parent_run_id: number | null;
  parent_relation: 'resume' | 'fork' | null;
  parent_checkpoint_id: number | null;
  iterations: number;
  env_steps: number;
  wall_time_s: number;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  writer_host: string | null;
  writer_pid: number | null;
  heartbeat_at: number | null;
  last_eval_return: number | null;
}

interface CheckpointRow {
  id: number;
  run_id: number;
  iteration: number;
  env_steps: number;
  kind: CheckpointKind;
  eval_return: number | null;
  meta: string;
  created_at: number;
  bytes: number;
}

interface EpisodeRow {
  id: number;
  run_id: number;
  checkpoint_id: number | null;
  iteration: number;
  kind: EpisodeKind;
  seed: number;
  scenario: string;
  env: string;
  n_vehicles: number;
  n_agents: number;
  obs_dim: number;
  action_param_dim: number;
  n_reward_terms: number;
  chunk_steps: number;
  steps: number;
  complete: number;
  episode_return: number | null;
  collisions: number | null;
  stats: string;
  writer_host: string;
  writer_pid: number;
  created_at: number;
  finished_at: number | null;
}

/** The StoredEpisodeSpec fields kept as JSON in episodes.env. */
type EpisodeEnvJson = Pick<
  StoredEpisodeSpec,
  'params' | 'dt' | 'horizon' | 'action' | 'obsNames' | 'rewardTermNames' | 'agentVehicle' | 'vehicleKind' | 'edges' | 'roadLength' | 'vehicleLength'
>;

const iso = (ms: number): string => new Date(ms).toISOString();

// Mean return of the complete eval episodes of the run's latest evaluated iteration.
const LAST_EVAL_RETURN_SQL = `(SELECT avg(e.episode_return) FROM episodes e
  WHERE e.run_id = r.id AND e.kind = 'eval' AND e.complete = 1
    AND e.iteration = (SELECT max(iteration) FROM episodes WHERE run_id = r.id AND kind = 'eval' AND complete = 1))`;

const SUMMARY_COLUMNS = `r.id, r.name, r.scenario, r.algo, r.status, r.iterations, r.env_steps, r.created_at, ${LAST_EVAL_RETURN_SQL} AS last_eval_return`;
const CHECKPOINT_COLUMNS = 'id, run_id, iteration, env_steps, kind, eval_return, meta, created_at, bytes';

function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO runs (name, scenario, params, algo, config, seed, preset, backend, app_version, status, tags, notes,
        parent_run_id, parent_relation, parent_checkpoint_id, created_at, updated_at, writer_host, writer_pid, heartbeat_at)
      VALUES (@name, @scenario, @params, @algo, @config, @seed, @preset, @backend, @appVersion, 'running', @tags, @notes,
        @parentRunId, @parentRelation, @parentCheckpointId, @now, @now, @host, @pid, @now)`),
    runDetail: p(`SELECT r.*, ${LAST_EVAL_RETURN_SQL} AS last_eval_return FROM runs r WHERE r.id = ?`),
    runWriter: p('SELECT status, writer_host, writer_pid, heartbeat_at FROM runs WHERE id = ?'),
    runningRuns: p(`SELECT id, writer_host, writer_pid, heartbeat_at FROM runs WHERE status = 'running'`),
    setStatus: p('UPDATE runs SET status = @status, status_message = @message, updated_at = @now, ended_at = @now WHERE id = @id'),
    markInterrupted: p(`UPDATE runs SET status = 'interrupted', status_message = @message, updated_at = @now, ended_at = @now
      WHERE id = @id AND status = 'running' AND writer_pid IS @pid`),
    claimRun: p(`UPDATE runs SET status = 'running', status_message = NULL, ended_at = NULL, updated_at = @now,
        writer_host = @host, writer_pid = @pid, heartbeat_at = @now, iterations = @iterations, env_steps = @envSteps,
        wall_time_s = @wallTimeS WHERE id = @id`),
    setTags: p('UPDATE runs SET tags = ?, updated_at = ? WHERE id = ?'),
    setNotes: p('UPDATE runs SET notes = ?, updated_at = ? WHERE id = ?'),
    rename: p('UPDATE runs SET name = ?, updated_at = ? WHERE id = ?'),
    deleteRun: p('DELETE FROM runs WHERE id = ?'),
    // SET expressions all see the old row: a re-recorded earlier iteration does not move the run back.
    advanceRun: p(`UPDATE runs SET
        env_steps = CASE WHEN @iteration >= iterations THEN @envSteps ELSE env_steps END,
        wall_time_s = CASE WHEN @iteration >= iterations THEN @wallTimeS ELSE wall_time_s END,
        iterations = max(iterations, @iteration), heartbeat_at = @now, updated_at = @now
      WHERE id = @runId`),
    upsertIteration: p(`INSERT INTO iterations (run_id, iteration, env_steps, wall_time_s, recorded_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (run_id, iteration) DO UPDATE SET env_steps = excluded.env_steps, wall_time_s = excluded.wall_time_s,
        recorded_at = excluded.recorded_at`),
    seriesId: p(`INSERT INTO series (run_id, name) VALUES (?, ?) ON CONFLICT (run_id, name) DO UPDATE SET name = excluded.name
      RETURNING id`).pluck(),
    upsertMetric: p(`INSERT INTO metrics (series_id, iteration, value) VALUES (?, ?, ?)
      ON CONFLICT (series_id, iteration) DO UPDATE SET value = excluded.value`),
    seriesNames: p('SELECT name FROM series WHERE run_id = ? ORDER BY name').pluck(),
    seriesColumns: p(`SELECT s.run_id, i.iteration, i.env_steps, i.wall_time_s, m.value
      FROM series s JOIN metrics m ON m.series_id = s.id JOIN iterations i ON i.run_id = s.run_id AND i.iteration = m.iteration
      WHERE s.run_id IN (SELECT value FROM json_each(?)) AND s.name = ? ORDER BY s.run_id, m.iteration`).raw(),
    seriesPoints: p(`SELECT i.iteration, i.env_steps AS envSteps, i.wall_time_s AS wallTimeS, m.value
      FROM series s JOIN metrics m ON m.series_id = s.id JOIN iterations i ON i.run_id = s.run_id AND i.iteration = m.iteration
      WHERE s.run_id = ? AND s.name = ? ORDER BY m.iteration`),
    iterationRow: p(`SELECT iteration, env_steps AS envSteps, wall_time_s AS wallTimeS FROM iterations
      WHERE run_id = @runId AND iteration = coalesce(@iteration, (SELECT max(iteration) FROM iterations WHERE run_id = @runId))`),
    iterationValues: p(`SELECT s.name, m.value FROM series s JOIN metrics m ON m.series_id = s.id
      WHERE s.run_id = ? AND m.iteration = ?`),
    insertCheckpoint: p(`INSERT INTO checkpoints (run_id, iteration, env_steps, kind, eval_return, meta, created_at, bytes, data)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${CHECKPOINT_COLUMNS}`),
    deleteBest: p(`DELETE FROM checkpoints WHERE run_id = ? AND kind = 'best'`),
    prunePeriodic: p(`DELETE FROM checkpoints WHERE run_id = @runId AND kind = 'periodic' AND id NOT IN
      (SELECT id FROM checkpoints WHERE run_id = @runId AND kind = 'periodic' ORDER BY iteration DESC, id DESC LIMIT @keep)`),
    listCheckpoints: p(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE run_id = ? ORDER BY iteration, id`),
    // Ties at one iteration prefer the periodic checkpoint: it is the one saved for resuming.
    latestCheckpoint: p(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE run_id = ?
      ORDER BY iteration DESC, kind = 'periodic' DESC, id DESC LIMIT 1`),
    bestCheckpoint: p(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE run_id = ? AND kind = 'best'
      ORDER BY id DESC LIMIT 1`),
    checkpoint: p(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE id = ?`),
    checkpointData: p('SELECT data FROM checkpoints WHERE id = ?').pluck(),
    truncateMetrics: p('DELETE FROM metrics WHERE series_id IN (SELECT id FROM series WHERE run_id = ?) AND iteration > ?'),
    truncateIterations: p('DELETE FROM iterations WHERE run_id = ? AND iteration > ?'),
    truncateCheckpoints: p('DELETE FROM checkpoints WHERE run_id = ? AND iteration > ?'),
    truncateEpisodes: p('DELETE FROM episodes WHERE run_id = ? AND iteration > ?'),
    insertEpisode: p(`INSERT INTO episodes (run_id, checkpoint_id, iteration, kind, seed, scenario, env, n_vehicles, n_agents,
        obs_dim, action_param_dim, n_reward_terms, chunk_steps, writer_host, writer_pid, created_at)
      VALUES (@runId, @checkpointId, @iteration, @kind, @seed, @scenario, @env, @nVehicles, @nAgents, @obsDim, @actionParamDim,
        @nRewardTerms, @chunkSteps, @host, @pid, @now) RETURNING id`).pluck(),
    insertChunk: p('INSERT INTO episode_chunks (episode_id, first_step, n_steps, data) VALUES (?, ?, ?, ?)'),
    setEpisodeSteps: p('UPDATE episodes SET steps = ? WHERE id = ?'),
    completeEpisode: p(`UPDATE episodes SET steps = @steps, complete = 1, episode_return = @episodeReturn,
        collisions = @collisions, stats = @stats, finished_at = @now WHERE id = @id AND complete = 0`),
    deleteEpisode: p('DELETE FROM episodes WHERE id = ?'),
    deleteUnfinishedEpisode: p('DELETE FROM episodes WHERE id = ? AND complete = 0'),
    unfinishedEpisodes: p('SELECT id, writer_host, writer_pid, created_at FROM episodes WHERE complete = 0'),
    episode: p('SELECT * FROM episodes WHERE id = ?'),
    episodes: p(`SELECT * FROM episodes WHERE run_id = @runId AND (@kind IS NULL OR kind = @kind)
      AND (@iteration IS NULL OR iteration = @iteration) ORDER BY iteration, id`),
    // Chunks start at multiples of chunk_steps, so those overlapping [from, to) start in [from - from % chunk, to).
    chunksInRange: p(`SELECT first_step, n_steps, data FROM episode_chunks
      WHERE episode_id = ? AND first_step >= ? AND first_step < ? ORDER BY first_step`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class RunStore {
  private readonly sql: Statements;
  /** `${runId}\0${name}` -> series id; cleared whenever a write transaction fails (its new series rolled back). */
  private readonly seriesIds = new Map<string, number>();
  private readonly listStatements = new Map<string, Database.Statement>();
  private readonly recordIterationTx: Database.Transaction<(runId: number, record: IterationRecord) => CheckpointInfo[]>;

  private constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    private readonly db: Database.Database,
    readonly readOnly: boolean,
  ) {
    this.sql = prepareStatements(db);
    this.recordIterationTx = db.transaction((runId: number, record: IterationRecord) => {
      this.writeMetrics(runId, record);
      return (record.checkpoints ?? []).map((checkpoint) => this.writeCheckpoint(runId, checkpoint));
    });
  }

  /**
   * Opens (creating it and its folder when missing) and upgrades the database. A file that is
   * not Headway's, or was written by a newer schema, is refused without being modified.
   * Opened read-write, it also marks runs whose writer died as interrupted.
   */
  static open(file: string = defaultDatabasePath(), options: OpenOptions = {}): RunStore {
    const path = resolve(file);
    const readOnly = options.readOnly ?? false;
    let db: Database.Database | undefined;
    try {
      if (!readOnly) mkdirSync(dirname(path), { recursive: true });
      let version = existingSchemaVersion(path);
      // SQLite would open a write-protected file read-only without a word and fail at the first write.
      if (!readOnly && version !== null) accessSync(path, constants.W_OK);
      if (readOnly && version !== SCHEMA_VERSION) throw cannotReadOnly(path, version);
      db = new Database(path, { readonly: readOnly, fileMustExist: readOnly });
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
      db.pragma('foreign_keys = ON');
      if (version === 'needs-rollback') version = schemaVersionOf(db, path);
      if (!readOnly) {
        // 16 KiB pages: checkpoint and trajectory blobs write 2-3x faster than with 4 KiB (bench/store.ts).
        // The page size is fixed once WAL is on, so only a new file gets it.
        if (version === null) db.pragma(`page_size = ${PAGE_SIZE}`);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // After a burst (a large checkpoint), give the WAL file's space back at the next checkpoint.
        db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
        migrate(db, path);
      }
      if (options.maxSizeBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSizeBytes / pageSize))}`);
      }
      const store = new RunStore(path, db, readOnly);
      if (!readOnly) store.markInterruptedRuns();
      return store;
    } catch (error) {
      db?.close();
      throw toStoreError(error, path, 'open the run database');
    }
  }

  /** Closes the connection. Runs this store still claims will show as interrupted to later opens. */
  close(): void {
    for (const [claimed, released] of [
      [runsClaimedHere, runsReleasedHere],
      [episodesClaimedHere, episodesReleasedHere],
    ]) {
      for (const key of [...claimed]) {
        if (!key.startsWith(`${this.file}\0`)) continue;
        claimed.delete(key);
        released.add(key);
      }
    }
    this.db.close();
  }

  // ---------------------------------------------------------------- runs

  /** Creates a run in status 'running', written by this process. */
  createRun(run: NewRun): RunDetail {
    return this.guard('create a run', () => {
      if (!Number.isSafeInteger(run.seed)) throw new InvalidRecordError(`seed must be an integer, got ${run.seed}`);
      const now = Date.now();
      const id = Number(
        this.sql.insertRun.run({
          name: run.name ?? `${run.algo} on ${run.scenario}, seed ${run.seed}`,
          scenario: run.scenario,
          params: JSON.stringify(run.params),
          algo: run.algo,
          config: JSON.stringify(run.config),
          seed: run.seed,
          preset: run.preset ?? null,
          backend: run.backend ?? null,
          appVersion: run.appVersion,
          tags: JSON.stringify(run.tags ?? []),
          notes: run.notes ?? '',
          parentRunId: run.parent?.runId ?? null,
          parentRelation: run.parent?.relation ?? null,
          parentCheckpointId: run.parent?.checkpointId ?? null,
          now,
          host: THIS_HOST,
          pid: process.pid,
        }).lastInsertRowid,
      );
      runsClaimedHere.add(this.claimKey(id));
      return this.requireRun(id);
    });
  }

  getRun(runId: number): RunDetail | null {
    return this.guard(`read run ${runId}`, () => {
      const row = this.sql.runDetail.get(runId) as RunRow | undefined;
      return row ? toRunDetail(row) : null;
    });
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    return this.guard('list runs', () => {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: filter.limit ?? -1, offset: filter.offset ?? 0 };
      const narrow = (condition: string, name: string, value: unknown) => {
        where.push(condition);
        params[name] = value;
      };
      if (filter.status !== undefined) {
        const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
        narrow('r.status IN (SELECT value FROM json_each(@statuses))', 'statuses', JSON.stringify(statuses));
      }
      if (filter.scenario !== undefined) narrow('r.scenario = @scenario', 'scenario', filter.scenario);
      if (filter.algo !== undefined) narrow('r.algo = @algo', 'algo', filter.algo);
      if (filter.tag !== undefined) narrow('EXISTS (SELECT 1 FROM json_each(r.tags) WHERE value = @tag)', 'tag', filter.tag);
      if (filter.nameContains !== undefined) narrow('instr(lower(r.name), lower(@nameContains)) > 0', 'nameContains', filter.nameContains);
      if (filter.parentRunId !== undefined) narrow('r.parent_run_id = @parentRunId', 'parentRunId', filter.parentRunId);
      const sql = `SELECT ${SUMMARY_COLUMNS} FROM runs r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.created_at DESC, r.id DESC LIMIT @limit OFFSET @offset`;
      let statement = this.listStatements.get(sql);
      if (!statement) this.listStatements.set(sql, (statement = this.db.prepare(sql)));
      return (statement.all(params) as RunRow[]).map(toRunSummary);
    });
  }

  /**
   * Ends the run's training with a final status ('running' is only entered through createRun
   * and resumeRun). Refused while another live process writes it.
   */
  updateStatus(runId: number, status: Exclude<RunStatus, 'running'>, message: string | null = null): RunDetail {
    return this.guard(`mark run ${runId} ${status}`, () => {
      if ((status as RunStatus) === 'running') throw new InvalidRecordError(`a run becomes running only by createRun or resumeRun`);
      this.db
        .transaction(() => {
          this.checkWriter(runId, `mark it ${status}`, true);
          this.sql.setStatus.run({ id: runId, status, message, now: Date.now() });
        })
        .immediate();
      runsClaimedHere.delete(this.claimKey(runId));
      return this.requireRun(runId);
    });
  }

  setTags(runId: number, tags: readonly string[]): void {
    this.guard(`set the tags of run ${runId}`, () => {
      const unique = [...new Set(tags.map((tag) => tag.trim()).filter((tag) => tag !== ''))];
      this.requireChange(this.sql.setTags.run(JSON.stringify(unique), Date.now(), runId).changes, runId);
    });
  }

  setNotes(runId: number, notes: string): void {
    this.guard(`set the notes of run ${runId}`, () => this.requireChange(this.sql.setNotes.run(notes, Date.now(), runId).changes, runId));
  }

  renameRun(runId: number, name: string): void {
    this.guard(`rename run ${runId}`, () => {
      if (name.trim() === '') throw new InvalidRecordError('a run name cannot be empty');
      this.requireChange(this.sql.rename.run(name.trim(), Date.now(), runId).changes, runId);
    });
  }

  /** Deletes the run with all its metrics, checkpoints and episodes, in one transaction. Refused while it trains. */
  deleteRun(runId: number): void {
    this.guard(`delete run ${runId}`, () => {
      this.db
        .transaction(() => {
          this.checkWriter(runId, 'delete it', false);
          this.sql.deleteRun.run(runId);
        })
        .immediate();
      this.seriesIds.clear();
    });
  }

  /**
   * Takes over a run that is not training (stopped, interrupted, failed, finished) to train it
   * further: it becomes 'running', written by this process. Everything recorded after its
   * latest checkpoint (metrics, checkpoints, episodes of later iterations) is deleted, since
   * training repeats those iterations from the checkpoint.
   */
  resumeRun(runId: number): ResumedRun {
    return this.guard(`resume run ${runId}`, () => {
      const checkpointId = this.db
        .transaction(() => {
          this.checkWriter(runId, 'resume it', false);
          const checkpoint = this.sql.latestCheckpoint.get(runId) as CheckpointRow | undefined;
          const iteration = checkpoint?.iteration ?? 0;
          const at = this.sql.iterationRow.get({ runId, iteration }) as { wallTimeS: number } | undefined;
          for (const truncate of [this.sql.truncateMetrics, this.sql.truncateIterations, this.sql.truncateCheckpoints, this.sql.truncateEpisodes]) {
            truncate.run(runId, iteration);
          }
          this.sql.claimRun.run({
            id: runId,
            now: Date.now(),
            host: THIS_HOST,
            pid: process.pid,
            iterations: iteration,
            envSteps: checkpoint?.env_steps ?? 0,
            wallTimeS: at?.wallTimeS ?? 0,
          });
          return checkpoint?.id ?? null;
        })
        .immediate();
      runsClaimedHere.add(this.claimKey(runId));
      runsReleasedHere.delete(this.claimKey(runId));
      return { run: this.requireRun(runId), checkpoint: checkpointId === null ? null : this.loadCheckpoint(checkpointId) };
    });
  }

  /**
   * Marks runs left 'running' by a process that is gone as interrupted, and deletes episodes
   * such processes left unfinished. Runs on every read-write open; returns the runs marked.
   * Reads first and writes only when something is found, so an open normally takes no lock.
   */
  markInterruptedRuns(): number[] {
    return this.guard('mark interrupted runs', () => {
      const now = Date.now();
      const deadRuns = (this.sql.runningRuns.all() as Pick<RunRow, 'id' | 'writer_host' | 'writer_pid' | 'heartbeat_at'>[]).filter((run) =>
        isWriterGone(run.writer_host, run.writer_pid, run.heartbeat_at, claimOf(this.claimKey(run.id), runsClaimedHere, runsReleasedHere), now),
      );
      const deadEpisodes = (this.sql.unfinishedEpisodes.all() as Pick<EpisodeRow, 'id' | 'writer_host' | 'writer_pid' | 'created_at'>[]).filter(
        (episode) => isWriterGone(episode.writer_host, episode.writer_pid, episode.created_at, claimOf(this.claimKey(episode.id), episodesClaimedHere, episodesReleasedHere), now),
      );
      if (deadRuns.length === 0 && deadEpisodes.length === 0) return [];
      const marked: number[] = [];
      this.db
        .transaction(() => {
          for (const run of deadRuns) {
            const message = `the training process (pid ${run.writer_pid} on ${run.writer_host}) ended without closing the run`;
            // writer_pid guards against a process that resumed the run since it was read.
            if (this.sql.markInterrupted.run({ id: run.id, pid: run.writer_pid, message, now }).changes === 1) marked.push(run.id);
          }
          for (const episode of deadEpisodes) this.sql.deleteUnfinishedEpisode.run(episode.id);
        })
        .immediate();
      return marked;
    });
  }

  // ---------------------------------------------------------------- metrics

  /** Records one iteration's metrics (and the run's progress) in one transaction; re-recording an iteration replaces its values. */
  appendMetrics(runId: number, iteration: number, envSteps: number, wallTimeS: number, values: Readonly<Record<string, number>>): void {
    this.recordIteration(runId, { iteration, envSteps, wallTimeS, values });
  }

  /**
   * Records an iteration: its metrics, the run's progress and heartbeat, and its checkpoints,
   * all in one transaction, so a crash keeps the iteration whole or not at all.
   */
  recordIteration(runId: number, record: IterationRecord): CheckpointInfo[] {
    return this.guard(`record iteration ${record.iteration} of run ${runId}`, () => {
      try {
        return this.recordIterationTx.immediate(runId, record);
      } catch (error) {
        this.seriesIds.clear();
        throw error;
      }
    });
  }

  /** Names of the run's metric series, sorted. */
  seriesNames(runId: number): string[] {
    return this.guard(`list the metrics of run ${runId}`, () => this.sql.seriesNames.all(runId) as string[]);
  }

  /** One series across the run's iterations, in iteration order. */
  metricSeries(runId: number, name: string): MetricPoint[] {
    return this.guard(`read metric ${name} of run ${runId}`, () => (this.sql.seriesPoints.all(runId, name) as MetricPoint[]).map(withNaN));
  }

  /**
   * One series for several runs (chart overlays, seed groups) as columns, in the order of
   * `runIds`, read in one query from one snapshot (empty columns for runs without it).
   * Columnar and row-less: 50 runs x 1,000 iterations read in a few tens of ms.
   */
  compareMetric(runIds: readonly number[], name: string): RunColumns[] {
    return this.guard(`read metric ${name} of runs ${runIds.join(', ')}`, () => {
      const byRun = new Map<number, RunColumns>();
      for (const [runId, iteration, envSteps, wallTimeS, value] of this.sql.seriesColumns.iterate(JSON.stringify(runIds), name) as Iterable<
        [number, number, number, number, number | null]
      >) {
        let columns = byRun.get(runId);
        if (!columns) byRun.set(runId, (columns = { runId, iteration: [], envSteps: [], wallTimeS: [], value: [] }));
        columns.iteration.push(iteration);
        columns.envSteps.push(envSteps);
        columns.wallTimeS.push(wallTimeS);
        columns.value.push(value ?? NaN);
      }
      return runIds.map((runId) => byRun.get(runId) ?? { runId, iteration: [], envSteps: [], wallTimeS: [], value: [] });
    });
  }

  /** Every series' value at one iteration (default: the last recorded); null when there is none. */
  iterationMetrics(runId: number, iteration?: number): IterationMetrics | null {
    return this.guard(`read the metrics of run ${runId}`, () =>
      this.db.transaction(() => {
        const row = this.sql.iterationRow.get({ runId, iteration: iteration ?? null }) as Omit<IterationMetrics, 'values'> | undefined;
        if (!row) return null;
        const values: Record<string, number> = {};
        for (const { name, value } of this.sql.iterationValues.all(runId, row.iteration) as { name: string; value: number | null }[]) {
          values[name] = value ?? NaN;
        }
        return { ...row, values };
      })(),
    );
  }

  // ---------------------------------------------------------------- checkpoints

  /** Saves a checkpoint on its own; training saves them through recordIteration. A new 'best' replaces the previous one. */
  saveCheckpoint(runId: number, checkpoint: CheckpointInput): CheckpointInfo {
    return this.guard(`save a checkpoint of run ${runId}`, () => this.db.transaction(() => this.writeCheckpoint(runId, checkpoint)).immediate());
  }

  listCheckpoints(runId: number): CheckpointInfo[] {
    return this.guard(`list the checkpoints of run ${runId}`, () => (this.sql.listCheckpoints.all(runId) as CheckpointRow[]).map(toCheckpointInfo));
  }

  /** The checkpoint of the highest iteration (the periodic one when both kinds share it). */
  latestCheckpoint(runId: number): CheckpointInfo | null {
    return this.guard(`find the latest checkpoint of run ${runId}`, () => {
      const row = this.sql.latestCheckpoint.get(runId) as CheckpointRow | undefined;
      return row ? toCheckpointInfo(row) : null;
    });
  }

  bestCheckpoint(runId: number): CheckpointInfo | null {
    return this.guard(`find the best checkpoint of run ${runId}`, () => {
      const row = this.sql.bestCheckpoint.get(runId) as CheckpointRow | undefined;
      return row ? toCheckpointInfo(row) : null;
    });
  }

  loadCheckpoint(checkpointId: number): LoadedCheckpoint {
    return this.guard(`load checkpoint ${checkpointId}`, () => {
      const loaded = this.readCheckpoint(this.sql.checkpoint, checkpointId);
      if (!loaded) throw new StoreError('not-found', this.file, `checkpoint ${checkpointId} does not exist in ${this.file}`);
      return loaded;
    });
  }

  /**
   * The run's latest or best checkpoint with its data, read in one snapshot (a separate
   * lookup and load could miss a checkpoint pruned by the writer in between).
   */
  loadRunCheckpoint(runId: number, which: 'latest' | 'best'): LoadedCheckpoint | null {
    return this.guard(`load the ${which} checkpoint of run ${runId}`, () =>
      this.readCheckpoint(which === 'latest' ? this.sql.latestCheckpoint : this.sql.bestCheckpoint, runId),
    );
  }

  private readCheckpoint(find: Database.Statement, key: number): LoadedCheckpoint | null {
    return this.db.transaction(() => {
      const row = find.get(key) as CheckpointRow | undefined;
      if (!row) return null;
      const blob = this.sql.checkpointData.get(row.id) as Buffer;
      // A plain Uint8Array over the same bytes: what the API promises, and what survives IPC and workers as is.
      return { ...toCheckpointInfo(row), data: new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength) };
    })();
  }

  // ---------------------------------------------------------------- episodes

  /**
   * Starts recording an episode of the run. Append its frames to the returned writer, then
   * finish() it (or abort() to drop it). `chunkSteps` overrides the steps stored per row.
   */
  beginEpisode(runId: number, spec: StoredEpisodeSpec, options: { chunkSteps?: number } = {}): EpisodeWriter {
    return this.guard(`begin an episode of run ${runId}`, () => {
      checkEpisodeSpec(spec);
      const codec = new TrajectoryCodec({ ...spec, nRewardTerms: spec.rewardTermNames.length });
      const chunkSteps = options.chunkSteps ?? codec.defaultChunkSteps();
      if (!Number.isSafeInteger(chunkSteps) || chunkSteps < 1) throw new InvalidRecordError(`chunkSteps must be a positive integer, got ${chunkSteps}`);
      if (this.sql.runWriter.get(runId) === undefined) throw this.runNotFound(runId);
      const env: EpisodeEnvJson = {
        params: spec.params,
        dt: spec.dt,
        horizon: spec.horizon,
        action: spec.action,
        obsNames: spec.obsNames,
        rewardTermNames: spec.rewardTermNames,
        agentVehicle: Array.from(spec.agentVehicle),
        vehicleKind: Array.from(spec.vehicleKind),
        edges: spec.edges,
        // JSON has no Infinity: an open road is null.
        roadLength: spec.roadLength !== null && Number.isFinite(spec.roadLength) ? spec.roadLength : null,
        vehicleLength: spec.vehicleLength,
      };
      const id = this.sql.insertEpisode.get({
        runId,
        checkpointId: spec.checkpointId ?? null,
        iteration: spec.iteration,
        kind: spec.kind,
        seed: spec.seed,
        scenario: spec.scenario,
        env: JSON.stringify(env),
        nVehicles: spec.nVehicles,
        nAgents: spec.nAgents,
        obsDim: spec.obsDim,
        actionParamDim: spec.actionParamDim,
        nRewardTerms: spec.rewardTermNames.length,
        chunkSteps,
        host: THIS_HOST,
        pid: process.pid,
        now: Date.now(),
      }) as number;
      episodesClaimedHere.add(this.claimKey(id));
      return new EpisodeWriter(id, codec, chunkSteps, this.episodeSink);
    });
  }

  getEpisode(episodeId: number): EpisodeInfo {
    return this.guard(`read episode ${episodeId}`, () => toEpisodeInfo(this.requireEpisode(episodeId)));
  }

  listEpisodes(runId: number, filter: EpisodeFilter = {}): EpisodeInfo[] {
    return this.guard(`list the episodes of run ${runId}`, () =>
      (this.sql.episodes.all({ runId, kind: filter.kind ?? null, iteration: filter.iteration ?? null }) as EpisodeRow[]).map(toEpisodeInfo),
    );
  }

  /**
   * Frames [from, to) of an episode (clipped to the frames stored), reading only the chunks
   * that overlap the range. Works on an episode still being recorded. The frames' arrays are
   * views into one block.
   */
  readSteps(episodeId: number, from: number, to: number): TrajectoryFrame[] {
    const block = this.readStepBlock(episodeId, from, to);
    const frames: TrajectoryFrame[] = [];
    for (let i = 0; i < block.steps; i++) frames.push(block.layout.decode(block.records, i * block.layout.floatsPerStep, block.from + i));
    return frames;
  }

  /**
   * The records of frames [from, to) (clipped to the frames stored) as one contiguous block
   * in the layout of src/shared/trajectoryLayout.ts: what the replay api sends as it is.
   */
  readStepBlock(episodeId: number, from: number, to: number): { layout: TrajectoryLayout; from: number; steps: number; records: Float32Array } {
    return this.guard(`read steps ${from}..${to} of episode ${episodeId}`, () => {
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
        throw new InvalidRecordError(`the step range must be integers with 0 <= from <= to, got ${from}..${to}`);
      }
      return this.db.transaction(() => {
        const episode = this.requireEpisode(episodeId);
        const layout = new TrajectoryLayout({
          nVehicles: episode.n_vehicles,
          nAgents: episode.n_agents,
          obsDim: episode.obs_dim,
          actionParamDim: episode.action_param_dim,
          nRewardTerms: episode.n_reward_terms,
        });
        const end = Math.min(to, episode.steps);
        const steps = Math.max(0, end - from);
        const records = new Float32Array(steps * layout.floatsPerStep);
        if (steps === 0) return { layout, from, steps, records };
        const chunks = this.sql.chunksInRange.all(episodeId, from - (from % episode.chunk_steps), end) as { first_step: number; n_steps: number; data: Uint8Array }[];
        for (const chunk of chunks) {
          const floats = TrajectoryCodec.floatsOf(chunk.data);
          const first = Math.max(from, chunk.first_step);
          const last = Math.min(end, chunk.first_step + chunk.n_steps);
          if (last <= first) continue;
          records.set(floats.subarray((first - chunk.first_step) * layout.floatsPerStep, (last - chunk.first_step) * layout.floatsPerStep), (first - from) * layout.floatsPerStep);
        }
        return { layout, from, steps, records };
      })();
    });
  }

  // ---------------------------------------------------------------- internals

  private readonly episodeSink: EpisodeSink = {
    storeChunk: (episodeId: number, chunk: StoredChunk) =>
      this.guard(`store steps of episode ${episodeId}`, () => this.db.transaction(() => this.writeChunk(episodeId, chunk)).immediate()),
    complete: (episodeId: number, lastChunk: StoredChunk | null, summary: EpisodeSummary) =>
      this.guard(`finish episode ${episodeId}`, () => {
        this.db
          .transaction(() => {
            if (lastChunk) this.writeChunk(episodeId, lastChunk);
            const changes = this.sql.completeEpisode.run({
              id: episodeId,
              steps: summary.steps,
              episodeReturn: summary.return,
              collisions: summary.collisions,
              stats: JSON.stringify(summary.stats),
              now: Date.now(),
            }).changes;
            if (changes !== 1) throw new StoreError('not-found', this.file, `episode ${episodeId} was deleted while it was recorded`);
          })
          .immediate();
        episodesClaimedHere.delete(this.claimKey(episodeId));
        return toEpisodeInfo(this.requireEpisode(episodeId));
      }),
    discard: (episodeId: number) =>
      this.guard(`discard episode ${episodeId}`, () => {
        this.sql.deleteEpisode.run(episodeId);
        episodesClaimedHere.delete(this.claimKey(episodeId));
      }),
    fail: (error: unknown, doing: string) => toStoreError(error, this.file, doing),
  };

  private writeChunk(episodeId: number, chunk: StoredChunk): void {
    this.sql.insertChunk.run(episodeId, chunk.firstStep, chunk.steps, asBuffer(chunk.bytes));
    this.sql.setEpisodeSteps.run(chunk.firstStep + chunk.steps, episodeId);
  }

  private writeMetrics(runId: number, record: IterationMetrics): void {
    const { iteration, envSteps, wallTimeS, values } = record;
    if (!Number.isSafeInteger(iteration) || iteration < 0) throw new InvalidRecordError(`iteration must be a non-negative integer, got ${iteration}`);
    if (!Number.isSafeInteger(envSteps) || envSteps < 0) throw new InvalidRecordError(`envSteps must be a non-negative integer, got ${envSteps}`);
    if (!Number.isFinite(wallTimeS)) throw new InvalidRecordError(`wallTimeS must be a finite number, got ${wallTimeS}`);
    const now = Date.now();
    this.requireChange(this.sql.advanceRun.run({ runId, iteration, envSteps, wallTimeS, now }).changes, runId);
    this.sql.upsertIteration.run(runId, iteration, envSteps, wallTimeS, now);
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== 'number') throw new InvalidRecordError(`metric ${name} must be a number, got ${typeof value}`);
      // SQLite stores NaN as NULL; reading maps it back.
      this.sql.upsertMetric.run(this.seriesId(runId, name), iteration, Number.isNaN(value) ? null : value);
    }
  }

  private seriesId(runId: number, name: string): number {
    const key = `${runId}\0${name}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) this.seriesIds.set(key, (id = this.sql.seriesId.get(runId, name) as number));
    return id;
  }

  private writeCheckpoint(runId: number, checkpoint: CheckpointInput): CheckpointInfo {
    const { iteration, envSteps, kind, data } = checkpoint;
    if (!Number.isSafeInteger(iteration) || iteration < 0) throw new InvalidRecordError(`checkpoint iteration must be a non-negative integer, got ${iteration}`);
    if (kind !== 'periodic' && kind !== 'best') throw new InvalidRecordError(`checkpoint kind must be periodic or best, got ${String(kind)}`);
    if (!(data instanceof Uint8Array)) throw new InvalidRecordError('checkpoint data must be a Uint8Array');
    if (this.sql.runWriter.get(runId) === undefined) throw this.runNotFound(runId);
    if (kind === 'best') this.sql.deleteBest.run(runId);
    const row = this.sql.insertCheckpoint.get(
      runId,
      iteration,
      envSteps,
      kind,
      checkpoint.evalReturn ?? null,
      JSON.stringify(checkpoint.meta ?? {}),
      Date.now(),
      data.byteLength,
      asBuffer(data),
    ) as CheckpointRow;
    if (kind === 'periodic' && checkpoint.keepPeriodic !== undefined) {
      this.sql.prunePeriodic.run({ runId, keep: Math.max(1, Math.floor(checkpoint.keepPeriodic)) });
    }
    return toCheckpointInfo(row);
  }

  /**
   * Throws 'conflict' while the run trains in a live process other than this one, or in this
   * one when `thisProcessMay` is false.
   */
  private checkWriter(runId: number, doing: string, thisProcessMay: boolean): void {
    const row = this.sql.runWriter.get(runId) as Pick<RunRow, 'status' | 'writer_host' | 'writer_pid' | 'heartbeat_at'> | undefined;
    if (!row) throw this.runNotFound(runId);
    if (row.status !== 'running') return;
    if (runsClaimedHere.has(this.claimKey(runId)) && row.writer_pid === process.pid && row.writer_host === THIS_HOST) {
      if (thisProcessMay) return;
      throw new StoreError('conflict', this.file, `cannot ${doing}: run ${runId} is training in this process; stop it first`);
    }
    if (!isWriterGone(row.writer_host, row.writer_pid, row.heartbeat_at, claimOf(this.claimKey(runId), runsClaimedHere, runsReleasedHere))) {
      throw new StoreError(
        'conflict',
        this.file,
        `cannot ${doing}: run ${runId} is being trained by process ${row.writer_pid} on ${row.writer_host}; stop that first`,
      );
    }
  }

  private requireRun(runId: number): RunDetail {
    const row = this.sql.runDetail.get(runId) as RunRow | undefined;
    if (!row) throw this.runNotFound(runId);
    return toRunDetail(row);
  }

  private requireEpisode(episodeId: number): EpisodeRow {
    const row = this.sql.episode.get(episodeId) as EpisodeRow | undefined;
    if (!row) throw new StoreError('not-found', this.file, `episode ${episodeId} does not exist in ${this.file}`);
    return row;
  }

  private requireChange(changes: number, runId: number): void {
    if (changes === 0) throw this.runNotFound(runId);
  }

  private runNotFound(runId: number): StoreError {
    return new StoreError('not-found', this.file, `run ${runId} does not exist in ${this.file}`);
  }

  private claimKey(id: number): string {
    return `${this.file}\0${id}`;
  }

  private guard<T>(doing: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toStoreError(error, this.file, doing);
    }
  }
}

/**
 * The schema version of an existing Headway database, null for a missing or empty file (ours
 * to set up), or 'needs-rollback' when a write to it was killed before SQLite switched it to
 * WAL: its hot journal must be rolled back, which only a read-write connection can do (as
 * any SQLite program does on open) before the file can be judged. Reads through a read-only
 * connection, so a refused file is not touched.
 */
function existingSchemaVersion(path: string): number | null | 'needs-rollback' {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (size === 0) return null;
  refuseByHeader(path);
  const probe = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return schemaVersionOf(probe, path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_READONLY_ROLLBACK') return 'needs-rollback';
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * Refuses a file that is not SQLite, another application's, or a newer Headway's from its
 * header bytes alone (https://www.sqlite.org/fileformat.html#the_database_header): even a
 * read-only SQLite connection would leave -wal and -shm files beside a WAL-mode file. The
 * header is the truth only when no WAL holds newer pages and no hot journal older ones;
 * otherwise SQLite decides.
 */
function refuseByHeader(path: string): void {
  for (const companion of ['-wal', '-journal']) if (statSync(`${path}${companion}`, { throwIfNoEntry: false })?.size) return;
  const header = Buffer.alloc(100);
  const descriptor = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(descriptor, header, 0, header.length, 0);
  } finally {
    closeSync(descriptor);
  }
  if (length < header.length || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') {
    throw new StoreError('foreign', path, `${path} is not a Headway database (not a SQLite file); it was left untouched`);
  }
  checkApplication(path, header.readInt32BE(68), header.readInt32BE(60));
}

/** The connection's Headway schema version (null: an empty SQLite file); throws for a file that is not ours. */
function schemaVersionOf(db: Database.Database, path: string): number | null {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  checkOwnership(db, path, applicationId, version);
  return applicationId === APPLICATION_ID ? version : null;
}

/** Throws for a newer Headway's schema or another application's id. */
function checkApplication(path: string, applicationId: number, version: number): void {
  if (applicationId === APPLICATION_ID && version > SCHEMA_VERSION) {
    throw new StoreError(
      'newer-schema',
      path,
      `${path} was written by a newer Headway (database schema ${version}; this version knows up to ${SCHEMA_VERSION}); update Headway to open it. The file was left untouched`,
    );
  }
  if (applicationId !== APPLICATION_ID && applicationId !== 0) throw foreignDatabase(path);
}

function checkOwnership(db: Database.Database, path: string, applicationId: number, version: number): void {
  checkApplication(path, applicationId, version);
  // An empty SQLite file (no application id, no tables) can be set up; one with tables is another program's.
  if (applicationId === 0 && (db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number) > 0) throw foreignDatabase(path);
}

function foreignDatabase(path: string): StoreError {
  return new StoreError('foreign', path, `${path} is a SQLite database of another application, not Headway's; it was left untouched`);
}

function cannotReadOnly(path: string, version: number | null | 'needs-rollback'): StoreError {
  if (version === null) return new StoreError('not-found', path, `${path} does not exist or is empty`);
  const why = version === 'needs-rollback' ? 'a write to it was interrupted and must be rolled back' : 'it uses an older schema';
  return new StoreError('read-only', path, `cannot open ${path} read-only: ${why}; open it once read-write`);
}

/**
 * Applies the missing migrations in one transaction, which also serialises concurrent first
 * opens. An up-to-date file is only read, so opening never waits for a training writer.
 */
function migrate(db: Database.Database, path: string): void {
  const upToDate = () =>
    db.pragma('application_id', { simple: true }) === APPLICATION_ID && db.pragma('user_version', { simple: true }) === SCHEMA_VERSION;
  if (upToDate()) return;
  db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = applicationId === APPLICATION_ID ? (db.pragma('user_version', { simple: true }) as number) : 0;
    checkOwnership(db, path, applicationId, version);
    if (version === SCHEMA_VERSION) return;
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function checkEpisodeSpec(spec: StoredEpisodeSpec): void {
  const counts = { iteration: spec.iteration, seed: spec.seed, nVehicles: spec.nVehicles, nAgents: spec.nAgents, obsDim: spec.obsDim, actionParamDim: spec.actionParamDim };
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidRecordError(`${name} must be a non-negative integer, got ${value}`);
  }
  if (spec.kind !== 'eval' && spec.kind !== 'train') throw new InvalidRecordError(`episode kind must be eval or train, got ${String(spec.kind)}`);
  if (spec.action.kind !== 'discrete' && spec.action.kind !== 'continuous') {
    throw new InvalidRecordError(`action kind must be discrete or continuous, got ${String((spec.action as { kind: unknown }).kind)}`);
  }
  if (spec.agentVehicle.length !== spec.nAgents) throw new InvalidRecordError(`agentVehicle has ${spec.agentVehicle.length} entries for ${spec.nAgents} agents`);
  if (spec.vehicleKind.length !== spec.nVehicles) throw new InvalidRecordError(`vehicleKind has ${spec.vehicleKind.length} entries for ${spec.nVehicles} vehicles`);
}

/** better-sqlite3 binds Buffers; this views the same bytes without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function withNaN(point: MetricPoint): MetricPoint {
  if (point.value === null) point.value = NaN;
  return point;
}

function toRunSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    name: row.name,
    scenario: row.scenario,
    algo: row.algo,
    status: row.status,
    iterations: row.iterations,
    envSteps: row.env_steps,
    lastEvalReturn: row.last_eval_return,
    created: iso(row.created_at),
  };
}

function toRunDetail(row: RunRow): RunDetail {
  return {
    ...toRunSummary(row),
    params: JSON.parse(row.params),
    config: JSON.parse(row.config),
    seed: row.seed,
    preset: row.preset,
    backend: row.backend,
    appVersion: row.app_version,
    tags: JSON.parse(row.tags),
    notes: row.notes,
    parent:
      row.parent_run_id === null || row.parent_relation === null
        ? null
        : { runId: row.parent_run_id, relation: row.parent_relation, checkpointId: row.parent_checkpoint_id },
    wallTimeS: row.wall_time_s,
    updated: iso(row.updated_at),
    ended: row.ended_at === null ? null : iso(row.ended_at),
    statusMessage: row.status_message,
    writer:
      row.writer_pid === null || row.writer_host === null
        ? null
        : { pid: row.writer_pid, host: row.writer_host, heartbeat: iso(row.heartbeat_at ?? row.created_at) },
  };
}

function toCheckpointInfo(row: CheckpointRow): CheckpointInfo {
  return {
    id: row.id,
    runId: row.run_id,
    iteration: row.iteration,
    envSteps: row.env_steps,
    kind: row.kind,
    evalReturn: row.eval_return,
    bytes: row.bytes,
    created: iso(row.created_at),
    meta: JSON.parse(row.meta),
  };
}

function toEpisodeInfo(row: EpisodeRow): EpisodeInfo {
  const env = JSON.parse(row.env) as EpisodeEnvJson;
  return {
    id: row.id,
    runId: row.run_id,
    iteration: row.iteration,
    kind: row.kind,
    seed: row.seed,
    scenario: row.scenario,
    params: env.params,
    dt: env.dt,
    horizon: env.horizon,
    nVehicles: row.n_vehicles,
    nAgents: row.n_agents,
    obsDim: row.obs_dim,
    action: env.action,
    actionParamDim: row.action_param_dim,
    obsNames: env.obsNames,
    rewardTermNames: env.rewardTermNames,
    agentVehicle: env.agentVehicle,
    vehicleKind: env.vehicleKind,
    edges: env.edges,
    roadLength: env.roadLength,
    vehicleLength: env.vehicleLength,
    checkpointId: row.checkpoint_id,
    steps: row.steps,
    complete: row.complete === 1,
    return: row.episode_return,
    collisions: row.collisions,
    stats: JSON.parse(row.stats),
    created: iso(row.created_at),
    finished: row.finished_at === null ? null : iso(row.finished_at),
  };
}
