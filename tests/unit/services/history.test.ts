/** The experiment history over the api contract: what the run browser, replay and comparison views read. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, EpisodeStepBlock, EpisodeTraces, MetricColumns, RunOverview } from '../../../src/shared/api.ts';
import { decodeFloat32, decodeBase64, encodeBase64 } from '../../../src/shared/base64.ts';
import type { RunDetail } from '../../../src/shared/runs.ts';
import type { SweepSummary } from '../../../src/shared/sweep.ts';
import { TrajectoryLayout, trajectoryShape } from '../../../src/shared/trajectoryLayout.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { RunHistory } from '../../../src/main/services/history.ts';
import { JobRunner } from '../../../src/main/services/jobs.ts';
import { ApiBackend } from '../../../src/main/services/api.ts';
import { tempDir } from '../cli/cli.helpers.ts';
import { CRASH_RUN, EPISODE_FRAMES, episodeSpecFor, frameFor, metricsFor } from '../../fixtures/store/crashData.ts';

let backend: ApiBackend;
let file: string;
const runIds: number[] = [];
let episodeId = 0;
let busyRun = 0;
let sweepId = 0;

beforeAll(() => {
  file = join(tempDir('headway-history-'), 'runs.db');
  const store = RunStore.open(file);
  for (const [k, algo] of ['dppo', 'ippo'].entries()) {
    const run = store.createRun({ ...CRASH_RUN, algo, name: `${algo} ring`, seed: k });
    for (let iteration = 1; iteration <= 5; iteration++) {
      store.recordIteration(run.id, { iteration, envSteps: iteration * 1000, wallTimeS: iteration / 2, values: { ...metricsFor(iteration), nan: iteration === 3 ? NaN : iteration } });
    }
    store.updateStatus(run.id, 'finished');
    runIds.push(run.id);
  }
  store.setTags(runIds[0], ['baseline']);
  sweepId = store.openSweep('grid', '{}', ['ring/dppo/0', 'ring/ippo/0']).id;
  store.setSweepRun(sweepId, 'ring/dppo/0', runIds[0]);
  const writer = store.beginEpisode(runIds[0], episodeSpecFor(5), { chunkSteps: 64 });
  for (let step = 0; step < EPISODE_FRAMES; step++) writer.append(frameFor(5, step));
  episodeId = writer.finish({}).id;
  store.close();
  busyRun = runIds[1];
  backend = new ApiBackend(new JobRunner(), { appVersion: 'test', transport: 'websocket', host: 'test' }, new RunHistory(() => file, (runId) => (runId === busyRun ? 'train-1-abc' : null)));
});

afterAll(() => backend.dispose());

async function call<T>(method: string, payload: unknown): Promise<T> {
  const result = (await backend.handle(method, payload, null)) as ApiResult<T>;
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function failure(method: string, payload: unknown): Promise<{ code: string; message: string }> {
  const result = await backend.handle(method, payload, null);
  if (result.ok) throw new Error(`${method} succeeded`);
  return result.error;
}

describe('history api', () => {
  it('lists, searches and filters runs', async () => {
    expect((await call<RunDetail[]>('listRuns', {})).map((r) => r.id).sort()).toEqual([...runIds].sort());
    expect((await call<RunDetail[]>('listRuns', { algo: 'ippo' })).map((r) => r.id)).toEqual([runIds[1]]);
    expect((await call<RunDetail[]>('listRuns', { tag: 'baseline' })).map((r) => r.id)).toEqual([runIds[0]]);
    expect((await call<RunDetail[]>('listRuns', { search: 'DPPO' })).map((r) => r.id)).toEqual([runIds[0]]);
    expect((await call<RunDetail[]>('listRuns', { search: `#${runIds[1]}` })).map((r) => r.id)).toEqual([runIds[1]]);
    expect(await call<RunDetail[]>('listRuns', { search: `#${runIds[1]}`, algo: 'dppo' })).toEqual([]);
    expect(await call<RunDetail[]>('listRuns', { status: ['running'] })).toEqual([]);
    expect((await failure('listRuns', { status: ['lost'] })).message).toMatch(/status must be one of running, stopped/);
  });

  it('lists the sweeps with their progress, and the runs of one sweep', async () => {
    const [sweep] = await call<SweepSummary[]>('listSweeps', {});
    expect(sweep).toMatchObject({ id: sweepId, name: 'grid', cells: 2, runs: { finished: 1, running: 0, failed: 0, notStarted: 1 }, scenarios: ['ring'], learners: ['dppo'] });
    expect((await call<RunDetail[]>('listRuns', { sweep: sweepId })).map((r) => r.id)).toEqual([runIds[0]]);
    expect((await call<RunDetail[]>('listRuns', { sweep: sweepId, search: `#${runIds[0]}` })).map((r) => r.id)).toEqual([runIds[0]]);
    expect(await call<RunDetail[]>('listRuns', { sweep: sweepId, search: `#${runIds[1]}` })).toEqual([]);
    expect(await call<RunDetail[]>('listRuns', { sweep: sweepId + 1 })).toEqual([]);
    expect((await failure('listRuns', { sweep: 'grid' })).message).toMatch(/sweep: sweep must be a sweep id/);
    expect((await failure('listSweeps', { name: 'grid' })).code).toBe('invalid-request');
  });

  it('shows a run with its checkpoints, episodes and series, and the job that uses it', async () => {
    const overview = await call<RunOverview>('getRun', { runId: runIds[0] });
    expect(overview.run.name).toBe('dppo ring');
    expect(overview.episodes.map((e) => e.id)).toEqual([episodeId]);
    expect(overview.series).toContain('loss/agent3');
    expect(overview.activeJobId).toBeNull();
    expect((await call<RunOverview>('getRun', { runId: busyRun })).activeJobId).toBe('train-1-abc');
    expect(await failure('getRun', { runId: 999 })).toMatchObject({ code: 'not-found', message: expect.stringMatching(/run 999 does not exist/) });
  });

  it('edits name, tags and notes, refusing bad values by field', async () => {
    const edited = await call<RunDetail>('updateRun', { runId: runIds[0], name: ' renamed ', tags: ['baseline', 'paper'], notes: 'looks good' });
    expect(edited).toMatchObject({ name: 'renamed', tags: ['baseline', 'paper'], notes: 'looks good' });
    const bad = (await backend.handle('updateRun', { runId: runIds[0], tags: [''] }, null)) as ApiResult<unknown>;
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.fields).toEqual([{ field: 'tags.0', message: 'a tag cannot be empty' }]);
    expect((await call<RunDetail>('getRun', { runId: runIds[0] }).then((o) => (o as unknown as RunOverview).run)).tags).toEqual(['baseline', 'paper']);
  });

  it('returns metric series as columns, NaN as null', async () => {
    const columns = await call<MetricColumns[]>('runMetrics', { runIds, names: ['return', 'nan'] });
    const nan = columns.find((c) => c.runId === runIds[1] && c.name === 'nan')!;
    expect(nan.value).toEqual([1, 2, null, 4, 5]);
    const ret = columns.find((c) => c.runId === runIds[0] && c.name === 'return')!;
    expect(ret).toMatchObject({ iteration: [1, 2, 3, 4, 5], envSteps: [1000, 2000, 3000, 4000, 5000], wallTimeS: [0.5, 1, 1.5, 2, 2.5], value: [-1, -2, -3, -4, -5] });
  });

  it('serves step ranges of an episode as the stored records, across chunk boundaries', async () => {
    const spec = episodeSpecFor(5);
    const layout = new TrajectoryLayout(trajectoryShape(spec));
    const block = await call<EpisodeStepBlock>('readEpisodeSteps', { episodeId, from: 60, to: 70 });
    expect(block).toMatchObject({ from: 60, steps: 10, floatsPerStep: layout.floatsPerStep });
    const records = decodeFloat32(block.records);
    for (let i = 0; i < block.steps; i++) {
      const frame = layout.decode(records, i * layout.floatsPerStep, 60 + i);
      const expected = frameFor(5, 60 + i);
      expect(Array.from(frame.position)).toEqual(Array.from(Float32Array.from(expected.position)));
      expect(Array.from(frame.value)).toEqual(Array.from(Float32Array.from(expected.value)));
      expect(frame.collided).toBe(expected.collided);
      expect(frame.truncated).toBe(expected.truncated);
    }
    expect((await call<EpisodeStepBlock>('readEpisodeSteps', { episodeId, from: 190, to: 400 })).steps).toBe(10);
    expect((await failure('readEpisodeSteps', { episodeId, from: 0, to: 5000 })).message).toMatch(/at most 1024 steps/);
  });

  it('serves whole-episode traces with a stride', async () => {
    const traces = await call<EpisodeTraces>('readEpisodeTraces', { episodeId, stride: 4 });
    expect(traces).toMatchObject({ steps: EPISODE_FRAMES, stride: 4, frames: 50, nVehicles: 22 });
    const position = decodeFloat32(traces.position);
    const speed = decodeFloat32(traces.speed);
    expect(position.length).toBe(50 * 22);
    expect(position[10 * 22 + 3]).toBeCloseTo(Float32Array.from(frameFor(5, 40).position)[3], 6);
    expect(speed[49 * 22]).toBeCloseTo(Float32Array.from(frameFor(5, 196).speed)[0], 6);
    const reward = decodeFloat32(traces.reward);
    expect(reward[1]).toBeCloseTo(Array.from(frameFor(5, 4).reward).reduce((a, b) => a + Math.fround(b), 0), 2);
    expect(Array.from(decodeFloat32(traces.collided)).slice(12, 13)).toEqual([1]);
  });

  it('deletes a run, but not one a job uses', async () => {
    expect(await failure('deleteRun', { runId: busyRun })).toMatchObject({ code: 'busy', message: expect.stringMatching(/in use by job train-1-abc/) });
    expect(await call('deleteRun', { runId: runIds[0] })).toEqual({ runId: runIds[0] });
    expect((await failure('getRun', { runId: runIds[0] })).code).toBe('not-found');
  });

  it('round-trips base64 of any length', () => {
    for (let n = 0; n < 20; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) & 255);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(Array.from(decodeBase64(text))).toEqual(Array.from(bytes));
    }
  });
});
