import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, describeAdapter, probeBackend, selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { SELF_CHECK_TOLERANCE } from '../../../../src/main/rl/nn/backendCheck.ts';

const requireHere = createRequire(import.meta.url);
function installed(name: string): boolean {
  try {
    requireHere.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

describe('selectBackend', () => {
  it.skipIf(nativeInstalled)('falls back to wasm and says why when no native TensorFlow is installed', async () => {
    const report = await selectBackend('auto');
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.reason).toContain('tfjs-node not installed');
    expect(report.description).toBe(`wasm on CPU (${report.reason})`);
    expect(report.reason).toMatch(/self-check passed \(largest error \d\.\de-\d+/);
    // wasm really computes (its binaries were found under node_modules)
    const product = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync());
    expect(Array.from(product)).toEqual([3, 3, 3, 3]);
  });

  it.skipIf(nativeInstalled)("forcing 'tensorflow' without it installed is a clear error", async () => {
    const attempt = selectBackend('tensorflow');
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(attempt).rejects.toThrow(/backend 'tensorflow' was requested but cannot start: tfjs-node-gpu not installed; tfjs-node not installed\. Install/);
  });

  it('forces cpu, then auto switches back to the preferred backend', async () => {
    const cpu = await selectBackend('cpu');
    expect(cpu).toMatchObject({ backend: 'cpu', device: 'CPU', reason: 'forced', description: 'cpu on CPU (forced)' });
    expect(tf.getBackend()).toBe('cpu');
    const again = await selectBackend('auto');
    expect(again.backend).toBe(nativeInstalled ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(again.backend);
  });

  it('caches self-check results per backend, device and version in the given file', async () => {
    const cache = path.join(mkdtempSync(path.join(tmpdir(), 'headway-checks-')), 'backend-checks.json');
    const probe = await probeBackend('wasm', cache);
    expect(probe).toMatchObject({ backend: 'wasm', installed: true, loads: true, device: 'CPU', software: false, selfCheck: { passed: true } });
    expect(probe.selfCheck!.largestError).toBeLessThanOrEqual(SELF_CHECK_TOLERANCE);
    const stored = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, { passed: boolean }>;
    const [key] = Object.keys(stored);
    expect(key).toMatch(/^wasm \| CPU \| headway \S+ \| tfjs 4\.\d+\.\d+ \| \w+-\w+ \| /);
    expect(stored[key].passed).toBe(true);
    const cpu = await probeBackend('cpu', cache);
    // cpu is the reference: nothing to compare, nothing cached
    expect(cpu.selfCheck).toEqual({ passed: true, largestError: 0, cached: false });
  });
});

describe('describeAdapter', () => {
  it('names an adapter for people and recognises software emulations', () => {
    expect(describeAdapter({ info: { vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA H100' } })).toEqual({ name: 'NVIDIA H100', software: false });
    expect(describeAdapter({ info: { vendor: 'apple', architecture: 'metal-3' } })).toEqual({ name: 'apple metal-3', software: false });
    expect(describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } }).software).toBe(true);
    expect(describeAdapter({ info: { description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
    expect(describeAdapter({ info: { description: 'Some GPU', isFallbackAdapter: true } }).software).toBe(true);
    expect(describeAdapter({})).toEqual({ name: 'unnamed adapter', software: false });
  });
});
