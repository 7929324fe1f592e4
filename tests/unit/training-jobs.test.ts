import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, JobInfo } from '../../src/shared/api.ts';
import { createIpcHandler, rendererUrlCheck } from '../../src/main/app/ipc.ts';
import { ConfigError, JobRunner } from '../../src/main/training/jobs.ts';
import { ApiBackend, type ClientSink } from '../../src/main/training/service.ts';

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
