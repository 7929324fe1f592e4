/**
 * The schematic views of the DADC paper's environments against a real `headway serve`:
 * multi-access broadcast (two buffers around the channel, what the channel did each step)
 * and demand response (the loads ON and their share against the target), live while
 * simulating, and in replay of an episode stored by a tiny training run from the app.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, openApp, screenshotPath, startTraining, text, waitForStep } from './browser.ts';

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

async function simulate(scenario: string): Promise<void> {
  await page.getByTestId('scenario').selectOption(scenario);
  await page.getByTestId('policy').selectOption('random');
  const start = page.getByTestId('start');
  await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
  await start.click();
  await expect.poll(() => text(page, 'job-status'), { timeout: 20_000 }).toBe('running');
}

async function stop(): Promise<void> {
  await page.getByTestId('stop').click();
  await expect.poll(() => text(page, 'job-status'), { timeout: 20_000 }).toBe('stopped');
}

describe('schematic views', () => {
  it('shows multi-access broadcast live: the buffers and what the channel did each step', async () => {
    await simulate('mabc');
    await page.getByTestId('mabc-view').waitFor();
    await waitForStep(page, (step) => step >= 25);
    await page.getByTestId('pause').click();
    await expect.poll(() => text(page, 'job-status')).toBe('paused');
    expect(['idle', 'success', 'collision', 'failed']).toContain(await text(page, 'channel-outcome'));
    for (const device of [0, 1]) expect(['packet', 'empty']).toContain(await text(page, `buffer-${device}`));
    // One cell per step seen (the reset state included), all coloured by an outcome.
    const cells = page.getByTestId('channel-strip').locator('.cell');
    expect(await cells.count()).toBeGreaterThanOrEqual(20);
    const titles = await cells.evaluateAll((spans) => spans.map((span) => span.getAttribute('title') ?? ''));
    expect(new Set(titles.slice(1).map((title) => title.split(': ')[1])).size).toBeGreaterThan(1);
    // Single steps add a cell each.
    const before = await cells.count();
    await page.getByTestId('step').click();
    await expect.poll(() => cells.count()).toBe(Math.min(80, before + 1));
    await page.screenshot({ path: screenshotPath('mabc-simulate') });
    await stop();
    expect(pageErrors).toEqual([]);
  });

  it('shows demand response live: each load ON or OFF and the share ON against the target', async () => {
    await simulate('demand-response');
    await page.getByTestId('demand-response-view').waitFor();
    await waitForStep(page, (step) => step >= 10);
    await page.getByTestId('pause').click();
    const loads = page.getByTestId('loads').locator('.load');
    expect(await loads.count()).toBe(100);
    const on = await page.getByTestId('loads').locator('.load.on').count();
    expect(Number(await text(page, 'share-on'))).toBeCloseTo(on / 100, 6);
    await page.screenshot({ path: screenshotPath('demand-response-simulate') });
    await stop();
    expect(pageErrors).toEqual([]);
  });

  it('replays a stored multi-access broadcast episode: the schematic at each step and the channel over time', async () => {
    await startTraining(page, {
      scenario: 'mabc',
      learner: 'ippo',
      settings: { numEnvs: '1', rolloutSteps: '50', epochs: '1' },
      iterations: 1,
    });
    await expect.poll(() => text(page, 'train-status'), { timeout: 60_000 }).toBe('finished');
    const runId = Number(await text(page, 'train-run-id'));

    await page.getByTestId('tab-replay').click();
    await page.getByTestId('replay-run').selectOption(String(runId));
    const viewport = page.getByTestId('replay-viewport-primary');
    await viewport.getByTestId('mabc-view').waitFor({ timeout: 15_000 });
    const timeline = page.getByTestId('tabular-timeline');
    await timeline.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('time-space').count()).toBe(0);
    // The timeline is painted with the outcome and buffer colours.
    await expect
      .poll(
        () =>
          timeline.evaluate((canvas: HTMLCanvasElement) => {
            const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
            const colours = new Set<number>();
            for (let p = 0; p < data.length; p += 4) colours.add((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]);
            return colours.size;
          }),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(4);
    expect(await viewport.getByTestId('channel-outcome').textContent()).toBe('no step yet');
    for (let k = 0; k < 5; k++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewport.getByTestId('channel-outcome').textContent()).not.toBe('no step yet');
    await page.screenshot({ path: screenshotPath('mabc-replay') });
    expect(pageErrors).toEqual([]);
  });
});
