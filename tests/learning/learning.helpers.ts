/** Shared by the learning tests: the trainer they run on and the baseline a learner must beat. */
import { afterAll, beforeAll } from 'vitest';
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

/** Mean return of uniformly random actions on CACC catch-up, on the evaluation seeds a learner uses. */
export function randomPolicyReturn(seeds: number[]): number {
  const env = createEnv('cacc-catchup', {}, 1);
  env.training = false;
  const rng = new RngStreams(1);
  rng.seed(0, 77);
  const actions = new Float64Array(env.spec.nAgents);
  let total = 0;
  for (const seed of seeds) {
    env.resetEnv(0, seed);
    const stats = new EpisodeStats(env);
    while (!env.allDone()) {
      for (let i = 0; i < actions.length; i++) actions[i] = rng.integer(0, 0, 3);
      env.step(actions);
      stats.add();
    }
    total += stats.result().return;
  }
  return total / seeds.length;
}
