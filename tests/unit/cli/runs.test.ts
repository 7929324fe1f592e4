import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/index.ts';
import { REPO_ROOT, runCliInProcess, tempDir } from './cli.helpers.ts';

const small = ['--set', 'rolloutSteps=100', '--set', 'numEnvs=2', '--set', 'epochs=2', '--set', 'criticEpochs=2', '--param', 'horizon=100', '--threads', '1'];

/** Iterations recorded by the run being trained in `db` (0 while none is, or the file is not ready). */
function runningIterations(db: string): number {
  try {
    const store = RunStore.open(db, { readOnly: true });
    const run = store.listRuns({ status: 'running' })[0];
    store.close();
    return run?.iterations ?? 0;
  } catch {
    return 0;
  }
}

describe('train, runs, eval, export, resume against a database', () => {
  const dir = tempDir();
  const db = join(dir, 'runs.db');

  it('trains a run into the database and prints its id', async () => {
    const result = await runCliInProcess(['train', '--scenario', 'cacc-catchup', '--algo', 'dppo', '--iterations', '2', '--seed', '4', '--json', '--db', db, ...small]);
    expect(result.code, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout.trim()) as { runId: number; status: string; envSteps: number; lastEvalReturn: number };
    expect(outcome).toMatchObject({ runId: 1, status: 'finished', envSteps: 400 });
    expect(Number.isFinite(outcome.lastEvalReturn)).toBe(true);
  });

  it('lists and shows the run', async () => {
    const list = await runCliInProcess(['runs', 'list', '--json', '--db', db]);
    const runs = JSON.parse(list.stdout) as { id: number; algo: string; status: string; iterations: number; envSteps: number }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: 1, algo: 'dppo', status: 'finished', iterations: 2, envSteps: 400 });
    const show = await runCliInProcess(['runs', 'show', '1', '--json', '--db', db]);
    const run = JSON.parse(show.stdout) as { config: { learner: Record<string, unknown> }; backend: string; lastMetrics: { values: Record<string, number> } };
    expect(run.config.learner.rolloutSteps).toBe(100);
    // The run records its backend with the reason it was chosen, e.g. "wasm (tfjs-node not installed; self-check passed ...)".
    expect(run.backend).toMatch(/^wasm\b/);
    expect(Number.isFinite(run.lastMetrics.values['loss/critic'])).toBe(true);
  });

  it('evaluates the best checkpoint and stores the episodes', async () => {
    const result = await runCliInProcess(['eval', '1', '--episodes', '2', '--seed', '9', '--json', '--db', db]);
    expect(result.code, result.stderr).toBe(0);
    const evaluation = JSON.parse(result.stdout) as { episodes: number; meanReturn: number; metrics: Record<string, number> };
    expect(evaluation.episodes).toBe(2);
    expect(evaluation.metrics.steps).toBe(100);
    const store = RunStore.open(db, { readOnly: true });
    expect(store.listEpisodes(1).filter((e) => e.seed === 9 || e.seed === 10)).toHaveLength(2);
    store.close();
  });

  it('exports metrics and an episode that match the database', async () => {
    const metrics = join(dir, 'metrics.csv');
    expect((await runCliInProcess(['export', '1', '--metrics', metrics, '--db', db])).code).toBe(0);
    const [header, ...rows] = readFileSync(metrics, 'utf8').trim().split('\n');
    expect(header.split(',').slice(0, 4)).toEqual(['run', 'iteration', 'env_steps', 'wall_time_s']);
    expect(rows).toHaveLength(2);
    const store = RunStore.open(db, { readOnly: true });
    const column = header.split(',').indexOf('loss/critic');
    expect(Number(rows[1].split(',')[column])).toBe(store.metricSeries(1, 'loss/critic')[1].value);
    const episode = store.listEpisodes(1)[0];
    const frames = store.readSteps(episode.id, 0, episode.steps);
    store.close();
    const out = join(dir, 'episode.csv');
    expect((await runCliInProcess(['export', '1', '--episode', String(episode.id), '--out', out, '--db', db])).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1 + episode.steps * episode.nVehicles);
    const row = lines[1 + 50 * episode.nVehicles + 3].split(',');
    expect(Number(row[0])).toBe(50);
    expect(Number(row[4])).toBeCloseTo(frames[50].speed[3], 4);
  });

  it('stops on Ctrl-C after the iteration in flight, also when updates run on the main thread', async () => {
    const child = spawn(process.execPath, ['bin/headway.mjs', 'train', '--scenario', 'cacc-catchup', '--algo', 'ippo', '--iterations', '100000', '--json', '--db', db, ...small], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // Wait for its first recorded iteration, then interrupt.
      for (let waited = 0; ; waited += 100) {
        const iterations = existsSync(db) ? runningIterations(db) : 0;
        if (iterations > 0) break;
        if (waited > 60_000) throw new Error('the training never recorded an iteration');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill('SIGINT');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000));
      const code = await Promise.race([exited, timeout]);
      expect(code).toBe(0);
      const outcome = JSON.parse(stdout.trim()) as { runId: number; status: string };
      expect(outcome.status).toBe('stopped');
      const store = RunStore.open(db, { readOnly: true });
      expect(store.getRun(outcome.runId)!.status).toBe('stopped');
      store.close();
    } finally {
      // Never leave a 100,000-iteration training behind when the test fails early.
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('resumes a stopped run to its budget', async () => {
    const first = await runCliInProcess(['train', '--scenario', 'ring', '--algo', 'ippo', '--iterations', '3', '--json', '--db', db, ...small]);
    const { runId } = JSON.parse(first.stdout) as { runId: number };
    const store = RunStore.open(db);
    store.updateStatus(runId, 'stopped');
    store.close();
    const resumed = await runCliInProcess(['resume', String(runId), '--json', '--db', db]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId, status: 'finished', envSteps: 600 });
    const again = await runCliInProcess(['resume', String(runId), '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/has finished its budget/);
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown learner', ['train', '--scenario', 'ring', '--algo', 'sac'], /--algo "sac" is not allowed; expected one of ippo, mappo/],
    ['unknown preset', ['train', '--scenario', 'ring', '--algo', 'dppo', '--preset', 'fast'], /--preset "fast" is not allowed/],
    ['unknown setting', ['train', '--scenario', 'ring', '--algo', 'dppo', '--set', 'lr=1'], /learner dppo has no setting 'lr'/],
    ['setting out of range', ['train', '--scenario', 'ring', '--algo', 'dppo', '--set', 'gamma=2'], /gamma=.*2.* is not allowed; expected a number from 0 to 1/],
    ['both budgets', ['train', '--scenario', 'ring', '--algo', 'dppo', '--iterations', '2', '--env-steps', '5'], /cannot be combined/],
    ['bad backend', ['train', '--scenario', 'ring', '--algo', 'dppo', '--backend', 'gpu'], /--backend "gpu" is not allowed/],
    ['unavailable backend', ['train', '--scenario', 'ring', '--algo', 'dppo', '--backend', 'tensorflow', '--iterations', '1'], /tensorflow/],
    ['missing run', ['runs', 'show', '99'], /RUN_ID 99: no such run/],
    ['bad run id', ['eval', 'x'], /RUN_ID "x" is not allowed/],
    ['bad runs action', ['runs', 'purge'], /runs "purge" is not allowed; expected list, show, delete, export or import/],
    ['export without a target', ['export', '1'], /exactly one of --metrics/],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what}`, async () => {
      const result = await runCliInProcess([...args, '--db', db]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('simulate with a trained policy', () => {
  it('runs a stored run\'s deterministic policy, identical to its evaluation', async () => {
    const dir = tempDir();
    const db = join(dir, 'policy.db');
    const trained = await runCliInProcess(['train', '--scenario', 'cacc-catchup', '--algo', 'ippo', '--iterations', '1', '--json', '--db', db, ...small]);
    expect(trained.code, trained.stderr).toBe(0);
    const out = join(dir, 'policy.csv');
    const result = await runCliInProcess(['simulate', '--scenario', 'cacc-catchup', '--param', 'horizon=100', '--seed', '500000', '--policy', 'run:1', '--db', db, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    // The evaluation of the same checkpoint on the same seed (run seed 0 + 500000) gives the same return.
    const evaluation = await runCliInProcess(['eval', '1', '--episodes', '1', '--json', '--db', db]);
    const { meanReturn } = JSON.parse(evaluation.stdout) as { meanReturn: number };
    const total = readFileSync(out, 'utf8').trim().split('\n').slice(1).reduce((sum, line) => sum + Number(line.split(',')[8] || 0), 0);
    expect(total).toBeCloseTo(meanReturn, 6);
    const wrong = await runCliInProcess(['simulate', '--scenario', 'ring', '--policy', 'run:1', '--db', db, '--out', join(dir, 'x.csv')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/run 1 was trained on cacc-catchup, not ring/);
    const missing = await runCliInProcess(['simulate', '--scenario', 'cacc-catchup', '--policy', 'run:1@99', '--db', db, '--out', join(dir, 'x.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run 1 has no checkpoint 99/);
  });
});
