/**
 * Runs and their tags, notes and names: created 'running' by the process that trains them,
 * listed newest first with filters, ended with a final status, resumed by a later process.
 * A run has one writer at a time, recorded by host and pid and claimed by the writing thread
 * (writerClaims.ts); changes that would race a live writer are refused as 'conflict'.
 */
import type Database from 'better-sqlite3';
import type { NewRun, RunDetail, RunFilter, RunStatus, RunSummary } from '../../shared/runs.ts';
import { iso, type Connection } from './connection.ts';
import { InvalidRecordError, StoreError } from './errors.ts';
import type { WriterClaims } from './writerClaims.ts';
import { isWriterGone, THIS_HOST } from './writerLiveness.ts';

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

/** A running run's writer, as read for the liveness checks. */
export type RunWriterRow = Pick<RunRow, 'id' | 'writer_host' | 'writer_pid' | 'heartbeat_at'>;

// The return of the run's latest evaluation: its `eval/return` metric, the mean over every
// evaluation episode (a training job stores only the first episode of each evaluation, so the
// stored episodes alone would report that one episode). Where a run has no such metric, the
// mean of the complete eval episodes of its latest evaluated iteration (forks, which have a
// parent step, are not evaluations).
const LAST_EVAL_RETURN_SQL = `COALESCE(
  (SELECT m.value FROM series s JOIN metrics m ON m.series_id = s.id
    WHERE s.run_id = r.id AND s.name = 'eval/return' AND m.value IS NOT NULL ORDER BY m.iteration DESC LIMIT 1),
  (SELECT avg(e.episode_return) FROM episodes e
    WHERE e.run_id = r.id AND e.kind = 'eval' AND e.complete = 1 AND e.parent_step IS NULL
      AND e.iteration = (SELECT max(iteration) FROM episodes WHERE run_id = r.id AND kind = 'eval' AND complete = 1 AND parent_step IS NULL)))`;

const SUMMARY_COLUMNS = `r.id, r.name, r.scenario, r.algo, r.status, r.iterations, r.env_steps, r.created_at, ${LAST_EVAL_RETURN_SQL} AS last_eval_return`;

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
  };
}

export class Runs {
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly listStatements = new Map<string, Database.Statement>();

  constructor(
    private readonly connection: Connection,
    private readonly claims: WriterClaims,
  ) {
    this.sql = prepareStatements(connection.db);
  }

  /** Creates a run in status 'running', written by this process. */
  create(run: NewRun): RunDetail {
    return this.connection.guard('create a run', () => {
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
      this.claims.runs.claim(this.connection.file, id);
      return this.require(id);
    });
  }

  get(runId: number): RunDetail | null {
    return this.connection.guard(`read run ${runId}`, () => {
      const row = this.sql.runDetail.get(runId) as RunRow | undefined;
      return row ? toRunDetail(row) : null;
    });
  }

  list(filter: RunFilter = {}): RunSummary[] {
    return this.connection.guard('list runs', () => {
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
      if (filter.sweepId !== undefined) narrow('r.id IN (SELECT run_id FROM sweep_runs WHERE sweep_id = @sweepId)', 'sweepId', filter.sweepId);
      const sql = `SELECT ${SUMMARY_COLUMNS} FROM runs r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.created_at DESC, r.id DESC LIMIT @limit OFFSET @offset`;
      let statement = this.listStatements.get(sql);
      if (!statement) this.listStatements.set(sql, (statement = this.connection.db.prepare(sql)));
      return (statement.all(params) as RunRow[]).map(toRunSummary);
    });
  }

  /** Ends the run's training with a final status. Refused while another live process writes it. */
  updateStatus(runId: number, status: Exclude<RunStatus, 'running'>, message: string | null): RunDetail {
    return this.connection.guard(`mark run ${runId} ${status}`, () => {
      if ((status as RunStatus) === 'running') throw new InvalidRecordError(`a run becomes running only by createRun or resumeRun`);
      this.connection.db
        .transaction(() => {
          this.checkWriter(runId, `mark it ${status}`, true);
          this.sql.setStatus.run({ id: runId, status, message, now: Date.now() });
        })
        .immediate();
      this.claims.runs.finish(this.connection.file, runId);
      return this.require(runId);
    });
  }

  setTags(runId: number, tags: readonly string[]): void {
    this.connection.guard(`set the tags of run ${runId}`, () => {
      const unique = [...new Set(tags.map((tag) => tag.trim()).filter((tag) => tag !== ''))];
      this.connection.requireChange(this.sql.setTags.run(JSON.stringify(unique), Date.now(), runId).changes, runId);
    });
  }

  setNotes(runId: number, notes: string): void {
    this.connection.guard(`set the notes of run ${runId}`, () => this.connection.requireChange(this.sql.setNotes.run(notes, Date.now(), runId).changes, runId));
  }

  rename(runId: number, name: string): void {
    this.connection.guard(`rename run ${runId}`, () => {
      if (name.trim() === '') throw new InvalidRecordError('a run name cannot be empty');
      this.connection.requireChange(this.sql.rename.run(name.trim(), Date.now(), runId).changes, runId);
    });
  }

  /** Deletes the run (its rows in the other tables cascade), in one transaction. Refused while it trains. */
  delete(runId: number): void {
    this.connection.guard(`delete run ${runId}`, () => {
      this.connection.db
        .transaction(() => {
          this.checkWriter(runId, 'delete it', false);
          this.sql.deleteRun.run(runId);
        })
        .immediate();
    });
  }

  // ------------------------------------------------ inside the caller's transaction and guard

  require(runId: number): RunDetail {
    const row = this.sql.runDetail.get(runId) as RunRow | undefined;
    if (!row) throw this.connection.runNotFound(runId);
    return toRunDetail(row);
  }

  /** Makes the run 'running' again, written by this process, with its progress set back to the given point. */
  claimForResume(runId: number, progress: { iterations: number; envSteps: number; wallTimeS: number }): void {
    this.sql.claimRun.run({ id: runId, now: Date.now(), host: THIS_HOST, pid: process.pid, ...progress });
  }

  /** The runs left 'running' by a writer that is gone. */
  deadWriters(now: number): RunWriterRow[] {
    const { file } = this.connection;
    return (this.sql.runningRuns.all() as RunWriterRow[]).filter((run) =>
      isWriterGone(run.writer_host, run.writer_pid, run.heartbeat_at, this.claims.runs.stateOf(file, run.id), now),
    );
  }

  /** Marks the runs interrupted unless they were resumed since they were read; returns the runs marked. */
  markInterrupted(runs: readonly RunWriterRow[], now: number): number[] {
    const marked: number[] = [];
    for (const run of runs) {
      const message = `the training process (pid ${run.writer_pid} on ${run.writer_host}) ended without closing the run`;
      // writer_pid guards against a process that resumed the run since it was read.
      if (this.sql.markInterrupted.run({ id: run.id, pid: run.writer_pid, message, now }).changes === 1) marked.push(run.id);
    }
    return marked;
  }

  /**
   * Throws 'conflict' while the run trains in a live process other than this one, or in this
   * one when `thisProcessMay` is false.
   */
  checkWriter(runId: number, doing: string, thisProcessMay: boolean): void {
    const { file } = this.connection;
    const row = this.sql.runWriter.get(runId) as Pick<RunRow, 'status' | 'writer_host' | 'writer_pid' | 'heartbeat_at'> | undefined;
    if (!row) throw this.connection.runNotFound(runId);
    if (row.status !== 'running') return;
    if (this.claims.runs.holds(file, runId) && row.writer_pid === process.pid && row.writer_host === THIS_HOST) {
      if (thisProcessMay) return;
      throw new StoreError('conflict', file, `cannot ${doing}: run ${runId} is training in this process; stop it first`);
    }
    if (!isWriterGone(row.writer_host, row.writer_pid, row.heartbeat_at, this.claims.runs.stateOf(file, runId))) {
      throw new StoreError('conflict', file, `cannot ${doing}: run ${runId} is being trained by process ${row.writer_pid} on ${row.writer_host}; stop that first`);
    }
  }
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
