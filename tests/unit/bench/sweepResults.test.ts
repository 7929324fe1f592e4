/**
 * The learning report read from a sweep (bench/sweepResults.ts, learning-report.ts --db
 * --sweep): a sweep's finished runs become the report's curves; the rest of the grid is
 * named as left out; the script writes the same report as when it trains the grid itself.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweepResults, SweepReportError, type RunResult } from '../../../bench/sweepResults.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { tempDir } from '../cli/cli.helpers.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const folder = tempDir('headway-sweep-report-');
const file = join(folder, 'runs.db');
let store: RunStore;
let sweepId = 0;

/** A finished run of the grid: evaluations at iterations 2 and 4 (600 env steps an iteration, 3 s of training), returns rising with the seed; DPPO's runs report model errors as a model-based learner would. */
function trainedRun(algo: string, seed: number): number {
  const run = store.createRun({ scenario: 'cacc-catchup', params: {}, algo, config: { learner: { evalEpisodes: 2, evalEvery: 2 } }, seed, appVersion: '0.1.0' });
  for (let iteration = 1; iteration <= 4; iteration++) {
    const evaluation: Record<string, number> = iteration % 2 === 0 ? { 'eval/return': -100 + iteration * 10 + seed + (algo === 'dppo' ? 20 : 0), 'eval/collision': iteration === 2 ? 0.5 : 0 } : {};
    const timings = { 'time/rolloutSeconds': 1, 'time/updateSeconds': 2 };
    const model: Record<string, number> = algo === 'dppo' ? { 'model/stateError': 0.1 / iteration, 'model/rewardError': 0.8 / iteration } : {};
    store.recordIteration(run.id, { iteration, envSteps: iteration * 600, wallTimeS: iteration * 3, values: { 'train/episodeReturn': -90, ...timings, ...model, ...evaluation } });
  }
  store.updateStatus(run.id, 'finished');
  return run.id;
}

beforeAll(() => {
  store = RunStore.open(file);
  const sweepFile = { name: 'grid', tags: [], scenarios: ['cacc-catchup'], learners: ['dppo', 'ippo'], seeds: [1, 2], presets: ['default'], set: {}, param: {}, iterations: 4 };
  // Six cells never started besides: the setting line counts them instead of naming each.
  const cells = ['dppo/1', 'dppo/2', 'ippo/1', 'ippo/2', ...[3, 4, 5, 6, 7, 8].map((seed) => `dppo/${seed}`)].map((learnerSeed) => `cacc-catchup/${learnerSeed}/default`);
  sweepId = store.openSweep('grid', JSON.stringify(sweepFile), cells).id;
  store.setSweepRun(sweepId, cells[0], trainedRun('dppo', 1));
  store.setSweepRun(sweepId, cells[1], trainedRun('dppo', 2));
  store.setSweepRun(sweepId, cells[2], trainedRun('ippo', 1));
  const failed = store.createRun({ scenario: 'cacc-catchup', params: {}, algo: 'ippo', config: {}, seed: 2, appVersion: '0.1.0' });
  store.updateStatus(failed.id, 'failed', 'diverged');
  store.setSweepRun(sweepId, cells[3], failed.id);
  store.openSweep('empty', '{}', ['cacc-catchup/ippo/1/default']);
});

afterAll(() => {
  store.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('the learning report from a sweep', () => {
  it("reads the finished runs' evaluation curves, by sweep id or name, and names the cells left out", () => {
    const { results, leftOut, setting } = readSweepResults(store, 'grid');
    expect(readSweepResults(store, String(sweepId)).results).toEqual(results);
    expect(results.map((r) => `${r.learner}/${r.seed}`)).toEqual(['dppo/1', 'dppo/2', 'ippo/1']);
    expect(results[0]).toEqual<RunResult>({
      learner: 'dppo',
      scenario: 'cacc-catchup',
      seed: 1,
      curve: [
        { envSteps: 1200, evalReturn: -59, collisionRate: 0.5, seconds: 6 },
        { envSteps: 2400, evalReturn: -39, collisionRate: 0, seconds: 12 },
      ],
      finalReturn: -39,
      seconds: 12,
      modelErrors: { state: 0.025, reward: 0.2 },
    });
    expect(results[2].modelErrors).toBeUndefined();
    expect(leftOut).toEqual(['cacc-catchup/ippo/2/default: failed', ...[3, 4, 5, 6, 7, 8].map((seed) => `cacc-catchup/dppo/${seed}/default: no run yet`)]);
    expect(setting).toContain('Read from sweep');
    expect(setting).toContain('3 finished runs, 4 iterations per run, seeds 1, 2, presets default');
    expect(setting).toContain('evaluation on 2 episodes every 2 iterations');
    expect(setting).toContain('left out: cacc-catchup/ippo/2/default: failed; 6 cells: no run yet.');
  });

  it('refuses an unknown sweep and one without a finished run, saying what to do', () => {
    expect(() => readSweepResults(store, 'nope')).toThrow(SweepReportError);
    expect(() => readSweepResults(store, 'nope')).toThrow(/--sweep "nope": no sweep of this id or name in .*runs\.db/);
    expect(() => readSweepResults(store, 'empty')).toThrow(/sweep \d+ "empty" has no finished run with an evaluation yet \(1 cells\); run it with `headway sweep` first/);
  });

  it('writes report.md, results.json and charts per scenario (by env steps and by training time) with learning-report.ts --db --sweep', async () => {
    const out = join(folder, 'report');
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/learning-report.ts', '--db', file, '--sweep', 'grid', '--out', out], { cwd: ROOT });
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(stdout.trim()).toBe(report.trim());
    expect(report).toContain('### cacc-catchup');
    expect(report).toContain('2,400 env steps per run.');
    // DPPO: final returns -39 and -38 (mean -38.5, shown rounded), reached at 2,400 env steps, 12 s (0.2 minutes) of training;
    // IPPO never reaches it. Model errors of the last iteration (DPPO's runs only). Learners in catalogue order.
    expect(report).toContain("| env steps (training minutes) to reach DPPO's final return | final model error, state / reward |");
    expect(report).toMatch(/\| ippo \| 1 \| not recorded \| -59 \+- 0 \| -69 \| 0\.00 \| not reached \| - \| 0\.2 \|\n\| dppo \| 2 \| not recorded \| -38 \+- 1 \| -48 \| 0\.00 \| 2,400 \(0\.2\) \| 2\.5% \/ 20\.0% \| 0\.2 \|/);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toHaveLength(3);
    expect(existsSync(join(out, 'cacc-catchup.svg'))).toBe(true);
    expect(readFileSync(join(out, 'cacc-catchup-time.svg'), 'utf8')).toContain('training minutes');

    const refused = await run(process.execPath, ['--import', 'tsx', 'bench/learning-report.ts', '--db', file, '--sweep', 'nope'], { cwd: ROOT }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr.trim()).toMatch(/^learning-report: --sweep "nope": no sweep of this id or name in .*$/);
  });
});
