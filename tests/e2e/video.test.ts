/**
 * Video export in Chromium against a real `headway serve` and the CLI-prepared history:
 * the Replay view's Export video control (real clicks, the file taken from the download),
 * Cancel, and `headway export --video`; every file is checked by demuxing it (codec, size,
 * duration, one frame per 1/fps s of the exported range) and by playing it in a <video>
 * element (duration, a first frame that is a picture, not blank). Short ranges at 640x360
 * keep it fast. Also: the 3D view's framing of the ring at 1440x900 (a screenshot).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunStore } from '../../src/main/store/index.ts';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';
import { demuxVideo, playInChromium } from './videoCheck.ts';

const run = promisify(execFile);
const runs = inject('historyRuns');
const databasePath = inject('databasePath');
const FPS = 30;
/** Steps 0..20 of a 0.1 s episode: 2 s, 60 frames at 30 fps. */
const RANGE = { from: 0, to: 20 };
const EXPECTED_FRAMES = Math.round((RANGE.to - RANGE.from) * 0.1 * FPS);

let browser: Browser;
let page: Page;
let outDir: string;
const pageErrors: string[] = [];

/** One of the run's stored episodes. */
function episodeOf(runName: string): number {
  const store = RunStore.open(databasePath, { readOnly: true });
  try {
    return store.listEpisodes(runs[runName])[0].id;
  } finally {
    store.close();
  }
}

/** Checks a file of the 2 s range: its container's facts and how Chromium plays it. */
async function expectVideo(bytes: Uint8Array, mimeType: string): Promise<void> {
  const facts = await demuxVideo(bytes);
  expect(facts).toMatchObject({ width: 640, height: 360, frames: EXPECTED_FRAMES });
  expect(['avc', 'av1', 'vp9']).toContain(facts.codec);
  expect(facts.durationS).toBeCloseTo(EXPECTED_FRAMES / FPS, 3);
  const played = await playInChromium(browser, bytes, mimeType);
  expect(played).toMatchObject({ width: 640, height: 360 });
  expect(played.durationS).toBeCloseTo(EXPECTED_FRAMES / FPS, 2);
  // The road, the vehicles and the HUD: far from one flat colour.
  expect(played.firstFrameVariance).toBeGreaterThan(50);
}

async function openReplay(runName: string): Promise<void> {
  await page.getByTestId('replay-run').selectOption(String(runs[runName]));
  await expect.poll(() => text(page, 'replay-step'), { timeout: 15_000 }).toBe('step 0 · 0.0 s');
}

async function fillExport(from: number, to: number): Promise<void> {
  await page.getByTestId('video-size').selectOption('640x360');
  await page.getByTestId('video-fps').selectOption(String(FPS));
  await page.getByTestId('video-from').fill(String(from));
  await page.getByTestId('video-to').fill(String(to));
  await expect.poll(() => page.getByTestId('video-format').locator('option').count(), { timeout: 10_000 }).toBeGreaterThan(0);
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'headway-video-'));
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
  await page.getByTestId('tab-replay').click();
});

afterAll(async () => {
  await browser?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe('Video export', () => {
  it('exports a replay range from the Replay view as a download: frame-exact, playable, not blank', async () => {
    await openReplay('catch-up DPPO seed 1');
    await page.getByTestId('video-export-open').click();
    await fillExport(RANGE.from, RANGE.to);
    await page.screenshot({ path: screenshotPath('video-export') });
    const format = await page.getByTestId('video-format').inputValue();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 90_000 }), page.getByTestId('video-start').click()]);
    const episode = await page.getByTestId('replay-episode').inputValue();
    expect(download.suggestedFilename()).toBe(`headway-run-${runs['catch-up DPPO seed 1']}-episode-${episode}.${format}`);
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    await expectVideo(bytes, `video/${format}`);
    expect(await text(page, 'video-result')).toContain(`${EXPECTED_FRAMES} frames`);
    expect(pageErrors).toEqual([]);
  });

  it('cancels an export: no download, no error, the control ready again', async () => {
    let downloads = 0;
    page.on('download', () => downloads++);
    await fillExport(0, 599);
    await page.getByTestId('video-start').click();
    await expect.poll(async () => Number((await page.getByTestId('video-progress').getAttribute('aria-valuenow')) ?? 0), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('video-export-progress') });
    await page.getByTestId('video-cancel').click();
    await page.getByTestId('video-start').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('video-error').count()).toBe(0);
    expect(await page.getByTestId('video-result').count()).toBe(0);
    await page.waitForTimeout(500);
    expect(downloads).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('headway export --video writes the same video from the command line, atomically', async () => {
    const file = join(outDir, 'catchup.webm');
    const runId = runs['catch-up DPPO seed 1'];
    const args = ['bin/headway.mjs', 'export', String(runId), '--episode', String(episodeOf('catch-up DPPO seed 1')), '--video', file, '--fps', String(FPS), '--size', '640x360', '--from', String(RANGE.from), '--to', String(RANGE.to), '--db', databasePath];
    const { stdout } = await run(process.execPath, args, { env: { ...process.env, HEADWAY_TEST_HOOKS: '1' }, timeout: 110_000 });
    expect(stdout).toMatch(new RegExp(`wrote .*catchup\\.webm: vp9, 640x360, 30 fps, ${EXPECTED_FRAMES} frames, 2\\.00 s`));
    expect(readdirSync(outDir)).toEqual(['catchup.webm']);
    await expectVideo(new Uint8Array(readFileSync(file)), 'video/webm');
  });

  it('headway export --video --beside: two episodes side by side under one timeline', async () => {
    const file = join(outDir, 'pair.webm');
    const args = ['bin/headway.mjs', 'export', String(runs['catch-up DPPO seed 1']), '--episode', String(episodeOf('catch-up DPPO seed 1')), '--beside', String(episodeOf('catch-up IPPO seed 1'))];
    const settings = ['--video', file, '--fps', String(FPS), '--size', '1280x360', '--from', String(RANGE.from), '--to', String(RANGE.to), '--db', databasePath];
    const { stdout } = await run(process.execPath, [...args, ...settings], { timeout: 110_000 });
    expect(stdout).toMatch(new RegExp(`wrote .*pair\\.webm: vp9, 1280x360, 30 fps, ${EXPECTED_FRAMES} frames`));
    const bytes = new Uint8Array(readFileSync(file));
    expect(await demuxVideo(bytes)).toMatchObject({ width: 1280, height: 360, frames: EXPECTED_FRAMES });
    const played = await playInChromium(browser, bytes, 'video/webm', screenshotPath('video-side-by-side-frame'));
    expect(played.firstFrameVariance).toBeGreaterThan(50);
    rmSync(file);
    const other = await run(process.execPath, [...args.slice(0, -1), String(episodeOf('ring IPPO')), ...settings]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--beside \d+: episode \d+ is of ring, episode \d+ of cacc-catchup; side by side needs one scenario/);
  });

  it('headway export --video: one-line errors for a missing Chromium and bad settings, nothing written', async () => {
    const base = ['bin/headway.mjs', 'export', String(runs['catch-up DPPO seed 1']), '--episode', String(episodeOf('catch-up DPPO seed 1')), '--db', databasePath];
    const failure = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
      run(process.execPath, [...base, ...args], { env }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    const missing = await failure(['--video', join(outDir, 'x.webm')], { ...process.env, HEADWAY_CHROMIUM: '/nonexistent/chromium' });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('headway: no Chromium at /nonexistent/chromium: install it (apt-get install chromium) or set HEADWAY_CHROMIUM to its executable');
    const badSize = await failure(['--video', join(outDir, 'x.webm'), '--size', '641x360']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toContain('--size "641x360" is not allowed');
    const badFile = await failure(['--video', join(outDir, 'x.avi')]);
    expect(badFile.code).toBe(2);
    expect(readdirSync(outDir)).toEqual(['catchup.webm']);
  });

  it('frames the whole ring in the orbit view at 1440x900', async () => {
    const wide = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    wide.on('pageerror', (error) => pageErrors.push(error.message));
    await wide.goto(inject('serverUrl'));
    await wide.getByTestId('tab-replay').click();
    await wide.getByTestId('replay-run').selectOption(String(runs['ring IPPO']));
    await expect.poll(() => text(wide, 'replay-step'), { timeout: 15_000 }).toBe('step 0 · 0.0 s');
    await wide.waitForTimeout(500);
    await wide.screenshot({ path: screenshotPath('ring-1440x900') });
    await wide.close();
    expect(pageErrors).toEqual([]);
  });
});
