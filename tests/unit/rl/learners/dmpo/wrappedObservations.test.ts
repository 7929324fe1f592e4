/**
 * DMPO's local models on circular observation fields (a route position x/L that wraps from
 * ~1 to 0): training targets move by the real motion across the wrap point instead of
 * jumping back a lap, and branched rollouts keep positions in [0, 1) as the environment does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import { recordEpisodes } from '../../../../../src/main/rl/learners/dmpo/episodes.ts';
import type { WindowBatch } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { unwrapWindowTargets } from '../../../../../src/main/rl/learners/dmpo/wrappedObservations.ts';
import { DT } from '../../../../../src/main/sim/env.ts';
import { AgentGraph } from '../../../../../src/main/sim/graph.ts';
import { createEnv } from '../../../../../src/main/sim/index.ts';
import { FIGURE_EIGHT_LENGTH } from '../../../../../src/shared/geometry.ts';
import { randomEpisode, rngFrom, setSegment } from './dmpo.helpers.ts';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('DMPO local models: wrapped observation fields', () => {
  it('unwraps a window target across the wrap point and leaves the other fields alone', () => {
    // One window of 3 steps, one agent, [speed, position]: the position passes 1 between steps 1 and 2.
    const batch: WindowBatch = {
      windows: 1,
      steps: 3,
      startObservations: Float32Array.of(0.5, 0.998),
      actions: new Float32Array(3),
      nextObservations: Float32Array.of(0.5, 0.9995, 0.6, 0.0007, 0.7, 0.0019),
      rewards: new Float32Array(3),
      terminals: new Float32Array(3),
    };
    unwrapWindowTargets(batch, 0, 1, 2, [1]);
    const expected = [0.5, 0.9995, 0.6, 1.0007, 0.7, 1.0019];
    Array.from(batch.nextObservations).forEach((value, k) => expect(value).toBeCloseTo(expected[k], 6));
  });

  it('trains on figure-eight windows whose positions move by the real motion, also across the route start', () => {
    const env = createEnv('figure-eight', {}, 2);
    expect(env.spec.wrappedObs).toEqual([1]);
    const rng = rngFrom(4);
    const episodes = recordEpisodes(env, 7, (_observations, actions) => {
      for (let k = 0; k < actions.length; k++) actions[k] = Math.max(-3, Math.min(3, 0.3 + rng.normal(0)));
    });
    const models = LocalModels.forEnv(env.spec, { seed: 1 });
    for (const episode of episodes) models.addEpisode(episode);
    const windows = models.episodes.sampleWindows(4000, 4, rngFrom(9), 0);
    const { agents } = models.gcn;
    // At most 30 m/s (the cap's v0) for one step, as a fraction of the route.
    const largestStep = (30 * DT) / FIGURE_EIGHT_LENGTH;
    let pastTheStart = 0;
    let largest = 0;
    for (let w = 0; w < windows.windows; w++) {
      for (let i = 0; i < agents; i++) {
        let previous = windows.startObservations[(w * agents + i) * 2 + 1];
        for (let t = 0; t < windows.steps; t++) {
          const position = windows.nextObservations[((t * windows.windows + w) * agents + i) * 2 + 1];
          largest = Math.max(largest, Math.abs(position - previous));
          if (position >= 1) pastTheStart++;
          previous = position;
        }
      }
    }
    // The sample covers wraps (a vehicle passes the route start about once a lap), and none jumps a lap.
    expect(pastTheStart).toBeGreaterThan(0);
    expect(largest).toBeLessThan(largestStep);
  });

  it('keeps branched-rollout positions in [0, 1), wrapped as the environment wraps them', async () => {
    const system = { graph: AgentGraph.cycle(3), obsDim: 2, action: { kind: 'continuous', low: -1, high: 1 } as const, wrappedObs: [1] };
    const models = new LocalModels(system, { seed: 2, windowsPerBatch: 8 });
    const episode = randomEpisode(system, 30, 6);
    for (let k = 1; k < episode.observations.length; k += 2) episode.observations[k] = rngFrom(k).uniform(0);
    models.addEpisode(episode);
    // Every agent's model moves its position by exactly 0.3 a step and never ends a rollout.
    for (let i = 0; i < 3; i++) {
      setSegment(models, i, 'head.weight', (k, current) => (k % 4 === 1 ? 0 : current));
      setSegment(models, i, 'head.bias', (k, current) => (k === 1 ? 0.3 : k === 3 ? -50 : current));
    }
    const steps = 6;
    const rollout = models.branchedRollout((_observations, batch) => new Float32Array(batch * 3), { trajectories: 5, steps });
    const rowSize = 5 * 3 * 2;
    for (let t = 0; t < steps; t++) {
      const next = t + 1 < steps ? rollout.observations.subarray((t + 1) * rowSize, (t + 2) * rowSize) : rollout.finalObservations;
      for (let k = 1; k < rowSize; k += 2) {
        const expected = rollout.observations[t * rowSize + k] + 0.3;
        expect(next[k]).toBeGreaterThanOrEqual(0);
        expect(next[k]).toBeLessThan(1);
        expect(next[k]).toBeCloseTo(expected - Math.floor(expected), 5);
      }
    }
  });

  it('rejects a wrapped field outside the observation', () => {
    const system = { graph: AgentGraph.cycle(3), obsDim: 2, action: { kind: 'continuous', low: -1, high: 1 } as const, wrappedObs: [2] };
    expect(() => new LocalModels(system)).toThrow('local models: wrapped observation field 2 is not a field of the 2-value observation');
  });
});
