/**
 * Checkpoints of a run: saved with their iteration (recordIteration) or alone, at most one
 * 'best' per run, periodic ones optionally pruned to the newest few; loaded back with their
 * data for resuming, evaluating and replaying a policy.
 */
import type Database from 'better-sqlite3';
import type { CheckpointInfo, CheckpointKind, JsonObject, LoadedCheckpoint } from '../../shared/runs.ts';
import { asBuffer, iso, type Connection } from './connection.ts';
import { InvalidRecordError, StoreError } from './errors.ts';

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

const CHECKPOINT_COLUMNS = 'id, run_id, iteration, env_steps, kind, eval_return, meta, created_at, bytes';

function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    runExists: p('SELECT 1 FROM runs WHERE id = ?'),
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
    truncateCheckpoints: p('DELETE FROM checkpoints WHERE run_id = ? AND iteration > ?'),
  };
}

export class Checkpoints {
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(private readonly connection: Connection) {
    this.sql = prepareStatements(connection.db);
  }

  /** Saves a checkpoint on its own; training saves them through recordIteration. A new 'best' replaces the previous one. */
  save(runId: number, checkpoint: CheckpointInput): CheckpointInfo {
    return this.connection.guard(`save a checkpoint of run ${runId}`, () =>
      this.connection.db.transaction(() => this.write(runId, checkpoint)).immediate(),
    );
  }

  list(runId: number): CheckpointInfo[] {
    return this.connection.guard(`list the checkpoints of run ${runId}`, () => (this.sql.listCheckpoints.all(runId) as CheckpointRow[]).map(toCheckpointInfo));
  }

  /** The checkpoint of the highest iteration (the periodic one when both kinds share it). */
  latest(runId: number): CheckpointInfo | null {
    return this.connection.guard(`find the latest checkpoint of run ${runId}`, () => this.latestUnguarded(runId));
  }

  best(runId: number): CheckpointInfo | null {
    return this.connection.guard(`find the best checkpoint of run ${runId}`, () => {
      const row = this.sql.bestCheckpoint.get(runId) as CheckpointRow | undefined;
      return row ? toCheckpointInfo(row) : null;
    });
  }

  load(checkpointId: number): LoadedCheckpoint {
    const { connection } = this;
    return connection.guard(`load checkpoint ${checkpointId}`, () => {
      const loaded = this.read(this.sql.checkpoint, checkpointId);
      if (!loaded) throw new StoreError('not-found', connection.file, `checkpoint ${checkpointId} does not exist in ${connection.file}`);
      return loaded;
    });
  }

  /**
   * The run's latest or best checkpoint with its data, read in one snapshot (a separate
   * lookup and load could miss a checkpoint pruned by the writer in between).
   */
  loadOfRun(runId: number, which: 'latest' | 'best'): LoadedCheckpoint | null {
    return this.connection.guard(`load the ${which} checkpoint of run ${runId}`, () =>
      this.read(which === 'latest' ? this.sql.latestCheckpoint : this.sql.bestCheckpoint, runId),
    );
  }

  // ------------------------------------------------ inside the caller's transaction and guard

  /** latest() for a caller that already guards. */
  latestUnguarded(runId: number): CheckpointInfo | null {
    const row = this.sql.latestCheckpoint.get(runId) as CheckpointRow | undefined;
    return row ? toCheckpointInfo(row) : null;
  }

  write(runId: number, checkpoint: CheckpointInput): CheckpointInfo {
    const { iteration, envSteps, kind, data } = checkpoint;
    if (!Number.isSafeInteger(iteration) || iteration < 0) throw new InvalidRecordError(`checkpoint iteration must be a non-negative integer, got ${iteration}`);
    if (kind !== 'periodic' && kind !== 'best') throw new InvalidRecordError(`checkpoint kind must be periodic or best, got ${String(kind)}`);
    if (!(data instanceof Uint8Array)) throw new InvalidRecordError('checkpoint data must be a Uint8Array');
    if (this.sql.runExists.get(runId) === undefined) throw this.connection.runNotFound(runId);
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

  /** Deletes the run's checkpoints after `iteration` (resuming repeats those iterations). */
  truncate(runId: number, iteration: number): void {
    this.sql.truncateCheckpoints.run(runId, iteration);
  }

  private read(find: Database.Statement, key: number): LoadedCheckpoint | null {
    return this.connection.db.transaction(() => {
      const row = find.get(key) as CheckpointRow | undefined;
      if (!row) return null;
      const blob = this.sql.checkpointData.get(row.id) as Buffer;
      // A plain Uint8Array over the same bytes: what the API promises, and what survives IPC and workers as is.
      return { ...toCheckpointInfo(row), data: new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength) };
    })();
  }
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
