import { beforeAll, describe, expect, it } from 'vitest';
import { Dsac } from '../../src/main/rl/learners/dsac/dsac.ts';
import { selectBackend } from '../../src/main/rl/nn/backend.ts';
import { resolveLearnerConfig } from '../../src/shared/learners.ts';
import { bestGreedyReturn, catchUpGoal } from './learning.helpers.ts';

// The backend's self-check can take a while on a busy machine.
beforeAll(async () => {
  await selectBackend('auto');
}, 120_000);

/** 20 s catch-up episodes: the platoon closes its gaps within them, so most of each episode is the part to learn. */
const SCENARIO_PARAMS = { horizon: 200 };
const SEED = 3;
const EPISODES = 8;
const MAX_ENV_STEPS = 24_000;
const EVAL_EVERY = 2_400;

describe('DSAC learning on CACC catch-up', () => {
  it('its default preset (decisions held 1 s, temperature 0.5) closes most of the gap between random actions and the best constant action within 24k env steps', async () => {
    const seeds = Array.from({ length: EPISODES }, (_, k) => SEED + 500_000 + k);
    const { random, bestConstant, goal } = catchUpGoal(seeds, SCENARIO_PARAMS, 0.8);
    const config = resolveLearnerConfig('dsac', 'cacc-catchup', 'default');
    const learner = new Dsac({ learner: 'dsac', scenario: 'cacc-catchup', scenarioParams: SCENARIO_PARAMS, config, seed: SEED });
    // Evaluate the greedy policy every 2,400 env steps; stop once the goal is passed.
    const { initial, best } = await bestGreedyReturn(learner, { episodes: EPISODES, maxEnvSteps: MAX_ENV_STEPS, evalEvery: EVAL_EVERY, goal });
    learner.dispose();
    // Measured (docs/dsac.md): on these episodes random about -1.0e5, the best constant action
    // (3: both gains) about -4.0e4, the untrained policy about -8e4.
    expect(bestConstant - random).toBeGreaterThan(3e4);
    expect(best).toBeGreaterThan(goal);
    expect(best).toBeGreaterThan(initial);
  }, 600_000);
});
