/**
 * DMPO fits its local models beside the inner updates on real data that precede the first
 * update on model data (dmpo.ts): the fit yields between its steps, starts before those
 * updates and may end after them, but always ends before an update on model data begins.
 * That the numbers are the same as fitting first is the golden test's (golden.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { createLearner } from '../../../../../src/main/rl/learners/index.ts';
import { PpoFamily } from '../../../../../src/main/rl/learners/ppo.ts';
import { createUpdatePool, type UpdatePool } from '../../../../../src/main/rl/parallel/updatePool.ts';
import { createEnv } from '../../../../../src/main/sim/index.ts';
import { resolveLearnerConfig } from '../../../../../src/shared/learners.ts';
import { randomEpisode } from './dmpo.helpers.ts';

const SMALL_DMPO = { numEnvs: 2, rolloutSteps: 64, epochs: 2, criticEpochs: 2, nTraj: 16, modelRolloutLength: 5, modelSteps: 20, modelStepsWarmup: 20, modelWarmupEpisodes: 1, innerIterations: 3 };

let pool: UpdatePool;
beforeAll(async () => {
  await selectBackend('wasm');
  pool = await createUpdatePool({ threads: 2 });
});
afterAll(async () => {
  await pool.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** One event per start and end of the models' fits and of the inner updates, in the order they happened. */
function recordPhases(): string[] {
  const events: string[] = [];
  const train = LocalModels.prototype.train;
  vi.spyOn(LocalModels.prototype, 'train').mockImplementation(async function (this: LocalModels, ...args: Parameters<LocalModels['train']>) {
    events.push('fit start');
    try {
      return await train.apply(this, args);
    } finally {
      events.push('fit end');
    }
  });
  const update = PpoFamily.prototype.update;
  vi.spyOn(PpoFamily.prototype, 'update').mockImplementation(async function (this: PpoFamily, ...args: Parameters<PpoFamily['update']>) {
    events.push('update start');
    try {
      return await update.apply(this, args);
    } finally {
      events.push('update end');
    }
  });
  return events;
}

/** The events of the first iteration in which the models were fitted. */
async function firstFitIteration(modelUsage: number): Promise<string[]> {
  const config = resolveLearnerConfig('dmpo', 'cacc-catchup', 'default', { ...SMALL_DMPO, modelUsage, targetKl: 0 });
  const learner = createLearner({ learner: 'dmpo', scenario: 'cacc-catchup', scenarioParams: { horizon: 50 }, config, seed: 3 }, pool);
  const events = recordPhases();
  try {
    for (let k = 0; k < 3; k++) {
      events.length = 0;
      await learner.iterate();
      if (events.includes('fit start')) return [...events];
    }
    throw new Error('the models were never fitted');
  } finally {
    learner.dispose();
  }
}

describe('the DMPO model fit beside the inner updates', () => {
  it('yields to the event loop between training steps', async () => {
    const { spec } = createEnv('cacc-catchup', {}, 1);
    const models = LocalModels.forEnv(spec, { windowsPerBatch: 4, validationWindows: 4, modelErrorThreshold: 0, seed: 1 });
    models.addEpisode(randomEpisode(spec, 20, 5));
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    await models.train(4).then(() => order.push('fit done'));
    expect(order).toEqual(['other work', 'fit done']);
  });

  it('runs while the leading updates on real data run, and ends before the iteration does', async () => {
    // modelUsage 0: every inner update trains on the real rollout, none waits for the fit.
    const events = await firstFitIteration(0);
    const fitStart = events.indexOf('fit start');
    const fitEnd = events.indexOf('fit end');
    expect(fitStart).toBe(0);
    expect(events.indexOf('update start')).toBeLessThan(fitEnd);
    expect(events.filter((event) => event === 'update end')).toHaveLength(3);
    expect(fitEnd).toBeGreaterThan(0);
  });

  it('ends before an update on model data starts', async () => {
    // modelUsage 1: every inner update trains on a branched rollout in the fitted models.
    const events = await firstFitIteration(1);
    expect(events.slice(0, 3)).toEqual(['fit start', 'fit end', 'update start']);
  });
});
