/**
 * Training throughput: environment steps per second while a learner trains with its default
 * preset (rollout and update timed separately), per learner and scenario.
 */
import { resolveLearnerConfig, type LearnerId } from '../src/shared/learners.ts';
import type { ScenarioId } from '../src/shared/scenarios.ts';
import { selectBackend } from '../src/main/rl/nn/backend.ts';
import { createLearner } from '../src/main/rl/learners/index.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';

export interface LearnerThroughput {
  envStepsPerSecond: number;
  rolloutEnvStepsPerSecond: number;
  updateSecondsPerIteration: number;
  /** DMPO, DMPO-SAC: of the update time, the seconds spent fitting the local models. */
  modelSecondsPerIteration?: number;
  envStepsPerIteration: number;
  backend: string;
}

export async function learnerThroughput(learner: LearnerId, scenario: ScenarioId, iterations = 3): Promise<LearnerThroughput> {
  const backend = await selectBackend('auto');
  const trainer = await createUpdatePool({ threads: 2 });
  try {
    const agent = createLearner({ learner, scenario, scenarioParams: {}, config: resolveLearnerConfig(learner, scenario, 'default'), seed: 1 }, trainer);
    // Warm-up: JIT, worker start, inference tensors; DMPO until its models have had their first fit
    // (before that it trains model-free, and its figures would not be DMPO's); DSAC until its
    // updates start (before learningStarts it only collects random steps).
    for (let k = 0; k < 12; k++) {
      const { metrics } = await agent.iterate();
      const warming = (learner === 'dmpo' && metrics['model/stateError'] === undefined) || metrics['sac/updates'] === 0;
      if (!warming) break;
    }
    let rollout = 0;
    let update = 0;
    let model = 0;
    let steps = 0;
    for (let k = 0; k < iterations; k++) {
      const before = agent.envSteps;
      const { metrics } = await agent.iterate();
      rollout += metrics['time/rolloutSeconds'];
      update += metrics['time/updateSeconds'];
      model += metrics['time/modelSeconds'] ?? 0;
      steps += agent.envSteps - before;
    }
    agent.dispose();
    return {
      envStepsPerSecond: Math.round(steps / (rollout + update)),
      rolloutEnvStepsPerSecond: Math.round(steps / rollout),
      updateSecondsPerIteration: update / iterations,
      ...(learner === 'dmpo' || learner === 'dmpo-sac' ? { modelSecondsPerIteration: model / iterations } : {}),
      envStepsPerIteration: steps / iterations,
      backend: backend.backend,
    };
  } finally {
    await trainer.close();
  }
}
