import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatBackendDoctor, type BackendDoctorReport } from '../../../src/main/cli/backends.ts';
import { selectBackend } from '../../../src/main/rl/nn/backend.ts';
import { timeReferenceUpdate } from '../../../src/main/rl/parallel/referenceUpdate.ts';
import { createUpdatePool } from '../../../src/main/rl/parallel/updatePool.ts';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

// The self-check cache goes beside the database: a scratch folder, not the user's.
const previousDb = process.env.HEADWAY_DB;
process.env.HEADWAY_DB = join(tempDir(), 'headway.db');
afterAll(() => {
  if (previousDb === undefined) delete process.env.HEADWAY_DB;
  else process.env.HEADWAY_DB = previousDb;
});

describe('headway backends', () => {
  it('lists every backend with installed, loads, device and self-check, and what auto picks', async () => {
    const result = await runCliInProcess(['backends', '--json', '--no-speed']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as BackendDoctorReport;
    expect(report.backends.map((row) => row.backend)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    for (const backend of ['wasm', 'cpu']) {
      expect(report.backends.find((row) => row.backend === backend)).toMatchObject({ installed: true, loads: true, device: 'CPU', selfCheck: { passed: true }, speed: null });
    }
    const wasm = report.backends.find((row) => row.backend === 'wasm')!;
    expect(wasm.selfCheck!.largestError).toBeLessThan(1e-4);
    // the checks were cached beside the database
    expect(existsSync(join(process.env.HEADWAY_DB!, '..', 'backend-checks.json'))).toBe(true);
    expect(report.auto).toMatch(/self-check passed/);
  });

  it('prints a table, the notes and the pick', () => {
    const report: BackendDoctorReport = {
      backends: [
        { backend: 'webgpu', installed: true, loads: true, device: 'SwiftShader driver 5.0.0', software: true, selfCheck: { passed: true, largestError: 9.9e-8, cached: false }, note: 'software emulation: used only when asked for', speed: { gflops: 0.01, seconds: 4.2, agents: 22, samplesPerAgent: 30, epochs: 1, threads: 1, formulation: 'batched' } },
        { backend: 'tensorflow', installed: false, loads: false, device: null, software: false, selfCheck: null, note: 'not installed', speed: null },
      ],
      auto: 'wasm on CPU (first choice)',
    };
    const text = formatBackendDoctor(report);
    expect(text).toContain('webgpu      yes        yes    SwiftShader driver 5.0.0  passed (9.9e-8)');
    expect(text).toContain('0.01 (batched, 22 agents x 30 samples x 1 epoch, 1 thread: 4.2 s)');
    expect(text).toContain('tensorflow: not installed');
    expect(text).toMatch(/auto picks: wasm on CPU \(first choice\)\n$/);
  });

  it('times the reference update at a given size', async () => {
    await selectBackend('wasm');
    const pool = await createUpdatePool({ threads: 1, backend: 'wasm' });
    try {
      const timings = await timeReferenceUpdate(pool, { samplesPerAgent: 10, epochs: 1 }, 2);
      // 6 x (actor + critic multiply-adds per sample) x 22 agents x 10 samples
      expect(timings.gflopPerUpdate).toBeCloseTo((6 * ((6 * 64 + 64 * 64 + 64 * 1) + (14 * 64 + 64 * 64 + 64 * 1)) * 22 * 10) / 1e9, 9);
      expect(timings.seconds).toHaveLength(2);
      expect(timings.seconds.every((s) => s > 0)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
