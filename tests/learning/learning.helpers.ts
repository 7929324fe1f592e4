/** Shared by the learning tests: the trainer they run on and the baseline a learner must beat. */
import { afterAll, beforeAll } from 'vitest';
import { evaluatePolicy } from '../../src/main/rl/core/evaluation.ts';
import type { Learner, LearnerSetup } from '../../src/main/rl/core/learner.ts';
import { selectBackend } from '../../src/main/rl/nn/backend.ts';
import { createUpdatePool, type UpdatePool } from '../../src/main/rl/parallel/updatePool.ts';
import { createEnv } from '../../src/main/sim/index.ts';
import { EpisodeStats } from '../../src/main/sim/metrics.ts';
import { RngStreams } from '../../src/main/sim/rng.ts';
import { resolveLearnerConfig, type LearnerId } from '../../src/shared/learners.ts';

/** A two-worker trainer on the best backend, started before the file's tests and closed after them; call the result inside a test. */
export function twoWorkerTrainer(): () => UpdatePool {
  let trainer: UpdatePool | undefined;
  beforeAll(async () => {
    await selectBackend('auto');
    trainer = await createUpdatePool({ threads: 2 });
  });
  afterAll(async () => trainer?.close());
  return () => {
    if (trainer === undefined) throw new Error('the trainer starts in beforeAll: call this inside a test');
    return trainer;
  };
}

/** The catch-up learning tests' setting: 20 s episodes (the platoon closes its gaps within them, so most of each episode is the part to learn), 8 evaluation episodes every 2,400 env steps. */
const CATCH_UP_PARAMS = { horizon: 200 };
const CATCH_UP_EPISODES = 8;
const CATCH_UP_EVAL_EVERY = 2_400;

/** What a catch-up learning run measured: the baselines on its evaluation episodes, the goal, and its greedy policy's returns. */
export interface CatchUpLearning {
  random: number;
  bestConstant: number;
  /** random + 80% of (bestConstant - random). */
  goal: number;
  /** The untrained policy's return. */
  initial: number;
  /** The best evaluation's return. */
  best: number;
}

/**
 * Trains `learner` (its `default` preset, built by `create`) on catch-up up to `maxEnvSteps`,
 * evaluating the greedy policy every 2,400 env steps, and stops once an evaluation closes 80%
 * of the gap between random actions and the best constant action.
 */
export async function learnCatchUp<L extends LearnerId>(learner: L, create: (setup: LearnerSetup<L>) => Learner, seed: number, maxEnvSteps: number): Promise<CatchUpLearning> {
  const seeds = Array.from({ length: CATCH_UP_EPISODES }, (_, k) => seed + 500_000 + k);
  const random = randomPolicyReturn(seeds, CATCH_UP_PARAMS);
  const bestConstant = Math.max(...[0, 1, 2, 3].map((action) => constantActionReturn(action, seeds, CATCH_UP_PARAMS)));
  const goal = random + 0.8 * (bestConstant - random);
  const config = resolveLearnerConfig(learner, 'cacc-catchup', 'default');
  const trained = create({ learner, scenario: 'cacc-catchup', scenarioParams: CATCH_UP_PARAMS, config, seed });
  const initial = evaluatePolicy(trained, CATCH_UP_EPISODES).meanReturn;
  let best = -Infinity;
  while (trained.envSteps < maxEnvSteps && best <= goal) {
    await trained.iterate();
    if (trained.envSteps % CATCH_UP_EVAL_EVERY === 0) best = Math.max(best, evaluatePolicy(trained, CATCH_UP_EPISODES).meanReturn);
  }
  trained.dispose();
  return { random, bestConstant, goal, initial, best };
}

/** Mean return of uniformly random actions on CACC catch-up, on the evaluation seeds a learner uses. */
export function randomPolicyReturn(seeds: number[], scenarioParams: Record<string, unknown> = {}): number {
  const rng = new RngStreams(1);
  rng.seed(0, 77);
  return catchUpReturn(seeds, scenarioParams, () => rng.integer(0, 0, 3));
}

/** Mean return on CACC catch-up when every agent always takes `action` (CACC's best constant policy is action 3). */
export function constantActionReturn(action: number, seeds: number[], scenarioParams: Record<string, unknown> = {}): number {
  return catchUpReturn(seeds, scenarioParams, () => action);
}

/** Mean evaluation return on catch-up episodes of `seeds` with each agent's action drawn by `act` every step. */
function catchUpReturn(seeds: number[], scenarioParams: Record<string, unknown>, act: () => number): number {
  const env = createEnv('cacc-catchup', scenarioParams, 1);
  env.training = false;
  const actions = new Float64Array(env.spec.nAgents);
  let total = 0;
  for (const seed of seeds) {
    env.resetEnv(0, seed);
    const stats = new EpisodeStats(env);
    while (!env.allDone()) {
      for (let i = 0; i < actions.length; i++) actions[i] = act();
      env.step(actions);
      stats.add();
    }
    total += stats.result().return;
  }
  return total / seeds.length;
}
