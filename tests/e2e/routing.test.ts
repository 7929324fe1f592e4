/**
 * network-routing in the app against a real `headway serve`: the road network drawn from its
 * node coordinates live while simulating (links coloured by volume/capacity, as wide as their
 * flow), a clicked node's team (mass per destination, split ratios), the episode's steady-state
 * TSTT against the user equilibrium, and the evaluation
 * episodes of a tiny training run drawn the same way, with the critic's value of each
 * routing choice.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hudStep, launchBrowser, openApp, screenshotPath, startTraining, text, waitForStep } from './browser.ts';

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** The run the training test stores, replayed and compared after it. */
let trainedRun = 0;

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

/** Stroke width of each link's line, in link order. */
async function linkWidths(): Promise<number[]> {
  return page.getByTestId('network-view').locator('g.link line').evaluateAll((lines) => lines.map((line) => Number(line.getAttribute('stroke-width'))));
}

describe('network-routing in the app', () => {
  it('draws the 3x3 grid live under the user-equilibrium splits; a clicked node shows its team', async () => {
    expect(await page.getByTestId('unviewed-scenarios-note').count()).toBe(0);
    await page.getByTestId('scenario').selectOption('network-routing');
    await page.getByTestId('param-network').fill('grid-3x3');
    await page.getByTestId('param-policy').selectOption('ue');
    const start = page.getByTestId('start');
    await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
    await start.click();
    await expect.poll(() => text(page, 'job-status'), { timeout: 20_000 }).toBe('running');
    await page.getByTestId('network-view').waitFor();
    expect(await page.getByTestId('network-view').locator('g.node').count()).toBe(9);
    // 12 two-way roads of the grid: 24 links, each its own arrow.
    expect(await page.getByTestId('network-view').locator('g.link').count()).toBe(24);
    await waitForStep(page, (step) => step >= 6);
    const widths = await linkWidths();
    // Loaded links are wider than the empty ones (the UE uses some links and not others).
    expect(Math.max(...widths)).toBeGreaterThan(Math.min(...widths) + 1);

    await page.getByTestId('pause').click();
    await expect.poll(() => text(page, 'job-status')).toBe('paused');
    // The centre node (5): every corner destination's class passes it; its splits sum to 1 per class that has mass.
    await page.getByTestId('node-4').click();
    const card = page.getByTestId('node-card');
    await card.waitFor();
    const rows = page.getByTestId('node-splits').locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const row of await rows.all()) {
      const cells = (await row.locator('td').allInnerTexts()).map((cell) => cell.trim());
      const shares = cells.slice(2).map((cell) => Number(cell.replace('%', '')));
      expect(shares.length).toBe(4);
      const total = shares.reduce((sum, share) => sum + share, 0);
      expect(total === 0 || Math.abs(total - 100) < 0.3, `${cells.join(' | ')}`).toBe(true);
    }
    expect(await card.textContent()).toContain('no critic value');
    await page.screenshot({ path: screenshotPath('routing-simulate') });

    // Played to its end, the episode's result: the UE splits reach the user equilibrium's TSTT.
    await page.getByTestId('resume').click();
    await expect.poll(() => text(page, 'job-status'), { timeout: 20_000 }).toBe('finished');
    expect(await page.getByTestId('episode-metric-tsttOverUe').locator('td').last().textContent()).toBe('1.0000');
    expect(Number(await page.getByTestId('episode-metric-tsttOverSo').locator('td').last().textContent())).toBeGreaterThan(1);
    expect(pageErrors).toEqual([]);
  });

  it('draws the evaluation episodes of a tiny training run, with the values of the routing choices', async () => {
    await startTraining(page, {
      scenario: 'network-routing',
      learner: 'ippo',
      settings: { numEnvs: '1', rolloutSteps: '32', epochs: '1' },
      iterations: 3,
    });
    // The title first: the HUD still shows the previous test's simulated episode (its step > 0) until the first evaluation arrives.
    await expect.poll(() => text(page, 'hud-title'), { timeout: 60_000 }).toMatch(/evaluation after iteration \d+/);
    await expect.poll(() => hudStep(page), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('network-view').waitFor();
    // Braess: node 1 is the origin, where the routes to node 2 split.
    await page.getByTestId('node-0').click();
    await page.getByTestId('node-card').waitFor();
    await expect.poll(() => page.getByTestId('node-card').textContent(), { timeout: 20_000 }).toContain("critic's value");
    expect(await text(page, 'node-value-1-0')).toMatch(/^V -?\d/);
    await page.screenshot({ path: screenshotPath('routing-train') });
    await expect.poll(() => text(page, 'train-status'), { timeout: 120_000 }).toBe('finished');
    trainedRun = Number(await text(page, 'train-run-id'));
    expect(pageErrors).toEqual([]);
  });

  it('replays a stored routing episode: the network at each step and the per-link flow over time', async () => {
    await page.getByTestId('tab-replay').click();
    await page.getByTestId('replay-run').selectOption(String(trainedRun));
    const viewport = page.getByTestId('replay-viewport-primary');
    await viewport.getByTestId('network-view').waitFor({ timeout: 15_000 });
    const heatmap = page.getByTestId('link-flow');
    await heatmap.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('time-space').count()).toBe(0);
    // Video export films the 3D road, which this scenario has not.
    expect(await page.getByTestId('video-export-open').isDisabled()).toBe(true);
    // The heat map is painted: many distinct colours (one per load level) in its plot.
    const colours = () =>
      heatmap.evaluate((canvas: HTMLCanvasElement) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        const seen = new Set<number>();
        for (let p = 0; p < data.length; p += 4) seen.add((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]);
        return [...seen].sort().join();
      });
    await expect.poll(async () => (await colours()).split(',').length, { timeout: 10_000 }).toBeGreaterThan(8);
    // Coloured by the flow itself: Braess is over capacity everywhere, the flows still differ.
    const byLoad = await colours();
    await page.getByTestId('link-flow-colour-flow').click();
    await expect.poll(colours).not.toBe(byLoad);
    expect(await page.getByTestId('link-flow-legend').locator('..').textContent()).toMatch(/veh\/h/);
    const before = await viewport.locator('g.link line').evaluateAll((lines) => lines.map((line) => line.getAttribute('stroke-width')).join());
    for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewport.locator('g.link line').evaluateAll((lines) => lines.map((line) => line.getAttribute('stroke-width')).join())).not.toBe(before);
    await viewport.getByTestId('node-0').click();
    await viewport.getByTestId('node-card').waitFor();
    expect(await text(page, 'node-value-1-0')).toMatch(/^V -?\d/);
    await page.screenshot({ path: screenshotPath('routing-replay') });
    expect(pageErrors).toEqual([]);
  });

  it('compares the routing run like the others: its metrics plot', async () => {
    await page.getByTestId('tab-compare').click();
    await page.getByTestId('compare-run-search').fill(`#${trainedRun}`);
    await page.getByTestId(`compare-run-${trainedRun}`).click();
    await expect.poll(async () => ((await page.getByTestId('compare-svg').first().innerHTML()).match(/stroke-width="1.6"/g) ?? []).length, { timeout: 10_000 }).toBe(1);
    await page.screenshot({ path: screenshotPath('routing-compare') });
    expect(pageErrors).toEqual([]);
  });
});
