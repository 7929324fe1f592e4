/**
 * Evidence that DMPO learns on CACC catch-up with its default preset (fixed seed,
 * deterministic): the evaluation return ends far above the random policy's, and the local
 * models' reported state error is below 10% of the state variance (paper Figure 3).
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/main/rl/core/evaluation.ts';
import { createLearner } from '../../src/main/rl/learners/index.ts';
import { resolveLearnerConfig } from '../../src/shared/learners.ts';
import { randomPolicyReturn, twoWorkerTrainer } from './learning.helpers.ts';

const trainer = twoWorkerTrainer();

describe('DMPO learning on CACC catch-up', () => {
  it('with its default preset ends far above the random policy, with models under 10% state error', async () => {
    const seed = 1;
    const episodes = 8;
    const iterations = 14;
    const random = randomPolicyReturn(Array.from({ length: episodes }, (_, k) => seed + 500_000 + k));
    const config = resolveLearnerConfig('dmpo', 'cacc-catchup', 'default');
    const learner = createLearner({ learner: 'dmpo', scenario: 'cacc-catchup', scenarioParams: {}, config, seed }, trainer());
    const initial = evaluatePolicy(learner, episodes).meanReturn;
    const stateErrors: number[] = [];
    const trainingReturns: number[] = [];
    const evaluations: number[] = [];
    let modelUpdates = 0;
    for (let k = 1; k <= iterations; k++) {
      const { metrics } = await learner.iterate();
      if (!Number.isNaN(metrics['train/episodeReturn'])) trainingReturns.push(metrics['train/episodeReturn']);
      if (metrics['model/stateError'] !== undefined) stateErrors.push(metrics['model/stateError']);
      modelUpdates += metrics['dmpo/modelUpdates'] ?? 0;
      // Evaluated every second iteration like a run's checkpoints; the best is what `headway eval` runs.
      if (k % 2 === 0) evaluations.push(evaluatePolicy(learner, episodes).meanReturn);
    }
    const best = Math.max(...evaluations);
    const lateTraining = trainingReturns.slice(-5).reduce((a, b) => a + b, 0) / 5;
    learner.dispose();
    // Measured here: random -2.4e5, the untrained policy -1.6e5; evaluations after 2, 4, ..., 14
    // iterations (up to 67k env steps) -3.3e5, -1.7e5, -1.7e5, -2.0e4, -1.8e4, -2.5e4, -1.4e4: the
    // deterministic policy swings from one iteration to the next, so the test takes the best
    // evaluation (the run's best checkpoint) and the stochastic training return of the last five
    // iterations (-1.8e4 ... -3.5e4, up from -3.5e5); state error 0.071 at first, 0.013 after 14
    // fits (standardised model targets, docs/dmpo-figure-eight.md "CACC"; the raw-unit models
    // reached -3.9e4 at best, 0.106 and 0.073).
    expect(random).toBeLessThan(-2e5);
    expect(best).toBeGreaterThan(random / 3);
    expect(best).toBeGreaterThan(initial);
    expect(lateTraining).toBeGreaterThan(random / 3);
    // The models were fitted every iteration (8 real episodes per iteration reach the warm-up count at once) and their data were used.
    expect(stateErrors).toHaveLength(iterations);
    expect(modelUpdates).toBeGreaterThan(0);
    expect(stateErrors[stateErrors.length - 1]).toBeLessThan(0.1);
  }, 420_000);
});
