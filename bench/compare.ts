/**
 * The Compare tab at scale: a run store with 50 runs × 1,000 iterations (5 learners × 10
 * seeds, 6 metric series each, written through RunStore directly), served by `headway
 * serve` and opened in Chromium. Measures, from the tab's own hooks
 * (window.__headwayCompare.stats()):
 * - opening Compare with the 50 runs selected: run list, run details, runMetrics of the
 *   default metric (50,000 points), smoothing and grouping, SVG, until the browser painted
 *   it (target < 1 s), the first time and over repeats;
 * - the runMetrics request alone, as the page sees it and inside the backend;
 * - regrouping by learner (10 seeds a group: mean and band) and changing the smoothing,
 *   each until painted.
 *
 * Standalone: `npx tsx bench/compare.ts` prints the figures as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { TRAIN_METRICS } from '../src/shared/api.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { startServer } from '../src/main/server/index.ts';
import { ensureRendererBuilt } from '../src/main/server/rendererBuild.ts';
import { RunStore } from '../src/main/store/index.ts';
import { RunHistory } from '../src/main/services/history.ts';
import type { CompareStats } from '../src/renderer/compare/model.ts';

const LEARNERS = ['ippo', 'mappo', 'dppo', 'dpo', 'dmpo'] as const;
const SEEDS = 10;
const ITERATIONS = 1000;
const ENV_STEPS_PER_ITERATION = 2400;
const TARGET_MS = 1000;
const OPEN_REPEATS = 5;

export interface CompareBenchFigures {
  runs: number;
  iterationsPerRun: number;
  pointsDrawn: number;
  writeDatabaseMs: number;
  /** From the click on the Compare tab (the runs selected) until the charts are painted: first time, median and worst of the repeats. */
  openMs: { first: number; median: number; max: number };
  targetMs: number;
  withinTarget: boolean;
  /** The runMetrics request (50 runs, one metric): round trip from the page, and inside the backend alone. */
  runMetricsRoundTripMs: number;
  runMetricsBackendMs: number;
  /** Of an opening: smoothing, grouping and interpolation; layout and SVG text. */
  modelMs: number;
  svgMs: number;
  /** Selecting the 50 runs in the picker, until painted. */
  selectAllMs: number;
  /** Grouping by learner (5 groups of 10: mean and band) and smoothing 0.6, each until painted. */
  groupByLearnerMs: number;
  smoothingMs: number;
}

/** A learning curve with noise, different per learner and seed. */
function writeDatabase(path: string): void {
  const store = RunStore.open(path);
  try {
    LEARNERS.forEach((algo, learnerIndex) => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const run = store.createRun({
          name: `bench ${algo} seed ${seed}`,
          scenario: 'cacc-catchup',
          params: { horizon: 600 },
          algo,
          config: { learner: { lrActor: 3e-4 * (learnerIndex + 1), gamma: 0.99, numEnvs: 8 } },
          seed,
          preset: 'default',
          appVersion: 'bench',
        });
        let wall = 0;
        for (let iteration = 1; iteration <= ITERATIONS; iteration++) {
          wall += 1.5 + 0.3 * Math.sin(iteration * 0.1 + seed);
          const progress = 1 - Math.exp(-iteration / (150 + 40 * learnerIndex));
          const noise = Math.sin(iteration * 12.9898 + seed * 78.233) * 43758.5453;
          const jitter = noise - Math.floor(noise) - 0.5;
          store.appendMetrics(run.id, iteration, iteration * ENV_STEPS_PER_ITERATION, wall, {
            [TRAIN_METRICS.return]: -300 + 260 * progress + 30 * jitter,
            [TRAIN_METRICS.evalReturn]: -290 + 250 * progress + 20 * jitter,
            [TRAIN_METRICS.actorLoss]: 0.05 * jitter,
            [TRAIN_METRICS.criticLoss]: 40 * (1 - progress) + 5 * Math.abs(jitter),
            [TRAIN_METRICS.kl]: 0.01 + 0.005 * jitter,
            [TRAIN_METRICS.stepsPerSecond]: 9000 + 500 * jitter,
          });
        }
        store.updateStatus(run.id, 'finished');
      }
    });
  } finally {
    store.close();
  }
}

const now = async (page: Page): Promise<number> => (await page.evaluate('performance.now()')) as number;

/** Waits until the charts were painted after `since` (page time) with every run drawn; returns their stats. */
async function drawnAfter(page: Page, since: number, runs: number): Promise<CompareStats> {
  // A polling promise as an expression: the app's CSP forbids the eval behind waitForFunction.
  return (await page.evaluate(`new Promise((resolve, reject) => {
    const started = performance.now();
    const check = () => {
      const s = window.__headwayCompare?.stats();
      if (s && s.drawnAt > ${since} && s.runs === ${runs} && s.lines >= 1) resolve(s);
      else if (performance.now() - started > 60000) reject(new Error('the charts were not drawn within 60 s'));
      else setTimeout(check, 2);
    };
    check();
  })`)) as CompareStats;
}

const round = (ms: number): number => Number(ms.toFixed(1));

export async function compareBench(log: (line: string) => void = () => {}): Promise<CompareBenchFigures | { skipped: string }> {
  const missing = chromiumMissing();
  if (missing) return missing;
  // The page's read-only hooks measure it (src/renderer/testHooks.ts): serve a build with them.
  process.env.HEADWAY_TEST_HOOKS = '1';
  await ensureRendererBuilt(log);
  const dir = mkdtempSync(join(tmpdir(), 'headway-bench-compare-'));
  const database = join(dir, 'runs.db');
  const runs = LEARNERS.length * SEEDS;
  log(`compare: writing ${runs} runs × ${ITERATIONS} iterations...`);
  let started = performance.now();
  writeDatabase(database);
  const writeDatabaseMs = performance.now() - started;

  // The server's history reads HEADWAY_DB when it first opens the store.
  const previousDb = process.env.HEADWAY_DB;
  process.env.HEADWAY_DB = database;
  const server = await startServer({ port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
    await page.goto(server.url);
    await page.getByTestId('transport').filter({ hasText: 'Browser' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('tab-compare').click();
    await page.getByTestId(`compare-select-shown`).filter({ hasText: `Select ${runs} shown` }).waitFor({ timeout: 30_000 });

    log('compare: selecting the runs...');
    let since = await now(page);
    await page.getByTestId('compare-select-shown').click();
    const selected = await drawnAfter(page, since, runs);
    const selectAllMs = selected.drawnAt - since;

    log('compare: opening the tab...');
    const openings: CompareStats[] = [];
    const openMs: number[] = [];
    for (let k = 0; k < OPEN_REPEATS; k++) {
      await page.getByTestId('tab-runs').click();
      await page.getByTestId('compare-view').waitFor({ state: 'detached' });
      since = await now(page);
      await page.getByTestId('tab-compare').click();
      const opened = await drawnAfter(page, since, runs);
      openings.push(opened);
      openMs.push(opened.drawnAt - since);
    }
    const sorted = [...openMs].sort((a, b) => a - b);

    const groupedSince = await now(page);
    await page.getByTestId('compare-group-by').selectOption('algo');
    const groupByLearnerMs = (await drawnAfter(page, groupedSince, runs)).drawnAt - groupedSince;
    const smoothedSince = await now(page);
    await page.getByTestId('compare-smoothing').fill('0.6');
    const smoothingMs = (await drawnAfter(page, smoothedSince, runs)).drawnAt - smoothedSince;

    const history = new RunHistory(() => database);
    const ids = Array.from({ length: runs }, (_, k) => k + 1);
    history.runMetrics(ids, [TRAIN_METRICS.evalReturn]);
    started = performance.now();
    const columns = history.runMetrics(ids, [TRAIN_METRICS.evalReturn]);
    const runMetricsBackendMs = performance.now() - started;

    const first = openings[0];
    return {
      runs,
      iterationsPerRun: ITERATIONS,
      pointsDrawn: columns.reduce((sum, column) => sum + column.value.length, 0),
      writeDatabaseMs: Math.round(writeDatabaseMs),
      openMs: { first: round(openMs[0]), median: round(sorted[Math.floor(sorted.length / 2)]), max: round(sorted[sorted.length - 1]) },
      targetMs: TARGET_MS,
      withinTarget: sorted[sorted.length - 1] < TARGET_MS,
      runMetricsRoundTripMs: round(first.runMetricsMs),
      runMetricsBackendMs: round(runMetricsBackendMs),
      modelMs: round(first.modelMs),
      svgMs: round(first.svgMs),
      selectAllMs: round(selectAllMs),
      groupByLearnerMs: round(groupByLearnerMs),
      smoothingMs: round(smoothingMs),
    };
  } finally {
    await browser.close();
    await server.close();
    if (previousDb === undefined) delete process.env.HEADWAY_DB;
    else process.env.HEADWAY_DB = previousDb;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await compareBench((line) => console.error(line)), null, 2));
}
