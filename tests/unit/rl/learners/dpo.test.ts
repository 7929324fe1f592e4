/**
 * DPO's trust region is its adaptive betas alone (its paper's update has no KL early stop).
 * Regression: the presets inherited the PPO tables' early stop at 1.5 targetKl, the same KL
 * as the betas' doubling threshold (1.5 dTarget), so every agent whose update was stopped
 * ended just past the threshold and had its betas doubled, iteration after iteration (to 1e7
 * and more on the ring at paper scale), whatever they did to the update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { createOnPolicyLearner } from '../../../../src/main/rl/learners/index.ts';
import { createUpdatePool, type UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { PRESET_IDS, resolveLearnerConfig } from '../../../../src/shared/learners.ts';
import { ROAD_SCENARIO_IDS } from '../../../../src/shared/scenarios.ts';

let trainer: UpdatePool;
beforeAll(async () => {
  await selectBackend('auto');
  trainer = await createUpdatePool({ threads: 1 });
});
afterAll(async () => trainer.close());

describe('DPO: the adaptive betas are the only trust region', () => {
  it('has no KL early stop in any preset on any traffic scenario', () => {
    for (const scenario of ROAD_SCENARIO_IDS) {
      for (const preset of PRESET_IDS) expect(resolveLearnerConfig('dpo', scenario, preset).targetKl, `${scenario} ${preset}`).toBe(0);
    }
  });

  it('refuses a KL early stop set by hand, naming the field and why', () => {
    expect(() => resolveLearnerConfig('dpo', 'ring', 'default', { targetKl: '0.01' })).toThrow(
      'learner dpo: targetKl=0.01 is not allowed; DPO has no KL early stop (its adaptive betas, steered by dTarget, are its trust region), so targetKl must be 0',
    );
    expect(resolveLearnerConfig('dpo', 'ring', 'default', { targetKl: '0' }).targetKl).toBe(0);
  });

  it('runs every epoch of its update and adapts each agent’s betas by that agent’s KL alone', async () => {
    // A fast actor makes the KL overshoot dTarget: the case where the early stop used to end the update.
    const config = resolveLearnerConfig('dpo', 'ring', 'default', { numEnvs: 2, rolloutSteps: 64, epochs: 4, criticEpochs: 1, lrActor: 0.01 });
    const learner = createOnPolicyLearner({ learner: 'dpo', scenario: 'ring', scenarioParams: { horizon: 50 }, config, seed: 2 }, trainer);
    const { agents } = learner.policy;
    let betas = Array.from({ length: agents }, () => config.beta1);
    let doubled = 0;
    for (let iteration = 0; iteration < 3; iteration++) {
      const { metrics } = await learner.iterate();
      expect(metrics.earlyStops).toBe(0);
      for (let i = 0; i < agents; i++) {
        const kl = metrics[`kl/agent${i}`];
        const factor = kl > 1.5 * config.dTarget ? 2 : kl < config.dTarget / 1.5 ? 0.5 : 1;
        expect(metrics[`dpo/beta1/agent${i}`]).toBeCloseTo(betas[i] * factor, 12);
        if (factor === 2) doubled += 1;
      }
      betas = betas.map((_, i) => metrics[`dpo/beta1/agent${i}`]);
    }
    expect(doubled).toBeGreaterThan(0);
    learner.dispose();
  });
});
