/**
 * The webgpu backend on whatever adapter Dawn finds; in CI, SwiftShader (a CPU emulation of
 * Vulkan: slow, hence tiny sizes). Where no adapter exists (a machine without Vulkan) these
 * tests skip and say why; in CI (CI set) a missing adapter fails instead.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActorBatch, CriticBatch } from '../../../../src/main/rl/core/batches.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { updateActorGroups } from '../../../../src/main/rl/core/optimiser.ts';
import { NetworkedGcn } from '../../../../src/main/rl/learners/dmpo/gcn.ts';
import { BatchedGcn } from '../../../../src/main/rl/learners/dmpo/gcnBatched.ts';
import { uniformLossWeights } from '../../../../src/main/rl/learners/dmpo/gcnLoss.ts';
import { createLearner } from '../../../../src/main/rl/learners/index.ts';
import { AgentNetworks, type AgentNetworksConfig } from '../../../../src/main/rl/nn/agentNetworks.ts';
import { probeBackend, selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { createUpdatePool, type UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { AgentGraph } from '../../../../src/main/sim/graph.ts';
import { RngStreams } from '../../../../src/main/sim/rng.ts';
import { PPO_FAMILY, resolveLearnerConfig } from '../../../../src/shared/learners.ts';
import { randomWindows } from '../learners/dmpo/dmpo.helpers.ts';

// Dawn reads the Vulkan driver list when it starts: where the user has chosen none, use
// the SwiftShader driver that Debian's chromium package ships.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false';
const checkCache = path.join(mkdtempSync(path.join(tmpdir(), 'headway-webgpu-')), 'backend-checks.json');

/** Why webgpu cannot run here, or null when it can (it is then the active backend). */
async function webgpuUnavailable(): Promise<string | null> {
  try {
    await selectBackend('webgpu', { checkCache });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
const unavailable = await webgpuUnavailable();

it.runIf(inCi)('CI has a WebGPU adapter (SwiftShader: apt-get install libvulkan1 chromium)', () => {
  expect(unavailable).toBeNull();
});

const AGENTS = 3;
const SAMPLES = 24;
const config: AgentNetworksConfig = { agents: AGENTS, actorInputSize: 5, criticInputSize: 7, head: { kind: 'gaussian', actionSize: 1 }, hiddenSizes: [16, 16], seed: 4 };
const schedule = { epochs: 2, minibatches: 1, learningRate: 1e-3 };

function batches(networks: AgentNetworks): { actor: ActorBatch; critic: CriticBatch } {
  const rng = new RngStreams(1);
  rng.seed(0, 8);
  const rows = AGENTS * SAMPLES;
  const random = (length: number) => Float32Array.from({ length }, () => 2 * rng.uniform(0) - 1);
  const observations = random(rows * config.actorInputSize);
  const oldOutput = networks.evaluateActor(observations, SAMPLES);
  const oldLogStd = Float32Array.from(networks.actor.groups.map((g) => g.params[networks.actor.layout.extraOffset]));
  const actions = Float32Array.from(oldOutput, (mean, k) => mean + Math.exp(oldLogStd[Math.floor(k / SAMPLES)]) * rng.normal(0));
  const criticObservations = random(rows * config.criticInputSize);
  return {
    actor: { samples: SAMPLES, observations, actions, advantages: random(rows), oldOutput, oldLogStd },
    critic: { samples: SAMPLES, observations: criticObservations, returns: random(rows) },
  };
}

/** Largest difference relative to the largest reference value. */
function largestRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const scale = Math.max(...Array.from(expected, Math.abs));
  return Math.max(...Array.from(expected, (value, k) => Math.abs(actual[k] - value) / scale));
}

describe.skipIf(unavailable !== null)(`webgpu backend${unavailable === null ? '' : ` (skipped: ${unavailable})`}`, () => {
  const pools: UpdatePool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });
  let device: UpdatePool | null = null;
  /** One device worker for every test: its compiled shaders are reused. */
  async function deviceWorker(): Promise<UpdatePool> {
    if (device === null) pools.push((device = await createUpdatePool({ backend: 'webgpu', checkCache })));
    return device;
  }

  it("is never auto's choice on a software adapter", async () => {
    const probe = await probeBackend('webgpu', checkCache);
    const auto = await selectBackend('auto', { checkCache });
    if (probe.software) {
      expect(auto.backend).not.toBe('webgpu');
      expect(auto.reason).toContain(`webgpu adapter ${probe.device} is a software emulation (used only with --backend webgpu)`);
    } else {
      expect(auto.backend).toMatch(/^(webgpu|tensorflow)$/);
    }
  });

  it.each(['per-agent', 'batched'] as const)('runs the %s update with no tensor leak', async (formulation) => {
    // the batch's old outputs come from inference, which reads synchronously
    await selectBackend('cpu');
    const networks = new AgentNetworks(config);
    const { actor } = batches(networks);
    await selectBackend('webgpu', { checkCache });
    const { layout, groups, agentsPerGroup } = networks.actor;
    const job = { shape: layout.shape, groups, firstAgent: 0, agentsPerGroup, batch: actor, schedule, head: config.head, loss: { kind: 'ppo-clip', clipEpsilon: 0.2 }, agentCount: AGENTS, formulation } as const;
    await updateActorGroups(job);
    const tensors = tf.memory().numTensors;
    const stats = await updateActorGroups(job);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(stats.every((agent) => Number.isFinite(agent.loss) && Number.isFinite(agent.kl))).toBe(true);
    networks.dispose();
  });

  it("its first update (batched) equals the cpu backend's (per-agent) to 1e-4", async () => {
    const device = await deviceWorker();
    expect(device.backend.backend).toBe('webgpu');
    expect(device.formulation).toBe('batched');
    expect(device.threads).toBe(1);
    // the calling thread acts, so it reads synchronously: never on webgpu
    expect(tf.getBackend()).not.toBe('webgpu');
    const cpu = await createUpdatePool({ threads: 1, backend: 'cpu' });
    pools.push(cpu);
    expect(cpu.formulation).toBe('per-agent');
    const onDevice = new AgentNetworks(config);
    const onCpu = new AgentNetworks(config);
    const data = batches(onCpu);
    const loss = { kind: 'ppo-clip', clipEpsilon: 0.2, entropyCoefficient: 0.01 } as const;
    const [deviceActor, cpuActor] = [await device.updateActors(onDevice, data.actor, loss, schedule), await cpu.updateActors(onCpu, data.actor, loss, schedule)];
    const [deviceCritic, cpuCritic] = [await device.updateCritics(onDevice, data.critic, schedule), await cpu.updateCritics(onCpu, data.critic, schedule)];
    expect(largestRelativeError(deviceActor.map((a) => a.loss), cpuActor.map((a) => a.loss))).toBeLessThan(1e-4);
    expect(largestRelativeError(deviceCritic.map((a) => a.loss), cpuCritic.map((a) => a.loss))).toBeLessThan(1e-4);
    for (const kind of ['actor', 'critic'] as const) {
      onCpu[kind].groups.forEach((group, g) => {
        expect(largestRelativeError(onDevice[kind].groups[g].params, group.params), `${kind} ${g}`).toBeLessThan(1e-4);
      });
    }
    onDevice.dispose();
    onCpu.dispose();
  });

  it("DMPO's local models: the batched fit on the device equals the per-agent fit on cpu to 1e-4, with no tensor leak", async () => {
    const system = { graph: AgentGraph.chain(4), obsDim: 2, action: { kind: 'discrete', n: 3 } } as const;
    const gcn = new NetworkedGcn(system);
    const parameters = gcn.initialParameters(5);
    const batch = randomWindows(system, 3, 8, 3);
    await selectBackend('cpu');
    const lossWeights = uniformLossWeights(gcn, 10);
    const reference = gcn.lossAndGradients(parameters, batch, lossWeights);
    await selectBackend('webgpu', { checkCache });
    const batched = new BatchedGcn(gcn);
    let fit: Awaited<ReturnType<BatchedGcn['lossAndGradients']>>;
    try {
      await batched.lossAndGradients(parameters, batch, lossWeights);
      const tensors = tf.memory().numTensors;
      fit = await batched.lossAndGradients(parameters, batch, lossWeights);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      // the tests after this one act on this thread, which must read synchronously, as the device worker's pool set it up
      await selectBackend('auto', { synchronous: true, checkCache });
    }
    const { errors, gradients } = fit;
    expect(largestRelativeError([errors.loss, errors.stateMse, errors.rewardMse, errors.doneLoss], [reference.errors.loss, reference.errors.stateMse, reference.errors.rewardMse, reference.errors.doneLoss])).toBeLessThan(1e-4);
    gradients.forEach((gradient, i) => expect(largestRelativeError(gradient, reference.gradients[i]), `agent ${i}`).toBeLessThan(1e-4));
  });

  // Tiny: 4 vehicles, one shared network (one parameter group), 16 steps, one epoch.
  const SMALL = { numEnvs: 1, rolloutSteps: 16, epochs: 1, criticEpochs: 1, minibatches: 1, shareParameters: true };
  const SMALL_DMPO = { ...SMALL, nTraj: 4, modelRolloutLength: 2, modelSteps: 3, modelStepsWarmup: 3, modelWarmupEpisodes: 1, innerIterations: 1, modelUsage: 1 };
  for (const learner of PPO_FAMILY) {
    it(`trains ${learner} two iterations with finite metrics and no tensor leak`, async () => {
      const settings = learner === 'dmpo' ? SMALL_DMPO : SMALL;
      const agent = createLearner(
        { learner, scenario: 'ring', scenarioParams: { horizon: 40, vehicles: 4 }, config: resolveLearnerConfig(learner, 'ring', 'default', settings), seed: 2 },
        await deviceWorker(),
      );
      await agent.iterate();
      const tensors = tf.memory().numTensors;
      const result = await agent.iterate();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(result.iteration).toBe(2);
      for (const key of ['loss/actor', 'loss/critic', 'kl', 'entropy']) expect(Number.isFinite(result.metrics[key]), key).toBe(true);
      expect(Number.isFinite(evaluatePolicy(agent, 1).meanReturn)).toBe(true);
      agent.dispose();
    });
  }
});
