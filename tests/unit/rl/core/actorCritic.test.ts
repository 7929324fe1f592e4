/**
 * Acting on many rows per agent (DMPO's branched rollouts) takes each group's 2-D fast path on
 * the CPU backends instead of the stacked batched forward: the same head outputs and log std.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ActorCritic, PER_GROUP_ACTING_ROWS } from '../../../../src/main/rl/core/actorCritic.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { createEnv } from '../../../../src/main/sim/index.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { LEARNERS } from '../../../../src/shared/learners.ts';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('ActorCritic.act on many rows', () => {
  for (const [scenario, shareParameters] of [['ring', false], ['cacc-catchup', false], ['cacc-catchup', true]] as const) {
    it(`equals the stacked forward (${scenario}${shareParameters ? ', shared parameters' : ''})`, () => {
      const spec = createEnv(scenario, {}, 1).spec;
      const policy = new ActorCritic(spec, LEARNERS.dppo, { kappa: 2, shareParameters, initialLogStd: -0.3, seed: 4 });
      const rng = new RngStreams(1);
      rng.seed(0, 9);
      const rows = PER_GROUP_ACTING_ROWS;
      const inputs = Float32Array.from({ length: policy.agents * rows * policy.actorInputSize }, () => rng.normal(0));
      const fast = policy.act(inputs, rows);
      // The stacked forward on the same rows: acting on fewer rows per call takes it.
      const half = rows / 2;
      const agentMajor = (from: number) => Float32Array.from({ length: policy.agents * half * policy.actorInputSize }, (_, k) => {
        const agent = Math.floor(k / (half * policy.actorInputSize));
        return inputs[agent * rows * policy.actorInputSize + from * policy.actorInputSize + (k % (half * policy.actorInputSize))];
      });
      const [first, second] = [policy.act(agentMajor(0), half), policy.act(agentMajor(half), half)];
      const width = fast.output.length / (policy.agents * rows);
      for (let agent = 0; agent < policy.agents; agent++) {
        for (let r = 0; r < rows; r++) {
          const stacked = r < half ? first.output : second.output;
          for (let o = 0; o < width; o++) {
            const expected = stacked[(agent * half + (r % half)) * width + o];
            expect(Math.abs(fast.output[(agent * rows + r) * width + o] - expected)).toBeLessThan(1e-5 * (1 + Math.abs(expected)));
          }
        }
      }
      expect(fast.logStd === null ? null : Array.from(fast.logStd)).toEqual(first.logStd === null ? null : Array.from(first.logStd));
      policy.dispose();
    });
  }
});
