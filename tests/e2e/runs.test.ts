/**
 * The Runs tab against a real `headway serve` and the history prepared by the CLI
 * (global-setup.ts): search and filters, the details checked against the database, tag and
 * notes edits that survive a reload, evaluating a checkpoint with a chosen seed, resume
 * offered only where it applies, delete behind a confirmation (and refused while a job uses
 * the run), and the hand-off of ticked runs to Compare.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunStore } from '../../src/main/store/index.ts';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const history = inject('historyRuns');
const ippo = history['catch-up IPPO seed 1'];

/** Reads the database the server writes, read-only, as the UI should show it. */
function fromDb<T>(read: (store: RunStore) => T): T {
  const store = RunStore.open(inject('databasePath'), { readOnly: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

const row = (runId: number) => page.getByTestId(`run-row-${runId}`);

async function listedIds(): Promise<number[]> {
  const ids = await page.locator('[data-testid^="run-row-"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-testid')!.slice('run-row-'.length))));
  return ids;
}

async function openRunsTab(): Promise<void> {
  await page.getByTestId('tab-runs').click();
  await row(ippo).waitFor({ timeout: 15_000 });
}

async function selectRun(runId: number): Promise<void> {
  await row(runId).click();
  await page.locator(`[data-testid="run-details"][data-run-id="${runId}"]`).waitFor({ timeout: 15_000 });
}

/**
 * A throwaway run for resume and delete: `headway train` on the server's database, stopped
 * with Ctrl-C after its first iteration (a stopped run, resumable, that no other test uses).
 */
async function trainStoppedRun(name: string): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      'bin/headway.mjs',
      'train',
      ...['--scenario', 'cacc-catchup', '--algo', 'ippo', '--iterations', '1000', '--param', 'horizon=50'],
      // Default threads: with --threads 1 the updates never yield to the event loop and Ctrl-C is not read.
      ...['--set', 'numEnvs=1', '--set', 'rolloutSteps=50', '--set', 'epochs=1', '--json'],
      ...['--name', name, '--db', inject('databasePath')],
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await expect.poll(() => /run (\d+):/.exec(stderr)?.[1], { timeout: 60_000 }).toBeDefined();
  const runId = Number(/run (\d+):/.exec(stderr)![1]);
  await expect.poll(() => fromDb((store) => store.getRun(runId)?.iterations ?? 0), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  child.kill('SIGINT');
  expect(await exited, stderr).toBe(0);
  expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ runId, status: 'stopped' });
  return runId;
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

describe('the Runs tab', () => {
  it('lists the runs newest first; search, the learner and status filters find "catch-up IPPO seed 1"', async () => {
    await openRunsTab();
    const all = await listedIds();
    expect(all).toEqual([...all].sort((a, b) => b - a));
    for (const id of Object.values(history)) expect(all).toContain(id);

    await page.getByTestId('runs-filter-learner').selectOption('ippo');
    await expect.poll(() => row(history['catch-up DPPO seed 1']).count()).toBe(0);
    const ippoRuns = await listedIds();
    expect(ippoRuns).toContain(ippo);
    expect(ippoRuns).toContain(history['ring IPPO']);
    const learners = fromDb((store) => ippoRuns.map((id) => store.getRun(id)!.algo));
    expect(new Set(learners)).toEqual(new Set(['ippo']));

    await page.getByTestId('runs-search').fill('catch-up');
    await expect.poll(() => row(history['ring IPPO']).count()).toBe(0);
    expect(await row(ippo).getAttribute('data-run-name')).toBe('catch-up IPPO seed 1');

    // Stopped runs only: the finished IPPO run goes; finished too brings it back.
    await page.getByTestId('runs-filter-status-stopped').click();
    await expect.poll(() => row(ippo).count()).toBe(0);
    await page.getByTestId('runs-filter-status-finished').click();
    await expect.poll(() => row(ippo).count()).toBe(1);
    expect(await page.getByTestId('runs-filter-status-finished').getAttribute('aria-pressed')).toBe('true');

    await page.getByTestId('runs-clear-filters').click();
    await page.getByTestId('runs-search').fill(`#${ippo}`);
    await expect.poll(listedIds).toEqual([ippo]);
    await page.getByTestId('runs-search').fill('');
    await expect.poll(async () => (await listedIds()).length).toBeGreaterThanOrEqual(4);
    expect(await text(page, `run-status-${ippo}`)).toBe('finished');
    await page.screenshot({ path: screenshotPath('runs-list') });
  });

  it('shows the selected run: config, backend, checkpoints and episodes as stored', async () => {
    await selectRun(ippo);
    const { run, checkpoints, episodes } = fromDb((store) => ({ run: store.getRun(ippo)!, checkpoints: store.listCheckpoints(ippo), episodes: store.listEpisodes(ippo) }));
    expect(await page.getByTestId('run-detail-name').inputValue()).toBe(run.name);
    expect(await page.getByTestId('run-detail-scenario').getAttribute('data-value')).toBe(run.scenario);
    expect(await page.getByTestId('run-detail-learner').getAttribute('data-value')).toBe(run.algo);
    expect(await text(page, 'run-detail-backend')).toBe(run.backend);
    expect(await text(page, 'run-detail-seed')).toBe(String(run.seed));
    expect(await text(page, 'run-detail-preset')).toBe(run.preset);
    expect(await text(page, 'run-detail-app-version')).toBe(run.appVersion);
    const stored = run.config as { learner: Record<string, unknown>; budget: { iterations: number } };
    expect(await text(page, 'run-detail-budget')).toBe(`${stored.budget.iterations} iterations`);
    expect(await text(page, 'run-detail-status')).toBe('finished');
    const gamma = page.getByTestId('run-hparam-gamma').locator('td').last();
    expect(((await gamma.textContent()) ?? '').trim()).toBe(String(stored.learner.gamma));
    expect(await page.locator('[data-testid^="checkpoint-row-"]').count()).toBe(checkpoints.length);
    expect(await page.locator('[data-testid^="episode-row-"]').count()).toBe(episodes.length);
    expect(await page.getByTestId('run-curve-eval').isVisible()).toBe(true);
    // A finished run has nothing to resume.
    expect(await page.getByTestId('run-resume').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('runs-details') });
  });

  it('edits tags and notes: an empty tag is refused next to the field; edits survive a reload and are in the database', async () => {
    const tagInput = page.getByTestId('run-tag-input');
    await tagInput.fill('   ');
    await page.getByTestId('run-tag-add').click();
    await expect.poll(() => text(page, 'run-error-tags')).toBe('a tag cannot be empty');

    await tagInput.fill('e2e-reviewed');
    await page.getByTestId('run-tag-add').click();
    await page.getByTestId('run-tag-e2e-reviewed').waitFor();
    expect(await page.getByTestId('run-error-tags').count()).toBe(0);
    await tagInput.fill('temporary');
    await tagInput.press('Enter');
    await page.getByTestId('run-tag-temporary').waitFor();
    await page.getByTestId('run-tag-remove-temporary').click();
    await expect.poll(() => page.getByTestId('run-tag-temporary').count()).toBe(0);

    const notes = 'Baseline for the catch-up sweep.\nChecked from the Runs tab.';
    await page.getByTestId('run-notes').fill(notes);
    await page.getByTestId('run-notes-save').click();
    await expect.poll(() => page.getByTestId('run-notes-save').isDisabled()).toBe(true);
    expect(fromDb((store) => store.getRun(ippo))).toMatchObject({ tags: ['e2e-reviewed'], notes });

    await page.reload();
    await page.getByTestId('transport').filter({ hasText: 'Browser' }).waitFor({ timeout: 20_000 });
    await openRunsTab();
    expect(await row(ippo).textContent()).toContain('e2e-reviewed');
    await selectRun(ippo);
    await page.getByTestId('run-tag-e2e-reviewed').waitFor();
    expect(await page.getByTestId('run-notes').inputValue()).toBe(notes);
  });

  it('evaluates the latest checkpoint with seed 4242: the job ends and the new episode shows', async () => {
    const latest = fromDb((store) => Math.max(...store.listCheckpoints(ippo).map((c) => c.iteration)));
    await page.getByTestId('eval-checkpoint').selectOption('latest');
    await page.getByTestId('eval-seed').fill('4242');
    await page.getByTestId('eval-episodes').fill('1');
    const start = page.getByTestId('eval-start');
    await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
    await start.click();
    await page.getByTestId('run-job').waitFor();
    await expect.poll(() => text(page, 'run-job-status'), { timeout: 90_000 }).toBe('finished');
    const episodeRow = page.locator('[data-testid="run-episodes"] tr[data-seed="4242"]');
    await episodeRow.waitFor({ timeout: 15_000 });
    const stored = fromDb((store) => store.listEpisodes(ippo).filter((e) => e.seed === 4242));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ kind: 'eval', iteration: latest, complete: true });
    expect(await episodeRow.getAttribute('data-testid')).toBe(`episode-row-${stored[0].id}`);
    expect(await text(page, 'run-job-progress')).toBe('1 / 1');
    // The whole details panel, down to the episodes.
    await page.setViewportSize({ width: 1600, height: 2000 });
    await page.screenshot({ path: screenshotPath('runs-details-full') });
    await page.setViewportSize({ width: 1600, height: 950 });
  });

  it('resumes a stopped run with progress; refuses to delete it while the job runs; deletes it after confirming', async () => {
    const name = 'runs-e2e throwaway';
    const runId = await trainStoppedRun(name);
    await page.getByTestId('runs-reload').click();
    await row(runId).waitFor({ timeout: 10_000 });
    expect(await text(page, `run-status-${runId}`)).toBe('stopped');
    await selectRun(runId);

    await page.getByTestId('run-resume').click();
    await expect.poll(() => text(page, 'run-job-status'), { timeout: 30_000 }).toBe('running');
    await expect.poll(() => text(page, `run-status-${runId}`), { timeout: 15_000 }).toBe('running');
    const progress = async () => Number(/^(\d+) \/ 1000$/.exec(await text(page, 'run-job-progress'))?.[1] ?? -1);
    const first = await progress();
    await expect.poll(progress, { timeout: 60_000 }).toBeGreaterThan(Math.max(first, 1));
    // A running run is not offered for resume.
    expect(await page.getByTestId('run-resume').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('runs-resume') });

    await page.getByTestId('run-delete').click();
    expect(await text(page, 'delete-dialog-name')).toBe(name);
    await page.getByTestId('delete-dialog-confirm').click();
    await expect.poll(() => text(page, 'delete-dialog-error')).toMatch(new RegExp(`run ${runId} is in use by job \\S+; stop it before deleting the run`));
    await page.screenshot({ path: screenshotPath('runs-delete-refused') });
    await page.getByTestId('delete-dialog-cancel').click();
    expect(await page.getByTestId('delete-dialog').count()).toBe(0);

    await page.getByTestId('run-job-stop').click();
    await expect.poll(() => text(page, 'run-job-status'), { timeout: 60_000 }).toBe('stopped');
    await expect.poll(() => text(page, 'run-detail-status'), { timeout: 15_000 }).toBe('stopped');
    expect(await text(page, `run-status-${runId}`)).toBe('stopped');
    expect(await page.getByTestId('run-resume').isEnabled()).toBe(true);

    // Cancel keeps it.
    await page.getByTestId('run-delete').click();
    await page.getByTestId('delete-dialog-cancel').click();
    expect(await page.getByTestId('delete-dialog').count()).toBe(0);
    expect(await row(runId).count()).toBe(1);
    expect(fromDb((store) => store.getRun(runId))).not.toBeNull();

    await page.getByTestId('run-delete').click();
    await page.getByTestId('delete-dialog-confirm').click();
    await expect.poll(() => row(runId).count()).toBe(0);
    expect(await page.getByTestId('run-details-empty').isVisible()).toBe(true);
    expect(fromDb((store) => store.getRun(runId))).toBeNull();
  });

  it('hands the ticked runs to the Compare tab', async () => {
    const dppo = [history['catch-up DPPO seed 1'], history['catch-up DPPO seed 2']];
    for (const id of dppo) await page.getByTestId(`run-check-${id}`).check();
    expect(await text(page, 'runs-compare')).toBe('Compare (2)');
    await page.getByTestId('runs-compare').click();
    await expect.poll(() => page.getByTestId('tab-compare').getAttribute('aria-current')).toBe('page');
    const handed = await page.evaluate(() => {
      const app = (document.querySelector('#app') as Element & { __vue_app__: { config: { globalProperties: { $pinia: { state: { value: { view: { compareRunIds: number[] } } } } } } } }).__vue_app__;
      return [...app.config.globalProperties.$pinia.state.value.view.compareRunIds];
    });
    expect([...handed].sort((a, b) => a - b)).toEqual([...dppo].sort((a, b) => a - b));
    expect(pageErrors).toEqual([]);
  });
});
