/**
 * The experiment history side of the api: runs, their metrics and stored episodes, read from
 * (and edited in) the run store that training jobs write. The store is opened on first use
 * (HEADWAY_DB, else the app's default database) and kept open; reads never wait on a
 * training job (WAL).
 */
import type { ApiParsedPayload, EpisodeStepBlock, EpisodeTraces, MetricColumns, RunOverview } from '../../shared/api.ts';
import { encodeFloat32 } from '../../shared/base64.ts';
import { TRAJECTORY_FLAG } from '../../shared/trajectoryLayout.ts';
import type { RunDetail, RunFilter } from '../../shared/runs.ts';
import type { SweepSummary } from '../../shared/sweep.ts';
import { defaultDatabasePath, RunStore, StoreError } from '../store/index.ts';

export class RunHistory {
  private store: RunStore | null = null;

  constructor(
    private readonly database: () => string = () => defaultDatabasePath(),
    /** The job of this app that trains or evaluates a run now, if any. */
    private readonly activeJobOfRun: (runId: number) => string | null = () => null,
  ) {}

  private get runs(): RunStore {
    this.store ??= RunStore.open(this.database());
    return this.store;
  }

  listRuns(query: ApiParsedPayload<'listRuns'>): RunDetail[] {
    const byId = /^\s*#?(\d+)\s*$/.exec(query.search ?? '');
    if (byId) {
      const run = this.runs.getRun(Number(byId[1]));
      return run && this.matches(run, query) ? [run] : [];
    }
    const filter: RunFilter = { scenario: query.scenario, algo: query.algo, tag: query.tag, status: query.status, sweepId: query.sweep, limit: query.limit };
    const search = query.search?.trim();
    if (search) filter.nameContains = search;
    return this.runs.listRuns(filter).map((summary) => this.runs.getRun(summary.id)!);
  }

  private matches(run: RunDetail, query: ApiParsedPayload<'listRuns'>): boolean {
    return (
      (query.scenario === undefined || run.scenario === query.scenario) &&
      (query.algo === undefined || run.algo === query.algo) &&
      (query.tag === undefined || run.tags.includes(query.tag)) &&
      (query.status === undefined || query.status.includes(run.status)) &&
      (query.sweep === undefined || this.runs.getSweep(query.sweep)?.cells.some((cell) => cell.runId === run.id) === true)
    );
  }

  listSweeps(): SweepSummary[] {
    return this.runs.listSweeps();
  }

  getRun(runId: number): RunOverview {
    const run = this.requireRun(runId);
    const episodes = this.runs.listEpisodes(runId).sort((a, b) => b.iteration - a.iteration || b.id - a.id);
    return { run, checkpoints: this.runs.listCheckpoints(runId), episodes, series: this.runs.seriesNames(runId), activeJobId: this.activeJobOfRun(runId) };
  }

  updateRun(edit: ApiParsedPayload<'updateRun'>): RunDetail {
    this.requireRun(edit.runId);
    if (edit.name !== undefined) this.runs.renameRun(edit.runId, edit.name);
    if (edit.tags !== undefined) this.runs.setTags(edit.runId, edit.tags);
    if (edit.notes !== undefined) this.runs.setNotes(edit.runId, edit.notes);
    return this.requireRun(edit.runId);
  }

  deleteRun(runId: number): { runId: number } {
    this.requireRun(runId);
    const job = this.activeJobOfRun(runId);
    if (job) throw new StoreError('conflict', this.runs.file, `run ${runId} is in use by job ${job}; stop it before deleting the run`);
    this.runs.deleteRun(runId);
    return { runId };
  }

  runMetrics(runIds: readonly number[], names: readonly string[]): MetricColumns[] {
    const columns: MetricColumns[] = [];
    for (const name of names) {
      for (const run of this.runs.compareMetric(runIds, name)) {
        columns.push({ ...run, name, value: run.value.map((value) => (Number.isFinite(value) ? value : null)) });
      }
    }
    return columns;
  }

  readEpisodeSteps(episodeId: number, from: number, to: number): EpisodeStepBlock {
    const block = this.runs.readStepBlock(episodeId, from, to);
    return { episodeId, from: block.from, steps: block.steps, floatsPerStep: block.layout.floatsPerStep, records: encodeFloat32(block.records) };
  }

  readEpisodeTraces(episodeId: number, stride: number): EpisodeTraces {
    const episode = this.runs.getEpisode(episodeId);
    const { layout, steps, records } = this.runs.readStepBlock(episodeId, 0, episode.steps);
    const frames = Math.ceil(steps / stride);
    const nV = episode.nVehicles;
    const fields = ['position', 'speed', 'gap', 'accel'] as const;
    const series = fields.map(() => new Float32Array(frames * nV));
    const ranges = fields.map((field) => layout.fieldRange(field).offset);
    const reward = new Float32Array(frames);
    const collided = new Float32Array(frames);
    const rewardRange = layout.fieldRange('reward');
    const stateRange = layout.fieldRange('state');
    const state = new Float32Array(frames * stateRange.length);
    for (let k = 0; k < frames; k++) {
      const at = k * stride * layout.floatsPerStep;
      for (let f = 0; f < fields.length; f++) series[f].set(records.subarray(at + ranges[f], at + ranges[f] + nV), k * nV);
      state.set(records.subarray(at + stateRange.offset, at + stateRange.offset + stateRange.length), k * stateRange.length);
      let sum = 0;
      for (let a = 0; a < rewardRange.length; a++) {
        const r = records[at + rewardRange.offset + a];
        if (!Number.isNaN(r)) sum += r;
      }
      reward[k] = sum;
      // A collision anywhere in the frame's stride window shows (a sampled flag could miss it).
      for (let step = k * stride; step < Math.min(steps, (k + 1) * stride); step++) {
        if (layout.flagsAt(records, step * layout.floatsPerStep) & TRAJECTORY_FLAG.collided) collided[k] = 1;
      }
    }
    return {
      episodeId,
      steps,
      stride,
      frames,
      nVehicles: nV,
      position: encodeFloat32(series[0]),
      speed: encodeFloat32(series[1]),
      gap: encodeFloat32(series[2]),
      accel: encodeFloat32(series[3]),
      reward: encodeFloat32(reward),
      collided: encodeFloat32(collided),
      nState: stateRange.length,
      state: encodeFloat32(state),
    };
  }

  private requireRun(runId: number): RunDetail {
    const run = this.runs.getRun(runId);
    if (!run) throw new StoreError('not-found', this.runs.file, `run ${runId} does not exist`);
    return run;
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}
