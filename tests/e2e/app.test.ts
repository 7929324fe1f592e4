/**
 * The app in a browser against a real `headway serve`: the form, the live 3D view,
 * pause / step / stop, picking a vehicle and reading the inspector, each scene, and the
 * frame rate of the 1,000-vehicle stress scene.
 */
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hudStep, launchBrowser, openApp, screenshotPath, SCREENSHOTS, text, waitForStep } from './browser.ts';

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function canvasShot(): Promise<Buffer> {
  return page.getByTestId('scene-canvas').screenshot();
}

async function startSimulation(scenario: string, setup: () => Promise<void> = async () => {}): Promise<void> {
  await page.getByTestId('scenario').selectOption(scenario);
  await setup();
  const start = page.getByTestId('start');
  await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
  await start.click();
  await expect.poll(() => text(page, 'job-status'), { timeout: 20_000 }).toBe('running');
  await waitForStep(page, (step) => step > 0);
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

describe('headway serve in Chromium', () => {
  it('loads under the strict CSP, with the token traded for a cookie', async () => {
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it('shows a bad parameter next to its field and refuses to start', async () => {
    const length = page.getByTestId('param-length');
    await length.fill('10');
    const error = page.getByTestId('error-params.length');
    await expect.poll(() => error.isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await error.textContent()).toContain('expected a number from 50 to 5000');
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.getByTestId('seed').fill('-3');
    await expect.poll(() => page.getByTestId('error-seed').isVisible()).toBe(true);
    await length.fill('230');
    await page.getByTestId('seed').fill('1');
    await expect.poll(() => error.count()).toBe(0);
    await expect.poll(() => page.getByTestId('start').isEnabled()).toBe(true);
  });

  it('plays the ring live in 3D: the canvas changes between frames', async () => {
    await startSimulation('ring', async () => {
      await page.getByTestId('preset-dmpo').click();
      await page.getByTestId('param-length').fill('230');
      await page.getByTestId('policy').selectOption('random');
    });
    const stats = await page.evaluate(() => window.__headwayView!.stats());
    expect(stats.vehicles).toBe(22);
    expect(stats.drawCalls).toBeGreaterThan(3);
    const first = await canvasShot();
    await waitForStep(page, (step) => step > 8);
    const second = await canvasShot();
    expect(first.equals(second)).toBe(false);
  });

  it('pauses (the picture freezes), single-steps and resumes', async () => {
    await page.getByTestId('pause').click();
    await expect.poll(() => text(page, 'job-status')).toBe('paused');
    const paused = await hudStep(page);
    await page.waitForTimeout(600);
    expect(await hudStep(page)).toBe(paused);
    const frozen = await canvasShot();
    expect((await canvasShot()).equals(frozen)).toBe(true);
    await page.getByTestId('step').click();
    await waitForStep(page, (step) => step === paused + 1, 5_000);
    await page.getByTestId('step').click();
    await waitForStep(page, (step) => step === paused + 2, 5_000);
    expect(await text(page, 'job-status')).toBe('paused');
  });

  it('picks a vehicle by clicking it and shows its agent in the inspector', async () => {
    const target = 5;
    const at = await page.evaluate((v) => window.__headwayView!.projectVehicle(v), target);
    expect(at).not.toBeNull();
    await page.mouse.click(at!.x, at!.y);
    await expect.poll(() => text(page, 'inspector-title'), { timeout: 5_000 }).toContain(`Agent ${target}`);
    // Observation named fields, the policy's inputs, consistent with the state shown.
    const obsNames = await page.getByTestId('inspector-obs').locator('td:first-child').allTextContents();
    expect(obsNames).toEqual(['speed/30', 'position/length']);
    const speed = Number((await text(page, 'inspector-speed')).replace(' m/s', ''));
    const speedObs = Number(await text(page, 'obs-0'));
    expect(speedObs * 30).toBeCloseTo(speed, 2);
    // ... and each field in physical units: speed/30 back in m/s.
    expect(await text(page, 'obs-physical-0')).toBe(`${(speedObs * 30).toFixed(3)} m/s`);
    expect(await text(page, 'inspector-action')).toMatch(/m\/s²/);
    expect(await page.getByTestId('inspector-reward').locator('td:first-child').allTextContents()).toEqual(['total', 'speed', 'accel']);
    // Neighbourhoods: N^1 = {5, 4, 6}; kappa adjustable in the view.
    const critic = () => page.getByTestId('critic-agents').locator('.agent-chip').allTextContents();
    expect(await critic()).toEqual(['5', '4', '6', '3', '7']);
    await page.getByTestId('kappa').fill('3');
    await expect.poll(critic).toEqual(['5', '4', '6', '3', '7', '2', '8']);
    expect(await text(page, 'kappa-value')).toBe('3');
    // A step updates the inspector.
    const action = await text(page, 'inspector-action');
    const step = await hudStep(page);
    await page.getByTestId('step').click();
    await waitForStep(page, (s) => s === step + 1, 5_000);
    // The random policy draws a new acceleration every step.
    await expect.poll(() => text(page, 'inspector-action')).not.toBe(action);
    await page.getByTestId('resume').click();
    await expect.poll(() => text(page, 'job-status')).toBe('running');
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshotPath('ring') });
  });

  it('picks from the list too', async () => {
    await page.getByTestId('vehicle-picker').selectOption('12');
    await expect.poll(() => text(page, 'inspector-title')).toContain('Agent 12');
  });

  it('stops the simulation', async () => {
    await page.getByTestId('stop').click();
    await expect.poll(() => text(page, 'job-status'), { timeout: 10_000 }).toBe('stopped');
    const step = await hudStep(page);
    await page.waitForTimeout(400);
    expect(await hudStep(page)).toBe(step);
  });

  it('draws the figure eight with its crossing', async () => {
    await startSimulation('figure-eight');
    await page.getByTestId('speed').selectOption('5');
    await waitForStep(page, (step) => step > 150, 60_000);
    await page.getByTestId('vehicle-picker').selectOption('3');
    await page.screenshot({ path: screenshotPath('figure-eight') });
    await page.getByTestId('camera-top').click();
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshotPath('figure-eight-top') });
    await page.getByTestId('camera-orbit').click();
  });

  it('draws the CACC platoon behind its leader', async () => {
    await startSimulation('cacc-catchup', async () => {
      await page.getByTestId('policy').selectOption('constant');
      await page.getByTestId('policy-k').fill('3');
    });
    await waitForStep(page, (step) => step > 20);
    await page.getByTestId('vehicle-picker').selectOption('3');
    await expect.poll(() => text(page, 'inspector-title')).toContain('Agent 2');
    expect(await text(page, 'inspector-action')).toBe('3 of Discrete(4)');
    await page.screenshot({ path: screenshotPath('cacc') });
    await page.getByTestId('camera-follow').click();
    await page.waitForTimeout(800);
    await page.screenshot({ path: screenshotPath('cacc-follow') });
    await page.getByTestId('camera-orbit').click();
    await page.getByTestId('stop').click();
  });

  it('renders the 1,000-vehicle stress scene and measures its frame rate', async () => {
    await page.getByTestId('stress-toggle').click();
    await expect.poll(() => page.evaluate(() => window.__headwayView!.stats().vehicles)).toBe(1000);
    const first = await canvasShot();
    await page.waitForTimeout(1500);
    expect((await canvasShot()).equals(first)).toBe(false);
    // requestAnimationFrame cadence over 4 s, with the scene animating.
    const intervals = await page.evaluate(
      () =>
        new Promise<number[]>((resolve) => {
          const times: number[] = [];
          const started = performance.now();
          const frame = (now: number) => {
            times.push(now);
            if (now - started < 4000) requestAnimationFrame(frame);
            else resolve(times.slice(1).map((t, k) => t - times[k]));
          };
          requestAnimationFrame(frame);
        }),
    );
    const stats = await page.evaluate(() => window.__headwayView!.stats());
    const sorted = [...intervals].sort((a, b) => a - b);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    const report = {
      vehicles: stats.vehicles,
      viewport: '1600x950',
      glRenderer: stats.glRenderer,
      software: stats.software,
      rafFps: Number((1000 / mean).toFixed(1)),
      meanFrameMs: Number(mean.toFixed(2)),
      p50FrameMs: Number(sorted[Math.floor(sorted.length / 2)].toFixed(2)),
      p95FrameMs: Number(sorted[Math.floor(sorted.length * 0.95)].toFixed(2)),
      drawnFps: stats.fps,
      sceneUpdateMsPerFrame: Number(stats.cpuMs.toFixed(2)),
      drawCallMsPerFrame: Number(stats.drawMs.toFixed(2)),
      drawCalls: stats.drawCalls,
    };
    writeFileSync(`${SCREENSHOTS}/headway-fps.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`stress scene: ${JSON.stringify(report)}`);
    expect(report.rafFps).toBeGreaterThan(1);
    // The view's own work per frame (placing 1,000 vehicles, overlays) must leave room for 60 fps.
    expect(report.sceneUpdateMsPerFrame).toBeLessThan(8);
    await page.screenshot({ path: screenshotPath('stress') });
    await page.getByTestId('stress-toggle').click();
  });

  it('reported no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
