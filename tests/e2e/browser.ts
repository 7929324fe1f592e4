/** Chromium for the browser tests: the app's launcher (src/main/chromium.ts), Debian's package or $HEADWAY_CHROMIUM. */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { chromiumPath, launchChromium } from '../../src/main/chromium.ts';

declare global {
  interface Window {
    /** The 3D view's read-only test hooks (src/renderer/testHooks.ts, ViewHooks; the e2e build has them). */
    __headwayView?: {
      projectVehicle(v: number): { x: number; y: number } | null;
      stats(): { fps: number; meanFrameMs: number; p95FrameMs: number; drawn: number; cpuMs: number; drawMs: number; vehicles: number; drawCalls: number; glRenderer: string; software: boolean };
      /** The vehicles the view marks disturbed now. */
      disturbed(): number[];
    };
  }
}

export const CHROMIUM = chromiumPath();
/** Where screenshots go (HEADWAY_SCREENSHOTS, default the system temp folder). */
export const SCREENSHOTS = process.env.HEADWAY_SCREENSHOTS ?? tmpdir();

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return launchChromium();
}

export function screenshotPath(name: string): string {
  return join(SCREENSHOTS, `headway-${name}.png`);
}

/** Text of a test id, trimmed. */
export async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

/** The step shown in the view's HUD ("step 12 · 1.2 s"). */
export async function hudStep(page: Page): Promise<number> {
  const match = /step (\d+)/.exec(await text(page, 'hud-step'));
  return match ? Number(match[1]) : -1;
}

export async function waitForStep(page: Page, predicate: (step: number) => boolean, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const step = await hudStep(page);
    if (predicate(step)) return step;
    if (Date.now() - started > timeoutMs) throw new Error(`step ${step} never met the condition`);
    await page.waitForTimeout(50);
  }
}

/** Opens the app at `url` in a page (1600x950 unless told), once its api is connected; page errors and console errors go to `pageErrors`. */
export async function openApp(browser: Browser, url: string, pageErrors: string[], viewport = { width: 1600, height: 950 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url);
  await page.getByTestId('transport').filter({ hasText: 'Browser' }).waitFor({ timeout: 20_000 });
  return page;
}

/** A training run as the Train tab's form takes it; the keys of params and settings are the fields' test-id suffixes. */
export interface TrainingForm {
  scenario: string;
  learner: string;
  /** Scenario parameters (their section is opened first). */
  params?: Record<string, string>;
  settings: Record<string, string>;
  iterations: number;
}

/** Opens the Train tab, fills its form and clicks Start once the form is valid. */
export async function startTraining(page: Page, form: TrainingForm): Promise<void> {
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-form').waitFor();
  await page.getByTestId('train-scenario').selectOption(form.scenario);
  await page.getByTestId('train-learner').selectOption(form.learner);
  if (form.params) {
    await page.getByText('Scenario parameters').click();
    for (const [name, value] of Object.entries(form.params)) await page.getByTestId(`train-param-${name}`).fill(value);
  }
  for (const [name, value] of Object.entries(form.settings)) await page.getByTestId(`train-setting-${name}`).fill(value);
  await page.getByTestId('train-iterations').fill(String(form.iterations));
  const start = page.getByTestId('train-start');
  await expect.poll(() => start.isEnabled(), { timeout: 10_000 }).toBe(true);
  await start.click();
}
