/**
 * The Compare tab against a real `headway serve` on the CLI-prepared history
 * (historyDb.ts): pick the three catch-up runs, group them by learner (a band for the two
 * DPPO seeds), export the data as CSV (checked against the run store's own values) and the
 * chart as SVG and PNG, and see the chart follow the x-axis and smoothing.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunStore } from '../../src/main/store/index.ts';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const runs = inject('historyRuns');
const CATCH_UP = ['catch-up DPPO seed 1', 'catch-up DPPO seed 2', 'catch-up IPPO seed 1'] as const;

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

const svgText = () => page.getByTestId('compare-svg').first().innerHTML();
/** The legend as "label detail" per entry. */
async function legendItems(): Promise<string[]> {
  const items = page.getByTestId('compare-legend-item');
  const labels = await items.locator('.legend-label').allTextContents();
  const details = await items.locator('.legend-detail').allTextContents();
  return labels.map((label, k) => `${label.trim()} ${details[k].trim()}`);
}

async function download(testId: string): Promise<{ download: Download; path: string }> {
  const [started] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = await started.path();
  expect(await started.failure()).toBeNull();
  return { download: started, path };
}

/** Parses CSV text as RFC 4180 (quoted fields may hold commas and quotes). */
function parseCsv(csv: string): string[][] {
  return csv
    .trimEnd()
    .split('\n')
    .map((line) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map(([, field]) => (field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field)));
}

describe('the Compare tab', () => {
  it('picks runs from the searchable list and overlays one line per run', async () => {
    await page.getByTestId('tab-compare').click();
    await page.getByTestId('compare-empty').waitFor();
    await page.getByTestId('compare-run-search').fill('catch-up');
    for (const name of CATCH_UP) await page.getByTestId(`compare-run-${runs[name]}`).click();
    expect(await text(page, 'compare-selected-count')).toBe('3 selected');
    // The ring run is filtered out of the list but the search finds it by #id.
    await page.getByTestId('compare-run-search').fill(`#${runs['ring IPPO']}`);
    expect(await page.getByTestId(`compare-run-${runs['ring IPPO']}`).count()).toBe(1);
    expect(await page.getByTestId(`compare-run-${runs[CATCH_UP[0]]}`).count()).toBe(0);
    await page.getByTestId('compare-run-search').fill('');
    await expect.poll(legendItems).toEqual(CATCH_UP.map((name) => `${name} #${runs[name]}`));
    await expect.poll(async () => (await svgText()).match(/stroke-width="1.6"/g)?.length ?? 0).toBe(3);
    await page.screenshot({ path: screenshotPath('compare-runs') });
  });

  it('groups by learner: a mean line with a band for the DPPO seeds, a line for IPPO', async () => {
    await page.getByTestId('compare-group-by').selectOption('algo');
    await expect.poll(legendItems).toEqual(['dppo 2 runs', 'ippo 1 run']);
    const svg = await svgText();
    expect(svg.match(/fill-opacity="0.18"/g)).toHaveLength(1);
    expect(svg.match(/stroke-width="2"/g)).toHaveLength(2);
    expect(await text(page, 'compare-summary')).toContain('2 groups by learner');
    // The hover readout lists both groups, DPPO with its spread.
    const plot = page.getByTestId('compare-plot').first();
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width - 30, box.y + box.height / 2);
    const readout = page.getByTestId('compare-readout');
    await readout.waitFor();
    expect(await readout.textContent()).toMatch(/dppo.*…/);
    await page.screenshot({ path: screenshotPath('compare-grouped') });
    await page.mouse.move(0, 0);
  });

  it("exports the data as CSV, equal to the run store's values", async () => {
    const metric = (await page.locator('figcaption .metric').first().textContent())!.trim();
    const { download: file, path } = await download('compare-export-csv');
    expect(file.suggestedFilename()).toMatch(/^headway-.*-by-algo-\d{8}-\d{4}\.csv$/);
    const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
    expect(header).toEqual(['run_id', 'run_name', 'group', 'metric', 'iteration', 'env_steps', 'wall_time_s', 'value', 'value_smoothed']);
    const store = RunStore.open(inject('databasePath'), { readOnly: true });
    try {
      const expected = CATCH_UP.flatMap((name) =>
        store.metricSeries(runs[name], metric).map((point) => ({
          runId: runs[name],
          name,
          group: name.includes('DPPO') ? 'dppo' : 'ippo',
          ...point,
        })),
      );
      expect(expected.length).toBeGreaterThanOrEqual(3);
      expect(rows).toHaveLength(expected.length);
      rows.forEach((row, k) => {
        const want = expected[k];
        expect(row.slice(0, 4)).toEqual([String(want.runId), want.name, want.group, metric]);
        expect(row.slice(4, 7).map(Number)).toEqual([want.iteration, want.envSteps, want.wallTimeS]);
        const value = row[7] === '' ? Number.NaN : Number(row[7]);
        expect(value).toEqual(want.value);
        // No smoothing yet: the smoothed column repeats the value.
        expect(row[8]).toBe(row[7]);
      });
    } finally {
      store.close();
    }
  });

  it('exports the chart as a valid SVG and PNG', async () => {
    const svg = await download('compare-export-svg');
    expect(svg.download.suggestedFilename()).toMatch(/\.svg$/);
    const source = readFileSync(svg.path, 'utf8');
    const parsed = (await page.evaluate(`(() => {
      const doc = new DOMParser().parseFromString(${JSON.stringify(source)}, 'image/svg+xml');
      return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length, paths: doc.getElementsByTagName('path').length };
    })()`)) as { root: string; errors: number; paths: number };
    expect(parsed).toMatchObject({ root: 'svg', errors: 0 });
    expect(parsed.paths).toBeGreaterThanOrEqual(3);
    expect(source).toContain('dppo');

    const png = await download('compare-export-png');
    expect(png.download.suggestedFilename()).toMatch(/\.png$/);
    const bytes = readFileSync(png.path);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: twice the SVG's width (2x).
    expect(bytes.readUInt32BE(16)).toBe(2 * Number(/width="(\d+)"/.exec(source)![1]));
    // Kept next to the screenshots, to look at.
    copyFileSync(png.path, screenshotPath('compare-export'));
  });

  it('follows the x-axis and the smoothing', async () => {
    const before = await svgText();
    await page.getByTestId('compare-x-wallTimeS').click();
    await expect.poll(svgText).not.toBe(before);
    expect(await svgText()).toContain('Wall time (s)');
    const unsmoothed = await svgText();
    await page.getByTestId('compare-smoothing').fill('0.6');
    expect(await text(page, 'compare-smoothing-value')).toBe('0.60');
    await expect.poll(svgText).not.toBe(unsmoothed);
    expect(await text(page, 'compare-summary')).toContain('smoothing 0.60');
    await page.getByTestId('compare-group-by').selectOption('');
    // Ungrouped with smoothing: each run's raw curve stays, faint.
    await expect.poll(async () => (await svgText()).match(/stroke-opacity="0.25"/g)?.length ?? 0).toBe(3);
    await page.screenshot({ path: screenshotPath('compare-smoothed') });
    expect(pageErrors).toEqual([]);
  });
});
