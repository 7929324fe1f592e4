/**
 * Replay responsiveness (`headway bench`, part replay): trains a ring run with the CLI into a
 * throwaway database (one 3000-step evaluation episode, 22 vehicles), serves the app on it,
 * opens the episode in Chromium and measures the time to its first frame (target < 300 ms)
 * and the latency of jumps of the cursor through the timeline (target < 16 ms): right after
 * opening, while blocks still stream in, and once the episode's blocks are cached.
 * Latencies are the view's own: from the timeline's input event to the frame handed to the
 * 3D view (window.__headwayReplay.timings()).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { startServer } from '../src/main/server/index.ts';
import { ensureRendererBuilt } from '../src/main/server/rendererBuild.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LatencyFigure {
  jumps: number;
  /** Jumps whose block was cached already. */
  cached: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface ReplayBenchReport {
  episode: { steps: number; vehicles: number };
  glRenderer: string;
  /** Opening the episode from the run picker to its first frame, per fresh page (the first includes a cold server). */
  firstFrameMs: { runs: number[]; median: number; targetMs: number };
  /** Jumps to uniformly random steps straight after opening. */
  scrubWhileStreaming: LatencyFigure;
  /** The same once the blocks around the cursor are cached. */
  scrubCached: LatencyFigure & { targetMs: number };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const round = (value: number) => Number(value.toFixed(2));

function latencyFigure(samples: readonly { ms: number; cached: boolean }[]): LatencyFigure {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { jumps: samples.length, cached: samples.filter((s) => s.cached).length, medianMs: round(quantile(sorted, 0.5)), p95Ms: round(quantile(sorted, 0.95)), maxMs: round(sorted.at(-1) ?? 0) };
}

/** Deterministic pseudo-random steps (an LCG), so every run jumps the same way. */
function randomSteps(count: number, steps: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % steps;
  });
}

/** Polls a page expression until it is true (waitForFunction would need eval, which the app's CSP refuses). */
async function waitUntil(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await page.evaluate(expression))) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function openEpisode(page: Page, runId: number): Promise<number> {
  await page.getByTestId('tab-replay').click();
  await page.getByTestId('replay-run').selectOption(String(runId));
  await waitUntil(page, "window.__headwayReplay?.shownStep('primary') === 0");
  return (await page.evaluate('window.__headwayReplay.timings().firstFrameMs')) as number;
}

/** Moves the timeline to each step as a user's drag would (an input event) and reads the view's latency. */
async function jump(page: Page, steps: readonly number[]): Promise<{ ms: number; cached: boolean }[]> {
  const samples: { ms: number; cached: boolean }[] = [];
  for (const step of steps) {
    // Page scripts as text: tsx would wrap functions with a helper the page does not have.
    await page.evaluate(`(() => {
      const timeline = document.querySelector('[data-testid="timeline"]');
      timeline.value = '${step}';
      timeline.dispatchEvent(new Event('input', { bubbles: true }));
    })()`);
    await waitUntil(page, `window.__headwayReplay.shownStep('primary') === ${step}`, 10_000);
    const timings = (await page.evaluate('window.__headwayReplay.timings()')) as { lastScrubMs: number; lastScrubCached: boolean };
    samples.push({ ms: timings.lastScrubMs, cached: timings.lastScrubCached });
  }
  return samples;
}

export async function replayBench(log: (line: string) => void = () => {}): Promise<ReplayBenchReport | { skipped: string }> {
  const missing = chromiumMissing();
  if (missing) return missing;
  // The page's read-only hooks measure it (src/renderer/testHooks.ts): serve a build with them.
  process.env.HEADWAY_TEST_HOOKS = '1';
  await ensureRendererBuilt(log);
  const dir = mkdtempSync(join(tmpdir(), 'headway-bench-replay-'));
  const database = join(dir, 'runs.db');
  log('training a ring run with a 3000-step evaluation episode...');
  const output = execFileSync(
    process.execPath,
    ['bin/headway.mjs', 'train', '--scenario', 'ring', '--algo', 'ippo', '--seed', '1', '--iterations', '1', '--set', 'numEnvs=1', '--set', 'rolloutSteps=200', '--param', 'length=230', '--threads', '1', '--json', '--db', database],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const runId = (JSON.parse(output.trim().split('\n').at(-1)!) as { runId: number }).runId;
  // The server's history reads HEADWAY_DB when it first opens the store.
  const previousDb = process.env.HEADWAY_DB;
  process.env.HEADWAY_DB = database;
  const server = await startServer({ port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
    const firstFrames: number[] = [];
    let streaming: { ms: number; cached: boolean }[] = [];
    for (let load = 0; load < 5; load++) {
      await page.goto(server.url);
      await page.getByTestId('transport').filter({ hasText: 'Browser' }).waitFor({ timeout: 30_000 });
      firstFrames.push(round(await openEpisode(page, runId)));
      // Straight after opening: most jumps land in blocks not streamed yet.
      if (load === 0) streaming = await jump(page, randomSteps(10, 3000, 7));
    }
    log('scrubbing...');
    await waitUntil(page, 'window.__headwayReplay.tracesReady()');
    await page.waitForTimeout(2000);
    const cached = await jump(page, randomSteps(50, 3000, 11));
    const glRenderer = (await page.evaluate(`(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
      return gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'none';
    })()`)) as string;
    const sortedFirst = [...firstFrames].sort((a, b) => a - b);
    return {
      episode: { steps: 3000, vehicles: 22 },
      glRenderer,
      firstFrameMs: { runs: firstFrames, median: quantile(sortedFirst, 0.5), targetMs: 300 },
      scrubWhileStreaming: latencyFigure(streaming),
      scrubCached: { ...latencyFigure(cached), targetMs: 16 },
    };
  } finally {
    await browser.close();
    await server.close();
    if (previousDb === undefined) delete process.env.HEADWAY_DB;
    else process.env.HEADWAY_DB = previousDb;
    rmSync(dir, { recursive: true, force: true });
  }
}
