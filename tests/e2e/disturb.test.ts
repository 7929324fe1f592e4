/**
 * Disturbances and stored-run policies in Simulate, in Chromium at 1440x900 against a real
 * `headway serve` and the CLI-prepared history: a brake applied with real clicks to a clicked
 * vehicle of the uncontrolled ring (its errors by field first), the vehicle marked in the 3D
 * view, the string-stability readout with a verdict and a row per follower; a CACC leader dip;
 * a stored run chosen as the policy (a checkpoint of it, its restore error next to the field,
 * and the run's parameters taken over).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hudStep, launchBrowser, openApp, screenshotPath, text, waitForStep } from './browser.ts';

const runs = inject('historyRuns');
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function start(expected: 'running' | 'failed' = 'running'): Promise<void> {
  const button = page.getByTestId('start');
  await expect.poll(() => button.isEnabled(), { timeout: 10_000 }).toBe(true);
  await button.click();
  await expect.poll(() => text(page, 'job-status'), { timeout: 30_000 }).toBe(expected);
}

const disturbed = () => page.evaluate(() => window.__headwayView!.disturbed());

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors, { width: 1440, height: 900 });
});

afterAll(async () => {
  await browser?.close();
});

describe('disturbances in Simulate', () => {
  it('brakes a clicked vehicle of the uncontrolled ring: errors by field, the mark in 3D, the readout', async () => {
    // The form opens on the uncontrolled ring: 22 human drivers.
    await start();
    await page.getByTestId('speed').selectOption('10');
    await waitForStep(page, (step) => step > 300, 60_000);
    await page.getByTestId('pause').click();
    await expect.poll(() => text(page, 'job-status')).toBe('paused');

    const target = 3;
    const at = await page.evaluate((v) => window.__headwayView!.projectVehicle(v), target);
    expect(at).not.toBeNull();
    await page.mouse.click(at!.x, at!.y);
    await expect.poll(() => text(page, 'inspector-title'), { timeout: 5_000 }).toContain(`Vehicle ${target}`);
    expect(await page.getByTestId('disturb-kind-dip').count()).toBe(0);
    expect(await page.getByTestId('disturb-value').inputValue()).toBe('-4');
    expect(await page.getByTestId('disturb-duration').inputValue()).toBe('2');

    // The api's schema refuses a blank duration here; the simulator refuses a positive brake.
    await page.getByTestId('disturb-duration').fill('');
    await page.getByTestId('disturb-apply').click();
    await expect.poll(() => text(page, 'disturb-error-duration')).toContain('duration must be a number of seconds from 0.1 to 600');
    await page.getByTestId('disturb-duration').fill('2');
    await page.getByTestId('disturb-value').fill('2');
    await page.getByTestId('disturb-apply').click();
    await expect.poll(() => text(page, 'disturb-error-value')).toContain('accel=2 is not allowed');
    await page.getByTestId('disturb-reset').click();
    expect(await page.getByTestId('disturb-value').inputValue()).toBe('-4');
    expect(await page.getByTestId('readout').count()).toBe(0);

    const applied = await hudStep(page);
    await page.getByTestId('disturb-apply').click();
    await expect.poll(() => text(page, 'readout-what')).toBe(`brake -4 m/s² for 2 s on Vehicle ${target} from step ${applied}`);
    expect(await page.getByTestId('disturb-error').count()).toBe(0);
    // One step on: the brake acts, the view marks the vehicle, the legend and the inspector say so.
    await page.getByTestId('step').click();
    await waitForStep(page, (step) => step === applied + 1, 5_000);
    await expect.poll(disturbed).toEqual([target]);
    expect(await page.getByTestId('legend-disturbed').isVisible()).toBe(true);
    expect(await page.getByTestId('disturbed-badge').isVisible()).toBe(true);
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('disturb-marked') });

    // 30 s on: the brake is over (no mark), the wave has travelled down the string.
    await page.getByTestId('resume').click();
    await waitForStep(page, (step) => step > applied + 300, 60_000);
    await page.getByTestId('pause').click();
    expect(await disturbed()).toEqual([]);
    await expect.poll(() => text(page, 'readout-verdict')).toMatch(/^(amplified|damped)$/);
    expect(await page.getByTestId('readout-head').count()).toBe(1);
    expect(await page.getByTestId('readout-follower').count()).toBe(21);
    expect(await text(page, 'readout-tail-to-head')).toMatch(/^\d+\.\d\d×$/);
    expect(await text(page, 'readout-recovery')).toMatch(/^(\d+\.\d s|not yet)$/);
    // A row selects its vehicle.
    await page.getByTestId('readout-follower').nth(4).click();
    await expect.poll(() => text(page, 'inspector-title')).not.toContain(`Vehicle ${target}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('disturb-readout') });
    await page.getByTestId('stop').click();
    await expect.poll(() => text(page, 'job-status')).toBe('stopped');
  });

  it('runs a stored run as the policy: its checkpoint, its restore error at the field, its parameters', async () => {
    // The ring run was trained with agents; on the uncontrolled ring it has none to drive.
    const ring = runs['ring IPPO'];
    await page.getByTestId('policy').selectOption(`run:${ring}`);
    await expect.poll(() => page.getByTestId('policy-checkpoint').locator('option').count()).toBeGreaterThan(2);
    await start('failed');
    await expect.poll(() => text(page, 'error-policy')).toContain(`policy run:${ring}@best: run ${ring} has 22 agents`);
    await page.getByTestId('policy-run-params').click();
    await expect.poll(() => page.getByTestId('error-policy').count()).toBe(0);
    await start();
    await waitForStep(page, (step) => step > 5);
    expect(await text(page, 'hud-title')).toContain('Ring');
    await page.getByTestId('stop').click();

    const catchup = runs['catch-up DPPO seed 1'];
    await page.getByTestId('scenario').selectOption('cacc-catchup');
    await page.getByTestId('policy').selectOption(`run:${catchup}`);
    await page.getByTestId('policy-checkpoint').selectOption('latest');
    await start();
    const first = await hudStep(page);
    await waitForStep(page, (step) => step > first + 5);
    expect(await text(page, 'job-title')).toContain(`run:${catchup}@latest`);
    await page.screenshot({ path: screenshotPath('disturb-policy-run') });
  });

  it('dips the CACC leader, and only the leader', async () => {
    // From equilibrium under relative-speed control (beta = 0.5): the platoon rides the dip out without a collision.
    await page.getByTestId('policy').selectOption('constant');
    await page.getByTestId('policy-k').fill('2');
    await page.getByTestId('param-leadHeadway').fill('20');
    // 300 s: the episode outlasts the test at 10x.
    await page.getByTestId('param-horizon').fill('3000');
    await start();
    await page.getByTestId('vehicle-picker').selectOption('3');
    await expect.poll(() => text(page, 'inspector-title')).toContain('Agent 2');
    expect(await page.getByTestId('disturb-kind-dip').count()).toBe(0);
    await page.getByTestId('vehicle-picker').selectOption('0');
    await expect.poll(() => text(page, 'inspector-title')).toContain('Leader');
    await page.getByTestId('disturb-kind-dip').click();
    expect(await page.getByTestId('disturb-value').inputValue()).toBe('3');
    expect(await page.getByTestId('disturb-duration').inputValue()).toBe('10');
    await page.getByTestId('disturb-apply').click();
    await expect.poll(() => text(page, 'readout-what'), { timeout: 10_000 }).toMatch(/^dip 3 m\/s for 10 s on Leader from step \d+$/);
    await page.getByTestId('speed').selectOption('10');
    await expect.poll(() => page.getByTestId('readout-follower').count(), { timeout: 20_000 }).toBe(8);
    await expect.poll(() => text(page, 'readout-verdict')).toMatch(/^(amplified|damped|no response)$/);
    await page.getByTestId('pause').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('disturb-cacc') });
    await page.getByTestId('stop').click();
    expect(pageErrors).toEqual([]);
  });
});
