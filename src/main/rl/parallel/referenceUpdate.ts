/**
 * The reference DPPO update, the workload of shared/notes/tfjs-wasm-performance.md, measured
 * by `bench --only learn` and `headway backends`: ring with 22 agents, each with its own
 * actor (input 6 = N^1: 3 agents x 2 obs, 64-64, Gaussian mean + log std) and critic (input
 * 14 = kappa 3: 7 agents x 2 obs, 64-64, value), 3000 samples per agent, 10 full-batch epochs
 * of PPO-clip and MSE with Adam.
 *
 * FLOPs are counted as the notes count them: forward + backward = 3 x forward, forward =
 * 2 x multiply-adds, i.e. 6 x (actor + critic multiply-adds per sample) x agents x samples x
 * epochs = 38.0 GFLOP. The timed work also includes what that count leaves out (the loss
 * math, Adam, the post-update diagnostics pass, and for workers the transfers), so the
 * figures are effective rates. The KL early stop is off so every run does the same work.
 */
import type { ActorBatch, CriticBatch } from '../core/batches.ts';
import type { ActorLoss } from '../core/losses.ts';
import type { UpdateSchedule } from '../core/optimiser.ts';
import { AgentNetworks } from '../nn/agentNetworks.ts';
import { RngStreams } from '../../sim/rng.ts';
import type { UpdatePool } from './updatePool.ts';

export const REFERENCE_AGENTS = 22;
export interface ReferenceSize {
  readonly samplesPerAgent: number;
  readonly epochs: number;
}
export const REFERENCE_SIZE: ReferenceSize = { samplesPerAgent: 3000, epochs: 10 };

const ACTOR_INPUT = 6;
const CRITIC_INPUT = 14;
const SEED = 2024;
const LOSS: ActorLoss = { kind: 'ppo-clip', clipEpsilon: 0.2 };

export interface ReferenceTimings {
  readonly gflopPerUpdate: number;
  /** Seconds of each timed update, after one warm-up update of one epoch. */
  readonly seconds: number[];
}

/** Times `repeats` reference updates of `size` on `pool` (its backend already selected). */
export async function timeReferenceUpdate(pool: UpdatePool, size: ReferenceSize = REFERENCE_SIZE, repeats = 1): Promise<ReferenceTimings> {
  const reference = referenceNetworks();
  const gflopPerUpdate =
    (6 * (reference.actor.layout.multiplyAddsPerSample + reference.critic.layout.multiplyAddsPerSample) * REFERENCE_AGENTS * size.samplesPerAgent * size.epochs) / 1e9;
  const data = ringBatches(reference, size.samplesPerAgent);
  reference.dispose();
  const schedule: UpdateSchedule = { epochs: size.epochs, minibatches: 1, learningRate: 1e-3 };
  // Warm-up: JIT, wasm memory growth, worker start-up, shader compilation.
  await update(pool, referenceNetworks(), data, { ...schedule, epochs: 1 });
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const target = referenceNetworks();
    const start = performance.now();
    await update(pool, target, data, schedule);
    seconds.push((performance.now() - start) / 1000);
    target.dispose();
  }
  return { gflopPerUpdate, seconds };
}

function referenceNetworks(): AgentNetworks {
  return new AgentNetworks({ agents: REFERENCE_AGENTS, actorInputSize: ACTOR_INPUT, criticInputSize: CRITIC_INPUT, head: { kind: 'gaussian', actionSize: 1 }, seed: SEED });
}

/** One DPPO update: the actors and critics of all agents (workers run both concurrently). */
async function update(pool: UpdatePool, networks: AgentNetworks, data: { actor: ActorBatch; critic: CriticBatch }, schedule: UpdateSchedule): Promise<void> {
  await Promise.all([pool.updateActors(networks, data.actor, LOSS, schedule), pool.updateCritics(networks, data.critic, schedule)]);
}

/** Ring-shaped data: observations in the scale of normalised speeds and headways, actions from the policy. */
function ringBatches(networks: AgentNetworks, samples: number): { actor: ActorBatch; critic: CriticBatch } {
  const rng = new RngStreams(1);
  rng.seed(0, SEED);
  const rows = REFERENCE_AGENTS * samples;
  const observations = Float32Array.from({ length: rows * ACTOR_INPUT }, () => rng.uniform(0));
  const oldOutput = networks.evaluateActor(observations, samples);
  const oldLogStd = new Float32Array(REFERENCE_AGENTS).fill(-0.5);
  const actions = Float32Array.from(oldOutput, (mean) => mean + Math.exp(-0.5) * rng.normal(0));
  const advantages = Float32Array.from({ length: rows }, () => rng.normal(0));
  const criticObservations = Float32Array.from({ length: rows * CRITIC_INPUT }, () => rng.uniform(0));
  const returns = Float32Array.from({ length: rows }, () => rng.normal(0));
  return {
    actor: { samples, observations, actions, advantages, oldOutput, oldLogStd },
    critic: { samples, observations: criticObservations, returns },
  };
}
