/**
 * The learning report read from a sweep (bench/sweepResults.ts, learning-report.ts --db
 * --sweep): a sweep's finished runs become the report's curves; the rest of the grid is
 * named as left out; the script writes the same report as when it trains the grid itself.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweepResults, SweepReportError, type RunResult } from '../../../bench/sweepResults.ts';
import { evaluatePolicy } from '../../../src/main/rl/core/evaluation.ts';
import { createLearner } from '../../../src/main/rl/learners/index.ts';
import { createUpdatePool } from '../../../src/main/rl/parallel/updatePool.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { resolveLearnerConfig, type LearnerId } from '../../../src/shared/learners.ts';
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

/** The untrained policies' mean evaluation returns on the runs' 2 episodes (default preset, cacc-catchup). */
async function untrainedReturns(runs: [LearnerId, number][]): Promise<number[]> {
  const pool = await createUpdatePool({ threads: 1 });
  try {
    return runs.map(([learner, seed]) => {
      const config = resolveLearnerConfig(learner, 'cacc-catchup', 'default', { evalEpisodes: 2, evalEvery: 2 });
      const agent = createLearner({ learner, scenario: 'cacc-catchup', scenarioParams: {}, config, seed }, pool);
      try {
        return evaluatePolicy(agent, 2).meanReturn;
      } finally {
        agent.dispose();
      }
    });
  } finally {
    await pool.close();
  }
}

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
    // The untrained return: each run's learner as the run created it (its preset and recorded
    // configuration, its seed), evaluated on the run's 2 episodes before any training.
    const untrained = await untrainedReturns([['dppo', 1], ['dppo', 2], ['ippo', 1]]);
    const format = (value: number) => Math.round(value).toLocaleString('en-US');
    expect(report).toContain(`| ippo | 1 | ${format(untrained[2])} | -59 +- 0 | -69 | 0.00 | not reached | - | 0.2 |\n| dppo | 2 | ${format((untrained[0] + untrained[1]) / 2)} | -38 +- 1 | -48 | 0.00 | 2,400 (0.2) | 2.5% / 20.0% | 0.2 |`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResult[];
    expect(results.map((r) => [r.curve[0].envSteps, r.curve[0].evalReturn])).toEqual(untrained.map((evalReturn) => [0, evalReturn]));
    expect(existsSync(join(out, 'cacc-catchup.svg'))).toBe(true);
    expect(readFileSync(join(out, 'cacc-catchup-time.svg'), 'utf8')).toContain('training minutes');

    const refused = await run(process.execPath, ['--import', 'tsx', 'bench/learning-report.ts', '--db', file, '--sweep', 'nope'], { cwd: ROOT }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr.trim()).toMatch(/^learning-report: --sweep "nope": no sweep of this id or name in .*$/);
  });

  it("reads issue 12's claims off a combined report: 5% of the reference's improvement, half its env steps, collision-free slow-down, 3 seeds", async () => {
    // DSAC improves from -1000 to -100 (reaching -100 at 4,000 env steps); DMPO-SAC ends at -140 (4.4% of that
    // improvement below it: holds) and passes -100 nowhere; on slow-down DSAC ends below its colliding untrained policy.
    // By the mean of the last 3 evaluations DSAC has -200 (improvement 800) and DMPO-SAC -370 (21.3% below: fails).
    const curve = (points: [number, number, number][]) => points.map(([envSteps, evalReturn, collisionRate]) => ({ envSteps, evalReturn, collisionRate, seconds: envSteps / 1000 }));
    const result = (learner: LearnerId, scenario: string, seed: number, points: [number, number, number][]): RunResult => ({
      learner, scenario: scenario as RunResult['scenario'], seed, curve: curve(points), finalReturn: points.at(-1)![1], seconds: 60,
    });
    const dir = join(folder, 'claims-in');
    mkdirSync(dir, { recursive: true });
    const seeds = [1, 2, 3];
    writeFileSync(join(dir, 'results.json'), JSON.stringify([
      ...seeds.map((seed) => result('dsac', 'cacc-catchup', seed, [[0, -1000, 0], [2000, -400, 0], [4000, -100, 0], [8000, -100, 0]])),
      ...seeds.map((seed) => result('dmpo-sac', 'cacc-catchup', seed, [[0, -1000, 0], [2000, -600, 0], [8000, -140, 0]])),
      ...seeds.map((seed) => result('dsac', 'cacc-slowdown', seed, [[0, -500, 1], [8000, -900, 0]])),
      ...seeds.map((seed) => result('dmpo-sac', 'cacc-slowdown', seed, [[0, -500, 1], [8000, -800, seed === 3 ? 0.25 : 0]])),
    ]));
    const out = join(folder, 'claims');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/learning-report.ts', '--combine', dir, '--out', out], { cwd: ROOT });
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain("- Final return within 5% of the best reference's: dsac -100 (untrained -1,000), dmpo-sac -140: 4.4% of its improvement below it (negative: above); holds.");
    expect(report).toContain("  - By the mean of each run's last 3 evaluations (one deterministic evaluation swings): dsac -200 (untrained -1,000), dmpo-sac -370: 21.3% of its improvement below it (negative: above); fails.");
    expect(report).toContain("- DSAC's final return (-100) in at most half its env steps: dmpo-sac never reaches it, dsac at 4,000; fails.");
    expect(report).toContain('undecided: dsac ends below its untrained policy (final collision rate 0.00, untrained 1.00)');
    expect(report).toContain('- Collision-free in every final evaluation episode: collision rates 0.00, 0.00, 0.25 (seeds 1, 2, 3); fails.');
  });
  it('lets a later report replace an earlier one cell by cell when combining (a rerun supersedes; folding twice changes nothing)', async () => {
    const result = (seed: number, finalReturn: number): RunResult => ({
      learner: 'dpo', scenario: 'ring', seed, curve: [{ envSteps: 0, evalReturn: -1000, collisionRate: 0, seconds: 0 }, { envSteps: 3000, evalReturn: finalReturn, collisionRate: 0, seconds: 60 }], finalReturn, seconds: 60,
    });
    const first = join(folder, 'fold-first');
    const rerun = join(folder, 'fold-rerun');
    mkdirSync(first, { recursive: true });
    mkdirSync(rerun, { recursive: true });
    writeFileSync(join(first, 'results.json'), JSON.stringify([result(1, -600), result(2, -100)]));
    writeFileSync(join(rerun, 'results.json'), JSON.stringify([result(1, -20)]));
    const out = join(folder, 'folded');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/learning-report.ts', '--combine', [first, rerun, rerun].join(','), '--out', out], { cwd: ROOT });
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResult[];
    expect(results.map((r) => [r.seed, r.finalReturn])).toEqual([[1, -20], [2, -100]]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| dpo \| 2 \| [^|]+ \| -60 \+- 40 \|/);
  });
});
