/**
 * The Replay tab in Chromium against a real `headway serve` and the CLI-prepared history:
 * streaming and scrubbing a 3000-step ring episode (frames checked against the run store),
 * the keyboard, the time-space diagram's jump, the inspector's policy figures, and two
 * CACC episodes of the same seed side by side.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrajectoryFrame } from '../../src/shared/runs.ts';
import { RunStore } from '../../src/main/store/index.ts';
import { launchBrowser, openApp, screenshotPath, text } from './browser.ts';

declare global {
  interface Window {
    /** The Replay view's read-only hooks (src/renderer/testHooks.ts, ReplayHooks; the e2e build has them). */
    __headwayReplay?: {
      episodeId(): number | null;
      compareEpisodeId(): number | null;
      step(): number;
      shownStep(role: 'primary' | 'compare'): number;
      positions(role: 'primary' | 'compare'): number[] | null;
      timings(): { firstFrameMs: number | null; lastScrubMs: number | null; lastScrubCached: boolean | null };
      tracesReady(): boolean;
    };
  }
}

let browser: Browser;
let page: Page;
let store: RunStore;
const pageErrors: string[] = [];
const runs = inject('historyRuns');

const hook = <T>(expression: string): Promise<T> => page.evaluate(`window.__headwayReplay.${expression}`) as Promise<T>;

function storedFrame(episodeId: number, step: number): TrajectoryFrame {
  return store.readSteps(episodeId, step, step + 1)[0];
}

/** Waits until the viewport shows `step`, then checks its vehicles are where the run store has them. */
async function expectShown(role: 'primary' | 'compare', episodeId: number, step: number): Promise<void> {
  await expect.poll(() => hook<number>(`shownStep('${role}')`), { timeout: 10_000 }).toBe(step);
  const positions = await hook<number[]>(`positions('${role}')`);
  expect(positions).toEqual(Array.from(storedFrame(episodeId, step).position));
}

async function openRun(name: string): Promise<number> {
  await page.getByTestId('replay-run').selectOption(String(runs[name]));
  await expect.poll(() => hook<number>("shownStep('primary')"), { timeout: 15_000 }).toBe(0);
  await expect.poll(() => hook<boolean>('tracesReady()'), { timeout: 15_000 }).toBe(true);
  return (await hook<number>('episodeId()'))!;
}

/** What the inspector prints for a raw value. */
const raw = (value: number) => Number(value.toPrecision(7)).toString();

beforeAll(async () => {
  store = RunStore.open(inject('databasePath'), { readOnly: true });
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
  await page.getByTestId('tab-replay').click();
});

afterAll(async () => {
  await browser?.close();
  store?.close();
});

describe('Replay', () => {
  let ringEpisode: number;

  it('opens the ring episode at step 0, streamed, with its first frame from the store', async () => {
    ringEpisode = await openRun('ring IPPO');
    // The reset state and 3000 steps.
    expect(store.getEpisode(ringEpisode).steps).toBe(3001);
    await expectShown('primary', ringEpisode, 0);
    expect(await text(page, 'replay-step')).toBe('step 0 · 0.0 s');
    const timings = await hook<{ firstFrameMs: number }>('timings()');
    expect(timings.firstFrameMs).toBeGreaterThan(0);
  });

  it('scrubs backwards and forwards with the timeline: every frame matches the stored trajectory', async () => {
    const timeline = page.getByTestId('timeline');
    for (const step of [2500, 800, 3000, 1, 1777, 640]) {
      await timeline.fill(String(step));
      await expectShown('primary', ringEpisode, step);
      expect(await text(page, 'replay-step')).toBe(`step ${step} · ${(step * 0.1).toFixed(1)} s`);
    }
  });

  it('steps with → and ←, and plays and pauses with Space', async () => {
    await page.getByTestId('replay-step').click();
    await page.keyboard.press('ArrowRight');
    await expectShown('primary', ringEpisode, 641);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expectShown('primary', ringEpisode, 639);
    await page.getByTestId('replay-speed').selectOption('5');
    await page.getByTestId('replay-step').click();
    await page.keyboard.press(' ');
    await expect.poll(() => hook<number>('step()'), { timeout: 10_000 }).toBeGreaterThan(660);
    await page.keyboard.press(' ');
    const paused = await hook<number>('step()');
    expect(await page.getByTestId('replay-play').getAttribute('aria-label')).toBe('Play');
    await page.waitForTimeout(300);
    expect(await hook<number>('step()')).toBe(paused);
    await expectShown('primary', ringEpisode, paused);
  });

  it('jumps to the time clicked on the time-space diagram, cursor and step', async () => {
    const diagram = page.getByTestId('time-space');
    const box = (await diagram.boundingBox())!;
    const x = 50 + 0.75 * (box.width - 70);
    await diagram.click({ position: { x, y: box.height / 2 } });
    const expected = Math.round(0.75 * 3000);
    await expect.poll(() => hook<number>('step()'), { timeout: 5_000 }).toBeGreaterThanOrEqual(expected - 2);
    const step = await hook<number>('step()');
    expect(step).toBeLessThanOrEqual(expected + 2);
    await expectShown('primary', ringEpisode, step);
    // The cursor: a white line down the plot at the clicked x.
    await page.waitForTimeout(100);
    const whiteRows = (await page.evaluate(`(() => {
      const canvas = document.querySelector('[data-testid="time-space"]');
      const r = devicePixelRatio;
      const d = canvas.getContext('2d').getImageData(Math.round(${x} * r), 0, 1, canvas.height).data;
      let n = 0;
      for (let k = 0; k < d.length; k += 4) if (d[k] > 240 && d[k + 1] > 240 && d[k + 2] > 240) n++;
      return n / r;
    })()`)) as number;
    expect(whiteRows).toBeGreaterThan(box.height * 0.6);
  });

  it('inspects an agent: value and action distribution as stored', async () => {
    await page.getByTestId('replay-step').click();
    await page.keyboard.press('Home');
    await page.getByTestId('step-input').fill('1234');
    await page.getByTestId('step-input').press('Enter');
    await expectShown('primary', ringEpisode, 1234);
    await page.getByTestId('replay-vehicle-picker').selectOption('5');
    const info = store.getEpisode(ringEpisode);
    const agent = info.agentVehicle.indexOf(5);
    const frame = storedFrame(ringEpisode, 1234);
    expect(await text(page, 'replay-value')).toBe(raw(frame.value[agent]));
    const mean = frame.actionParams[agent * info.actionParamDim];
    const std = frame.actionParams[agent * info.actionParamDim + 1];
    expect(await text(page, 'replay-gaussian')).toBe(`${mean.toFixed(3)} ± ${std.toFixed(3)} m/s²`);
    expect(await text(page, 'replay-chosen')).toBe(raw(frame.agentAction[agent]));
    expect(await text(page, 'replay-speed-value')).toBe(`${frame.speed[5].toFixed(3)} m/s`);
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshotPath('replay-ring') });
  });

  it('plays two catch-up DPPO episodes of one seed side by side under one timeline', async () => {
    const first = await openRun('catch-up DPPO seed 1');
    const seed = store.getEpisode(first).seed;
    const otherRun = runs['catch-up DPPO seed 2'];
    const compare = page.getByTestId('replay-compare');
    const candidate = () => store.listEpisodes(otherRun).find((e) => e.seed === seed && e.complete);
    if (!candidate()) {
      await page.getByTestId('replay-evaluate-run').selectOption(String(otherRun));
      await page.getByTestId('replay-evaluate').click();
      await expect.poll(() => candidate() !== undefined, { timeout: 180_000, interval: 500 }).toBe(true);
    }
    const second = candidate()!.id;
    await expect.poll(async () => compare.locator(`option[value="${second}"]`).count(), { timeout: 20_000 }).toBe(1);
    await compare.selectOption(String(second));
    await expect.poll(() => hook<number | null>('compareEpisodeId()'), { timeout: 10_000 }).toBe(second);
    await page.getByTestId('step-input').fill('300');
    await page.getByTestId('step-input').press('Enter');
    await expectShown('primary', first, 300);
    await expectShown('compare', second, 300);
    await page.getByTestId('replay-step').click();
    await page.keyboard.press('ArrowRight');
    await expectShown('primary', first, 301);
    await expectShown('compare', second, 301);
    // Discrete actions: the bars are the stored probabilities.
    const info = store.getEpisode(first);
    await page.getByTestId('replay-vehicle-picker').selectOption(String(info.agentVehicle[2]));
    const frame = storedFrame(first, 301);
    for (let a = 0; a < 4; a++) {
      const p = frame.actionParams[2 * info.actionParamDim + a];
      expect(await text(page, `replay-prob-${a}`)).toBe(`${(p * 100).toFixed(1)}%`);
    }
    expect(await text(page, 'replay-value')).toBe(raw(frame.value[2]));
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshotPath('replay-side-by-side') });
    await page.getByTestId('traces-platoon').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('replay-cacc-platoon') });
    expect(pageErrors).toEqual([]);
  });
});
