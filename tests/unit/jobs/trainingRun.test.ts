/**
 * Learners of their own shape (LTDE on a road network, DADC on common information, IC3Net
 * with its recurrent state, DSAC with its replay, DMPO-SAC with its models) through the
 * training job like every other: created in the run store, stopped and resumed to the same
 * numbers as a straight run, evaluated with their stored episodes, and restored as a run's
 * policy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRun, restorePolicy, resumeTraining, startTraining, type NewTrainingRun } from '../../../src/main/jobs/trainingRun.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { LEARNERS } from '../../../src/shared/learners.ts';

const dir = mkdtempSync(join(tmpdir(), 'headway-training-'));
const store = RunStore.open(join(dir, 'runs.db'));
afterAll(() => store.close());

/** Every recorded metric of a run but the timings, by iteration. */
function recorded(runId: number): Record<string, number>[] {
  const names = store.seriesNames(runId).filter((name) => !name.startsWith('time/'));
  const rows: Record<string, number>[] = [];
  for (const name of names) {
    for (const point of store.metricSeries(runId, name)) (rows[point.iteration - 1] ??= {})[name] = point.value;
  }
  return rows;
}

const REQUESTS: readonly NewTrainingRun[] = [
  { scenario: 'network-routing', scenarioParams: { network: 'braess' }, learner: 'ltde', preset: 'default', settings: { criticSteps: 500, episodesPerIteration: 2 }, seed: 3, budget: { iterations: 3 }, threads: 1 },
  { scenario: 'mabc', scenarioParams: {}, learner: 'dadc', preset: 'default', settings: { rolloutSteps: 40 }, seed: 3, budget: { iterations: 3 }, threads: 1 },
  { scenario: 'cacc-catchup', scenarioParams: { horizon: 30 }, learner: 'dadc', preset: 'default', settings: { numEnvs: 2, rolloutSteps: 16 }, seed: 3, budget: { iterations: 3 }, threads: 1 },
  { scenario: 'cacc-catchup', scenarioParams: { horizon: 30 }, learner: 'ic3net', preset: 'default', settings: { numEnvs: 2, rolloutSteps: 16, bpttSteps: 8 }, seed: 5, budget: { iterations: 3 }, threads: 1 },
  {
    scenario: 'cacc-catchup',
    scenarioParams: { horizon: 30 },
    learner: 'dsac',
    preset: 'default',
    settings: { numEnvs: 1, rolloutSteps: 16, learningStarts: 8, batchSize: 8, replaySize: 100 },
    seed: 5,
    budget: { iterations: 3 },
    threads: 1,
  },
  {
    scenario: 'cacc-catchup',
    scenarioParams: { horizon: 30 },
    learner: 'dmpo-sac',
    preset: 'default',
    settings: { numEnvs: 1, rolloutSteps: 16, learningStarts: 16, batchSize: 8, replaySize: 100, ensembleSize: 2, modelUpdatesPerStep: 0.25, nTraj: 16, modelReplaySize: 64 },
    seed: 5,
    budget: { iterations: 3 },
    threads: 1,
  },
];

describe('learners of their own shape in the training job', () => {
  for (const request of REQUESTS) {
    it(`${request.learner} on ${request.scenario}: trains, stops, resumes to the straight run's numbers, evaluates and acts as a run policy`, async () => {
      const straight = await startTraining(store, request);
      expect(straight).toMatchObject({ status: 'finished', iterations: 3 });
      let iterations = 0;
      const stopped = await startTraining(store, request, { onProgress: () => iterations++, shouldStop: () => iterations >= 1 });
      expect(stopped).toMatchObject({ status: 'stopped', iterations: 1 });
      const resumed = await resumeTraining(store, stopped.runId);
      expect(resumed).toMatchObject({ status: 'finished', iterations: 3, envSteps: straight.envSteps });
      expect(recorded(stopped.runId)).toEqual(recorded(straight.runId));
      expect(Number.isFinite(store.getRun(straight.runId)!.lastEvalReturn)).toBe(true);
      if (LEARNERS[request.learner].plainJavaScript) expect(store.getRun(straight.runId)!.backend).toBe(`plain JavaScript (${request.learner} uses no tensor backend)`);

      const evaluation = await evaluateRun(store, straight.runId, 2, 7);
      expect(evaluation.episodes).toHaveLength(2);
      const stored = store.listEpisodes(straight.runId);
      expect(stored.length).toBeGreaterThanOrEqual(3);
      const frames = store.readSteps(stored[0].id, 0, 2);
      expect(frames).toHaveLength(2);

      const policy = await restorePolicy(store, straight.runId, 'latest');
      try {
        expect(policy.iteration).toBe(3);
        expect(policy.learner.policy.nonFiniteParameter()).toBeNull();
      } finally {
        await policy.close();
      }
    });
  }

  it('refuses a learner on a scenario it does not train on, naming both', async () => {
    await expect(startTraining(store, { ...REQUESTS[0], scenario: 'ring', scenarioParams: {} })).rejects.toThrow('learner ltde trains on network-routing only, not ring');
  });
});
