/**
 * The benchmark suite behind `headway bench` and `npm run bench`: one JSON object with the
 * machine, the simulator figures, and (as the other parts land) learner and store figures.
 */
import { arch, cpus, platform, totalmem } from 'node:os';
import { learnerThroughput, type LearnerThroughput } from './learn.ts';
import { dmpoAuthorsBench } from './rl-dmpo-model.ts';
import { rlUpdateBench } from './rl-update.ts';
import { simulatorBench } from './sim.ts';
import { storeBench } from './store.ts';
import { compareBench } from './compare.ts';
import { replayBench } from './replay.ts';
import { uiBench } from './ui.ts';
import { backendDoctor, measureBackend, type BackendSpeed } from '../src/main/cli/backends.ts';
import { formulationFor, UPDATE_FORMULATIONS } from '../src/main/rl/nn/formulation.ts';
import { backendChecksPath } from '../src/main/store/paths.ts';
import { BENCH_PARTS, type BenchPart } from '../src/main/cli/bench.ts';

export { BENCH_PARTS, type BenchPart };

export interface BenchReport {
  machine: Record<string, unknown>;
  simulator?: Record<string, { vehicleStepsPerSecond: number; envs: number }>;
  peakMemory: { rssMiB: number; heapUsedMiB: number };
  [part: string]: unknown;
}

export async function runBench(only: readonly BenchPart[] = BENCH_PARTS, log: (line: string) => void = () => {}): Promise<BenchReport> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const sampler = setInterval(sample, 50);
  const report: BenchReport = {
    machine: { node: process.version, platform: platform(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemMiB: Math.round(totalmem() / 2 ** 20) },
    peakMemory: { rssMiB: 0, heapUsedMiB: 0 },
  };
  try {
    if (only.includes('sim')) {
      log('simulator...');
      report.simulator = simulatorBench();
      sample();
    }
    if (only.includes('learn')) {
      log('learners...');
      const learner: Record<string, unknown> = {};
      for (const [algo, scenario] of [['dppo', 'ring'], ['dppo', 'cacc-catchup'], ['ippo', 'figure-eight'], ['dmpo', 'ring'], ['dmpo', 'cacc-catchup'], ['dsac', 'cacc-catchup'], ['dmpo-sac', 'cacc-catchup'], ['ic3net', 'ring'], ['ic3net', 'cacc-catchup']] as const) {
        learner[`${algo}@${scenario}`] = await learnerThroughput(algo, scenario, algo === 'dmpo' || algo === 'dmpo-sac' ? 2 : 3);
      }
      // Issue 12's target: DMPO at least 1/3 of DPPO's env steps/s, both measured above in this run.
      const steps = (key: string): number => (learner[key] as LearnerThroughput).envStepsPerSecond;
      learner['dmpo/dppo env steps per second'] = Object.fromEntries(
        (['ring', 'cacc-catchup'] as const).map((scenario) => [scenario, Math.round((1000 * steps(`dmpo@${scenario}`)) / steps(`dppo@${scenario}`)) / 1000]),
      );
      log("DMPO unit costs beside the authors'...");
      learner['dmpo@cacc-catchup vs authors'] = await dmpoAuthorsBench();
      log('DPPO update GFLOP/s...');
      const update = await rlUpdateBench();
      learner['dppo-update@ring'] = update;
      Object.assign(learner['dppo@ring'] as object, { updateGflops: update.twoWorkers.gflops });
      log('DPPO update per backend present...');
      learner['dppo-update@ring by backend'] = await updateByBackend(log);
      report.learner = learner;
    }
    if (only.includes('store')) {
      log('store...');
      report.store = storeBench();
    }
    if (only.includes('ui')) {
      log('3D view (Chromium)...');
      report.ui = await uiBench(log);
    }
    if (only.includes('history')) {
      log('replay (Chromium)...');
      const replay = await replayBench(log);
      log('run comparison (Chromium)...');
      report.history = { replay, compare: await compareBench(log) };
    }
  } finally {
    clearInterval(sampler);
  }
  sample();
  report.peakMemory = { rssMiB: Math.round(peakRss / 2 ** 20), heapUsedMiB: Math.round(peakHeap / 2 ** 20) };
  return report;
}

/** Human-readable tables of a report. */
export function formatBenchReport(report: BenchReport): string {
  const lines: string[] = [];
  if (report.simulator) {
    lines.push('simulator                      envs   vehicle-steps/s');
    for (const [key, figure] of Object.entries(report.simulator)) {
      lines.push(`${key.padEnd(30)} ${String(figure.envs).padStart(4)}   ${figure.vehicleStepsPerSecond.toLocaleString('en-US').padStart(15)}`);
    }
  }
  for (const part of ['learner', 'store', 'ui', 'history'] as const) {
    if (report[part]) lines.push(`${part}: ${JSON.stringify(report[part], null, 2)}`);
  }
  lines.push(`peak memory: rss ${report.peakMemory.rssMiB} MiB, heap ${report.peakMemory.heapUsedMiB} MiB`);
  return `${lines.join('\n')}\n`;
}

/**
 * The reference DPPO update on every backend that loads and passes its self-check here, in
 * each formulation (per-agent and batched; `headway backends` measures only the one a backend
 * trains with): the size measured is in each entry, smaller on cpu, for the batched
 * formulation on CPU backends, and on software adapters. A WebGPU adapter counts only where
 * Dawn finds one (VK_ICD_FILENAMES).
 */
async function updateByBackend(log: (line: string) => void): Promise<Record<string, unknown>> {
  const { backends } = await backendDoctor(false, log);
  const checkCache = backendChecksPath();
  const figures: Record<string, unknown> = {};
  for (const row of backends.filter((candidate) => candidate.selfCheck?.passed === true)) {
    const formulations: Record<string, BackendSpeed> = {};
    for (const formulation of UPDATE_FORMULATIONS) {
      log(`${row.backend}, ${formulation}...`);
      formulations[formulation] = await measureBackend(row.backend, row.software, checkCache, formulation);
    }
    figures[row.backend] = { device: row.device, software: row.software, largestError: row.selfCheck?.largestError, trainsWith: formulationFor({ backend: row.backend, device: row.device ?? '' }), ...formulations };
  }
  return figures;
}
