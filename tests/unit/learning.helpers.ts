/** Shared by the learning tests: the baseline a learner must beat. */
import { createEnv } from '../../src/main/sim/index.ts';
import { EpisodeStats } from '../../src/main/sim/metrics.ts';
import { RngStreams } from '../../src/main/sim/rng.ts';

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
