/**
 * Speed of the reference DPPO update (src/main/rl/parallel/referenceUpdate.ts: 22 agents,
 * 3000 samples per agent, 10 full-batch epochs, 38.0 GFLOP) on one thread and on two update
 * workers.
 *
 * Timings on a shared machine are noisy: each configuration runs `repeats` times and both
 * the median and the best run are reported, with the load average before the runs.
 *
 * Standalone: `npx tsx bench/rl-update.ts` prints the figures as JSON.
 */
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { selectBackend, type BackendChoice } from '../src/main/rl/nn/backend.ts';
import { REFERENCE_AGENTS, REFERENCE_SIZE, timeReferenceUpdate } from '../src/main/rl/parallel/referenceUpdate.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';

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

const BAR_GFLOPS = 8;

export async function rlUpdateBench(options: RlUpdateBenchOptions = {}): Promise<RlUpdateBenchFigures> {
  const repeats = options.repeats ?? 3;
  const size = { epochs: options.epochs ?? REFERENCE_SIZE.epochs, samplesPerAgent: options.samplesPerAgent ?? REFERENCE_SIZE.samplesPerAgent };
  const backend = await selectBackend(options.backend ?? 'auto');
  const loadAverageBefore = loadavg()[0];
  let gflopPerUpdate = 0;

  const measure = async (threads: number): Promise<ThreadFigures> => {
    const trainer = await createUpdatePool({ threads, backend: options.backend ?? 'auto' });
    try {
      const timings = await timeReferenceUpdate(trainer, size, repeats);
      gflopPerUpdate = timings.gflopPerUpdate;
      const seconds = timings.seconds;
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
    agents: REFERENCE_AGENTS,
    ...size,
    gflopPerUpdate: round3(gflopPerUpdate),
    cpus: availableParallelism(),
    loadAverageBefore: round3(loadAverageBefore),
    singleThread,
    twoWorkers,
    bar: BAR_GFLOPS,
    meetsBar: backend.backend === 'wasm' && twoWorkers.gflops >= BAR_GFLOPS,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await rlUpdateBench(), null, 2)}\n`);
}
