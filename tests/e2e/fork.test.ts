/**
 * Forking a stored episode in Chromium against a real `headway serve` and the CLI-prepared
 * history: the ring IPPO evaluation episode opened in Replay, the cursor taken to step 800
 * with real clicks, Continue live from here (its field errors, the local one and the
 * backend's), the fork played live in the Simulate view under the human-driver model and
 * stored; then the run store read back: the fork's frames 0..800 are the parent's exactly,
 * and after 800 the vehicles move where the parent's stand still; and the fork replayed
 * beside its parent under one timeline, and listed by its parent. Screenshots at 1440x900.
 *
 * The one-iteration IPPO policy has the ring at a standstill by step 800 (every vehicle
 * capped at its safe speed 0 or braking): idle's zero acceleration would keep it there, the
 * IDM drivers of the human policy pull away where a gap allows.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EpisodeInfo, TrajectoryFrame } from '../../src/shared/runs.ts';
import { RunStore } from '../../src/main/store/index.ts';
import { hudStep, launchBrowser, screenshotPath, text, waitForStep } from './browser.ts';

const FORK_STEP = 800;
const FIELDS = ['position', 'speed', 'accel', 'gap'] as const;

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const runs = inject('historyRuns');
const ringRun = runs['ring IPPO'];

const hook = <T>(expression: string): Promise<T> => page.evaluate(`window.__headwayReplay.${expression}`) as Promise<T>;

/** Reads the run store as it is now (a fresh read-only connection: the server writes it). */
function withStore<T>(read: (store: RunStore) => T): T {
  const store = RunStore.open(inject('databasePath'), { readOnly: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/** Frames [from, to) of `field`, all vehicles, one array. */
function series(frames: readonly TrajectoryFrame[], field: (typeof FIELDS)[number] | 'agentAction', from: number, to: number): number[] {
  return frames.slice(from, to).flatMap((frame) => Array.from(frame[field]));
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(inject('serverUrl'));
  await page.getByTestId('transport').filter({ hasText: 'Browser' }).waitFor({ timeout: 20_000 });
  await page.getByTestId('tab-replay').click();
});

afterAll(async () => {
  await browser?.close();
});

describe('Fork from a replay step', () => {
  let parent: EpisodeInfo;
  let fork: EpisodeInfo;

  it('takes the ring episode to step 800 and opens Continue live from here there', async () => {
    parent = withStore((store) => store.listEpisodes(ringRun).find((e) => e.fork === null)!);
    await page.getByTestId('replay-run').selectOption(String(ringRun));
    await expect.poll(() => hook<number>("shownStep('primary')"), { timeout: 15_000 }).toBe(0);
    expect(await hook<number>('episodeId()')).toBe(parent.id);
    await page.getByTestId('step-input').click();
    await page.getByTestId('step-input').fill(String(FORK_STEP - 3));
    await page.getByTestId('step-input').press('Enter');
    for (let k = 0; k < 3; k++) await page.getByTestId('replay-forward').click();
    await expect.poll(() => text(page, 'replay-step')).toBe(`step ${FORK_STEP} · 80.0 s`);
    await page.getByTestId('fork-open').click();
    expect(await text(page, 'fork-title')).toBe(`Continue live from step ${FORK_STEP} · 80.0 s`);
    // The trained policy by default, stored by default.
    expect(await page.getByTestId('fork-policy').inputValue()).toBe('same');
    expect(await page.getByTestId('fork-policy').locator('option:checked').textContent()).toMatch(/^Same policy · run #\d+ @ (checkpoint \d+|latest)$/);
    expect(await page.getByTestId('fork-record').isChecked()).toBe(true);
  });

  it("shows a disturbance's field errors: before the fork (checked here), one the ring refuses (the backend's)", async () => {
    await page.getByTestId('fork-add-disturbance').click();
    const row = page.getByTestId('fork-disturbance-0');
    await row.getByTestId('fork-d-at').fill('10');
    await expect.poll(() => text(page, 'fork-d-error')).toBe('at must be at or after the fork, 80.0 s');
    expect(await page.getByTestId('fork-start').isDisabled()).toBe(true);
    await row.getByTestId('fork-d-at').fill('82');
    await row.getByTestId('fork-d-kind').selectOption('dip');
    // Only the CACC leader has a speed profile to dip: the simulator's own check, through validateJob.
    await expect.poll(() => page.getByTestId('fork-error-disturbances').count(), { timeout: 10_000 }).toBe(1);
    expect(await text(page, 'fork-error-disturbances')).toMatch(/^disturbances: /);
    expect(await page.getByTestId('fork-start').isDisabled()).toBe(true);
    await page.screenshot({ path: screenshotPath('fork-dialog-errors') });
    await row.getByTestId('fork-d-remove').click();
    await expect.poll(() => page.getByTestId('fork-error-disturbances').count()).toBe(0);
  });

  it('continues live from step 800 under the human-driver model in the Simulate view, says what it forks, and stores it', async () => {
    await page.getByTestId('fork-policy').selectOption('human');
    await expect.poll(() => page.getByTestId('fork-start').isEnabled()).toBe(true);
    await page.screenshot({ path: screenshotPath('fork-dialog') });
    await page.getByTestId('fork-start').click();
    await page.getByTestId('viewport').waitFor({ timeout: 10_000 });
    await waitForStep(page, (step) => step >= FORK_STEP, 30_000);
    expect(await hudStep(page)).toBeLessThan(FORK_STEP + 200);
    expect(await text(page, 'hud-title')).toBe(`Ring attenuation · fork of episode #${parent.id} at step ${FORK_STEP}`);
    expect(await text(page, 'fork-banner-text')).toMatch(new RegExp(`^Fork of episode #${parent.id} at step ${FORK_STEP} · human \\(human-driver model\\) · storing as episode #\\d+$`));
    await page.waitForTimeout(1000);
    await page.screenshot({ path: screenshotPath('fork-live') });
    await page.getByTestId('speed').selectOption('max');
    await page.getByTestId('fork-replay-beside').waitFor({ timeout: 90_000 });
    expect(await text(page, 'job-status')).toBe('finished');
    expect(await text(page, 'fork-banner-text')).toMatch(/· stored as episode #\d+$/);
    await page.screenshot({ path: screenshotPath('fork-live-ended') });
  });

  it("stores the fork as an episode of the run whose frames 0..800 are the parent's exactly, then departs from it", () => {
    fork = withStore((store) => store.listEpisodes(ringRun).find((e) => e.fork?.parentEpisodeId === parent.id)!);
    expect(fork).toMatchObject({ complete: true, kind: parent.kind, iteration: parent.iteration, seed: parent.seed, steps: parent.steps, fork: { parentEpisodeId: parent.id, step: FORK_STEP, policy: 'human' } });
    const [mine, theirs] = withStore((store) => [store.readSteps(fork.id, 0, fork.steps), store.readSteps(parent.id, 0, parent.steps)]);
    for (const field of FIELDS) expect(series(mine, field, 0, FORK_STEP + 1), field).toEqual(series(theirs, field, 0, FORK_STEP + 1));
    // Frame t's action is the one its policy chose in state t: the parent's up to 799, the IDM's from the fork's own state 800 on.
    expect(series(mine, 'agentAction', 0, FORK_STEP)).toEqual(series(theirs, 'agentAction', 0, FORK_STEP));
    // The first state the fork's own action led to differs: the drivers with room ahead pull away.
    expect(series(mine, 'speed', FORK_STEP + 1, FORK_STEP + 2)).not.toEqual(series(theirs, 'speed', FORK_STEP + 1, FORK_STEP + 2));
    expect(Math.max(...series(mine, 'speed', FORK_STEP + 1, fork.steps))).toBeGreaterThan(Math.max(...series(theirs, 'speed', FORK_STEP + 1, parent.steps)));
  });

  it('replays the fork beside its parent under one timeline, at the fork step', async () => {
    await page.getByTestId('fork-replay-beside').click();
    await expect.poll(() => hook<number | null>('compareEpisodeId()'), { timeout: 15_000 }).toBe(parent.id);
    expect(await hook<number>('episodeId()')).toBe(fork.id);
    await expect.poll(() => hook<number>("shownStep('compare')"), { timeout: 10_000 }).toBe(FORK_STEP);
    expect(await hook<number>("shownStep('primary')")).toBe(FORK_STEP);
    expect(await page.getByTestId('replay-episode').locator('option:checked').textContent()).toMatch(new RegExp(`^#${fork.id} · fork of #${parent.id} at step ${FORK_STEP} · human \\(human-driver model\\) · `));
    expect(await page.getByTestId('fork-beside-parent').isDisabled()).toBe(true);
    // The fork's state is its parent's, in both views.
    expect(await hook<number[]>("positions('primary')")).toEqual(await hook<number[]>("positions('compare')"));
    // One timeline: a jump moves both, to states that differ by now.
    await page.getByTestId('step-input').fill('2000');
    await page.getByTestId('step-input').press('Enter');
    await expect.poll(() => hook<number>("shownStep('compare')"), { timeout: 10_000 }).toBe(2000);
    await expect.poll(() => hook<number>("shownStep('primary')"), { timeout: 10_000 }).toBe(2000);
    expect(await hook<number[]>("positions('primary')")).not.toEqual(await hook<number[]>("positions('compare')"));
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshotPath('fork-side-by-side') });
  });

  it('lists the fork on its parent, one click away from the side-by-side view', async () => {
    await page.getByTestId('replay-episode').selectOption(String(parent.id));
    await page.getByTestId(`fork-child-${fork.id}`).waitFor({ timeout: 15_000 });
    expect(await hook<number | null>('compareEpisodeId()')).toBeNull();
    // The fork has its parent's seed: a compare candidate too.
    await expect.poll(() => page.getByTestId('replay-compare').locator(`option[value="${fork.id}"]`).count(), { timeout: 15_000 }).toBe(1);
    await page.screenshot({ path: screenshotPath('fork-parent') });
    await page.getByTestId(`fork-child-${fork.id}`).click();
    await expect.poll(() => hook<number | null>('compareEpisodeId()'), { timeout: 15_000 }).toBe(parent.id);
    expect(await hook<number>('episodeId()')).toBe(fork.id);
    expect(await hook<number>('step()')).toBe(FORK_STEP);
    // From the fork, one click puts the parent beside it again.
    await page.getByTestId('replay-compare').selectOption('');
    await page.getByTestId('fork-beside-parent').click();
    await expect.poll(() => hook<number | null>('compareEpisodeId()'), { timeout: 10_000 }).toBe(parent.id);
    expect(pageErrors).toEqual([]);
  });
});
