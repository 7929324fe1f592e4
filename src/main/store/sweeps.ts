/**
 * Sweeps (`headway sweep`): a grid of runs recorded by its unique name with its sweep file,
 * and per cell of the grid the run that trains it (schema.ts, migration 4). The runs
 * themselves stay ordinary runs; a deleted run leaves its cell empty (ON DELETE SET NULL),
 * so running the sweep again trains that cell anew.
 */
import type Database from 'better-sqlite3';
import { RUN_STATUSES, type RunStatus } from '../../shared/runs.ts';
import type { SweepRecord, SweepSummary } from '../../shared/sweep.ts';
import { iso, type Connection } from './connection.ts';
import { StoreError } from './errors.ts';

interface SweepRow {
  id: number;
  name: string;
  file: string;
  created_at: number;
  updated_at: number;
}

/** A cell with its run's status, scenario and learner (all null when the cell has no run). */
type CellRunRow = { sweep_id: number } & ({ status: RunStatus; scenario: string; algo: string } | { status: null; scenario: null; algo: null });

function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    byId: p('SELECT * FROM sweeps WHERE id = ?'),
    byName: p('SELECT * FROM sweeps WHERE name = ?'),
    all: p('SELECT * FROM sweeps ORDER BY updated_at DESC, id DESC'),
    allCells: p('SELECT c.sweep_id, r.status, r.scenario, r.algo FROM sweep_runs c LEFT JOIN runs r ON r.id = c.run_id'),
    insert: p('INSERT INTO sweeps (name, file, created_at, updated_at) VALUES (@name, @file, @now, @now)'),
    update: p('UPDATE sweeps SET file = @file, updated_at = @now WHERE id = @id'),
    cells: p('SELECT cell, run_id FROM sweep_runs WHERE sweep_id = ? ORDER BY position'),
    addCell: p('INSERT OR IGNORE INTO sweep_runs (sweep_id, cell, position) VALUES (?, ?, (SELECT count(*) FROM sweep_runs WHERE sweep_id = ?))'),
    setRun: p('UPDATE sweep_runs SET run_id = @runId WHERE sweep_id = @sweepId AND cell = @cell'),
  };
}

export class Sweeps {
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(private readonly connection: Connection) {
    this.sql = prepareStatements(connection.db);
  }

  /** Records the sweep of this name (created when new, its file replaced when not) with every cell listed; in one transaction. */
  open(name: string, file: string, cells: readonly string[]): SweepRecord {
    return this.connection.guard(`record sweep ${JSON.stringify(name)}`, () => {
      const id = this.connection.db
        .transaction(() => {
          const now = Date.now();
          const existing = this.sql.byName.get(name) as SweepRow | undefined;
          const sweepId = existing ? existing.id : Number(this.sql.insert.run({ name, file, now }).lastInsertRowid);
          if (existing) this.sql.update.run({ id: sweepId, file, now });
          for (const cell of cells) this.sql.addCell.run(sweepId, cell, sweepId);
          return sweepId;
        })
        .immediate();
      return this.require(id);
    });
  }

  get(sweepId: number): SweepRecord | null {
    return this.connection.guard(`read sweep ${sweepId}`, () => this.toRecord(this.sql.byId.get(sweepId) as SweepRow | undefined));
  }

  findByName(name: string): SweepRecord | null {
    return this.connection.guard(`read sweep ${JSON.stringify(name)}`, () => this.toRecord(this.sql.byName.get(name) as SweepRow | undefined));
  }

  /** Every sweep with its progress, the latest updated first; read in one snapshot. */
  list(): SweepSummary[] {
    return this.connection.guard('list sweeps', () =>
      this.connection.db.transaction(() => {
        const summaries = new Map<number, SweepSummary>();
        for (const row of this.sql.all.all() as SweepRow[]) {
          const runs = { ...(Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>), notStarted: 0 };
          summaries.set(row.id, { id: row.id, name: row.name, created: iso(row.created_at), updated: iso(row.updated_at), cells: 0, runs, scenarios: [], learners: [] });
        }
        for (const cell of this.sql.allCells.all() as CellRunRow[]) {
          const summary = summaries.get(cell.sweep_id)!;
          summary.cells++;
          if (cell.status === null) {
            summary.runs.notStarted++;
            continue;
          }
          summary.runs[cell.status]++;
          if (!summary.scenarios.includes(cell.scenario)) summary.scenarios.push(cell.scenario);
          if (!summary.learners.includes(cell.algo)) summary.learners.push(cell.algo);
        }
        for (const summary of summaries.values()) {
          summary.scenarios.sort();
          summary.learners.sort();
        }
        return [...summaries.values()];
      })(),
    );
  }

  /** Records the run that trains a cell (the run a resume continues keeps its id). */
  setRun(sweepId: number, cell: string, runId: number): void {
    this.connection.guard(`record run ${runId} in sweep ${sweepId}`, () => {
      if (this.sql.setRun.run({ sweepId, cell, runId }).changes === 0) {
        throw new StoreError('not-found', this.connection.file, `sweep ${sweepId} has no cell ${cell}`);
      }
    });
  }

  private require(sweepId: number): SweepRecord {
    const record = this.toRecord(this.sql.byId.get(sweepId) as SweepRow | undefined);
    if (!record) throw new StoreError('not-found', this.connection.file, `sweep ${sweepId} does not exist in ${this.connection.file}`);
    return record;
  }

  private toRecord(row: SweepRow | undefined): SweepRecord | null {
    if (!row) return null;
    const cells = this.sql.cells.all(row.id) as { cell: string; run_id: number | null }[];
    return { id: row.id, name: row.name, file: row.file, created: iso(row.created_at), updated: iso(row.updated_at), cells: cells.map((c) => ({ key: c.cell, runId: c.run_id })) };
  }
}
