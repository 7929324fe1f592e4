import { beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/main/rl/core/evaluation.ts';
import { Ic3net } from '../../src/main/rl/learners/ic3net/ic3net.ts';
import { selectBackend } from '../../src/main/rl/nn/backend.ts';
import { resolveLearnerConfig } from '../../src/shared/learners.ts';
import { randomPolicyReturn } from './learning.helpers.ts';

// The backend's self-check can take longer than the default 10 s hook timeout on a loaded machine.
beforeAll(async () => {
  await selectBackend('auto');
}, 120_000);

/**
 * Seed 1 under the catch-up default (no entropy bonus since 2026-12-08): -1.5e4 after 20
 * iterations in the paper-scale grid's run (docs/ic3net.md). Seed 2 holds speed for 36k env
 * steps under it, longer than this test's budget.
 */
const SEEDS = [1];

describe('IC3Net learning on CACC catch-up', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: its default preset (paper variant, 8 x 60-step rollouts, Monte Carlo advantages, no entropy bonus) gets far above the random policy within 40 iterations`, async () => {
      const episodes = 4;
      const random = randomPolicyReturn(Array.from({ length: episodes }, (_, k) => seed + 500_000 + k));
      const config = resolveLearnerConfig('ic3net', 'cacc-catchup', 'default');
      const learner = new Ic3net({ learner: 'ic3net', scenario: 'cacc-catchup', scenarioParams: {}, config, seed });
      const initial = evaluatePolicy(learner, episodes).meanReturn;
      let best = -Infinity;
      // Evaluate every 10 iterations (4,800 env steps per agent); stop once far above random.
      for (let k = 1; k <= 40 && best <= random / 3; k++) {
        await learner.iterate();
        if (k % 10 === 0) best = Math.max(best, evaluatePolicy(learner, episodes).meanReturn);
      }
      learner.dispose();
      // Measured (docs/ic3net.md): on seed 1 random -3.0e5, the untrained policy (hold speed)
      // -1.7e5, -1.7e5 after 10 iterations and -1.5e4 after 20 (9.6k env steps per agent).
      expect(random).toBeLessThan(-2e5);
      expect(best).toBeGreaterThan(random / 3);
      expect(best).toBeGreaterThan(initial);
    }, 600_000);
  }
});

/** The ring's default (one-step advantages, small initial std, no entropy bonus): seed 1; seeds 2 and 3 measured in docs/ic3net.md. */
const RING_SEEDS = [1];

describe('IC3Net learning on the ring', () => {
  for (const seed of RING_SEEDS) {
    it(`seed ${seed}: its default preset at least halves the untrained policy's acceleration cost within 20 iterations`, async () => {
      // One 3,000-step episode: at rest the return hardly varies between episodes (std < 1).
      const episodes = 1;
      const config = resolveLearnerConfig('ic3net', 'ring', 'default');
      const learner = new Ic3net({ learner: 'ic3net', scenario: 'ring', scenarioParams: {}, config, seed });
      const initial = evaluatePolicy(learner, episodes).meanReturn;
      for (let k = 0; k < 20; k++) await learner.iterate();
      const trained = evaluatePolicy(learner, episodes).meanReturn;
      learner.dispose();
      // Measured (docs/ic3net.md): the platoon starts at rest and stays there under every
      // learner here, so the return is minus the agents' acceleration cost; untrained -1,068 on
      // seed 1, -264 after 20 iterations (4k env steps per agent); random actions about -5.8e3.
      expect(initial).toBeLessThan(-500);
      expect(trained).toBeGreaterThan(initial / 2);
    }, 600_000);
  }
});
