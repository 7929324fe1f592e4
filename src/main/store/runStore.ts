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
 *
 * This file is the facade; each concern has its own file beside it (see the class comment).
 */
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type {
  CheckpointInfo,
  EpisodeInfo,
  IterationMetrics,
  LoadedCheckpoint,
  MetricPoint,
  NewRun,
  RunColumns,
  RunDetail,
  RunFilter,
  RunStatus,
  RunSummary,
  StoredEpisodeSpec,
  TrajectoryFrame,
} from '../../shared/runs.ts';
import { isRunDone } from '../../shared/runs.ts';
import type { SweepRecord, SweepSummary } from '../../shared/sweep.ts';
import type { TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { exportBundle, importBundle, type BundleCounts, type ExportedBundle } from './bundles.ts';
import { Checkpoints, type CheckpointInput } from './checkpoints.ts';
import { Connection } from './connection.ts';
import { openDatabase, type OpenOptions } from './database.ts';
import type { EpisodeWriter } from './episodeWriter.ts';
import { Episodes, type EpisodeFilter } from './episodes.ts';
import { InvalidRecordError, toStoreError } from './errors.ts';
import { Metrics } from './metrics.ts';
import { defaultDatabasePath } from './paths.ts';
import { Runs } from './runs.ts';
import { Sweeps } from './sweeps.ts';
import { THREAD_CLAIMS, type WriterClaims } from './writerClaims.ts';

export type { BundleCounts, ExportedBundle } from './bundles.ts';
export type { CheckpointInput } from './checkpoints.ts';
export type { OpenOptions } from './database.ts';
export type { EpisodeFilter } from './episodes.ts';

export interface IterationRecord extends IterationMetrics {
  checkpoints?: readonly CheckpointInput[];
}

export interface ResumedRun {
  run: RunDetail;
  /** The checkpoint to continue from; null when the run has none (start it over). */
  checkpoint: LoadedCheckpoint | null;
}

/**
 * The run store: one facade over the parts in this folder (database.ts opens and checks the
 * file; runs.ts, metrics.ts, checkpoints.ts and episodes.ts own their tables; bundles.ts copies
 * runs between databases; writerClaims.ts
 * tells this thread's runs from others'). Operations that span parts (recording an iteration,
 * resuming, marking interrupted runs) are composed here, each in one transaction.
 */
export class RunStore {
  private readonly connection: Connection;
  private readonly runs: Runs;
  private readonly metrics: Metrics;
  private readonly checkpoints: Checkpoints;
  private readonly episodes: Episodes;
  private readonly sweeps: Sweeps;
  private readonly recordIterationTx: (runId: number, record: IterationRecord) => CheckpointInfo[];

  private constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    db: Database.Database,
    readonly readOnly: boolean,
    private readonly claims: WriterClaims,
  ) {
    this.connection = new Connection(file, db);
    this.runs = new Runs(this.connection, claims);
    this.metrics = new Metrics(this.connection);
    this.checkpoints = new Checkpoints(this.connection);
    this.episodes = new Episodes(this.connection, claims);
    this.sweeps = new Sweeps(this.connection);
    const tx = db.transaction((runId: number, record: IterationRecord) => {
      this.metrics.write(runId, record);
      return (record.checkpoints ?? []).map((checkpoint) => this.checkpoints.write(runId, checkpoint));
    });
    this.recordIterationTx = (runId, record) => tx.immediate(runId, record);
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
      db = openDatabase(path, options);
      const store = new RunStore(path, db, readOnly, THREAD_CLAIMS);
      if (!readOnly) store.markInterruptedRuns();
      return store;
    } catch (error) {
      db?.close();
      throw toStoreError(error, path, 'open the run database');
    }
  }

  /** Closes the connection. Runs this store still claims will show as interrupted to later opens. */
  close(): void {
    this.claims.releaseFile(this.file);
    this.connection.db.close();
  }

  // ---------------------------------------------------------------- runs (runs.ts)

  /** Creates a run in status 'running', written by this process. */
  createRun(run: NewRun): RunDetail {
    return this.runs.create(run);
  }

  getRun(runId: number): RunDetail | null {
    return this.runs.get(runId);
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    return this.runs.list(filter);
  }

  /**
   * Ends the run's training with a final status ('running' is only entered through createRun
   * and resumeRun). Refused while another live process writes it.
   */
  updateStatus(runId: number, status: Exclude<RunStatus, 'running'>, message: string | null = null): RunDetail {
    return this.runs.updateStatus(runId, status, message);
  }

  setTags(runId: number, tags: readonly string[]): void {
    this.runs.setTags(runId, tags);
  }

  setNotes(runId: number, notes: string): void {
    this.runs.setNotes(runId, notes);
  }

  renameRun(runId: number, name: string): void {
    this.runs.rename(runId, name);
  }

  /** Deletes the run with all its metrics, checkpoints and episodes, in one transaction. Refused while it trains. */
  deleteRun(runId: number): void {
    this.runs.delete(runId);
    this.metrics.forgetSeries();
  }

  /**
   * Takes over a run that is not training (stopped, interrupted, failed, finished) to train it
   * further: it becomes 'running', written by this process. Everything recorded after its
   * latest checkpoint (metrics, checkpoints, episodes of later iterations) is deleted, since
   * training repeats those iterations from the checkpoint.
   */
  resumeRun(runId: number): ResumedRun {
    return this.connection.guard(`resume run ${runId}`, () => {
      const checkpointId = this.connection.db
        .transaction(() => {
          this.runs.checkWriter(runId, 'resume it', false);
          const checkpoint = this.checkpoints.latestUnguarded(runId);
          const iteration = checkpoint?.iteration ?? 0;
          const wallTimeS = this.metrics.wallTimeAt(runId, iteration) ?? 0;
          this.metrics.truncate(runId, iteration);
          this.checkpoints.truncate(runId, iteration);
          this.episodes.truncate(runId, iteration);
          this.runs.claimForResume(runId, { iterations: iteration, envSteps: checkpoint?.envSteps ?? 0, wallTimeS });
          return checkpoint?.id ?? null;
        })
        .immediate();
      this.claims.runs.reclaim(this.file, runId);
      return { run: this.runs.require(runId), checkpoint: checkpointId === null ? null : this.loadCheckpoint(checkpointId) };
    });
  }

  /**
   * Marks runs left 'running' by a process that is gone as interrupted, and deletes episodes
   * such processes left unfinished. Runs on every read-write open; returns the runs marked.
   * Reads first and writes only when something is found, so an open normally takes no lock.
   */
  markInterruptedRuns(): number[] {
    return this.connection.guard('mark interrupted runs', () => {
      const now = Date.now();
      const deadRuns = this.runs.deadWriters(now);
      const deadEpisodes = this.episodes.deadWriters(now);
      if (deadRuns.length === 0 && deadEpisodes.length === 0) return [];
      return this.connection.db
        .transaction(() => {
          const marked = this.runs.markInterrupted(deadRuns, now);
          this.episodes.deleteUnfinished(deadEpisodes);
          return marked;
        })
        .immediate();
    });
  }

  // ---------------------------------------------------------------- metrics (metrics.ts)

  /** Records one iteration's metrics (and the run's progress) in one transaction; re-recording an iteration replaces its values. */
  appendMetrics(runId: number, iteration: number, envSteps: number, wallTimeS: number, values: Readonly<Record<string, number>>): void {
    this.recordIteration(runId, { iteration, envSteps, wallTimeS, values });
  }

  /**
   * Records an iteration: its metrics, the run's progress and heartbeat, and its checkpoints,
   * all in one transaction, so a crash keeps the iteration whole or not at all.
   */
  recordIteration(runId: number, record: IterationRecord): CheckpointInfo[] {
    return this.connection.guard(`record iteration ${record.iteration} of run ${runId}`, () => {
      try {
        return this.recordIterationTx(runId, record);
      } catch (error) {
        this.metrics.forgetSeries();
        throw error;
      }
    });
  }

  /** Names of the run's metric series, sorted. */
  seriesNames(runId: number): string[] {
    return this.metrics.seriesNames(runId);
  }

  /** One series across the run's iterations, in iteration order. */
  metricSeries(runId: number, name: string): MetricPoint[] {
    return this.metrics.series(runId, name);
  }

  /**
   * One series for several runs (chart overlays, seed groups) as columns, in the order of
   * `runIds`, read in one query from one snapshot (empty columns for runs without it).
   */
  compareMetric(runIds: readonly number[], name: string): RunColumns[] {
    return this.metrics.compare(runIds, name);
  }

  /** Every series' value at one iteration (default: the last recorded); null when there is none. */
  iterationMetrics(runId: number, iteration?: number): IterationMetrics | null {
    return this.metrics.atIteration(runId, iteration);
  }

  // ---------------------------------------------------------------- checkpoints (checkpoints.ts)

  /** Saves a checkpoint on its own; training saves them through recordIteration. A new 'best' replaces the previous one. */
  saveCheckpoint(runId: number, checkpoint: CheckpointInput): CheckpointInfo {
    return this.checkpoints.save(runId, checkpoint);
  }

  listCheckpoints(runId: number): CheckpointInfo[] {
    return this.checkpoints.list(runId);
  }

  /** The checkpoint of the highest iteration (the periodic one when both kinds share it). */
  latestCheckpoint(runId: number): CheckpointInfo | null {
    return this.checkpoints.latest(runId);
  }

  bestCheckpoint(runId: number): CheckpointInfo | null {
    return this.checkpoints.best(runId);
  }

  loadCheckpoint(checkpointId: number): LoadedCheckpoint {
    return this.checkpoints.load(checkpointId);
  }

  /** The run's latest or best checkpoint with its data, read in one snapshot. */
  loadRunCheckpoint(runId: number, which: 'latest' | 'best'): LoadedCheckpoint | null {
    return this.checkpoints.loadOfRun(runId, which);
  }

  // ---------------------------------------------------------------- episodes (episodes.ts)

  /**
   * Starts recording an episode of the run. Append its frames to the returned writer, then
   * finish() it (or abort() to drop it). `chunkSteps` overrides the steps stored per row.
   */
  beginEpisode(runId: number, spec: StoredEpisodeSpec, options: { chunkSteps?: number } = {}): EpisodeWriter {
    return this.episodes.begin(runId, spec, options);
  }

  getEpisode(episodeId: number): EpisodeInfo {
    return this.episodes.get(episodeId);
  }

  listEpisodes(runId: number, filter: EpisodeFilter = {}): EpisodeInfo[] {
    return this.episodes.list(runId, filter);
  }

  /** Frames [from, to) of an episode (clipped to the frames stored); works on an episode still being recorded. */
  readSteps(episodeId: number, from: number, to: number): TrajectoryFrame[] {
    return this.episodes.readSteps(episodeId, from, to);
  }

  /**
   * The records of frames [from, to) (clipped to the frames stored) as one contiguous block
   * in the layout of src/shared/trajectoryLayout.ts: what the replay api sends as it is.
   */
  readStepBlock(episodeId: number, from: number, to: number): { layout: TrajectoryLayout; from: number; steps: number; records: Float32Array } {
    return this.episodes.readStepBlock(episodeId, from, to);
  }

  /** The agents' exact actions of frames [from, to), float64 [steps, nAgents]; null for episodes stored before Headway kept them. */
  readActions(episodeId: number, from: number, to: number): Float64Array | null {
    return this.episodes.readActions(episodeId, from, to);
  }

  // ---------------------------------------------------------------- run bundles (bundles.ts)

  /**
   * Writes the runs with their metrics, checkpoints and complete episodes to a new Headway
   * database at `file` (atomically: nothing is left there on failure). An existing file is
   * refused ('exists') unless `overwrite`; a missing run is 'not-found', one training right
   * now 'conflict' unless `snapshot`.
   */
  exportBundle(runIds: readonly number[], file: string, options: { overwrite?: boolean; snapshot?: boolean } = {}): ExportedBundle {
    return this.connection.guard(`export runs ${runIds.join(', ')}`, () => {
      // A snapshot takes a run in training as it is now (one read transaction): it travels as interrupted, to be resumed from its latest checkpoint.
      if (options.snapshot !== true) for (const runId of new Set(runIds)) this.runs.checkWriter(runId, 'export it', false);
      return exportBundle(this.connection.db, this.file, [...new Set(runIds)], resolve(file), options.overwrite ?? false);
    });
  }

  /**
   * Copies every run of the bundle at `file` into this database with new ids, in one
   * transaction (nothing is imported on failure); returns the old->new run ids. The bundle
   * is refused as RunStore.open refuses a file ('foreign', 'newer-schema', 'not-found').
   */
  importBundle(file: string): BundleCounts {
    return this.connection.guard(`import runs from ${resolve(file)}`, () => importBundle(this.connection.db, this.file, resolve(file)));
  }

  /**
   * Brings a sweep cell's run home from a queue worker: imports the bundle of that one run and
   * makes it the cell's run, in one transaction. A cell whose run has already ended (finished
   * or failed) keeps it and nothing is imported, so a result delivered twice lands once; an
   * unfinished run of the cell (whose snapshot the worker continued) is deleted, since the
   * imported run supersedes it. Returns the cell's run and whether it was imported now.
   */
  importSweepRun(sweepId: number, cell: string, file: string): { runId: number; imported: boolean } {
    return this.connection.guard(`import the run of ${cell} in sweep ${sweepId}`, () =>
      this.connection.db
        .transaction(() => {
          const current = this.sweeps.get(sweepId)?.cells.find((c) => c.key === cell)?.runId ?? null;
          if (current !== null && isRunDone(this.runs.require(current).status)) return { runId: current, imported: false };
          const counts = importBundle(this.connection.db, this.file, resolve(file));
          if (counts.runs.length !== 1) throw new InvalidRecordError(`${file} holds ${counts.runs.length} runs; a sweep cell's bundle holds one`);
          const runId = counts.runs[0]!.to;
          this.sweeps.setRun(sweepId, cell, runId);
          if (current !== null) this.runs.delete(current);
          return { runId, imported: true };
        })
        .immediate(),
    );
  }

  // ---------------------------------------------------------------- sweeps (sweeps.ts)

  /** Records the sweep of this name (created when new, its file replaced when not) with every cell of its grid. */
  openSweep(name: string, file: string, cells: readonly string[]): SweepRecord {
    return this.sweeps.open(name, file, cells);
  }

  getSweep(sweepId: number): SweepRecord | null {
    return this.sweeps.get(sweepId);
  }

  findSweep(name: string): SweepRecord | null {
    return this.sweeps.findByName(name);
  }

  /** Every sweep with the size of its grid and its runs by status, the latest updated first. */
  listSweeps(): SweepSummary[] {
    return this.sweeps.list();
  }

  /** Records the run that trains a cell of the sweep. */
  setSweepRun(sweepId: number, cell: string, runId: number): void {
    this.sweeps.setRun(sweepId, cell, runId);
  }
}
