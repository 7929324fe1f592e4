/**
 * The Train tab against a real `headway serve` (its run store a temp file, see
 * global-setup.ts): a bad hyperparameter is refused next to its field, a tiny training run
 * on the tensor backend chosen in the form streams its per-iteration metrics into the charts,
 * and Stop ends it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hudStep, launchBrowser, openApp, screenshotPath, text } from './browser.ts';

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

const iteration = async () => Number(/^(\d+)/.exec(await text(page, 'train-iteration'))?.[1] ?? -1);

describe('the Train tab', () => {
  it('opens the training form and refuses a bad hyperparameter next to its field', async () => {
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-form').waitFor();
    expect(await page.getByTestId('train-empty').isVisible()).toBe(true);
    await page.getByTestId('train-scenario').selectOption('cacc-catchup');
    await page.getByTestId('train-learner').selectOption('ippo');
    const lr = page.getByTestId('train-setting-lrActor');
    await lr.fill('5');
    const error = page.getByTestId('error-train.settings.lrActor');
    await expect.poll(() => error.isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await error.textContent()).toContain('lrActor');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    await lr.fill('');
    await expect.poll(() => error.count()).toBe(0);
  });

  it('trains a tiny run: metrics arrive per iteration, with the run id and backend; Stop ends it', async () => {
    await page.getByText('Scenario parameters').click();
    await page.getByTestId('train-param-horizon').fill('50');
    await page.getByTestId('train-setting-numEnvs').fill('1');
    await page.getByTestId('train-setting-rolloutSteps').fill('50');
    await page.getByTestId('train-setting-epochs').fill('1');
    await page.getByTestId('train-iterations').fill('500');
    // The tensor backend chosen in the form is the one the run uses (forced, so its description says so).
    expect(await page.getByTestId('train-backend-choice').inputValue()).toBe('auto');
    await page.getByTestId('train-backend-choice').selectOption('wasm');
    const start = page.getByTestId('train-start');
    await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
    await start.click();
    await expect.poll(() => text(page, 'train-status'), { timeout: 20_000 }).toBe('running');
    await expect.poll(iteration, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    expect(Number(await text(page, 'train-run-id'))).toBeGreaterThan(0);
    expect(await text(page, 'train-backend')).toMatch(/^wasm on CPU \(forced; self-check passed/);
    for (const chart of ['chart-return', 'chart-eval-return', 'chart-actor-loss', 'chart-critic-loss', 'chart-kl', 'chart-steps']) {
      expect(await text(page, `${chart}-value`), chart).toMatch(/\d/);
    }
    await page.screenshot({ path: screenshotPath('train') });

    // The evaluation episode plays in 3D while training goes on.
    await expect.poll(() => hudStep(page), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await text(page, 'hud-title')).toMatch(/evaluation after iteration \d+/);
    // Inspect an agent: the policy's value estimate and action distribution.
    await page.getByTestId('vehicle-picker').selectOption('1');
    await page.getByTestId('inspector-policy').waitFor();
    expect(await text(page, 'inspector-value')).toMatch(/^-?\d/);
    const probabilities = (await page.getByTestId('inspector-distribution').innerText()).match(/[\d.]+%/g) ?? [];
    expect(probabilities.length).toBe(4);
    expect(probabilities.reduce((sum, p) => sum + Number(p.slice(0, -1)), 0)).toBeCloseTo(100, 0);

    // Pause the view holding training: iterations stop, single steps move the view; resume goes on.
    await page.getByTestId('hold-training').check();
    await page.getByTestId('pause').click();
    await page.getByTestId('training-held').waitFor({ timeout: 20_000 });
    const heldIteration = await iteration();
    const pausedStep = await hudStep(page);
    await page.getByTestId('step').click();
    await expect.poll(() => hudStep(page), { timeout: 5_000 }).toBe(pausedStep + 1);
    await page.waitForTimeout(2_000);
    expect(await iteration()).toBe(heldIteration);
    await page.screenshot({ path: screenshotPath('train-held') });
    await page.getByTestId('resume').click();
    await expect.poll(iteration, { timeout: 30_000 }).toBeGreaterThan(heldIteration);
    expect(await page.getByTestId('training-held').count()).toBe(0);

    await page.getByTestId('train-stop').click();
    await expect.poll(() => text(page, 'train-status'), { timeout: 20_000 }).toBe('stopped');
    expect(await iteration()).toBeLessThan(500);
    expect(await start.isEnabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
