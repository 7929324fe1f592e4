import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, JobInfo } from '../../../src/shared/api.ts';
import { createIpcHandler, rendererUrlCheck } from '../../../src/main/app/ipc.ts';
import { ConfigError, JobRunner } from '../../../src/main/services/jobs.ts';
import { ApiBackend, type ClientSink } from '../../../src/main/services/api.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { TRAIN_METRICS, validateJobConfig } from '../../../src/shared/api.ts';

const runners: JobRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.shutdown()));
});

function collect(runner: JobRunner) {
  const events: ApiEvent[] = [];
  runner.subscribe((event) => events.push(event));
  const waitFor = async (predicate: (event: ApiEvent) => boolean, timeoutMs = 15_000): Promise<ApiEvent> => {
    const started = Date.now();
    for (;;) {
      const found = events.find(predicate);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out; events: ${events.map((e) => e.type).join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { events, waitFor };
}

const statusIs = (id: string, status: JobInfo['status']) => (event: ApiEvent) => event.type === 'job' && event.job.id === id && event.job.status === status;

/** A training job of a few seconds: 50-step IPPO iterations on a 50-step catch-up. */
const TINY_TRAINING = {
  kind: 'train',
  scenario: 'cacc-catchup',
  params: { horizon: 50 },
  learner: 'ippo',
  settings: { rolloutSteps: 50, numEnvs: 1, epochs: 1, criticEpochs: 1 },
} as const;

/**
 * Runs `test` with its own JobRunner and HEADWAY_DB on a fresh database (job workers inherit
 * it), then restores it and cleans up. The runner is the test's own, so the late cleanup of a
 * test that timed out shuts down only its runner, never the next test's.
 */
async function withTempDatabase(prefix: string, test: (database: string, runner: JobRunner) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const previous = process.env.HEADWAY_DB;
  const database = join(dir, 'runs.db');
  process.env.HEADWAY_DB = database;
  const runner = new JobRunner();
  try {
    await test(database, runner);
  } finally {
    if (previous === undefined) delete process.env.HEADWAY_DB;
    else process.env.HEADWAY_DB = previous;
    await runner.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the job runner (simulations in worker threads)', () => {
  it('runs a simulation off the main thread and streams its episode, frames and end', async () => {
    const runner = new JobRunner();
    runners.push(runner);
    const { events, waitFor } = collect(runner);
    const job = runner.start({ kind: 'simulate', scenario: 'cacc-catchup', params: { horizon: 60 }, policy: 'constant:3', speed: 'max' });
    expect(job.status).toBe('starting');
    await waitFor(statusIs(job.id, 'finished'));
    const episode = events.find((e) => e.type === 'episode');
    expect(episode?.type === 'episode' && episode.episode).toMatchObject({ scenario: 'cacc-catchup', nAgents: 8, nVehicles: 9, roadLength: null });
    const frames = events.flatMap((e) => (e.type === 'frame' ? [e.frame] : []));
    expect(frames.at(-1)!.step).toBe(60);
    expect(frames.at(-1)!.position).toBeInstanceOf(Float64Array);
    expect(events.some((e) => e.type === 'metrics' && e.scope === 'episode')).toBe(true);
    expect(runner.live(job.id).frame?.step).toBe(60);
    expect(runner.list()[0]).toMatchObject({ id: job.id, status: 'finished', step: 60 });
  });

  it('pauses, steps and stops on command', async () => {
    const runner = new JobRunner();
    runners.push(runner);
    const { events, waitFor } = collect(runner);
    const job = runner.start({ kind: 'simulate', scenario: 'ring', params: { preset: 'uncontrolled' }, startPaused: true });
    await waitFor(statusIs(job.id, 'paused'));
    runner.control(job.id, { type: 'step', steps: 1 });
    await waitFor((e) => e.type === 'frame' && e.frame.step === 1);
    runner.control(job.id, { type: 'stop' });
    await waitFor(statusIs(job.id, 'stopped'));
    expect(events.filter((e) => e.type === 'frame').map((e) => e.type === 'frame' && e.frame.step)).toEqual([0, 1, 1]);
    // Commands to an ended job change nothing.
    expect(runner.control(job.id, { type: 'resume' }).status).toBe('stopped');
  });

  it('refuses configs with field errors, the action space included', () => {
    const runner = new JobRunner();
    runners.push(runner);
    expect(runner.validate({ kind: 'simulate', scenario: 'ring' })).toEqual([]);
    expect(runner.validate({ kind: 'simulate', scenario: 'cacc-catchup', policy: 'constant:4' })[0].field).toBe('policy');
    expect(() => runner.start({ kind: 'simulate', scenario: 'ring', params: { vehicles: 1 } })).toThrow(ConfigError);
    expect(runner.list()).toEqual([]);
  });
});

describe('the api backend and its IPC side', () => {
  const sink = (): ClientSink & { events: ApiEvent[] } => {
    const events: ApiEvent[] = [];
    return { events, send: (event) => events.push(event) };
  };

  it('serves requests as results, never throwing', async () => {
    const runner = new JobRunner();
    runners.push(runner);
    const backend = new ApiBackend(runner, { appVersion: '1.2.3', transport: 'ipc', host: 'test' });
    const client = sink();
    backend.connect(client);
    expect(await backend.handle('hello', {}, client)).toEqual({ ok: true, value: { apiVersion: 1, appVersion: '1.2.3', transport: 'ipc', host: 'test' } });
    const bad = await backend.handle('startJob', { config: { kind: 'simulate', scenario: 'ring', seed: -4 } }, client);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-config', fields: [{ field: 'seed' }] } });
    expect(await backend.handle('controlJob', { jobId: 'sim-9-ffffff', command: { type: 'stop' } }, client)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await backend.handle('nope', {}, client)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const started = await backend.handle('startJob', { config: { kind: 'simulate', scenario: 'figure-eight', startPaused: true } }, client);
    expect(started.ok).toBe(true);
    const id = started.ok ? (started.value as JobInfo).id : '';
    const deadline = Date.now() + 15_000;
    while (!client.events.some((e) => e.type === 'frame') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    // A UI that connects now gets the episode and the latest frame replayed to it alone.
    const late = sink();
    const snapshot = await backend.handle('snapshot', {}, late);
    expect(snapshot.ok && (snapshot.value as JobInfo[]).map((j) => j.id)).toEqual([id]);
    expect(late.events.map((e) => e.type)).toEqual(['episode', 'frame']);
    backend.dispose();
  });

  it('accepts IPC only from the app page and within the size limit', async () => {
    const runner = new JobRunner();
    runners.push(runner);
    const backend = new ApiBackend(runner, { appVersion: '1', transport: 'ipc', host: 'test' });
    const trusted = rendererUrlCheck('/opt/headway/out/renderer/index.html');
    expect(trusted('file:///opt/headway/out/renderer/index.html')).toBe(true);
    expect(trusted('file:///opt/headway/out/renderer/index.html#/x')).toBe(true);
    expect(trusted('file:///tmp/evil.html')).toBe(false);
    expect(trusted('https://example.com/')).toBe(false);
    expect(trusted('not a url')).toBe(false);
    const dev = rendererUrlCheck('/x/index.html', 'http://localhost:5173/');
    expect(dev('http://localhost:5173/index.html')).toBe(true);
    expect(dev('http://localhost:5174/')).toBe(false);

    const handle = createIpcHandler(backend, trusted);
    const client = sink();
    const page = 'file:///opt/headway/out/renderer/index.html';
    expect((await handle(page, 'hello', {}, client)).ok).toBe(true);
    expect(await handle('https://example.com/', 'hello', {}, client)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await handle(undefined, 'hello', {}, client)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const huge = { config: { kind: 'simulate', scenario: 'ring', params: { x: 'y'.repeat(300_000) } } };
    expect(await handle(page, 'validateJob', huge, client)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await handle(page, 'validateJob', cyclic, client)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    backend.dispose();
  });
});

describe('training jobs (the app\'s Train tab)', () => {
  it('validates a training config like the CLI: scenario params and learner settings by field', () => {
    const bad = validateJobConfig({ kind: 'train', scenario: 'cacc-catchup', learner: 'ippo', params: { horizon: 0 }, settings: { lrActor: 5 } });
    expect(bad.ok).toBe(false);
    const fields = bad.ok ? [] : bad.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['params.horizon', 'settings.lrActor']));
    const other = validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'ippo', settings: { kappa: 2 } });
    expect(other.ok ? [] : other.errors).toEqual([{ field: 'settings.kappa', message: "learner ippo does not use 'kappa'" }]);
    expect(validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'nope', iterations: 0 }).ok).toBe(false);
    expect(validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'dmpo' })).toMatchObject({ ok: true, config: { preset: 'default', iterations: 20, seed: 0 } });
  });

  it('resumes a stopped run and evaluates a checkpoint with a chosen seed, as jobs; a store opened meanwhile leaves the training run alone', () =>
    withTempDatabase('headway-resume-job-', async (database, runner) => {
      const { events, waitFor } = collect(runner);
      // 40 iterations of ~0.1 s: on a fast machine a shorter budget could end before Stop arrives.
      const train = runner.start({ ...TINY_TRAINING, seed: 3, iterations: 40 });
      await waitFor((e) => e.type === 'metrics' && e.jobId === train.id);
      // The app's main thread opens the same store while a worker thread of this process trains.
      const reader = RunStore.open(database);
      const runId = runner.list().find((j) => j.id === train.id)!.progress!.runId!;
      expect(reader.getRun(runId)!.status).toBe('running');
      expect(runner.activeJobOfRun(runId)).toBe(train.id);
      runner.control(train.id, { type: 'stop' });
      const ended = await waitFor((e) => statusIs(train.id, 'stopped')(e) || statusIs(train.id, 'finished')(e), 60_000);
      expect(ended.type === 'job' && ended.job.status).toBe('stopped');
      expect(reader.getRun(runId)).toMatchObject({ status: 'stopped' });
      expect(reader.getRun(runId)!.iterations).toBeLessThan(40);

      const resume = runner.start({ kind: 'resume', runId });
      expect(resume).toMatchObject({ title: `Resume run ${runId}`, progress: { runId } });
      await waitFor(statusIs(resume.id, 'finished'), 60_000);
      expect(reader.getRun(runId)).toMatchObject({ status: 'finished', iterations: 40 });
      expect(runner.list().find((j) => j.id === resume.id)!.progress).toMatchObject({ iteration: 40, iterations: 40 });

      const before = reader.listEpisodes(runId).length;
      const evaluate = runner.start({ kind: 'evaluate', runId, checkpoint: 'latest', seed: 77, episodes: 2 });
      await waitFor(statusIs(evaluate.id, 'finished'), 60_000);
      const stored = reader.listEpisodes(runId);
      expect(stored.length).toBe(before + 2);
      expect(stored.filter((e) => e.seed === 77 || e.seed === 78).map((e) => e.iteration)).toEqual([40, 40]);
      const result = events.find((e) => e.type === 'metrics' && e.jobId === evaluate.id);
      expect(result && result.type === 'metrics' && Number.isFinite(result.values.return)).toBe(true);

      const again = runner.start({ kind: 'resume', runId });
      const failed = await waitFor(statusIs(again.id, 'failed'), 30_000);
      expect(failed.type === 'job' && failed.job.error).toMatch(/has finished its budget/);
      reader.close();
    }));

  it("plays each iteration's evaluation episode live; pausing the view can hold training between iterations", () =>
    withTempDatabase('headway-display-job-', async (_database, runner) => {
      const { events, waitFor } = collect(runner);
      // 400-step evaluation episodes: long enough to pause and step inside one.
      // A budget it never reaches (the test stops it): a fast machine must not finish before the last wait.
      const job = runner.start({ ...TINY_TRAINING, params: { horizon: 400 }, seed: 5, iterations: 1000 });
      const shown = await waitFor((e) => e.type === 'episode' && e.episode.jobId === job.id, 60_000);
      if (shown.type !== 'episode') throw new Error('unreachable');
      expect(shown.episode.source).toMatchObject({ kind: 'evaluation', iteration: 1 });
      expect(shown.episode.actionParamDim).toBe(4);
      // Frames play at display rate, with the policy's value and action distribution.
      await waitFor((e) => e.type === 'frame' && e.frame.jobId === job.id && e.frame.step >= 3, 10_000);
      const frame = events.flatMap((e) => (e.type === 'frame' && e.frame.jobId === job.id ? [e.frame] : [])).at(-1)!;
      expect(frame.value.length).toBe(8);
      const probabilities = frame.actionParams.subarray(0, 4);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(runner.live(job.id).episode?.jobId).toBe(job.id);

      // Pause the view and hold training: no iteration completes while held; single steps move the view.
      runner.control(job.id, { type: 'pause', holdTraining: true });
      await waitFor((e) => e.type === 'job' && e.job.id === job.id && e.job.progress?.held === true, 10_000);
      const heldAt = runner.list().find((j) => j.id === job.id)!;
      expect(heldAt.displayPaused).toBe(true);
      const pausedStep = runner.live(job.id).frame!.step;
      runner.control(job.id, { type: 'step', steps: 2 });
      expect(runner.live(job.id).frame!.step).toBe(pausedStep + 2);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const iterationWhileHeld = runner.list().find((j) => j.id === job.id)!.progress!.iteration;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(runner.list().find((j) => j.id === job.id)!.progress!.iteration).toBe(iterationWhileHeld);
      expect(runner.live(job.id).frame!.step).toBe(pausedStep + 2);

      // Resume: training goes on; a pause without hold leaves it training.
      runner.control(job.id, { type: 'resume' });
      await waitFor((e) => e.type === 'metrics' && e.jobId === job.id && e.index > iterationWhileHeld, 60_000);
      runner.control(job.id, { type: 'pause', holdTraining: false });
      const before = runner.list().find((j) => j.id === job.id)!.progress!.iteration;
      await waitFor((e) => e.type === 'metrics' && e.jobId === job.id && e.index > before + 1, 60_000);
      runner.control(job.id, { type: 'stop' });
      await waitFor(statusIs(job.id, 'stopped'), 60_000);
    }));

  it('trains in a worker thread against the run store, streaming per-iteration metrics', () =>
    withTempDatabase('headway-train-job-', async (database, runner) => {
      const { events, waitFor } = collect(runner);
      const job = runner.start({ ...TINY_TRAINING, seed: 3, iterations: 2 });
      expect(job).toMatchObject({ kind: 'train', status: 'starting', progress: { iteration: 0, iterations: 2, runId: null } });
      await waitFor(statusIs(job.id, 'finished'), 60_000);
      const metrics = events.flatMap((e) => (e.type === 'metrics' && e.jobId === job.id ? [e] : []));
      expect(metrics.map((m) => [m.scope, m.index])).toEqual([
        ['iteration', 1],
        ['iteration', 2],
      ]);
      for (const key of [TRAIN_METRICS.actorLoss, TRAIN_METRICS.criticLoss, TRAIN_METRICS.kl, TRAIN_METRICS.stepsPerSecond, TRAIN_METRICS.evalReturn, TRAIN_METRICS.envSteps]) {
        expect(Number.isFinite(metrics[1].values[key]), key).toBe(true);
      }
      const ended = runner.list().find((j) => j.id === job.id)!;
      expect(ended.progress).toMatchObject({ iteration: 2, iterations: 2, envSteps: 100 });
      expect(ended.progress!.runId).toBeGreaterThan(0);
      expect(ended.progress!.backend).toBeTruthy();
      const store = RunStore.open(database, { readOnly: true });
      try {
        expect(store.getRun(ended.progress!.runId!)).toMatchObject({ status: 'finished', iterations: 2, envSteps: 100, algo: 'ippo', seed: 3 });
      } finally {
        store.close();
      }
    }));

  it('stops a training run between iterations on Stop', () =>
    withTempDatabase('headway-train-stop-', async (_database, runner) => {
      const { waitFor } = collect(runner);
      const job = runner.start({ ...TINY_TRAINING, iterations: 1000 });
      await waitFor((e) => e.type === 'metrics' && e.jobId === job.id, 60_000);
      runner.control(job.id, { type: 'stop' });
      await waitFor(statusIs(job.id, 'stopped'), 30_000);
      const ended = runner.list().find((j) => j.id === job.id)!;
      expect(ended.progress!.iteration).toBeLessThan(1000);
    }));
});
