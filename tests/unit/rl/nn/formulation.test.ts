/**
 * The per-agent and the batched formulation of the update give the same losses, statistics
 * and updated weights (to 1e-4) on the cpu backend: group jobs directly (every loss option,
 * both heads, shared and own parameters, minibatches, per-agent KL early stops), and whole
 * learner iterations of IPPO, MAPPO, DPPO, DPO and JR-PPO. The webgpu backend's batched
 * path is checked against the cpu backend in webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorBatch, CriticBatch } from '../../../../src/main/rl/core/batches.ts';
import type { ActorLoss } from '../../../../src/main/rl/core/losses.ts';
import { updateActorGroups, updateCriticGroups, type UpdateSchedule } from '../../../../src/main/rl/core/optimiser.ts';
import { createLearner } from '../../../../src/main/rl/learners/index.ts';
import { AgentNetworks, type AgentNetworksConfig } from '../../../../src/main/rl/nn/agentNetworks.ts';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { formulationFor, type UpdateFormulation } from '../../../../src/main/rl/nn/formulation.ts';
import { createUpdatePool, type UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { resolveLearnerConfig, type LearnerId } from '../../../../src/shared/learners.ts';
import type { ScenarioId } from '../../../../src/shared/scenarios.ts';

const TOLERANCE = 1e-4;
const AGENTS = 4;
const SAMPLES = 30;

beforeAll(async () => {
  await selectBackend('cpu');
});

/** Largest difference relative to the largest reference value. */
function largestRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const scale = Math.max(1e-12, ...Array.from(expected, Math.abs));
  return Math.max(...Array.from(expected, (value, k) => Math.abs(actual[k] - value) / scale));
}

function expectSameNumbers(actual: object, expected: object, label: string): void {
  const pick = (record: object) => Object.entries(record).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
  const expectedEntries = pick(expected);
  const actualRecord = Object.fromEntries(pick(actual));
  for (const [key, value] of expectedEntries) {
    // no episode ended yet: NaN on both sides
    if (Number.isNaN(value) && Number.isNaN(actualRecord[key])) continue;
    const scale = Math.max(1, Math.abs(value));
    expect(Math.abs(actualRecord[key] - value) / scale, `${label} ${key}: ${actualRecord[key]} vs ${value}`).toBeLessThan(TOLERANCE);
  }
}

function expectSameNetworks(actual: AgentNetworks, expected: AgentNetworks, label: string): void {
  for (const kind of ['actor', 'critic'] as const) {
    expected[kind].groups.forEach((group, g) => {
      expect(largestRelativeError(actual[kind].groups[g].params, group.params), `${label} ${kind} ${g}`).toBeLessThan(TOLERANCE);
    });
  }
}

function batches(networks: AgentNetworks, seed: number, paddedColumns = 0): { actor: ActorBatch; critic: CriticBatch } {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const rows = AGENTS * SAMPLES;
  const random = (length: number) => Float32Array.from({ length }, () => 2 * rng.uniform(0) - 1);
  const inputSize = networks.actor.layout.shape.inputSize;
  const observations = random(rows * inputSize);
  // The last agent has a smaller neighbourhood: its last columns are padding, zero as the gather writes them.
  for (let r = (AGENTS - 1) * SAMPLES; r < rows; r++) observations.fill(0, (r + 1) * inputSize - paddedColumns, (r + 1) * inputSize);
  const oldOutput = networks.evaluateActor(observations, SAMPLES);
  const head = networks.head;
  const oldLogStd = head.kind === 'gaussian' ? Float32Array.from({ length: AGENTS }, (_, a) => networks.actor.groups[networks.groupOf(a)].params[networks.actor.layout.extraOffset]) : undefined;
  const actions =
    head.kind === 'gaussian'
      ? Float32Array.from(oldOutput, (mean, k) => mean + Math.exp(oldLogStd![Math.floor(k / SAMPLES)]) * rng.normal(0))
      : Float32Array.from({ length: rows }, () => rng.integer(0, 0, head.actionCount - 1));
  const criticObservations = random(rows * networks.critic.layout.shape.inputSize);
  return {
    actor: { samples: SAMPLES, observations, actions, advantages: random(rows), oldOutput, oldLogStd },
    critic: { samples: SAMPLES, observations: criticObservations, returns: random(rows) },
  };
}

it('batched on GPUs, per-agent on CPUs', () => {
  expect(formulationFor({ backend: 'webgpu', device: 'SwiftShader driver 5.0.0' })).toBe('batched');
  expect(formulationFor({ backend: 'tensorflow', device: 'CUDA GPU' })).toBe('batched');
  expect(formulationFor({ backend: 'tensorflow', device: 'CPU' })).toBe('per-agent');
  expect(formulationFor({ backend: 'wasm', device: 'CPU' })).toBe('per-agent');
  expect(formulationFor({ backend: 'cpu', device: 'CPU' })).toBe('per-agent');
});

interface JobCase {
  name: string;
  config: AgentNetworksConfig;
  loss: ActorLoss;
  schedule: UpdateSchedule;
}

const gaussian: AgentNetworksConfig = { agents: AGENTS, actorInputSize: 6, criticInputSize: 8, head: { kind: 'gaussian', actionSize: 1 }, hiddenSizes: [16, 16], seed: 3 };
const categorical: AgentNetworksConfig = { ...gaussian, head: { kind: 'categorical', actionCount: 3 }, seed: 5 };
const JOB_CASES: JobCase[] = [
  { name: 'gaussian, PPO clip per agent, minibatches', config: gaussian, loss: { kind: 'ppo-clip', clipEpsilon: [0.1, 0.15, 0.2, 0.25], entropyCoefficient: 0.01 }, schedule: { epochs: 3, minibatches: 3, learningRate: 3e-3, shuffleSeed: 7 } },
  // an early stop that ends some agents' loops before others'
  { name: 'categorical, PPO clip with KL stop', config: categorical, loss: { kind: 'ppo-clip', clipEpsilon: 0.2, targetKl: 2e-3 }, schedule: { epochs: 6, minibatches: 1, learningRate: 1e-2 } },
  { name: 'categorical, KL stop in a minibatch', config: categorical, loss: { kind: 'ppo-clip', clipEpsilon: 0.2, targetKl: 2e-3 }, schedule: { epochs: 4, minibatches: 2, learningRate: 1e-2, shuffleSeed: 3 } },
  { name: 'gaussian, DPO penalties', config: gaussian, loss: { kind: 'dpo', agentCount: AGENTS, beta1: [0.1, 0.2, 0.3, 0.4], beta2: 0.05, entropyCoefficient: 0.01 }, schedule: { epochs: 3, minibatches: 1, learningRate: 3e-3 } },
  { name: 'gaussian, shared parameters', config: { ...gaussian, shareParameters: true }, loss: { kind: 'ppo-clip', clipEpsilon: 0.2 }, schedule: { epochs: 2, minibatches: 2, learningRate: 3e-3, shuffleSeed: 1 } },
  { name: 'categorical, shared parameters, DPO', config: { ...categorical, shareParameters: true }, loss: { kind: 'dpo', agentCount: AGENTS, beta1: 0.1, beta2: 0.1 }, schedule: { epochs: 2, minibatches: 1, learningRate: 3e-3 } },
];

async function updateJob(networks: AgentNetworks, data: { actor: ActorBatch; critic: CriticBatch }, entry: JobCase, formulation: UpdateFormulation) {
  const job = (network: AgentNetworks['actor'], batch: ActorBatch | CriticBatch) => ({
    shape: network.layout.shape,
    groups: network.groups,
    firstAgent: 0,
    agentsPerGroup: network.agentsPerGroup,
    schedule: entry.schedule,
    formulation,
    batch,
  });
  const actor = await updateActorGroups({ ...job(networks.actor, data.actor), batch: data.actor, head: networks.head, loss: entry.loss, agentCount: AGENTS });
  const critic = await updateCriticGroups({ ...job(networks.critic, data.critic), batch: data.critic });
  return { actor, critic };
}

describe('group jobs: batched equals per-agent', () => {
  for (const entry of JOB_CASES) {
    it(entry.name, async () => {
      const perAgent = new AgentNetworks(entry.config);
      const batched = new AgentNetworks(entry.config);
      const data = batches(perAgent, 11);
      const expected = await updateJob(perAgent, data, entry, 'per-agent');
      const tensors = tf.memory().numTensors;
      const actual = await updateJob(batched, data, entry, 'batched');
      expect(tf.memory().numTensors).toBe(tensors);
      expect(actual.actor.map((agent) => [agent.gradientSteps, agent.stoppedEarly])).toEqual(expected.actor.map((agent) => [agent.gradientSteps, agent.stoppedEarly]));
      expected.actor.forEach((agent, a) => expectSameNumbers(actual.actor[a], agent, `actor ${a}`));
      expected.critic.forEach((agent, a) => expectSameNumbers(actual.critic[a], agent, `critic ${a}`));
      expectSameNetworks(batched, perAgent, entry.name);
      // the update did something
      expect(largestRelativeError(batched.actor.groups[0].params, new AgentNetworks(entry.config).actor.groups[0].params)).toBeGreaterThan(1e-4);
    });
  }

  it('the KL-stop cases stop some agents and not others at the same step', async () => {
    const networks = new AgentNetworks(categorical);
    const { actor } = await updateJob(networks, batches(networks, 11), JOB_CASES[1], 'batched');
    expect(new Set(actor.map((agent) => agent.gradientSteps)).size).toBeGreaterThan(1);
  });

  it('weights that read padding get no gradient', async () => {
    const networks = new AgentNetworks(gaussian);
    const before = networks.actor.groups[AGENTS - 1].params.slice();
    const padded = 2;
    await updateJob(networks, batches(networks, 12, padded), JOB_CASES[0], 'batched');
    const { inputSize, outputSize } = networks.actor.layout.layers[0];
    const after = networks.actor.groups[AGENTS - 1].params;
    for (let input = inputSize - padded; input < inputSize; input++) {
      expect(after.subarray(input * outputSize, (input + 1) * outputSize)).toEqual(before.subarray(input * outputSize, (input + 1) * outputSize));
    }
    expect(after.subarray(0, outputSize)).not.toEqual(before.subarray(0, outputSize));
  });
});

interface LearnerCase {
  learner: LearnerId;
  scenario: ScenarioId;
  settings: Record<string, unknown>;
}

const SMALL = { numEnvs: 1, rolloutSteps: 16, epochs: 2, criticEpochs: 2, minibatches: 2 };
const LEARNER_CASES: LearnerCase[] = [
  { learner: 'ippo', scenario: 'ring', settings: SMALL },
  { learner: 'mappo', scenario: 'cacc-catchup', settings: SMALL },
  { learner: 'dppo', scenario: 'ring', settings: { ...SMALL, kappa: 1 } },
  { learner: 'dppo', scenario: 'cacc-catchup', settings: { ...SMALL, kappa: 2, shareParameters: true } },
  { learner: 'dpo', scenario: 'cacc-catchup', settings: SMALL },
  { learner: 'ippo', scenario: 'ring', settings: { ...SMALL, ratio: 'joint' } },
];
const SCENARIO_PARAMS: Record<string, Record<string, number>> = { ring: { vehicles: 4, horizon: 40 }, 'cacc-catchup': { horizon: 40 } };

describe('learner iterations: batched equals per-agent', () => {
  const pools: Partial<Record<UpdateFormulation, UpdatePool>> = {};
  beforeAll(async () => {
    for (const formulation of ['per-agent', 'batched'] as const) pools[formulation] = await createUpdatePool({ threads: 1, backend: 'cpu', formulation });
  });
  afterAll(async () => {
    await Promise.all(Object.values(pools).map((pool) => pool.close()));
  });

  for (const entry of LEARNER_CASES) {
    it(`${entry.learner}@${entry.scenario} ${JSON.stringify(entry.settings).replace(/"/g, '')}`, async () => {
      const run = async (formulation: UpdateFormulation) => {
        const pool = pools[formulation]!;
        expect(pool.formulation).toBe(formulation);
        const config = resolveLearnerConfig(entry.learner, entry.scenario, 'default', entry.settings);
        const learner = createLearner({ learner: entry.learner, scenario: entry.scenario, scenarioParams: SCENARIO_PARAMS[entry.scenario], config, seed: 4 }, pool);
        const result = await learner.iterate();
        return { learner, metrics: Object.fromEntries(Object.entries(result.metrics).filter(([key]) => !key.startsWith('time/'))) };
      };
      const expected = await run('per-agent');
      const actual = await run('batched');
      try {
        expectSameNumbers(actual.metrics, expected.metrics, 'metric');
        const state = (learner: typeof expected.learner) => learner.state().arrays;
        const expectedArrays = state(expected.learner);
        for (const [key, array] of Object.entries(state(actual.learner))) {
          if (key.endsWith('.params')) expect(largestRelativeError(array as Float32Array, expectedArrays[key] as Float32Array), key).toBeLessThan(TOLERANCE);
        }
      } finally {
        expected.learner.dispose();
        actual.learner.dispose();
      }
    });
  }
});
