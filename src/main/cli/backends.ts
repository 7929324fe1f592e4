/**
 * `headway backends [--json]`: the backend doctor. Every tensor backend with whether it is
 * installed, whether it loads here, its device (WebGPU adapter, CUDA GPU or CPU), its
 * self-check against the cpu backend (largest error), and its speed on the reference DPPO
 * update in the formulation it trains with (batched on GPUs, per-agent on CPUs); then the
 * backend 'auto' picks and why.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { BACKEND_CHOICES, probeBackend, selectBackend, type BackendName, type BackendProbe } from '../rl/nn/backend.ts';
import type { UpdateFormulation } from '../rl/nn/formulation.ts';
import { REFERENCE_AGENTS, REFERENCE_SIZE, timeReferenceUpdate, type ReferenceSize } from '../rl/parallel/referenceUpdate.ts';
import { createUpdatePool } from '../rl/parallel/updatePool.ts';
import { backendChecksPath } from '../store/paths.ts';

/** Measured on the cpu backend instead of the reference: 1/100 of its work (minutes otherwise). */
const CPU_SIZE: ReferenceSize = { samplesPerAgent: 300, epochs: 1 };
/** On a software WebGPU adapter: 1/1000 (SwiftShader takes about 50 s for CPU_SIZE on 2 cores). */
const SOFTWARE_SIZE: ReferenceSize = { samplesPerAgent: 30, epochs: 1 };

export interface BackendSpeed {
  readonly gflops: number;
  readonly seconds: number;
  /** The update measured: the reference is 22 agents x 3000 samples x 10 epochs. */
  readonly agents: number;
  readonly samplesPerAgent: number;
  readonly epochs: number;
  readonly threads: number;
  /** How the update's gradient evaluations ran: the backend's own (batched on GPUs), unless forced. */
  readonly formulation: UpdateFormulation;
}

export interface BackendDoctorRow extends BackendProbe {
  /** Null where it did not pass its self-check, or with --no-speed. */
  readonly speed: BackendSpeed | null;
}

export interface BackendDoctorReport {
  readonly backends: BackendDoctorRow[];
  /** What 'auto' picks here, and why. */
  readonly auto: string;
}

export function registerBackendsCommand(program: Command): void {
  program
    .command('backends')
    .description('list the tensor backends: installed, loads, device, self-check, speed on the reference DPPO update')
    .option('--json', 'print one JSON object')
    .option('--no-speed', 'skip the speed measurement (seconds to minutes per backend)')
    .addHelpText(
      'after',
      `\nSpeed: GFLOP/s on the reference DPPO update (${REFERENCE_AGENTS} agents, ${REFERENCE_SIZE.samplesPerAgent} samples, ${REFERENCE_SIZE.epochs} epochs) ` +
        'in the formulation the backend trains with (batched on GPUs, per-agent on CPUs); ' +
        `on cpu and for batched updates on a CPU ${CPU_SIZE.samplesPerAgent} samples and ${CPU_SIZE.epochs} epoch, on software WebGPU adapters ${SOFTWARE_SIZE.samplesPerAgent} and ${SOFTWARE_SIZE.epochs} (the size measured is printed).` +
        '\nWebGPU on Linux without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, from the chromium package).',
    )
    .action(async (options: { json?: boolean; speed: boolean }) => {
      const report = await backendDoctor(options.speed, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(options.json === true ? `${JSON.stringify(report)}\n` : formatBackendDoctor(report));
    });
}

export async function backendDoctor(measureSpeed: boolean, log: (line: string) => void = () => {}): Promise<BackendDoctorReport> {
  const checkCache = backendChecksPath();
  const backends: BackendDoctorRow[] = [];
  for (const backend of BACKEND_CHOICES.filter((choice): choice is BackendName => choice !== 'auto')) {
    log(`${backend}...`);
    const probe = await probeBackend(backend, checkCache);
    const speed = measureSpeed && probe.selfCheck?.passed === true ? await measureBackend(backend, probe.software, checkCache) : null;
    backends.push({ ...probe, speed });
  }
  const auto = await selectBackend('auto', { checkCache });
  return { backends, auto: auto.description };
}

/**
 * The reference update's speed on `backend` (its self-check passed), in `formulation` or the
 * backend's own. Smaller sizes where the full update takes minutes: the cpu backend, software
 * adapters, and the batched formulation on a CPU backend (wasm runs batched matMuls in a
 * scalar loop).
 */
export async function measureBackend(backend: BackendName, software: boolean, checkCache: string | null, formulation?: UpdateFormulation): Promise<BackendSpeed> {
  const pool = await createUpdatePool({ backend, threads: availableParallelism(), checkCache, formulation });
  try {
    const onCpu = pool.backend.device === 'CPU';
    const size = software ? SOFTWARE_SIZE : backend === 'cpu' || (onCpu && pool.formulation === 'batched') ? CPU_SIZE : REFERENCE_SIZE;
    const { gflopPerUpdate, seconds } = await timeReferenceUpdate(pool, size);
    return { gflops: round(gflopPerUpdate / seconds[0]), seconds: round(seconds[0]), agents: REFERENCE_AGENTS, ...size, threads: pool.threads, formulation: pool.formulation };
  } finally {
    await pool.close();
  }
}

export function formatBackendDoctor(report: BackendDoctorReport): string {
  const rows = [['backend', 'installed', 'loads', 'device', 'self-check (largest error)', 'GFLOP/s (update measured)']];
  for (const row of report.backends) {
    const check = row.selfCheck === null ? '-' : `${row.selfCheck.passed ? 'passed' : 'FAILED'} (${row.selfCheck.largestError.toExponential(1)})`;
    const speed = row.speed === null ? '-' : `${row.speed.gflops} (${row.speed.formulation}, ${row.speed.agents} agents x ${row.speed.samplesPerAgent} samples x ${plural(row.speed.epochs, 'epoch')}, ${plural(row.speed.threads, 'thread')}: ${row.speed.seconds} s)`;
    rows.push([row.backend, row.installed ? 'yes' : 'no', row.loads ? 'yes' : 'no', row.device ?? '-', check, speed]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  const notes = report.backends.filter((row) => row.note !== '').map((row) => `${row.backend}: ${row.note}`);
  return `${[...lines, '', ...notes, '', `auto picks: ${report.auto}`].join('\n')}\n`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
