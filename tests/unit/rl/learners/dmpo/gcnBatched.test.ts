/**
 * DMPO's local models in the batched formulation (gcnBatched.ts) against today's per-agent
 * path (gcn.ts), on the cpu backend: the same loss terms and every agent's gradient to 1e-4,
 * on neighbourhoods of different sizes (the zero padding), the weights after training steps,
 * and no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetworkedGcn } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import { BatchedGcn } from '../../../../../src/main/rl/learners/dmpo/gcnBatched.ts';
import type { ModelSystem } from '../../../../../src/main/rl/learners/dmpo/gcnLayout.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { selectBackend } from '../../../../../src/main/rl/nn/backend.ts';
import type { UpdateFormulation } from '../../../../../src/main/rl/nn/formulation.ts';
import { AgentGraph } from '../../../../../src/main/sim/graph.ts';
import { randomEpisode, randomWindows, unevenLossWeights } from './dmpo.helpers.ts';

beforeAll(async () => {
  await selectBackend('cpu');
});

const DISCRETE = { kind: 'discrete', n: 3 } as const;
const CONTINUOUS = { kind: 'continuous', low: -1, high: 1 } as const;

const cases: { name: string; system: ModelSystem }[] = [
  { name: 'chain: ends with one edge, middles with two', system: { graph: AgentGraph.chain(4), obsDim: 2, action: DISCRETE } },
  { name: 'a hub with three edges, leaves with one, an agent with none', system: { graph: new AgentGraph(5, [[0, 1], [0, 2], [0, 3]]), obsDim: 3, action: CONTINUOUS } },
  { name: 'one agent, no edges at all', system: { graph: AgentGraph.chain(1), obsDim: 2, action: DISCRETE } },
];

describe('DMPO local models: the batched formulation', () => {
  for (const { name, system } of cases) {
    it(`equals the per-agent path: loss terms and every gradient (${name})`, async () => {
      const gcn = new NetworkedGcn(system);
      const batched = new BatchedGcn(gcn);
      const parameters = gcn.initialParameters(5);
      const batch = randomWindows(system, 3, 6, 3);
      const lossWeights = unevenLossWeights(gcn);
      const perAgent = gcn.lossAndGradients(parameters, batch, lossWeights);
      const before = tf.memory().numTensors;
      const { errors, gradients } = await batched.lossAndGradients(parameters, batch, lossWeights);
      const evaluated = await batched.evaluate(parameters, batch, lossWeights);
      expect(tf.memory().numTensors).toBe(before);

      for (const term of ['stateMse', 'rewardMse', 'doneLoss', 'loss'] as const) {
        expect(Math.abs(errors[term] - perAgent.errors[term])).toBeLessThan(1e-5 * Math.abs(perAgent.errors[term]) + 1e-7);
        expect(Math.abs(evaluated[term] - perAgent.errors[term])).toBeLessThan(1e-5 * Math.abs(perAgent.errors[term]) + 1e-7);
      }
      gradients.forEach((gradient, i) => {
        const reference = perAgent.gradients[i];
        expect(gradient).toHaveLength(reference.length);
        const scale = Math.max(...reference.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let k = 0; k < gradient.length; k++) expect(Math.abs(gradient[k] - reference[k])).toBeLessThan(1e-4 * scale);
      });
    });
  }

  it('trains LocalModels to the same weights as the per-agent path (Adam, clipping, validation), leaving no tensor behind', async () => {
    const system = { graph: AgentGraph.chain(3), obsDim: 2, action: DISCRETE };
    const config = { seed: 11, windowsPerBatch: 8, validationWindows: 8, validateEvery: 2, modelErrorThreshold: 0 };
    const trained = async (formulation: UpdateFormulation) => {
      const models = new LocalModels(system, config, formulation);
      expect(models.formulation).toBe(formulation);
      models.addEpisode(randomEpisode(system, 20, 1));
      const before = tf.memory().numTensors;
      const report = await models.train(3);
      expect(tf.memory().numTensors).toBe(before);
      return { report, parameters: models.parameters };
    };
    const perAgent = await trained('per-agent');
    const batched = await trained('batched');
    expect(batched.report.steps).toBe(3);
    expect(Math.abs(batched.report.loss - perAgent.report.loss)).toBeLessThan(1e-5 * perAgent.report.loss);
    batched.parameters.forEach((params, i) => {
      for (let k = 0; k < params.length; k++) expect(Math.abs(params[k] - perAgent.parameters[i][k])).toBeLessThan(1e-4);
    });
  });
});
