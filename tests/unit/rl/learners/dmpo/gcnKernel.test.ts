/**
 * DMPO's local models in plain JavaScript (gcnKernel.ts) against the tfjs per-agent path
 * (gcn.ts) on the same data: every loss term, every agent's gradient, and the one-step
 * predictions, on neighbourhoods of different sizes and both action kinds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkedGcn, withTensorScope } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import { GcnKernel } from '../../../../../src/main/rl/learners/dmpo/gcnKernel.ts';
import type { ModelSystem } from '../../../../../src/main/rl/learners/dmpo/gcnLayout.ts';
import { windowRange } from '../../../../../src/main/rl/learners/dmpo/gcnLoss.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import { createUpdatePool, type UpdatePool } from '../../../../../src/main/rl/parallel/updatePool.ts';
import { AgentGraph } from '../../../../../src/main/sim/graph.ts';
import { randomEpisode, randomWindows, rngFrom } from './dmpo.helpers.ts';

let pool: UpdatePool;
beforeAll(async () => {
  await selectBackend('wasm');
  pool = await createUpdatePool({ threads: 2 });
}, 60_000);
afterAll(async () => {
  await pool.close();
});

const DISCRETE = { kind: 'discrete', n: 3 } as const;
const CONTINUOUS = { kind: 'continuous', low: -1, high: 1 } as const;

const cases: { name: string; system: ModelSystem }[] = [
  { name: 'chain, discrete actions', system: { graph: AgentGraph.chain(4), obsDim: 2, action: DISCRETE } },
  { name: 'ring, continuous actions', system: { graph: AgentGraph.cycle(5), obsDim: 3, action: CONTINUOUS } },
  { name: 'a hub with three edges, leaves with one, an agent with none', system: { graph: new AgentGraph(5, [[0, 1], [0, 2], [0, 3]]), obsDim: 3, action: DISCRETE } },
  { name: 'one agent, no edges at all', system: { graph: AgentGraph.chain(1), obsDim: 2, action: CONTINUOUS } },
];

/** |a - b| within `relative` of the largest magnitude of b (float32 rounding in different summation orders). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  expect(scale).toBeGreaterThan(0);
  for (let k = 0; k < expected.length; k++) expect(Math.abs(actual[k] - expected[k])).toBeLessThan(relative * scale);
}

describe('DMPO local models in plain JavaScript', () => {
  for (const { name, system } of cases) {
    it(`equal the tfjs path: loss terms, every gradient, predictions (${name})`, () => {
      const gcn = new NetworkedGcn(system);
      const kernel = new GcnKernel(gcn);
      const parameters = gcn.initialParameters(5);
      const batch = randomWindows(system, 3, 7, 4);
      const reference = gcn.lossAndGradients(parameters, batch, 10);
      const { errors, gradients } = kernel.lossAndGradients(parameters, batch, 10);
      const evaluated = kernel.evaluate(parameters, batch, 10);
      for (const term of ['stateMse', 'stateVariance', 'rewardMse', 'rewardVariance', 'doneLoss', 'loss'] as const) {
        expect(Math.abs(errors[term] - reference.errors[term])).toBeLessThan(1e-5 * Math.abs(reference.errors[term]) + 1e-7);
        expect(evaluated[term]).toBe(errors[term]);
      }
      gradients.forEach((gradient, i) => expectClose(gradient, reference.gradients[i], 1e-4));

      // A second, smaller call reuses the buffers and must not see the first call's values.
      const small = randomWindows(system, 8, 2, 3);
      expectClose(kernel.lossAndGradients(parameters, small, 1).gradients[0], gcn.lossAndGradients(parameters, small, 1).gradients[0], 1e-4);

      const rows = 6;
      const rng = rngFrom(4);
      const observations = Float32Array.from({ length: rows * system.graph.n * system.obsDim }, () => rng.normal(0));
      const actions = Float32Array.from({ length: rows * system.graph.n }, () => (system.action.kind === 'discrete' ? rng.integer(0, 0, system.action.n - 1) : rng.normal(0)));
      const expected = withTensorScope(() => gcn.predict(gcn.buildWeights(parameters, false), observations, actions, rows));
      const predicted = kernel.predict(parameters, observations, actions, rows);
      expectClose(predicted.nextObservations, expected.nextObservations, 1e-5);
      expectClose(predicted.rewards, expected.rewards, 1e-5);
      expectClose(predicted.doneProbabilities, expected.doneProbabilities, 1e-5);
    });
  }

  it('splits a fit between this thread and an update worker to the same weights (window-weighted mean of the halves)', async () => {
    const system = { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE };
    const config = { seed: 11, windowsPerBatch: 9, validationWindows: 8, validateEvery: 2, modelErrorThreshold: 0 };
    const trained = async (split: UpdatePool | null) => {
      const models = new LocalModels(system, config, 'per-agent', split);
      models.addEpisode(randomEpisode(system, 20, 1));
      const report = await models.train(3);
      return { report, parameters: models.parameters };
    };
    const alone = await trained(null);
    const split = await trained(pool);
    expect(split.report.steps).toBe(3);
    expect(Math.abs(split.report.loss - alone.report.loss)).toBeLessThan(1e-5 * alone.report.loss);
    split.parameters.forEach((params, i) => expectClose(params, alone.parameters[i], 1e-5));

    // The halves of a batch are its windows: their window-weighted mean gradient is the batch's.
    const gcn = new NetworkedGcn(system);
    const kernel = new GcnKernel(gcn);
    const parameters = gcn.initialParameters(2);
    const batch = randomWindows(system, 5, 7, 3);
    const whole = kernel.lossAndGradients(parameters, batch, 10).gradients;
    const first = kernel.lossAndGradients(parameters, windowRange(batch, 0, 3), 10).gradients;
    const second = kernel.lossAndGradients(parameters, windowRange(batch, 3, 7), 10).gradients;
    whole.forEach((gradient, i) => expectClose(first[i].map((value, k) => (3 / 7) * value + (4 / 7) * second[i][k]), gradient, 1e-5));
  });

  it('rejects actions that are not indices of the action space', () => {
    const system = { graph: AgentGraph.chain(2), obsDim: 2, action: DISCRETE };
    const gcn = new NetworkedGcn(system);
    const kernel = new GcnKernel(gcn);
    expect(() => kernel.predict(gcn.initialParameters(1), new Float32Array(4), [0, 3], 1)).toThrow('action 3 is not an index below 3');
    expect(() => kernel.predict(gcn.initialParameters(1), new Float32Array(4), [0], 1)).toThrow('expected 2 actions');
  });
});
