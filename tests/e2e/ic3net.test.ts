/**
 * IC3Net's communication in the inspectors, in Chromium against a real `headway serve`:
 * a short IC3Net run trained from the Train tab plays its evaluation episode, and clicking a
 * vehicle shows its agent's gate and the message it received; the Replay tab shows the same
 * figures for the stored episode, as the run store has them.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunStore } from '../../src/main/store/index.ts';
import { COMMUNICATION_FIELDS, communicationView } from '../../src/shared/communication.ts';
import { launchBrowser, openApp, screenshotPath, startTraining, text } from './browser.ts';

let browser: Browser;
let page: Page;
let store: RunStore;
const pageErrors: string[] = [];
/** The agent inspected, and the vehicle it drives on CACC (vehicle 0 is the leader). */
const AGENT = 3;
const VEHICLE = AGENT + 1;

beforeAll(async () => {
  store = RunStore.open(inject('databasePath'), { readOnly: true });
  browser = await launchBrowser();
  page = await openApp(browser, inject('serverUrl'), pageErrors);
});

afterAll(async () => {
  await browser?.close();
  store?.close();
});

/** The agents shown in the communication section's chips, senders first. */
async function chips(prefix: string): Promise<{ senders: number[]; silent: number[] }> {
  const list = page.getByTestId(`${prefix}-senders`);
  const numbers = async (kind: string) => (await list.locator(`.agent-chip.${kind}`).allTextContents()).map(Number);
  return { senders: await numbers('sender'), silent: await numbers('silent') };
}

describe('IC3Net communication in the inspector', () => {
  let runId = 0;

  it('training: clicking a vehicle shows its agent’s gate and the message it received', async () => {
    await startTraining(page, {
      scenario: 'cacc-catchup',
      learner: 'ic3net',
      params: { horizon: '60' },
      settings: { numEnvs: '1', rolloutSteps: '20' },
      iterations: 500,
    });
    await expect.poll(() => text(page, 'train-status'), { timeout: 30_000 }).toBe('running');
    await expect.poll(() => text(page, 'hud-title'), { timeout: 60_000 }).toMatch(/evaluation after iteration \d+/);
    runId = Number(await text(page, 'train-run-id'));
    // Pause the view (training goes on) so the vehicle stays where it was projected.
    await page.getByTestId('pause').click();
    const at = await page.evaluate((v) => window.__headwayView!.projectVehicle(v), VEHICLE);
    expect(at).not.toBeNull();
    await page.mouse.click(at!.x, at!.y);
    await expect.poll(() => text(page, 'inspector-title'), { timeout: 5_000 }).toContain(`Agent ${AGENT}`);
    await page.getByTestId('inspector-communication').waitFor();
    expect(await text(page, 'inspector-communication-gate')).toMatch(/^(open|closed)$/);
    expect(await text(page, 'inspector-communication-probability')).toMatch(/^0\.\d{3}$/);
    expect(await text(page, 'inspector-communication-sent')).toMatch(/^(yes|no)$/);
    expect(Number(await text(page, 'inspector-communication-norm'))).toBeGreaterThanOrEqual(0);
    // Agent 3 of the platoon talks to agents 2 and 4: each either sent or stayed silent.
    const { senders, silent } = await chips('inspector-communication');
    expect([...senders, ...silent].sort()).toEqual([AGENT - 1, AGENT + 1]);
    await page.getByTestId('inspector-communication').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('ic3net-train-inspector') });
    await page.getByTestId('train-stop').click();
    await expect.poll(() => text(page, 'train-status'), { timeout: 30_000 }).toBe('stopped');
  });

  it('replay: the stored episode shows the gate and message of each step as stored', async () => {
    const episode = store.listEpisodes(runId, { kind: 'eval' }).find((e) => e.complete)!;
    expect(episode.communicationDim).toBe(COMMUNICATION_FIELDS.length);
    await page.getByTestId('tab-replay').click();
    const runPicker = page.getByTestId('replay-run');
    await runPicker.focus();
    await expect.poll(() => runPicker.locator(`option[value="${runId}"]`).count(), { timeout: 10_000 }).toBe(1);
    await runPicker.selectOption(String(runId));
    await page.getByTestId('replay-episode').selectOption(String(episode.id));
    await page.getByTestId('replay-vehicle-picker').selectOption(String(VEHICLE));
    for (const step of [0, 1, 25]) {
      await page.getByTestId('step-input').fill(String(step));
      await page.getByTestId('step-input').press('Enter');
      await expect.poll(() => text(page, 'replay-step'), { timeout: 10_000 }).toMatch(new RegExp(`^step ${step} `));
      const frame = store.readSteps(episode.id, step, step + 1)[0];
      const stored = communicationView(frame.communication, episode.communicationDim, AGENT, episode.nAgents, episode.edges)!;
      await expect.poll(() => text(page, 'replay-communication-probability'), { timeout: 5_000 }).toBe(stored.sendProbability.toFixed(3));
      expect(await text(page, 'replay-communication-gate')).toBe(stored.gateOpen ? 'open' : 'closed');
      expect(await text(page, 'replay-communication-sent')).toBe(stored.sent ? 'yes' : 'no');
      expect(await text(page, 'replay-communication-norm')).toBe(stored.messageNorm.toFixed(4));
      expect(await chips('replay-communication')).toEqual({ senders: stored.senders, silent: stored.silent });
      // The reset state: the memory is empty, nothing was sent.
      if (step === 0) expect(stored).toMatchObject({ sent: false, senders: [], messageNorm: 0 });
    }
    await page.getByTestId('replay-communication').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('ic3net-replay-inspector') });
    expect(pageErrors).toEqual([]);
  });
});
