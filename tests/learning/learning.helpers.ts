/** Shared by the learning tests: the trainer they run on and the baseline a learner must beat. */
import { afterAll, beforeAll } from 'vitest';
import { evaluatePolicy } from '../../src/main/rl/core/evaluation.ts';
import type { Learner } from '../../src/main/rl/core/learner.ts';
import { selectBackend } from '../../src/main/rl/nn/backend.ts';
import { createUpdatePool, type UpdatePool } from '../../src/main/rl/parallel/updatePool.ts';
import { createEnv } from '../../src/main/sim/index.ts';
import { EpisodeStats } from '../../src/main/sim/metrics.ts';
import { RngStreams } from '../../src/main/sim/rng.ts';

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

/** The catch-up baselines on evaluation `seeds`: random actions, the best constant action, and the goal closing `share` of the gap between them. */
export function catchUpGoal(seeds: number[], scenarioParams: Record<string, unknown>, share: number): { random: number; bestConstant: number; goal: number } {
  const random = randomPolicyReturn(seeds, scenarioParams);
  const bestConstant = Math.max(...[0, 1, 2, 3].map((action) => constantActionReturn(action, seeds, scenarioParams)));
  return { random, bestConstant, goal: random + share * (bestConstant - random) };
}

/**
 * Trains `learner` up to `maxEnvSteps`, evaluating its greedy policy on `episodes` episodes
 * every `evalEvery` env steps, and stops once an evaluation passes `goal`; returns the
 * untrained policy's return and the best evaluation's.
 */
export async function bestGreedyReturn(learner: Learner, settings: { episodes: number; maxEnvSteps: number; evalEvery: number; goal: number }): Promise<{ initial: number; best: number }> {
  const { episodes, maxEnvSteps, evalEvery, goal } = settings;
  const initial = evaluatePolicy(learner, episodes).meanReturn;
  let best = -Infinity;
  while (learner.envSteps < maxEnvSteps && best <= goal) {
    await learner.iterate();
    if (learner.envSteps % evalEvery === 0) best = Math.max(best, evaluatePolicy(learner, episodes).meanReturn);
  }
  return { initial, best };
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
