/**
 * IC3Net's stored evaluation episodes keep, per step and agent, what the inspector shows:
 * the gate, the gate head's probability of sending, whether the agent's hidden state went
 * out at this step, and the norm of the message it received (src/shared/communication.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { displayEpisodeSpec } from '../../../src/main/jobs/frames.ts';
import { startTraining } from '../../../src/main/jobs/trainingRun.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { COMMUNICATION_FIELDS, COMMUNICATION_WIDTH, communicationView } from '../../../src/shared/communication.ts';
import { buildAdjacency } from '../../../src/shared/neighbourhoods.ts';

const dir = mkdtempSync(join(tmpdir(), 'headway-ic3net-episodes-'));
const store = RunStore.open(join(dir, 'runs.db'));
afterAll(() => store.close());

const field = (name: (typeof COMMUNICATION_FIELDS)[number]) => COMMUNICATION_FIELDS.indexOf(name);

async function storedEpisode(variant: 'paper' | 'reference-code') {
  const { runId } = await startTraining(store, {
    scenario: 'cacc-catchup',
    scenarioParams: { horizon: 30 },
    learner: 'ic3net',
    preset: 'default',
    settings: { ic3netVariant: variant, numEnvs: 2, rolloutSteps: 8, bpttSteps: 8 },
    seed: 4,
    budget: { iterations: 2 },
    threads: 1,
  });
  const info = store.listEpisodes(runId).at(-1)!;
  return { info, frames: store.readSteps(info.id, 0, info.steps) };
}

describe('IC3Net evaluation episodes store gate and message per step and agent', () => {
  it('paper: the gate each agent chose is what it sends at the next step, and a message is non-zero exactly when a neighbour sent', async () => {
    const { info, frames } = await storedEpisode('paper');
    expect(info.communicationDim).toBe(COMMUNICATION_WIDTH);
    expect(displayEpisodeSpec(info, 'job').communicationDim).toBe(COMMUNICATION_WIDTH);
    expect(frames.length).toBe(31);
    const n = info.nAgents;
    const neighbours = buildAdjacency(n, info.edges);
    let opened = 0;
    let received = 0;
    frames.forEach((frame, t) => {
      const record = frame.communication;
      expect(record).toHaveLength(n * COMMUNICATION_WIDTH);
      for (let i = 0; i < n; i++) {
        const at = (name: (typeof COMMUNICATION_FIELDS)[number], agent = i) => record[agent * COMMUNICATION_WIDTH + field(name)];
        const probability = at('sendProbability');
        expect(probability).toBeGreaterThan(0);
        expect(probability).toBeLessThan(1);
        // The deployed gate is the most probable choice.
        expect(at('gate')).toBe(probability > 0.5 ? 1 : 0);
        // The reset state's memory is empty: nothing was sent and nothing received.
        const previous = t === 0 ? 0 : frames[t - 1].communication[i * COMMUNICATION_WIDTH + field('gate')];
        expect(at('sent')).toBe(previous);
        const anySender = neighbours[i].some((j) => at('sent', j) === 1);
        if (anySender) expect(at('messageNorm')).toBeGreaterThan(0);
        else expect(at('messageNorm')).toBe(0);
        opened += at('gate');
        received += anySender ? 1 : 0;
      }
      if (t === 0) expect(communicationView(record, info.communicationDim, 0, n, info.edges)?.senders).toEqual([]);
    });
    // Not a degenerate record: some gates open and some closed, some messages received.
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThan(frames.length * n);
    expect(received).toBeGreaterThan(0);
  });

  it('reference-code: every gate open, every agent with neighbours receives the mean of their encodings', async () => {
    const { info, frames } = await storedEpisode('reference-code');
    expect(info.communicationDim).toBe(COMMUNICATION_WIDTH);
    const n = info.nAgents;
    for (const frame of frames) {
      for (let i = 0; i < n; i++) {
        const view = communicationView(frame.communication, info.communicationDim, i, n, info.edges)!;
        expect(view).toMatchObject({ gateOpen: true, sent: true, sendProbability: 1, silent: [] });
        expect(view.senders).toEqual(buildAdjacency(n, info.edges)[i].sort((a, b) => a - b));
        expect(view.messageNorm).toBeGreaterThan(0);
      }
    }
  });
});
