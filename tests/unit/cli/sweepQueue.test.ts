/**
 * Sweeps across machines on a real Redis (redis.helpers.ts): a 2 x 2 x 2 grid of tiny runs
 * queued by `headway sweep --queue` and trained by two `headway worker` processes lands all 8
 * runs in the coordinator's database exactly once, with complete metrics, even when one worker
 * is SIGKILLed mid-run (its job is taken over by the other worker from the last snapshot, and
 * its training child stops by itself). Bad URLs, a missing Redis and a worker of another
 * version are refused with one line; an idle worker with --idle-exit ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNS_QUEUE, type RunJobData, type RunJobProgress } from '../../../src/main/jobs/sweepQueue.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { REPO_ROOT, runCliInProcess, tempDir } from './cli.helpers.ts';
import { REDIS_MISSING, startRedis, type TestRedis } from './redis.helpers.ts';

const ITERATIONS = 6;
// Iterations long enough (about 0.3-0.8 s each) that a run is still training for several
// heartbeats after its first snapshot: with 50-step iterations a fast machine finished the
// whole run between two 2 s heartbeats and the test found no run to kill.
const GRID = {
  name: 'queued grid',
  scenarios: ['cacc-catchup', 'cacc-slowdown'],
  learners: ['ippo', 'dppo'],
  seeds: [1, 2],
  set: { rolloutSteps: 1000, numEnvs: 1, epochs: 4, checkpointEvery: 1 },
  param: { horizon: 1000 },
  iterations: ITERATIONS,
};

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function headway(args: string[]): Proc {
  const child = spawn(process.execPath, ['bin/headway.mjs', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined> | T | null | undefined, timeoutMs = 180_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(REDIS_MISSING !== null)(`headway sweep --queue and headway worker${REDIS_MISSING ? ` (skipped: ${REDIS_MISSING})` : ''}`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('lands every run of a 2 x 2 x 2 grid once, with complete metrics, when a worker is SIGKILLed mid-run', async () => {
    const dir = tempDir();
    const file = join(dir, 'grid.json');
    writeFileSync(file, JSON.stringify(GRID));
    const workerArgs = (name: string) => ['worker', '--queue', redis.url, '--db', join(dir, `${name}.db`), '--lock-duration', '2000', '--heartbeat', '200'];
    const workers = [headway(workerArgs('w1')), headway(workerArgs('w2'))];
    const coordinator = headway(['sweep', file, '--queue', redis.url, '--db', join(dir, 'coordinator.db'), '--json']);
    const client = new Redis(redis.url);
    const runs = new Queue<RunJobData>(RUNS_QUEUE, { connection: { url: redis.url } });
    try {
      // A worker whose run has sent a snapshot (a checkpoint) is killed outright.
      const victim = await until('a running job with a snapshot', async () => {
        for (const job of await runs.getActive()) {
          const progress = job.progress as RunJobProgress | number;
          if (typeof progress !== 'object' || !(await client.exists(job.data.snapshotKey))) continue;
          const worker = workers.find((w) => progress.worker.endsWith(`:${w.child.pid}`));
          if (worker) return { worker, cell: job.data.cell.key };
        }
        return null;
      }, 180_000, () => [coordinator, ...workers].map((p) => p.output()).join('\n----\n'));
      victim.worker.child.kill('SIGKILL');
      const survivor = workers.find((w) => w !== victim.worker)!;

      expect(await coordinator.exited, coordinator.output()).toBe(0);
      const summary = JSON.parse(coordinator.output().trim().split('\n').at(-1)!) as { sweepId: number; cells: { cell: string; runId: number; status: string }[] };
      expect(summary.cells).toHaveLength(8);
      expect(summary.cells.every((c) => c.status === 'finished')).toBe(true);
      expect(survivor.output()).toContain(`${victim.cell}: resuming its snapshot`);

      const store = RunStore.open(join(dir, 'coordinator.db'), { readOnly: true });
      try {
        const stored = store.listRuns();
        expect(stored).toHaveLength(8);
        expect(new Set(stored.map((r) => r.name)).size).toBe(8);
        expect(store.getSweep(summary.sweepId)!.cells.map((c) => c.runId).sort()).toEqual(stored.map((r) => r.id).sort());
        for (const run of stored) {
          expect(run.status).toBe('finished');
          expect(run.iterations).toBe(ITERATIONS);
          const iterations = store.metricSeries(run.id, 'train/episodeReturn').map((p) => p.iteration);
          expect(iterations).toEqual([1, 2, 3, 4, 5, 6]);
        }
      } finally {
        store.close();
      }
      // The killed worker's training child noticed (its stdin closed) and ended its run after the iteration in flight.
      await until('the killed worker\'s run to stop', () => {
        const local = RunStore.open(join(dir, `${workers.indexOf(victim.worker) === 0 ? 'w1' : 'w2'}.db`), { readOnly: true });
        try {
          const run = local.listRuns().find((r) => r.name.endsWith(victim.cell));
          return run && run.status !== 'running' ? run.status : null;
        } finally {
          local.close();
        }
      }, 30_000);

      // Running the sweep again queues nothing: every run is home.
      const again = await runCliInProcess(['sweep', file, '--queue', redis.url, '--db', join(dir, 'coordinator.db'), '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect((await runs.getJobCounts('waiting', 'active')).waiting).toBe(0);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      coordinator.child.kill('SIGKILL');
      await runs.close();
      client.disconnect();
    }
  }, 300_000);

  it('refuses a bad queue URL, a missing Redis, --parallel with --queue, and a job of another Headway version', async () => {
    const dir = tempDir();
    const file = join(dir, 'grid.json');
    writeFileSync(file, JSON.stringify(GRID));
    const db = join(dir, 'history.db');
    const http = await runCliInProcess(['sweep', file, '--queue', 'http://127.0.0.1:6379', '--db', db]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('--queue "http://127.0.0.1:6379": the scheme must be redis:// or rediss://');
    const nowhere = await runCliInProcess(['worker', '--queue', 'redis://127.0.0.1:1', '--db', db]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:1: .*ECONNREFUSED/);
    const parallel = await runCliInProcess(['sweep', file, '--queue', redis.url, '--parallel', '2', '--db', db]);
    expect(parallel.code).toBe(2);
    expect(parallel.stderr).toContain('--parallel is for a sweep on this machine');

    const worker = headway(['worker', '--queue', redis.url, '--db', join(dir, 'worker.db'), '--idle-exit', '2']);
    const runs = new Queue<RunJobData>(RUNS_QUEUE, { connection: { url: redis.url } });
    try {
      const cell = { key: 'cacc-catchup/ippo/1/default', scenario: 'cacc-catchup', learner: 'ippo', seed: 1, preset: 'default' } as const;
      const job = await runs.add('old', { protocol: 1, headway: '0.0.1', schema: 1, sweep: { ...GRID, tags: [], presets: ['default'] } as unknown as RunJobData['sweep'], cell, threads: 1, snapshotKey: 'headway:test:snapshot:0', resultPrefix: 'headway:test:result:0:' }, { attempts: 3 });
      const failed = await until('the job to fail', async () => ((await job.getState()) === 'failed' ? await runs.getJob(job.id!) : null), 30_000);
      expect(failed!.failedReason).toMatch(/the sweep's coordinator runs Headway 0\.0\.1 .*this worker runs Headway .*: run the same version on every machine/);
      // Refused for good: no retry.
      expect(failed!.attemptsMade).toBe(1);
      // With nothing left on the queue, --idle-exit ends the worker cleanly.
      expect(await worker.exited, worker.output()).toBe(0);
      expect(worker.output()).toContain('no job for 2 s; stopping');
    } finally {
      worker.child.kill('SIGKILL');
      await runs.close();
    }
  }, 60_000);
});
