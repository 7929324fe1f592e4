/**
 * The desktop app's backend process, for real: the built out/main/backend.js started on plain
 * Node by the main process's BackendProcess, behind the same IPC handler the Electron main
 * process uses, with stand-in windows. Everything the window needs goes through it: hello,
 * the run store (better-sqlite3 loads in the child), a live simulation's frames, a training
 * job (its update workers are built files), directed and broadcast events, a crash and a
 * restart, and a clean stop.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiResult, JobInfo } from '../../../src/shared/api.ts';
import { createIpcHandler, rendererUrlCheck } from '../../../src/main/app/ipc.ts';
import { BackendFailure, BackendProcess } from '../../../src/main/backend/process.ts';
import { startTraining } from '../../../src/main/jobs/trainingRun.ts';
import type { ClientSink } from '../../../src/main/services/api.ts';
import { RunStore } from '../../../src/main/store/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ENTRY = join(ROOT, 'out/main/backend.js');
const PAGE = 'file:///opt/headway/out/renderer/index.html';
const scratch = mkdtempSync(join(tmpdir(), 'headway-backend-'));
const env = { ...process.env, HEADWAY_DB: join(scratch, 'runs.db') };

/** `npm test` builds before the unit tests; run alone, this builds first. */
beforeAll(() => {
  if (!existsSync(ENTRY)) execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'ignore' });
}, 240_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in for a window's webContents: what the main process would send it. */
function standInWindow(): ClientSink & { events: ApiEvent[] } {
  const events: ApiEvent[] = [];
  return { events, send: (event) => events.push(event) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

const value = <T>(result: ApiResult<unknown>): T => {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
};

/** A run as `headway train --threads 2` leaves it when stopped after its first of two iterations. */
async function stoppedTwoThreadRun(): Promise<number> {
  const store = RunStore.open(env.HEADWAY_DB);
  let iterations = 0;
  try {
    const outcome = await startTraining(
      store,
      { scenario: 'cacc-catchup', scenarioParams: {}, learner: 'dppo', preset: 'default', settings: { rolloutSteps: 60 }, seed: 1, budget: { iterations: 2 }, threads: 2 },
      { onProgress: () => iterations++, shouldStop: () => iterations >= 1 },
    );
    expect(outcome).toMatchObject({ status: 'stopped', iterations: 1 });
    return outcome.runId;
  } finally {
    store.close();
  }
}

const launch = { appVersion: '9.8.7', electron: '38.0.0' };

describe('the backend process', () => {
  it('serves the contract to the windows over its channel: store, live frames, training, directed events', async () => {
    const backend = new BackendProcess({ node: process.execPath, entry: ENTRY, launch, env });
    const ready = await backend.start();
    expect(ready).toEqual({ node: process.versions.node, modules: process.versions.modules });
    try {
      const handle = createIpcHandler(backend, rendererUrlCheck('/opt/headway/out/renderer/index.html'));
      const first = standInWindow();
      const second = standInWindow();
      backend.connect(first);
      backend.connect(second);

      expect(value(await handle(PAGE, 'hello', {}, first))).toEqual({
        apiVersion: 1,
        appVersion: '9.8.7',
        transport: 'ipc',
        host: `Electron 38.0.0, backend on Node ${process.versions.node}`,
      });
      expect(await handle('https://example.com/', 'hello', {}, first)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      // Validation happens in the backend, against the contract.
      expect(await handle(PAGE, 'startJob', { config: { kind: 'simulate', scenario: 'ring', seed: -4 } }, first)).toMatchObject({
        ok: false,
        error: { code: 'invalid-config', fields: [{ field: 'seed' }] },
      });
      // The run store opens in the child: better-sqlite3 loads on its Node.
      expect(value(await handle(PAGE, 'listRuns', {}, first))).toEqual([]);

      // A live simulation: its frames reach both windows as the same typed arrays IPC would carry.
      const sim = value<JobInfo>(await handle(PAGE, 'startJob', { config: { kind: 'simulate', scenario: 'cacc-catchup', params: { horizon: 40 }, speed: 'max' } }, first));
      await until(() => first.events.some((e) => e.type === 'job' && e.job.id === sim.id && e.job.status === 'finished'), 'the simulation to finish');
      const frames = first.events.flatMap((e) => (e.type === 'frame' && e.frame.jobId === sim.id ? [e.frame] : []));
      expect(frames.length).toBeGreaterThan(0);
      const last = frames.at(-1)!;
      expect(last.position).toBeInstanceOf(Float64Array);
      expect(last.flags).toBeInstanceOf(Uint8Array);
      expect(last.position.length).toBeGreaterThan(1);
      expect(last).toMatchObject({ step: 40, done: true });
      expect(second.events.filter((e) => e.type === 'frame').length).toBe(frames.length);

      // snapshot replays the live state to the asking window alone.
      const paused = value<JobInfo>(await handle(PAGE, 'startJob', { config: { kind: 'simulate', scenario: 'figure-eight', startPaused: true } }, first));
      await until(() => first.events.some((e) => e.type === 'frame' && e.frame.jobId === paused.id), 'the paused simulation frame');
      const late = standInWindow();
      backend.connect(late);
      const before = second.events.length;
      await handle(PAGE, 'snapshot', {}, late);
      // (the finished simulation is still listed, so it is replayed too)
      expect(late.events.filter((e) => e.type !== 'job').map((e) => e.type)).toEqual(['episode', 'frame', 'episode', 'frame']);
      expect(late.events.some((e) => e.type === 'frame' && e.frame.jobId === paused.id)).toBe(true);
      expect(second.events.slice(before).filter((e) => e.type === 'frame' || e.type === 'episode')).toEqual([]);
      value(await handle(PAGE, 'controlJob', { jobId: paused.id, command: { type: 'stop' } }, first));

      // Training from the app: the built job worker trains and stores the run.
      const train = value<JobInfo>(
        await handle(PAGE, 'startJob', { config: { kind: 'train', scenario: 'cacc-catchup', learner: 'dppo', iterations: 1, settings: { rolloutSteps: 60 }, name: 'from the backend process' } }, first),
      );
      await until(() => first.events.some((e) => e.type === 'job' && e.job.id === train.id && ['finished', 'failed'].includes(e.job.status)), 'the training job', 120_000);
      const ended = first.events.filter((e) => e.type === 'job' && e.job.id === train.id).at(-1);
      expect(ended).toMatchObject({ job: { status: 'finished' } });
      const runs = value<{ name: string; status: string }[]>(await handle(PAGE, 'listRuns', { search: 'from the backend process' }, first));
      expect(runs).toMatchObject([{ name: 'from the backend process', status: 'finished' }]);

      // Resuming a run the CLI trained on two threads starts the built update workers beside the job worker.
      const cliRun = await stoppedTwoThreadRun();
      const resume = value<JobInfo>(await handle(PAGE, 'startJob', { config: { kind: 'resume', runId: cliRun } }, first));
      await until(() => first.events.some((e) => e.type === 'job' && e.job.id === resume.id && ['finished', 'failed'].includes(e.job.status)), 'the resumed run', 120_000);
      expect(first.events.filter((e) => e.type === 'job' && e.job.id === resume.id).at(-1)).toMatchObject({ job: { status: 'finished' } });
      expect(value(await handle(PAGE, 'getRun', { runId: cliRun }, first))).toMatchObject({ run: { status: 'finished', iterations: 2 } });
    } finally {
      await backend.stop();
    }
  }, 180_000);

  it('reports a crash, answers the requests in flight, and starts again for the same windows', async () => {
    const backend = new BackendProcess({ node: process.execPath, entry: ENTRY, launch, env });
    await backend.start();
    const window = standInWindow();
    backend.connect(window);
    const exits: BackendFailure[] = [];
    backend.onUnexpectedExit((failure) => exits.push(failure));

    const job = value<JobInfo>(await backend.handle('startJob', { config: { kind: 'simulate', scenario: 'ring', startPaused: true } }, window));
    await until(() => window.events.some((e) => e.type === 'frame' && e.frame.jobId === job.id), 'a frame');
    process.kill(backend.pid!, 'SIGKILL');
    const inFlight = await backend.handle('listJobs', {}, window);
    expect(inFlight).toMatchObject({ ok: false, error: { code: 'internal' } });
    await until(() => exits.length === 1, 'the exit report');
    expect(exits[0].message).toMatch(/killed \(SIGKILL\)/);
    expect(await backend.handle('hello', {}, window)).toMatchObject({ ok: false, error: { code: 'internal', message: 'the Headway backend is not running' } });

    await backend.start();
    expect(value<JobInfo[]>(await backend.handle('listJobs', {}, window))).toEqual([]);
    const again = value<JobInfo>(await backend.handle('startJob', { config: { kind: 'simulate', scenario: 'ring', startPaused: true } }, window));
    await until(() => window.events.some((e) => e.type === 'frame' && e.frame.jobId === again.id), 'a frame after the restart');
    await backend.stop();
    expect(exits).toHaveLength(1);
    expect(backend.pid).toBeUndefined();
  }, 120_000);

  it('fails to start with the reason: no such Node, a backend that dies at start, one that cannot load its store module', async () => {
    await expect(new BackendProcess({ node: join(scratch, 'no-node'), entry: ENTRY, launch, env }).start()).rejects.toThrow(/cannot run .*no-node/);

    const dies = join(scratch, 'dies.mjs');
    writeFileSync(dies, "console.error('Error: Cannot find package \\'zod\\''); process.exit(3);\n");
    await expect(new BackendProcess({ node: process.execPath, entry: dies, launch, env }).start()).rejects.toThrow(/exited with code 3; its last output:\nError: Cannot find package 'zod'/);

    // A store module that fails the way a wrong-ABI build does: its 'fatal' message comes back before the exit.
    const preload = join(scratch, 'wrong-abi.cjs');
    writeFileSync(
      preload,
      "const Module = require('module'); const load = Module._load; Module._load = function (request, ...rest) {" +
        " if (request.endsWith('better_sqlite3.node')) throw new Error('The module was compiled against a different Node.js version using NODE_MODULE_VERSION 139.');" +
        ' return load.call(this, request, ...rest); };\n',
    );
    const wrongAbi = new BackendProcess({ node: process.execPath, entry: ENTRY, launch, env: { ...env, NODE_OPTIONS: `--require ${preload}` } });
    await expect(wrongAbi.start()).rejects.toThrow(/NODE_MODULE_VERSION 139/);
  }, 60_000);
});
