/**
 * IC3Net's spatialDiscount (docs/ic3net.md): each agent learns from the learning rewards of
 * the agents its graph reaches, discounted by alpha per hop (NMARL's coop_gamma), instead of
 * its own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spatiallyDiscountRewards } from '../../../../src/main/rl/core/advantages.ts';
import { Ic3net } from '../../../../src/main/rl/learners/ic3net/ic3net.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { resolveLearnerConfig } from '../../../../src/shared/learners.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

/** Hop counts of a 3-agent chain 0 - 1 - 2 plus an agent 3 that nothing reaches. */
const CHAIN = Int32Array.from([0, 1, 2, -1, 1, 0, 1, -1, 2, 1, 0, -1, -1, -1, -1, 0]);
/** Two samples per agent, agent-major. */
const REWARDS = [1, 10, 2, 20, 4, 40, 8, 80];

describe('spatiallyDiscountRewards', () => {
  it('weights agent j by alpha^d(i, j), leaves unreachable agents out, and keeps the own reward at alpha 0', () => {
    const half = Float32Array.from(REWARDS);
    spatiallyDiscountRewards(half, CHAIN, 4, 0.5);
    // Agent 0: r0 + r1 / 2 + r2 / 4; agent 1: r0 / 2 + r1 + r2 / 2; agent 2: r0 / 4 + r1 / 2 + r2; agent 3 alone.
    expect(Array.from(half)).toEqual([1 + 1 + 1, 10 + 10 + 10, 0.5 + 2 + 2, 5 + 20 + 20, 0.25 + 1 + 4, 2.5 + 10 + 40, 8, 80]);
    const own = Float32Array.from(REWARDS);
    spatiallyDiscountRewards(own, CHAIN, 4, 0);
    expect(Array.from(own)).toEqual(REWARDS);
    const team = Float32Array.from(REWARDS);
    spatiallyDiscountRewards(team, CHAIN, 4, 1);
    expect(Array.from(team)).toEqual([7, 70, 7, 70, 7, 70, 8, 80]);
  });

  it('refuses a distance table of another size and an alpha outside [0, 1]', () => {
    expect(() => spatiallyDiscountRewards(Float32Array.from(REWARDS), CHAIN.subarray(0, 9), 4, 0.5)).toThrow(/distance has 9 entries, not 4 x 4/);
    expect(() => spatiallyDiscountRewards(Float32Array.from(REWARDS), CHAIN, 4, 1.5)).toThrow(/alpha 1.5 is outside/);
  });
});

describe('IC3Net spatialDiscount', () => {
  const create = (spatialDiscount: number) =>
    new Ic3net({
      learner: 'ic3net',
      scenario: 'cacc-catchup',
      scenarioParams: { horizon: 12 },
      config: resolveLearnerConfig('ic3net', 'cacc-catchup', 'default', { numEnvs: 2, rolloutSteps: 16, bpttSteps: 6, spatialDiscount }),
      seed: 3,
    });

  it('1 gives every agent of the catch-up chain the sum of all agents’ learning rewards; the recorded returns stay raw', async () => {
    const [own, team] = [create(0), create(1)];
    const [ownResult, teamResult] = [await own.iterate(), await team.iterate()];
    // Same seed and weights: the same actions, so the same environment rewards.
    expect(Array.from(team.rollout.actions)).toEqual(Array.from(own.rollout.actions));
    const { agents, samples } = own.rollout;
    expect(agents).toBe(8);
    const ownRewards = own.rollout.rewards;
    // The agents' own rewards differ (agent 0 starts behind), so the test can tell them apart.
    expect(ownRewards[0]).not.toBeCloseTo(ownRewards[samples], 3);
    for (let s = 0; s < samples; s++) {
      let total = 0;
      for (let j = 0; j < agents; j++) total += ownRewards[j * samples + s];
      for (let i = 0; i < agents; i++) expect(team.rollout.rewards[i * samples + s]).toBeCloseTo(total, 4);
    }
    expect(ownResult.metrics['train/episodes']).toBeGreaterThan(0);
    expect(teamResult.metrics['train/episodeReturn']).toBe(ownResult.metrics['train/episodeReturn']);
    for (const learner of [own, team]) learner.dispose();
  });
});
