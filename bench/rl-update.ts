/**
 * Speed of one DPPO update on ring, the workload of shared/notes/tfjs-wasm-performance.md:
 * 22 agents, each with its own actor (input 6 = N^1: 3 agents x 2 obs, 64-64, Gaussian
 * mean + log std) and critic (input 14 = kappa 3: 7 agents x 2 obs, 64-64, value), 3000
 * samples per agent, 10 full-batch epochs of PPO-clip and MSE with Adam.
 *
 * FLOPs are counted as the notes count them: forward + backward = 3 x forward, forward =
 * 2 x multiply-adds, i.e. 6 x (actor + critic multiply-adds per sample) x agents x samples x
 * epochs = 38.0 GFLOP. The timed work also includes what that count leaves out (the loss
 * math, Adam, the post-update diagnostics pass, and for workers the transfers), so the
 * figures are effective rates. The KL early stop is off so every run does the same work.
 *
 * Timings on a shared machine are noisy: each configuration runs `repeats` times and both
 * the median and the best run are reported, with the load average before the runs.
 *
 * Standalone: `npx tsx bench/rl-update.ts` prints the figures as JSON.
 */
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { AgentNetworks } from '../src/main/rl/nn/agentNetworks.ts';
import { selectBackend, type BackendChoice } from '../src/main/rl/nn/backend.ts';
import type { ActorBatch, CriticBatch } from '../src/main/rl/core/batches.ts';
import type { UpdateSchedule } from '../src/main/rl/core/optimiser.ts';
import type { ActorLoss } from '../src/main/rl/core/losses.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';
import { RngStreams } from '../src/main/sim/rng.ts';

export interface RlUpdateBenchOptions {
  readonly repeats?: number;
  readonly epochs?: number;
  readonly samplesPerAgent?: number;
  readonly backend?: BackendChoice;
}

export interface ThreadFigures {
  readonly threads: number;
  readonly seconds: number[];
  readonly medianSeconds: number;
  /** Effective GFLOP/s of the median run. */
  readonly gflops: number;
  readonly bestGflops: number;
}

export interface RlUpdateBenchFigures {
  readonly backend: string;
  readonly agents: number;
  readonly samplesPerAgent: number;
  readonly epochs: number;
  readonly gflopPerUpdate: number;
  readonly cpus: number;
  /** 1-minute load average before the runs: other work on the machine slows them. */
  readonly loadAverageBefore: number;
  readonly singleThread: ThreadFigures;
  readonly twoWorkers: ThreadFigures;
  /** The target: at least 8 GFLOP/s with both cores on wasm (median run). */
  readonly bar: number;
  readonly meetsBar: boolean;
}

const AGENTS = 22;
const ACTOR_INPUT = 6;
const CRITIC_INPUT = 14;
const SEED = 2024;
const BAR_GFLOPS = 8;

export async function rlUpdateBench(options: RlUpdateBenchOptions = {}): Promise<RlUpdateBenchFigures> {
  const repeats = options.repeats ?? 3;
  const epochs = options.epochs ?? 10;
  const samples = options.samplesPerAgent ?? 3000;
  const backend = await selectBackend(options.backend ?? 'auto');
  const networks = () =>
    new AgentNetworks({ agents: AGENTS, actorInputSize: ACTOR_INPUT, criticInputSize: CRITIC_INPUT, head: { kind: 'gaussian', actionSize: 1 }, seed: SEED });
  const reference = networks();
  const gflopPerUpdate =
    (6 * (reference.actor.layout.multiplyAddsPerSample + reference.critic.layout.multiplyAddsPerSample) * AGENTS * samples * epochs) / 1e9;
  const data = ringBatches(reference, samples);
  const loss: ActorLoss = { kind: 'ppo-clip', clipEpsilon: 0.2 };
  const schedule: UpdateSchedule = { epochs, minibatches: 1, learningRate: 1e-3 };
  const loadAverageBefore = loadavg()[0];

  const measure = async (threads: number): Promise<ThreadFigures> => {
    const trainer = await createUpdatePool({ threads, backend: options.backend ?? 'auto' });
    try {
      // Warm-up: JIT, wasm memory growth, worker start-up.
      await update(trainer, networks(), data, loss, { ...schedule, epochs: 1 });
      const seconds: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const target = networks();
        const start = performance.now();
        await update(trainer, target, data, loss, schedule);
        seconds.push((performance.now() - start) / 1000);
      }
      const sorted = [...seconds].sort((a, b) => a - b);
      const medianSeconds = sorted[Math.floor(sorted.length / 2)];
      return {
        threads,
        seconds: seconds.map(round3),
        medianSeconds: round3(medianSeconds),
        gflops: round3(gflopPerUpdate / medianSeconds),
        bestGflops: round3(gflopPerUpdate / sorted[0]),
      };
    } finally {
      await trainer.close();
    }
  };

  const singleThread = await measure(1);
  const twoWorkers = await measure(2);
  return {
    backend: backend.description,
    agents: AGENTS,
    samplesPerAgent: samples,
    epochs,
    gflopPerUpdate: round3(gflopPerUpdate),
    cpus: availableParallelism(),
    loadAverageBefore: round3(loadAverageBefore),
    singleThread,
    twoWorkers,
    bar: BAR_GFLOPS,
    meetsBar: backend.backend === 'wasm' && twoWorkers.gflops >= BAR_GFLOPS,
  };
}

/** One DPPO update: the actors and critics of all agents (workers run both concurrently). */
async function update(
  trainer: Awaited<ReturnType<typeof createUpdatePool>>,
  networks: AgentNetworks,
  data: { actor: ActorBatch; critic: CriticBatch },
  loss: ActorLoss,
  schedule: UpdateSchedule,
): Promise<void> {
  await Promise.all([trainer.updateActors(networks, data.actor, loss, schedule), trainer.updateCritics(networks, data.critic, schedule)]);
}

/** Ring-shaped data: observations in the scale of normalised speeds and headways, actions from the policy. */
function ringBatches(networks: AgentNetworks, samples: number): { actor: ActorBatch; critic: CriticBatch } {
  const rng = new RngStreams(1);
  rng.seed(0, SEED);
  const rows = AGENTS * samples;
  const observations = Float32Array.from({ length: rows * ACTOR_INPUT }, () => rng.uniform(0));
  const oldOutput = networks.evaluateActor(observations, samples);
  const oldLogStd = new Float32Array(AGENTS).fill(-0.5);
  const actions = Float32Array.from(oldOutput, (mean) => mean + Math.exp(-0.5) * rng.normal(0));
  const advantages = Float32Array.from({ length: rows }, () => rng.normal(0));
  const criticObservations = Float32Array.from({ length: rows * CRITIC_INPUT }, () => rng.uniform(0));
  const returns = Float32Array.from({ length: rows }, () => rng.normal(0));
  return {
    actor: { samples, observations, actions, advantages, oldOutput, oldLogStd },
    critic: { samples, observations: criticObservations, returns },
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await rlUpdateBench(), null, 2)}\n`);
}
