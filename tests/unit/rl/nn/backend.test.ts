import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, selectBackend } from '../../../../src/main/rl/nn/backend.ts';

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
});
