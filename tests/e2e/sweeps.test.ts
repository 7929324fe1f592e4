/**
 * Sweeps in the app, against a real `headway serve`: a 2 learners x 2 seeds sweep trained by
 * the real `headway sweep` into the server's database; the Runs tab filtered by that sweep
 * lists exactly its runs under a banner with its name and progress, and "Compare by learner"
 * opens Compare with those runs grouped by learner, one mean line and ±1 std band per learner.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SWEEP = { name: 'e2e learner grid', scenarios: ['cacc-catchup'], learners: ['dppo', 'ippo'], seeds: [1, 2], iterations: 2, set: { numEnvs: 1 } };

let browser: Browser;
let page: Page;
let folder: string;
const pageErrors: string[] = [];
/** The sweep's run ids by learner, as `headway sweep --json` reports them. */
const sweepRuns: Record<string, number[]> = {};

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'headway-e2e-sweep-'));
  const file = join(folder, 'grid.json');
  writeFileSync(file, JSON.stringify(SWEEP));
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/headway.mjs', 'sweep', file, '--parallel', '2', '--json', '--db', inject('databasePath')], { cwd: ROOT });
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { cells: { cell: string; runId: number; status: string }[] };
  for (const cell of summary.cells) {
    expect(cell.status).toBe('finished');
    (sweepRuns[cell.cell.split('/')[1]] ??= []).push(cell.runId);
  }
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function listedIds(): Promise<number[]> {
  return page.locator('[data-testid^="run-row-"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-testid')!.slice('run-row-'.length))));
}

/** The Compare legend as "label detail" per entry. */
async function legendItems(): Promise<string[]> {
  const items = page.getByTestId('compare-legend-item');
  const labels = await items.locator('.legend-label').allTextContents();
  const details = await items.locator('.legend-detail').allTextContents();
  return labels.map((label, k) => `${label.trim()} ${details[k].trim()}`);
}

describe('sweeps in the app', () => {
  it('filters Runs by the sweep: only its runs, under a banner with its name and progress', async () => {
    const ids = Object.values(sweepRuns).flat();
    await page.getByTestId('tab-runs').click();
    await page.getByTestId(`run-row-${ids[0]}`).waitFor({ timeout: 15_000 });
    expect((await listedIds()).length).toBeGreaterThan(ids.length);
    await page.getByTestId('runs-filter-sweep').selectOption({ label: `Sweep ${SWEEP.name} (4/4)` });
    await expect.poll(async () => (await listedIds()).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(await text(page, 'sweep-name')).toBe(SWEEP.name);
    expect(await text(page, 'sweep-progress')).toBe('4 of 4 finished');
    expect(await text(page, 'runs-count')).toBe('4');
    await page.screenshot({ path: screenshotPath('sweep-runs') });
  });

  it('opens the sweep in Compare grouped by learner, a mean line and a ±1 std band per learner', async () => {
    await page.getByTestId('sweep-compare-cacc-catchup').click();
    await page.getByTestId('compare-view').waitFor();
    await expect.poll(legendItems).toEqual(['dppo 2 runs', 'ippo 2 runs']);
    expect(await page.getByTestId('compare-group-by').inputValue()).toBe('algo');
    expect(await page.getByTestId('compare-band-std').getAttribute('aria-checked')).toBe('true');
    expect(await text(page, 'compare-summary')).toContain('4 runs · 2 groups by learner');
    await expect.poll(async () => ((await page.getByTestId('compare-svg').first().innerHTML()).match(/fill-opacity="0.18"/g) ?? []).length).toBe(2);
    await page.screenshot({ path: screenshotPath('sweep-compare') });
    expect(pageErrors).toEqual([]);
  });
});
