/** Synthetic data for the DMPO local models' tests. */
import type { RealEpisode } from '../../../../../src/main/rl/learners/dmpo/episodes.ts';
import type { WindowBatch } from '../../../../../src/main/rl/learners/dmpo/gcn.ts';
import type { ModelSystem } from '../../../../../src/main/rl/learners/dmpo/gcnLayout.ts';
import type { LossWeights } from '../../../../../src/main/rl/learners/dmpo/gcnLoss.ts';
import { LocalModels } from '../../../../../src/main/rl/learners/dmpo/localModel.ts';
import { RngStreams } from '../../../../../src/main/sim/rng.ts';

export function rngFrom(seed: number): RngStreams {
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  return rng;
}

/** A synthetic episode with random values (terminals included), for the math tests. */
export function randomEpisode(system: ModelSystem, length: number, seed: number): RealEpisode {
  const rng = rngFrom(seed);
  const n = system.graph.n;
  return {
    length,
    observations: Float32Array.from({ length: (length + 1) * n * system.obsDim }, () => rng.normal(0)),
    actions: Float32Array.from({ length: length * n }, () => (system.action.kind === 'discrete' ? rng.integer(0, 0, system.action.n - 1) : rng.normal(0))),
    rewards: Float32Array.from({ length: length * n }, () => rng.normal(0)),
    terminals: Uint8Array.from({ length: length * n }, () => (rng.uniform(0) < 0.3 ? 1 : 0)),
  };
}

/** `windows` windows of `steps` transitions from a random episode (seeded by `seed`). */
export function randomWindows(system: ModelSystem, seed: number, windows: number, steps: number): WindowBatch {
  const fifo = new LocalModels(system, { bufferEpisodes: 1 }).episodes;
  fifo.add(randomEpisode(system, steps + 6, seed));
  return fifo.sampleWindows(windows, steps, rngFrom(seed + 1), 0);
}

/** Rewrites one named parameter segment of one agent: value(index within the segment, current value). */
export function setSegment(models: LocalModels, agent: number, name: string, value: (k: number, current: number) => number): void {
  const segment = models.segments(agent).find((s) => s.name === name);
  if (segment === undefined) throw new Error(`no segment ${name}`);
  const size = segment.shape.reduce((a, b) => a * b, 1);
  const params = models.parameters[agent];
  for (let k = 0; k < size; k++) params[segment.offset + k] = value(k, params[segment.offset + k]);
}

/** Loss weights that differ per state column and per agent's reward, so a test sees each weight used where it belongs. */
export function unevenLossWeights(shape: { agents: number; obsDim: number }): LossWeights {
  return {
    state: Float32Array.from({ length: shape.agents * shape.obsDim }, (_, k) => 1 + 0.37 * k),
    reward: Float32Array.from({ length: shape.agents }, (_, i) => 10 / (1 + i)),
  };
}
