/**
 * Sweeps in the app, against a real `headway serve`: a 2 learners x 2 seeds sweep trained by
 * the real `headway sweep` into the server's database while the test watches; the Runs tab
 * filtered by that sweep lists exactly its runs under a banner with its name and its
 * progress, which follows the training to the end by itself; "Compare by learner" then opens
 * Compare with those runs grouped by learner, one mean line and ±1 std band per learner. A
 * sweep over two scenarios (recorded over two CLI-trained history runs) has one Compare per
 * scenario, each opening that scenario's runs only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunStore } from '../../src/main/store/index.ts';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SWEEP = { name: 'e2e learner grid', scenarios: ['cacc-catchup'], learners: ['dppo', 'ippo'], seeds: [1, 2], iterations: 2, set: { numEnvs: 1 } };
const CELLS = 4;

let browser: Browser;
let page: Page;
let folder: string;
const pageErrors: string[] = [];
/** `headway sweep --json`: its summary once it has exited with code 0. */
let sweepDone: Promise<{ cells: { cell: string; runId: number; status: string }[] }>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'headway-e2e-sweep-'));
  const file = join(folder, 'grid.json');
  writeFileSync(file, JSON.stringify(SWEEP));
  const child = spawn(process.execPath, ['bin/headway.mjs', 'sweep', file, '--parallel', '2', '--json', '--db', inject('databasePath')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  sweepDone = new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)) : reject(new Error(`headway sweep exited ${code}:\n${stderr}`)))),
  );
  sweepDone.catch(() => undefined);
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

/** The sweep as the server's database holds it now (null before `headway sweep` recorded it). */
function sweepInDb() {
  const store = RunStore.open(inject('databasePath'), { readOnly: true });
  try {
    return store.listSweeps().find((sweep) => sweep.name === SWEEP.name) ?? null;
  } finally {
    store.close();
  }
}

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
  it('filters Runs by the sweep while it trains: its runs under a banner whose progress follows the training to the end', async () => {
    await page.getByTestId('tab-runs').click();
    await expect.poll(() => sweepInDb()?.runs.running ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('runs-reload').click();
    const option = page.getByTestId('runs-filter-sweep').locator('option', { hasText: `Sweep ${SWEEP.name} (` });
    await page.getByTestId('runs-filter-sweep').selectOption({ label: ((await option.textContent()) ?? '').trim() });
    expect(await text(page, 'sweep-name')).toBe(SWEEP.name);
    await expect.poll(() => text(page, 'sweep-progress')).toMatch(new RegExp(`^\\d of ${CELLS} finished · \\d running`));
    await page.screenshot({ path: screenshotPath('sweep-runs-training') });

    // No click from here: the banner reads the progress again while runs train.
    const summary = await sweepDone;
    const ids = summary.cells.map((cell) => cell.runId);
    expect(summary.cells.map((cell) => cell.status)).toEqual(Array(CELLS).fill('finished'));
    await expect.poll(() => text(page, 'sweep-progress'), { timeout: 15_000 }).toBe(`${CELLS} of ${CELLS} finished`);
    await expect.poll(async () => (await listedIds()).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(await text(page, 'runs-count')).toBe(String(CELLS));
    for (const id of ids) expect(await text(page, `run-status-${id}`)).toBe('finished');
    await page.screenshot({ path: screenshotPath('sweep-runs') });
  });

  it('opens the sweep in Compare grouped by learner, a mean line and a ±1 std band per learner', async () => {
    expect(await text(page, 'sweep-compare-cacc-catchup')).toBe('Compare by learner');
    await page.getByTestId('sweep-compare-cacc-catchup').click();
    await page.getByTestId('compare-view').waitFor();
    await expect.poll(legendItems).toEqual(['dppo 2 runs', 'ippo 2 runs']);
    expect(await page.getByTestId('compare-group-by').inputValue()).toBe('algo');
    expect(await page.getByTestId('compare-band-std').getAttribute('aria-checked')).toBe('true');
    expect(await text(page, 'compare-summary')).toContain('4 runs · 2 groups by learner');
    // Exactly the sweep's catch-up runs are selected.
    expect(await text(page, 'compare-selected-count')).toBe('4 selected');
    const selectedMeta = await page.locator('label.run.on .meta').allTextContents();
    expect(selectedMeta.map((meta) => meta.split(' · ').slice(1, 3).join(' ')).sort()).toEqual(['dppo cacc-catchup', 'dppo cacc-catchup', 'ippo cacc-catchup', 'ippo cacc-catchup']);
    await expect.poll(async () => ((await page.getByTestId('compare-svg').first().innerHTML()).match(/fill-opacity="0.18"/g) ?? []).length).toBe(2);
    await page.screenshot({ path: screenshotPath('sweep-compare') });
  });

  it('offers one Compare per scenario for a sweep over several scenarios, each opening that scenario only', async () => {
    // A sweep recorded over two of the CLI-trained history runs (historyDb.ts): no training needed for the buttons.
    const history = inject('historyRuns');
    const store = RunStore.open(inject('databasePath'));
    try {
      const cells = ['cacc-catchup/dppo/1/default', 'ring/ippo/1/default'];
      const sweep = store.openSweep('e2e two scenarios', '{}', cells);
      store.setSweepRun(sweep.id, cells[0], history['catch-up DPPO seed 1']);
      store.setSweepRun(sweep.id, cells[1], history['ring IPPO']);
    } finally {
      store.close();
    }
    await page.getByTestId('tab-runs').click();
    await page.getByTestId('runs-reload').click();
    const option = page.getByTestId('runs-filter-sweep').locator('option', { hasText: 'Sweep e2e two scenarios (' });
    await page.getByTestId('runs-filter-sweep').selectOption({ label: ((await option.textContent()) ?? '').trim() });
    await expect.poll(async () => (await listedIds()).sort((a, b) => a - b)).toEqual([history['catch-up DPPO seed 1'], history['ring IPPO']].sort((a, b) => a - b));
    expect(await text(page, 'sweep-progress')).toBe('2 of 2 finished');
    expect(await text(page, 'sweep-compare-cacc-catchup')).toBe('Compare on CACC catch-up');
    expect(await text(page, 'sweep-compare-ring')).toBe('Compare on Ring attenuation');
    await page.screenshot({ path: screenshotPath('sweep-two-scenarios') });
    await page.getByTestId('sweep-compare-ring').click();
    await expect.poll(legendItems).toEqual(['ippo 1 run']);
    expect(await text(page, 'compare-selected-count')).toBe('1 selected');
    expect(pageErrors).toEqual([]);
  });
});
