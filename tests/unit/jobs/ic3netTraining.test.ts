/**
 * IC3Net through the training job: created in the run store, stopped and resumed to the
 * straight run's numbers (its recurrent state rides in the checkpoint), evaluated with
 * stored episodes, and restored as a run's policy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRun, restorePolicy, resumeTraining, startTraining, type NewTrainingRun } from '../../../src/main/jobs/trainingRun.ts';
import { RunStore } from '../../../src/main/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'headway-ic3net-'));
const store = RunStore.open(join(dir, 'runs.db'));
afterAll(() => store.close());

const REQUEST: NewTrainingRun = {
  scenario: 'cacc-catchup',
  scenarioParams: { horizon: 30 },
  learner: 'ic3net',
  preset: 'default',
  settings: { numEnvs: 2, rolloutSteps: 16, bpttSteps: 8 },
  seed: 5,
  budget: { iterations: 3 },
  threads: 1,
};

describe('ic3net in the training job', () => {
  it('trains, stops, resumes to the straight run’s numbers, evaluates and acts as a run policy', async () => {
    const straight = await startTraining(store, REQUEST);
    expect(straight).toMatchObject({ status: 'finished', iterations: 3 });
    let iterations = 0;
    const stopped = await startTraining(store, REQUEST, { onProgress: () => iterations++, shouldStop: () => iterations >= 1 });
    expect(stopped).toMatchObject({ status: 'stopped', iterations: 1 });
    const resumed = await resumeTraining(store, stopped.runId);
    expect(resumed).toMatchObject({ status: 'finished', iterations: 3, envSteps: straight.envSteps });
    const values = (runId: number, name: string) => store.metricSeries(runId, name).map((point) => [point.envSteps, point.value]);
    for (const name of ['loss/actor', 'loss/critic', 'gate/sendRate', 'gradientNorm']) expect(values(stopped.runId, name), name).toEqual(values(straight.runId, name));
    expect(Number.isFinite(store.getRun(straight.runId)!.lastEvalReturn)).toBe(true);

    const evaluation = await evaluateRun(store, straight.runId, 2, 7);
    expect(evaluation.episodes).toHaveLength(2);
    const stored = store.listEpisodes(straight.runId);
    expect(store.readSteps(stored[0].id, 0, 2)).toHaveLength(2);

    const policy = await restorePolicy(store, straight.runId, 'latest');
    try {
      expect(policy.iteration).toBe(3);
      expect(policy.learner.policy.nonFiniteParameter()).toBeNull();
    } finally {
      await policy.close();
    }
  });
});
