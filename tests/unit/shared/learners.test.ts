import { describe, expect, it } from 'vitest';
import { LEARNER_IDS, learnerHyperparameters, learnerTrainsOn, PRESET_IDS, resolveLearnerConfig, updateThreads } from '../../../src/shared/learners.ts';
import { SCENARIO_IDS } from '../../../src/shared/scenarios.ts';

describe('learner configuration', () => {
  it('resolves every learner x scenario x preset to values inside their ranges', () => {
    for (const learner of LEARNER_IDS) {
      for (const scenario of SCENARIO_IDS.filter((id) => learnerTrainsOn(learner, id))) {
        for (const preset of PRESET_IDS) {
          const config = resolveLearnerConfig(learner, scenario, preset);
          for (const spec of learnerHyperparameters(learner)) {
            const value = (config as Readonly<Record<string, unknown>>)[spec.name];
            if (spec.kind === 'number' || spec.kind === 'integer') {
              expect(typeof value, `${learner} ${scenario} ${preset} ${spec.name}`).toBe('number');
              expect(value as number).toBeGreaterThanOrEqual(spec.min);
              expect(value as number).toBeLessThanOrEqual(spec.max);
            }
          }
        }
      }
    }
  });

  it('takes the reference-code table values', () => {
    const dmpo = resolveLearnerConfig('dmpo', 'cacc-slowdown', 'reference-code');
    expect(dmpo).toMatchObject({ kappa: 2, innerIterations: 8, clipEpsilon: 0.1, targetKl: 7.5e-3, nTraj: 1024, modelErrorThreshold: 2e-4, rewardScale: 0.01, rewardClip: 5 });
    const dppo = resolveLearnerConfig('dppo', 'ring', 'reference-code');
    expect(dppo).toMatchObject({ lrActor: 1e-3, lrCritic: 1e-3, kappa: 3, clipEpsilon: 0.2, targetKl: 0.01, epochs: 10 });
    // DPO's dTarget is its paper's for the kind of action: continuous control 0.001, discrete (MPE) 0.01.
    expect(resolveLearnerConfig('dpo', 'ring', 'paper')).toMatchObject({ epochs: 15, lrActor: 5e-4, dTarget: 0.001, beta1: 0.01, beta2: 0.01, targetKl: 0 });
    expect(resolveLearnerConfig('dpo', 'figure-eight', 'default')).toMatchObject({ dTarget: 0.001 });
    expect(resolveLearnerConfig('dpo', 'cacc-catchup', 'default')).toMatchObject({ dTarget: 0.01 });
    expect(resolveLearnerConfig('dmpo', 'cacc-catchup', 'paper')).toMatchObject({ modelUsage: 1, modelRolloutLength: 1 });
  });

  it('lets explicit settings win over the preset and validates them', () => {
    expect(resolveLearnerConfig('dppo', 'ring', 'paper', { lrActor: '3e-4', neighbourAggregation: 'sum-advantage' })).toMatchObject({
      lrActor: 3e-4,
      neighbourAggregation: 'sum-advantage',
    });
    expect(() => resolveLearnerConfig('dppo', 'ring', 'paper', { lr: 1 })).toThrow(/learner dppo has no setting 'lr'; its settings are numEnvs/);
    expect(() => resolveLearnerConfig('ippo', 'ring', 'paper', { nTraj: 4 })).toThrow(/learner ippo does not use 'nTraj'/);
    expect(() => resolveLearnerConfig('dppo', 'ring', 'paper', { epochs: 2.5 })).toThrow(/epochs=2.5 is not allowed; expected an integer from 1 to 1000/);
    expect(() => resolveLearnerConfig('dppo', 'ring', 'paper', { ratio: 'both' })).toThrow(/expected one of independent, joint/);
  });
});

describe('update threads', () => {
  it('are the asked-for threads for the learners that update on workers (the PPO family and DMPO), one for the rest', () => {
    expect(LEARNER_IDS.filter((learner) => updateThreads(learner, 2) === 2)).toEqual(['ippo', 'mappo', 'cppo', 'dppo', 'dpo', 'dmpo']);
    expect(LEARNER_IDS.map((learner) => updateThreads(learner, 1))).toEqual(LEARNER_IDS.map(() => 1));
  });
});
