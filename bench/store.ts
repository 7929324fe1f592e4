/**
 * Run-store costs, on a fresh database in the temp folder:
 * - writing one iteration's metrics (14 global series + 4 per agent for 22 agents), alone
 *   and with a 2.5 MB periodic checkpoint (a DMPO-sized set of 22 actor-critics with Adam
 *   state), each in its one transaction;
 * - recording a 3000-step ring evaluation episode (3001 frames with the reset state; 22
 *   vehicles, 22 agents, obsDim 2, continuous actions with 2 distribution parameters, 2
 *   reward terms) from float64 env-style buffers;
 * - reading a 300-step range of it for replay (target < 50 ms), and the whole episode;
 * - database bytes per stored episode-step, measured as file growth;
 * - a run bundle of one run with one such episode: its export, its size, and its import into
 *   another database (what a sweep's coordinator does for every finished run).
 * The store's share of training time is (metrics + checkpoint + episode) per iteration over
 * the iteration's duration: `envStepsPerSecondAt5Percent` is the training speed up to which
 * a 3000-step iteration with all three stays under 5%.
 *
 * Standalone: `npx tsx bench/store.ts` prints the figures as JSON.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunStore } from '../src/main/store/index.ts';
import type { StoredEpisodeSpec, TrajectoryStepInput } from '../src/shared/runs.ts';
import { ringEpisodeSpec } from '../tests/fixtures/store/ringEpisode.ts';

export interface StoreBenchFigures {
  metricsPerIterationMs: number;
  metricsAndCheckpointPerIterationMs: number;
  checkpointBytes: number;
  episodeFrames: number;
  episodeWriteMs: number;
  episodeWriteUsPerStep: number;
  read300StepsMs: { first: number; median: number; max: number };
  readWholeEpisodeMs: number;
  bytesPerEpisodeStep: number;
  chunkSteps: number;
  envStepsPerSecondAt5Percent: number;
  bundle: { episodeFrames: number; bytes: number; exportMs: number; importMs: number };
}

const N = 22;
const FRAMES = 3001;
const CHECKPOINT_BYTES = 2.5 * 2 ** 20;

const RING_EPISODE: StoredEpisodeSpec = ringEpisodeSpec(N);

function iterationValues(iteration: number): Record<string, number> {
  const values: Record<string, number> = {};
  const global = ['return', 'length', 'collisions', 'meanSpeed', 'loss', 'policyLoss', 'valueLoss', 'entropy', 'kl', 'clipFraction', 'lr', 'gradNorm', 'stepsPerSecond', 'wallTime'];
  for (const name of global) values[name] = Math.sin(iteration + name.length);
  for (let agent = 0; agent < N; agent++) {
    for (const name of ['return', 'policyLoss', 'valueLoss', 'entropy']) values[`${name}/agent${agent}`] = Math.cos(iteration * agent);
  }
  return values;
}

const FRAME_BANK = 64;

/** Env-style float64 step buffers, prepared beforehand so that only the store is timed. */
function makeFrameBank(): TrajectoryStepInput[] {
  return Array.from({ length: FRAME_BANK }, (_, t) => {
    const values = (length: number) => Float64Array.from({ length }, (_, k) => Math.sin(t * 0.01 + k) * 10);
    return {
      position: values(N),
      speed: values(N),
      accel: values(N),
      gap: values(N),
      vehicleAction: values(N),
      agentAction: values(N),
      reward: values(N),
      value: values(N),
      obs: values(2 * N),
      actionParams: values(2 * N),
      rewardTerms: values(2 * N),
    };
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function recordEpisode(store: RunStore, runId: number, iteration: number, bank: TrajectoryStepInput[]): { id: number; ms: number; chunkSteps: number } {
  const start = performance.now();
  const writer = store.beginEpisode(runId, { ...RING_EPISODE, iteration });
  for (let t = 0; t < FRAMES; t++) writer.append(bank[t % FRAME_BANK]);
  const { id } = writer.finish();
  return { id, ms: performance.now() - start, chunkSteps: writer.chunkSteps };
}

/** Exports a run holding one 3000-step ring episode to a bundle, and times importing it into another database. */
function bundleFigures(folder: string, bank: TrajectoryStepInput[]): StoreBenchFigures['bundle'] {
  const source = RunStore.open(join(folder, 'bundle-source.db'));
  const runId = source.createRun({ scenario: 'ring', params: { length: 230 }, algo: 'ippo', config: {}, seed: 1, appVersion: 'bench' }).id;
  recordEpisode(source, runId, 1, bank);
  source.updateStatus(runId, 'finished');
  const exportStart = performance.now();
  const { file, bytes } = source.exportBundle([runId], join(folder, 'bundle.db'));
  const exportMs = performance.now() - exportStart;
  source.close();
  const target = RunStore.open(join(folder, 'bundle-target.db'));
  const importStart = performance.now();
  target.importBundle(file);
  const importMs = performance.now() - importStart;
  target.close();
  return { episodeFrames: FRAMES, bytes, exportMs: round(exportMs), importMs: round(importMs) };
}

export function storeBench(): StoreBenchFigures {
  const folder = mkdtempSync(join(tmpdir(), 'headway-bench-store-'));
  const file = join(folder, 'bench.db');
  try {
    let store = RunStore.open(file);
    const runId = store.createRun({ scenario: 'ring', params: {}, algo: 'dmpo', config: {}, seed: 1, appVersion: 'bench' }).id;

    let iteration = 0;
    const metricsMs: number[] = [];
    for (let k = 0; k < 30; k++) {
      iteration++;
      const start = performance.now();
      store.appendMetrics(runId, iteration, iteration * 3000, iteration, iterationValues(iteration));
      metricsMs.push(performance.now() - start);
    }
    const checkpoint = new Uint8Array(CHECKPOINT_BYTES).map((_, i) => (i * 7919) & 255);
    const withCheckpointMs: number[] = [];
    for (let k = 0; k < 8; k++) {
      iteration++;
      const start = performance.now();
      store.recordIteration(runId, {
        iteration,
        envSteps: iteration * 3000,
        wallTimeS: iteration,
        values: iterationValues(iteration),
        checkpoints: [{ iteration, envSteps: iteration * 3000, kind: 'periodic', data: checkpoint, keepPeriodic: 3 }],
      });
      withCheckpointMs.push(performance.now() - start);
    }

    const bank = makeFrameBank();
    recordEpisode(store, runId, 0, bank); // warm up the JIT
    // Closing checkpoints the WAL into the file, so file sizes before and after compare.
    store.close();
    const sizeBefore = statSync(file).size;
    store = RunStore.open(file);
    const episodes = [1, 2, 3, 4, 5].map((k) => recordEpisode(store, runId, k, bank));
    store.close();
    const bytesPerEpisodeStep = (statSync(file).size - sizeBefore) / (episodes.length * FRAMES);

    store = RunStore.open(file, { readOnly: true });
    const target = episodes[2].id;
    const reads: number[] = [];
    for (let k = 0; k < 25; k++) {
      const from = 100 + ((k * 997) % 2500);
      const start = performance.now();
      const frames = store.readSteps(target, from, from + 300);
      reads.push(performance.now() - start);
      if (frames.length !== 300) throw new Error(`read ${frames.length} frames, expected 300`);
    }
    const wholeStart = performance.now();
    store.readSteps(target, 0, FRAMES);
    const readWholeEpisodeMs = performance.now() - wholeStart;
    store.close();

    const bundle = bundleFigures(folder, bank);

    const episodeWriteMs = median(episodes.map((e) => e.ms));
    const perIterationMs = median(withCheckpointMs) + episodeWriteMs;
    return {
      metricsPerIterationMs: round(median(metricsMs)),
      metricsAndCheckpointPerIterationMs: round(median(withCheckpointMs)),
      checkpointBytes: CHECKPOINT_BYTES,
      episodeFrames: FRAMES,
      episodeWriteMs: round(episodeWriteMs),
      episodeWriteUsPerStep: round((episodeWriteMs * 1000) / FRAMES),
      read300StepsMs: { first: round(reads[0]), median: round(median(reads)), max: round(Math.max(...reads)) },
      readWholeEpisodeMs: round(readWholeEpisodeMs),
      bytesPerEpisodeStep: Math.round(bytesPerEpisodeStep),
      chunkSteps: episodes[0].chunkSteps,
      envStepsPerSecondAt5Percent: Math.round((0.05 * (FRAMES - 1)) / (perIterationMs / 1000)),
      bundle,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(storeBench(), null, 2)}\n`);
}
