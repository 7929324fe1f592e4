/**
 * Recorded episodes of a run (evaluation and training episodes with their full trajectories):
 * begun with their static description, stored chunk by chunk through an EpisodeWriter
 * (episodeWriter.ts), completed with a summary; read back whole or by step range for replay,
 * also while still being recorded.
 */
import type Database from 'better-sqlite3';
import type { EpisodeInfo, EpisodeKind, StoredEpisodeSpec, TrajectoryFrame } from '../../shared/runs.ts';
import { sceneStateLength } from '../../shared/scene.ts';
import { TrajectoryLayout, trajectoryShape } from '../../shared/trajectoryLayout.ts';
import { asBuffer, iso, type Connection } from './connection.ts';
import { EpisodeWriter, type EpisodeSink, type EpisodeSummary, type StoredChunk } from './episodeWriter.ts';
import { InvalidRecordError, StoreError, toStoreError } from './errors.ts';
import { TrajectoryCodec } from './trajectoryCodec.ts';
import type { WriterClaims } from './writerClaims.ts';
import { isWriterGone, THIS_HOST } from './writerLiveness.ts';

export interface EpisodeFilter {
  kind?: EpisodeKind;
  iteration?: number;
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
  disturbances: string;
  parent_episode_id: number | null;
  parent_step: number | null;
  fork_policy: string | null;
}

/** The StoredEpisodeSpec fields kept as JSON in episodes.env (communicationDim absent in episodes stored before it: 0). */
type EpisodeEnvJson = Pick<
  StoredEpisodeSpec,
  'params' | 'dt' | 'horizon' | 'action' | 'obsNames' | 'rewardTermNames' | 'agentVehicle' | 'vehicleKind' | 'edges' | 'roadLength' | 'vehicleLength' | 'scene' | 'communicationDim'
>;

/** An unfinished episode's writer, as read for the liveness checks. */
export type EpisodeWriterRow = Pick<EpisodeRow, 'id' | 'writer_host' | 'writer_pid' | 'created_at'>;

function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    runExists: p('SELECT 1 FROM runs WHERE id = ?'),
    insertEpisode: p(`INSERT INTO episodes (run_id, checkpoint_id, iteration, kind, seed, scenario, env, n_vehicles, n_agents,
        obs_dim, action_param_dim, n_reward_terms, chunk_steps, writer_host, writer_pid, created_at, disturbances,
        parent_episode_id, parent_step, fork_policy)
      VALUES (@runId, @checkpointId, @iteration, @kind, @seed, @scenario, @env, @nVehicles, @nAgents, @obsDim, @actionParamDim,
        @nRewardTerms, @chunkSteps, @host, @pid, @now, @disturbances, @parentEpisodeId, @parentStep, @forkPolicy) RETURNING id`).pluck(),
    insertChunk: p('INSERT INTO episode_chunks (episode_id, first_step, n_steps, data, actions) VALUES (?, ?, ?, ?, ?)'),
    setEpisodeSteps: p('UPDATE episodes SET steps = ? WHERE id = ?'),
    completeEpisode: p(`UPDATE episodes SET steps = @steps, complete = 1, episode_return = @episodeReturn,
        collisions = @collisions, stats = @stats, disturbances = @disturbances, finished_at = @now WHERE id = @id AND complete = 0`),
    deleteEpisode: p('DELETE FROM episodes WHERE id = ?'),
    deleteUnfinishedEpisode: p('DELETE FROM episodes WHERE id = ? AND complete = 0'),
    unfinishedEpisodes: p('SELECT id, writer_host, writer_pid, created_at FROM episodes WHERE complete = 0'),
    episode: p('SELECT * FROM episodes WHERE id = ?'),
    episodes: p(`SELECT * FROM episodes WHERE run_id = @runId AND (@kind IS NULL OR kind = @kind)
      AND (@iteration IS NULL OR iteration = @iteration) ORDER BY iteration, id`),
    // Chunks start at multiples of chunk_steps, so those overlapping [from, to) start in [from - from % chunk, to).
    chunksInRange: p(`SELECT first_step, n_steps, data FROM episode_chunks
      WHERE episode_id = ? AND first_step >= ? AND first_step < ? ORDER BY first_step`),
    actionsInRange: p(`SELECT first_step, n_steps, actions FROM episode_chunks
      WHERE episode_id = ? AND first_step >= ? AND first_step < ? ORDER BY first_step`),
    truncateEpisodes: p('DELETE FROM episodes WHERE run_id = ? AND iteration > ?'),
  };
}

export class Episodes {
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(
    private readonly connection: Connection,
    private readonly claims: WriterClaims,
  ) {
    this.sql = prepareStatements(connection.db);
  }

  /**
   * Starts recording an episode of the run. Append its frames to the returned writer, then
   * finish() it (or abort() to drop it). `chunkSteps` overrides the steps stored per row.
   */
  begin(runId: number, spec: StoredEpisodeSpec, options: { chunkSteps?: number } = {}): EpisodeWriter {
    return this.connection.guard(`begin an episode of run ${runId}`, () => {
      checkEpisodeSpec(spec);
      const codec = new TrajectoryCodec(trajectoryShape(spec));
      const chunkSteps = options.chunkSteps ?? codec.defaultChunkSteps();
      if (!Number.isSafeInteger(chunkSteps) || chunkSteps < 1) throw new InvalidRecordError(`chunkSteps must be a positive integer, got ${chunkSteps}`);
      if (this.sql.runExists.get(runId) === undefined) throw this.connection.runNotFound(runId);
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
        scene: spec.scene ?? null,
        communicationDim: spec.communicationDim ?? 0,
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
        disturbances: JSON.stringify(spec.disturbances ?? []),
        parentEpisodeId: spec.fork?.parentEpisodeId ?? null,
        parentStep: spec.fork?.step ?? null,
        forkPolicy: spec.fork?.policy ?? null,
      }) as number;
      this.claims.episodes.claim(this.connection.file, id);
      return new EpisodeWriter(id, codec, chunkSteps, this.episodeSink);
    });
  }

  get(episodeId: number): EpisodeInfo {
    return this.connection.guard(`read episode ${episodeId}`, () => toEpisodeInfo(this.requireEpisode(episodeId)));
  }

  list(runId: number, filter: EpisodeFilter = {}): EpisodeInfo[] {
    return this.connection.guard(`list the episodes of run ${runId}`, () =>
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
    return this.connection.guard(`read steps ${from}..${to} of episode ${episodeId}`, () => {
      checkStepRange(from, to);
      return this.connection.db.transaction(() => {
        const episode = this.requireEpisode(episodeId);
        const env = JSON.parse(episode.env) as EpisodeEnvJson;
        const layout = new TrajectoryLayout({
          nVehicles: episode.n_vehicles,
          nAgents: episode.n_agents,
          obsDim: episode.obs_dim,
          actionParamDim: episode.action_param_dim,
          nRewardTerms: episode.n_reward_terms,
          // Episodes stored before scenes had none: no state; before communication, none either.
          nState: sceneStateLength(env.scene, episode.n_agents),
          communicationDim: env.communicationDim ?? 0,
        });
        const end = Math.min(to, episode.steps);
        const steps = Math.max(0, end - from);
        const records = new Float32Array(steps * layout.floatsPerStep);
        if (steps === 0) return { layout, from, steps, records };
        const chunks = this.sql.chunksInRange.all(episodeId, from - (from % episode.chunk_steps), end) as { first_step: number; n_steps: number; data: Uint8Array }[];
        for (const chunk of chunks) copyStepsInRange(records, TrajectoryCodec.floatsOf(chunk.data), chunk, from, end, layout.floatsPerStep);
        return { layout, from, steps, records };
      })();
    });
  }

  /**
   * The agents' actions of frames [from, to) exactly (float64 [steps, nAgents]), or null
   * where the episode was stored before Headway kept them (schema 2). Frame t's action is
   * the one chosen in state t, applied on the step to t + 1.
   */
  readActions(episodeId: number, from: number, to: number): Float64Array | null {
    return this.connection.guard(`read the actions of steps ${from}..${to} of episode ${episodeId}`, () => {
      checkStepRange(from, to);
      return this.connection.db.transaction(() => {
        const episode = this.requireEpisode(episodeId);
        const end = Math.min(to, episode.steps);
        const nAgents = episode.n_agents;
        const actions = new Float64Array(Math.max(0, end - from) * nAgents);
        const chunks = this.sql.actionsInRange.all(episodeId, from - (from % episode.chunk_steps), end) as { first_step: number; n_steps: number; actions: Uint8Array | null }[];
        for (const chunk of chunks) {
          if (chunk.actions === null) return null;
          copyStepsInRange(actions, TrajectoryCodec.doublesOf(chunk.actions), chunk, from, end, nAgents);
        }
        return actions;
      })();
    });
  }

  // ------------------------------------------------ inside the caller's transaction and guard

  /** The unfinished episodes whose writer is gone. */
  deadWriters(now: number): EpisodeWriterRow[] {
    const { file } = this.connection;
    return (this.sql.unfinishedEpisodes.all() as EpisodeWriterRow[]).filter((episode) =>
      isWriterGone(episode.writer_host, episode.writer_pid, episode.created_at, this.claims.episodes.stateOf(file, episode.id), now),
    );
  }

  /** Deletes the episodes unless they were completed since they were read. */
  deleteUnfinished(episodes: readonly EpisodeWriterRow[]): void {
    for (const episode of episodes) this.sql.deleteUnfinishedEpisode.run(episode.id);
  }

  /** Deletes the run's episodes after `iteration` (resuming repeats those iterations). */
  truncate(runId: number, iteration: number): void {
    this.sql.truncateEpisodes.run(runId, iteration);
  }

  private requireEpisode(episodeId: number): EpisodeRow {
    const row = this.sql.episode.get(episodeId) as EpisodeRow | undefined;
    if (!row) throw new StoreError('not-found', this.connection.file, `episode ${episodeId} does not exist in ${this.connection.file}`);
    return row;
  }

  private readonly episodeSink: EpisodeSink = {
    storeChunk: (episodeId: number, chunk: StoredChunk) =>
      this.connection.guard(`store steps of episode ${episodeId}`, () => this.connection.db.transaction(() => this.writeChunk(episodeId, chunk)).immediate()),
    complete: (episodeId: number, lastChunk: StoredChunk | null, summary: EpisodeSummary) =>
      this.connection.guard(`finish episode ${episodeId}`, () => {
        this.connection.db
          .transaction(() => {
            if (lastChunk) this.writeChunk(episodeId, lastChunk);
            const changes = this.sql.completeEpisode.run({
              id: episodeId,
              steps: summary.steps,
              episodeReturn: summary.return,
              collisions: summary.collisions,
              stats: JSON.stringify(summary.stats),
              disturbances: JSON.stringify(summary.disturbances),
              now: Date.now(),
            }).changes;
            if (changes !== 1) throw new StoreError('not-found', this.connection.file, `episode ${episodeId} was deleted while it was recorded`);
          })
          .immediate();
        this.claims.episodes.finish(this.connection.file, episodeId);
        return toEpisodeInfo(this.requireEpisode(episodeId));
      }),
    discard: (episodeId: number) =>
      this.connection.guard(`discard episode ${episodeId}`, () => {
        this.sql.deleteEpisode.run(episodeId);
        this.claims.episodes.finish(this.connection.file, episodeId);
      }),
    fail: (error: unknown, doing: string) => toStoreError(error, this.connection.file, doing),
  };

  private writeChunk(episodeId: number, chunk: StoredChunk): void {
    this.sql.insertChunk.run(episodeId, chunk.firstStep, chunk.steps, asBuffer(chunk.bytes), asBuffer(chunk.actions));
    this.sql.setEpisodeSteps.run(chunk.firstStep + chunk.steps, episodeId);
  }
}

function checkStepRange(from: number, to: number): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
    throw new InvalidRecordError(`the step range must be integers with 0 <= from <= to, got ${from}..${to}`);
  }
}

/** Copies the steps of a stored chunk that lie in [from, end) into `target`, which holds `width` values per step from step `from` on. */
function copyStepsInRange(
  target: Float32Array | Float64Array,
  values: Float32Array | Float64Array,
  chunk: { first_step: number; n_steps: number },
  from: number,
  end: number,
  width: number,
): void {
  const first = Math.max(from, chunk.first_step);
  const last = Math.min(end, chunk.first_step + chunk.n_steps);
  if (last > first) target.set(values.subarray((first - chunk.first_step) * width, (last - chunk.first_step) * width), (first - from) * width);
}

function checkEpisodeSpec(spec: StoredEpisodeSpec): void {
  const counts = {
    iteration: spec.iteration,
    seed: spec.seed,
    nVehicles: spec.nVehicles,
    nAgents: spec.nAgents,
    obsDim: spec.obsDim,
    actionParamDim: spec.actionParamDim,
    communicationDim: spec.communicationDim ?? 0,
  };
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
    communicationDim: env.communicationDim ?? 0,
    obsNames: env.obsNames,
    rewardTermNames: env.rewardTermNames,
    agentVehicle: env.agentVehicle,
    vehicleKind: env.vehicleKind,
    edges: env.edges,
    roadLength: env.roadLength,
    vehicleLength: env.vehicleLength,
    scene: env.scene ?? null,
    checkpointId: row.checkpoint_id,
    fork: row.parent_step === null ? null : { parentEpisodeId: row.parent_episode_id, step: row.parent_step, policy: row.fork_policy ?? '' },
    disturbances: JSON.parse(row.disturbances),
    steps: row.steps,
    complete: row.complete === 1,
    return: row.episode_return,
    collisions: row.collisions,
    stats: JSON.parse(row.stats),
    created: iso(row.created_at),
    finished: row.finished_at === null ? null : iso(row.finished_at),
  };
}
