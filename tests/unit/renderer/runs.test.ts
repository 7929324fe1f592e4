/**
 * The Runs tab's stores (runs, sweeps and the hand-off to Compare) against a fake
 * HeadwayApi: an in-memory history that validates requests with the contract's own schemas
 * (parseRequest, validateJobConfig), so field errors look exactly like the backend's.
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ApiRequestError,
  parseRequest,
  validateJobConfig,
  type ApiEvent,
  type HeadwayApi,
  type JobCommandInput,
  type JobConfigInput,
  type JobInfo,
  type JobStatus,
  type RunOverview,
  type RunQuery,
} from '../../../src/shared/api.ts';
import type { CheckpointInfo, EpisodeInfo, RunDetail, RunStatus } from '../../../src/shared/runs.ts';
import type { SweepSummary } from '../../../src/shared/sweep.ts';
import { provideApi } from '../../../src/renderer/api/index.ts';
import { useLiveStore } from '../../../src/renderer/stores/live.ts';
import { useCompareStore } from '../../../src/renderer/stores/compare.ts';
import { LIVE_DETAILS_INTERVAL_MS, RETURN_SERIES, useRunsStore } from '../../../src/renderer/stores/runs.ts';
import { sweepProgress, sweepProgressText, useSweepsStore } from '../../../src/renderer/stores/sweeps.ts';
import { useViewStore } from '../../../src/renderer/stores/view.ts';
import { storedEpisode } from './storedEpisode.ts';

function run(id: number, name: string, status: RunStatus, extra: Partial<RunDetail> = {}): RunDetail {
  return {
    id,
    name,
    scenario: 'cacc-catchup',
    algo: 'ippo',
    status,
    iterations: 2,
    envSteps: 1200,
    lastEvalReturn: -12.5,
    created: `2025-01-0${id}T10:00:00.000Z`,
    params: { horizon: 600 },
    config: { learner: { lrActor: 0.0003, gamma: 0.99 }, budget: { iterations: 2 }, threads: 1 },
    seed: id,
    preset: 'default',
    backend: 'cpu',
    appVersion: '0.1.0',
    tags: [],
    notes: '',
    parent: null,
    wallTimeS: 12,
    updated: '',
    ended: null,
    statusMessage: null,
    writer: null,
    ...extra,
  };
}

function checkpoint(id: number, runId: number, iteration: number): CheckpointInfo {
  return { id, runId, iteration, envSteps: iteration * 600, kind: 'periodic', evalReturn: -10, bytes: 100, created: '', meta: {} };
}

function episode(id: number, runId: number, iteration: number, seed: number): EpisodeInfo {
  const catchup = { scenario: 'cacc-catchup', params: {}, horizon: 600, nVehicles: 9, nAgents: 8, obsDim: 3, obsNames: [], rewardTermNames: [], agentVehicle: [], vehicleKind: [] };
  return storedEpisode({ id, runId, iteration, seed, ...catchup, roadLength: null, steps: 601, return: -11, created: '', finished: '' });
}

interface FakeHistory extends HeadwayApi {
  runs: RunDetail[];
  checkpoints: CheckpointInfo[];
  episodes: EpisodeInfo[];
  sweeps: SweepSummary[];
  /** The runs of each sweep, by sweep id. */
  sweepRuns: Map<number, number[]>;
  queries: RunQuery[];
  /** Runs whose overview was read, in order. */
  overviews: number[];
  started: JobConfigInput[];
  commands: [string, JobCommandInput][];
  /** Runs a job uses: deleting them is refused like the backend does. */
  busyRuns: Map<number, string>;
  listeners: Set<(event: ApiEvent) => void>;
  emit(event: ApiEvent): void;
}

/** Fails a request the way the client does, from the contract's own validation. */
function validated<M extends 'updateRun' | 'listRuns'>(method: M, payload: unknown): void {
  const parsed = parseRequest(method, payload);
  if (!parsed.ok) throw new ApiRequestError(parsed.error);
}

function fakeHistory(): FakeHistory {
  let jobs = 0;
  const api: FakeHistory = {
    transport: 'websocket',
    runs: [run(1, 'catch-up DPPO seed 1', 'finished', { algo: 'dppo', tags: ['baseline'] }), run(2, 'catch-up IPPO seed 1', 'stopped'), run(3, 'ring IPPO', 'interrupted', { scenario: 'ring', tags: ['ring'] })],
    checkpoints: [checkpoint(11, 2, 1), checkpoint(12, 2, 2)],
    episodes: [episode(21, 2, 1, 1001), episode(22, 2, 2, 1001)],
    sweeps: [],
    sweepRuns: new Map(),
    queries: [],
    overviews: [],
    started: [],
    commands: [],
    busyRuns: new Map(),
    listeners: new Set(),
    emit: (event) => api.listeners.forEach((listener) => listener(event)),
    hello: async () => ({ apiVersion: 1, appVersion: '0.1.0', transport: 'websocket', host: 'test' }),
    validateJob: async (config) => {
      const result = validateJobConfig(config);
      return result.ok ? [] : result.errors;
    },
    startJob: async (config) => {
      const result = validateJobConfig(config);
      if (!result.ok) throw new ApiRequestError({ code: 'invalid-config', message: 'invalid job', fields: result.errors });
      if (result.config.kind !== 'resume' && result.config.kind !== 'evaluate') throw new Error('the Runs tab starts resume and evaluate jobs only');
      api.started.push(config);
      return jobInfo(`${result.config.kind}-${++jobs}-abcdef`, result.config.kind, result.config.runId, 'starting');
    },
    controlJob: async (jobId, command) => {
      api.commands.push([jobId, command]);
      const kind = jobId.split('-')[0];
      return jobInfo(jobId, kind === 'evaluate' ? 'evaluate' : 'resume', 2, 'running');
    },
    listJobs: async () => [],
    snapshot: async () => [],
    listRuns: async (query = {}) => {
      validated('listRuns', query);
      api.queries.push(query);
      return api.runs
        .filter((r) => (query.algo === undefined || r.algo === query.algo) && (query.tag === undefined || r.tags.includes(query.tag)))
        .filter((r) => query.status === undefined || query.status.includes(r.status))
        .filter((r) => (query.scenario === undefined || r.scenario === query.scenario) && (query.sweep === undefined || api.sweepRuns.get(query.sweep)?.includes(r.id)))
        .sort((a, b) => b.id - a.id)
        .slice(0, query.limit);
    },
    listSweeps: async () => api.sweeps,
    getRun: async (runId) => {
      api.overviews.push(runId);
      const found = api.runs.find((r) => r.id === runId);
      if (!found) throw new ApiRequestError({ code: 'not-found', message: `run ${runId} does not exist` });
      const overview: RunOverview = {
        run: found,
        checkpoints: api.checkpoints.filter((c) => c.runId === runId),
        episodes: api.episodes.filter((e) => e.runId === runId).sort((a, b) => b.iteration - a.iteration || b.id - a.id),
        series: [...RETURN_SERIES],
        activeJobId: api.busyRuns.get(runId) ?? null,
      };
      return overview;
    },
    updateRun: async (edit) => {
      validated('updateRun', edit);
      const index = api.runs.findIndex((r) => r.id === edit.runId);
      const current = api.runs[index];
      api.runs[index] = {
        ...current,
        name: edit.name?.trim() ?? current.name,
        tags: edit.tags ? [...new Set(edit.tags.map((t) => t.trim()))] : current.tags,
        notes: edit.notes ?? current.notes,
      };
      return api.runs[index];
    },
    deleteRun: async (runId) => {
      const job = api.busyRuns.get(runId);
      if (job) throw new ApiRequestError({ code: 'busy', message: `run ${runId} is in use by job ${job}; stop it before deleting the run` });
      api.runs = api.runs.filter((r) => r.id !== runId);
    },
    runMetrics: async (runIds, names) =>
      names.map((name) => ({ runId: runIds[0], name, iteration: [1, 2], envSteps: [600, 1200], wallTimeS: [5, 10], value: [-20, name === RETURN_SERIES[0] ? null : -15] })),
    readEpisodeSteps: () => Promise.reject(new Error('the Runs tab never reads frames')),
    readEpisodeTraces: () => Promise.reject(new Error('the Runs tab never reads traces')),
    onEvent: (listener) => {
      api.listeners.add(listener);
      return () => api.listeners.delete(listener);
    },
  };
  return api;
}

function jobInfo(id: string, kind: 'resume' | 'evaluate', runId: number, status: JobStatus, iteration = 0): JobInfo {
  const config: JobInfo['config'] = kind === 'resume' ? { kind, runId } : { kind, runId, checkpoint: 'latest', seed: 4242, episodes: 1 };
  return {
    id,
    kind,
    title: id,
    status,
    config,
    episode: 0,
    step: 0,
    speed: 1,
    created: '',
    ended: null,
    error: null,
    progress: { iteration, iterations: kind === 'resume' ? 10 : 1, envSteps: 0, runId, backend: null, held: false },
    displayPaused: false,
  };
}

/** Lets the store's pending requests settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

let api: FakeHistory;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  setActivePinia(createPinia());
  api = fakeHistory();
  provideApi(api);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the Runs store: the list', () => {
  it('lists newest first and sends the filters as the api query', async () => {
    const runs = useRunsStore();
    await runs.load();
    expect(runs.runs.map((r) => r.id)).toEqual([3, 2, 1]);
    expect(runs.tagOptions).toEqual(['baseline', 'ring']);
    expect(runs.filtered).toBe(false);

    runs.search = '  #2 ';
    runs.scenario = 'cacc-catchup';
    runs.algo = 'ippo';
    runs.toggleStatus('stopped');
    runs.toggleStatus('failed');
    runs.toggleStatus('failed');
    await runs.load();
    expect(api.queries.at(-1)).toEqual({ search: '#2', scenario: 'cacc-catchup', algo: 'ippo', status: ['stopped'] });
    expect(runs.runs.map((r) => r.id)).toEqual([2]);

    runs.clearFilters();
    runs.tag = 'ring';
    await runs.load();
    expect(api.queries.at(-1)).toEqual({ tag: 'ring' });
    // The tag filter keeps offering every tag, not only the one picked.
    expect(runs.tagOptions).toEqual(['baseline', 'ring']);
  });

  it('drops the answer to an older request', async () => {
    const runs = useRunsStore();
    let release: () => void = () => {};
    const slow = api.listRuns;
    api.listRuns = async (query) => {
      const answer = await slow(query);
      if (query?.algo === 'dppo') await new Promise<void>((resolve) => (release = resolve));
      return answer;
    };
    runs.algo = 'dppo';
    const first = runs.load();
    runs.algo = 'ippo';
    await runs.load();
    release();
    await first;
    expect(runs.runs.map((r) => r.algo)).toEqual(['ippo', 'ippo']);
  });

  it('ticks runs for Compare, all of the listed ones at once', async () => {
    const runs = useRunsStore();
    await runs.load();
    runs.toggleChecked(2);
    expect(runs.checkedIds).toEqual([2]);
    runs.toggleAllChecked();
    expect([...runs.checkedIds].sort()).toEqual([1, 2, 3]);
    runs.toggleAllChecked();
    expect(runs.checkedIds).toEqual([]);
  });
});

describe('the Runs store: the selected run', () => {
  it('loads the overview and the return curves of the selected run', async () => {
    const runs = useRunsStore();
    await runs.load();
    runs.select(2);
    await settle();
    expect(runs.selectedRun?.name).toBe('catch-up IPPO seed 1');
    expect(runs.overview?.checkpoints.map((c) => c.id)).toEqual([11, 12]);
    expect(runs.overview?.episodes.map((e) => e.id)).toEqual([22, 21]);
    expect(runs.curves.map((c) => c.name)).toEqual([...RETURN_SERIES]);
    expect(runs.nameDraft).toBe('catch-up IPPO seed 1');
    runs.select(99);
    await settle();
    expect(runs.overview).toBeNull();
    expect(runs.detailError).toBe('Run 99 no longer exists.');
  });

  it('edits tags, notes and the name; api field errors land next to the field', async () => {
    const runs = useRunsStore();
    await runs.load();
    runs.select(2);
    await settle();

    expect(await runs.addTag('   ')).toBe(false);
    expect(runs.editErrors.tags).toBe('a tag cannot be empty');
    expect(await runs.addTag(' sweep-a ')).toBe(true);
    expect(runs.editErrors.tags).toBeUndefined();
    expect(await runs.addTag('paper')).toBe(true);
    expect(runs.selectedRun?.tags).toEqual(['sweep-a', 'paper']);
    // The row in the list and the tag filter follow.
    expect(runs.runs.find((r) => r.id === 2)?.tags).toEqual(['sweep-a', 'paper']);
    expect(runs.tagOptions).toContain('sweep-a');
    expect(await runs.removeTag('sweep-a')).toBe(true);
    expect(api.runs.find((r) => r.id === 2)?.tags).toEqual(['paper']);

    runs.notesDraft = 'lr too high?';
    expect(runs.notesDirty).toBe(true);
    expect(await runs.saveNotes()).toBe(true);
    expect(runs.notesDirty).toBe(false);
    expect(api.runs.find((r) => r.id === 2)?.notes).toBe('lr too high?');

    runs.nameDraft = '  ';
    expect(await runs.rename()).toBe(false);
    expect(runs.editErrors.name).toBe('name cannot be empty');
    runs.nameDraft = 'IPPO baseline';
    expect(await runs.rename()).toBe(true);
    expect(runs.editErrors.name).toBeUndefined();
    expect(runs.runs.find((r) => r.id === 2)?.name).toBe('IPPO baseline');
  });

  it('keeps notes being typed when the details reload', async () => {
    const runs = useRunsStore();
    runs.select(2);
    await settle();
    runs.notesDraft = 'half a thought';
    await runs.loadDetails();
    expect(runs.notesDraft).toBe('half a thought');
  });
});

describe('the Runs store: jobs on a run', () => {
  it('offers resume only for stopped, interrupted and failed runs, and follows the job to its end', async () => {
    const runs = useRunsStore();
    const live = useLiveStore();
    api.onEvent(live.handleEvent);
    api.onEvent(runs.handleEvent);
    await runs.load();
    runs.select(1);
    await settle();
    expect(runs.canResume).toBe(false);
    expect(await runs.resume()).toBeNull();

    runs.select(2);
    await settle();
    expect(runs.canResume).toBe(true);
    const job = await runs.resume();
    expect(api.started).toEqual([{ kind: 'resume', runId: 2 }]);
    expect(runs.selectedJob?.id).toBe(job?.id);
    expect(runs.busy).toBe(true);
    expect(runs.canResume).toBe(false);

    // Progress events update the job, without reloading the list each time.
    api.emit({ type: 'job', job: jobInfo(job!.id, 'resume', 2, 'running', 1) });
    await settle();
    const queries = api.queries.length;
    api.emit({ type: 'job', job: jobInfo(job!.id, 'resume', 2, 'running', 3) });
    await settle();
    expect(api.queries.length).toBe(queries);
    expect(runs.selectedJob?.progress?.iteration).toBe(3);
    // ...but the details of the run on screen follow its progress now and then.
    const overviews = api.overviews.length;
    vi.setSystemTime(Date.now() + LIVE_DETAILS_INTERVAL_MS);
    api.emit({ type: 'job', job: jobInfo(job!.id, 'resume', 2, 'running', 4) });
    await settle();
    expect(api.overviews.length).toBe(overviews + 1);
    expect(api.queries.length).toBe(queries);
    expect(runs.canStopJob).toBe(true);
    await runs.stopJob();
    expect(api.commands).toEqual([[job!.id, { type: 'stop' }]]);

    api.runs = api.runs.map((r) => (r.id === 2 ? { ...r, status: 'finished', iterations: 10 } : r));
    api.emit({ type: 'job', job: jobInfo(job!.id, 'resume', 2, 'finished', 10) });
    await settle();
    expect(api.queries.length).toBe(queries + 1);
    expect(runs.runs.find((r) => r.id === 2)?.status).toBe('finished');
    expect(runs.selectedRun?.status).toBe('finished');
    expect(runs.selectedJob?.status).toBe('finished');
    expect(runs.busy).toBe(false);
    expect(runs.canResume).toBe(false);
  });

  it('evaluates a chosen checkpoint with a chosen seed and shows the new episode when the job ends', async () => {
    const runs = useRunsStore();
    const live = useLiveStore();
    api.onEvent(live.handleEvent);
    api.onEvent(runs.handleEvent);
    runs.select(2);
    await settle();

    runs.evalSeed = '-1';
    expect(await runs.evaluate()).toBeNull();
    expect(runs.evalErrors.seed).toMatch(/seed must be a whole number/);
    runs.evalEpisodes = '50';
    expect(await runs.evaluate()).toBeNull();
    expect(runs.evalErrors.episodes).toMatch(/episodes must be a whole number from 1 to 20/);

    runs.evalCheckpoint = '12';
    runs.evalSeed = '4242';
    runs.evalEpisodes = '2';
    const job = await runs.evaluate();
    expect(runs.evalErrors).toEqual({});
    expect(api.started).toEqual([{ kind: 'evaluate', runId: 2, checkpoint: 12, seed: 4242, episodes: 2 }]);
    expect(runs.selectedJob?.id).toBe(job?.id);
    // An evaluation runs to its end: nothing to stop.
    expect(runs.canStopJob).toBe(false);

    api.episodes.push(episode(23, 2, 2, 4242), episode(24, 2, 2, 4243));
    api.emit({ type: 'job', job: jobInfo(job!.id, 'evaluate', 2, 'finished', 2) });
    await settle();
    expect(runs.overview?.episodes.map((e) => e.seed)).toEqual([4243, 4242, 1001, 1001]);

    // A checkpoint id belongs to its run.
    runs.select(3);
    expect(runs.evalCheckpoint).toBe('best');
  });

  it('asks before deleting; a refusal stays in the dialog; a delete clears the run everywhere', async () => {
    const runs = useRunsStore();
    await runs.load();
    runs.select(3);
    runs.toggleChecked(3);
    await settle();
    runs.askDelete(runs.selectedRun!);
    expect(runs.deleteTarget?.name).toBe('ring IPPO');
    runs.cancelDelete();
    expect(runs.deleteTarget).toBeNull();
    expect(api.runs.some((r) => r.id === 3)).toBe(true);

    api.busyRuns.set(3, 'resume-7-abcdef');
    runs.askDelete(runs.selectedRun!);
    expect(await runs.confirmDelete()).toBe(false);
    expect(runs.deleteError).toBe('run 3 is in use by job resume-7-abcdef; stop it before deleting the run');
    expect(runs.deleteTarget?.id).toBe(3);

    api.busyRuns.clear();
    expect(await runs.confirmDelete()).toBe(true);
    expect(runs.deleteTarget).toBeNull();
    expect(runs.runs.map((r) => r.id)).toEqual([2, 1]);
    expect(runs.checkedIds).toEqual([]);
    expect(runs.selectedId).toBeNull();
  });
});

describe('the Runs store: sweeps', () => {
  const grid = (extra: Partial<SweepSummary> = {}): SweepSummary => ({
    id: 7,
    name: 'grid',
    created: '2025-01-09T10:00:00.000Z',
    updated: '2025-01-09T11:00:00.000Z',
    cells: 6,
    runs: { running: 1, stopped: 0, finished: 3, failed: 1, interrupted: 0, notStarted: 1 },
    scenarios: ['cacc-catchup', 'ring'],
    learners: ['dppo', 'ippo'],
    ...extra,
  });

  it("writes a sweep's progress with the finished cells first and empty parts left out", () => {
    expect(sweepProgressText(grid())).toBe('3 of 6 finished · 1 running · 1 failed · 1 not started');
    expect(sweepProgress(grid()).map((part) => part.status)).toEqual(['finished', 'running', 'failed', 'notStarted']);
    const fresh = grid({ runs: { running: 0, stopped: 0, finished: 0, failed: 0, interrupted: 0, notStarted: 6 } });
    expect(sweepProgressText(fresh)).toBe('0 of 6 finished · 6 not started');
  });

  it('filters the list by sweep and knows the sweep filtered on', async () => {
    api.sweeps = [grid()];
    api.sweepRuns.set(7, [1, 3]);
    const runs = useRunsStore();
    const sweeps = useSweepsStore();
    await sweeps.load();
    expect(sweeps.selected).toBeNull();
    runs.sweep = 7;
    await runs.load();
    expect(api.queries.at(-1)).toEqual({ sweep: 7 });
    expect(runs.runs.map((r) => r.id)).toEqual([3, 1]);
    expect(runs.filtered).toBe(true);
    expect(sweeps.selected?.name).toBe('grid');
    runs.clearFilters();
    expect(runs.sweep).toBeNull();
    expect(sweeps.selected).toBeNull();
  });

  it("opens a sweep's runs on one scenario in Compare, grouped by learner with std bands, in grid order", async () => {
    api.runs.push(run(4, 'grid: cacc-catchup/dppo/1/default', 'finished', { algo: 'dppo' }));
    api.sweepRuns.set(7, [1, 2, 3, 4]);
    const sweeps = useSweepsStore();
    await sweeps.compare(grid(), 'cacc-catchup');
    const view = useViewStore();
    expect(api.queries.at(-1)).toEqual({ sweep: 7, scenario: 'cacc-catchup', limit: 1000 });
    expect(view.tab).toBe('compare');
    expect(view.compareRunIds).toEqual([1, 2, 4]);
    expect(view.compareLayout).toEqual({ groupBy: 'algo', band: 'std' });
    expect(sweeps.error).toBeNull();
    // Compare applies the layout when it opens, once: a later opening keeps what the user chose.
    const compare = useCompareStore();
    await compare.open();
    expect([compare.groupBy, compare.band, view.compareLayout]).toEqual(['algo', 'std', null]);
    compare.groupBy = null;
    await compare.open();
    expect(compare.groupBy).toBeNull();
  });

  it('says so when the sweep has no runs on the scenario, and stays in Runs', async () => {
    const sweeps = useSweepsStore();
    const view = useViewStore();
    view.tab = 'runs';
    await sweeps.compare(grid(), 'ring');
    expect(sweeps.error).toBe('Sweep "grid" has no runs on ring yet.');
    expect(view.tab).toBe('runs');
    expect(sweeps.opening).toBeNull();
  });
});
