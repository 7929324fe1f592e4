/**
 * A backend that computes wrongly is skipped. Its own file: the self-check results a thread
 * has seen are remembered, and here wasm must be checked afresh, with a broken kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { BackendUnavailableError, isInstalled, selectBackend } from '../../../../src/main/rl/nn/backend.ts';

// Where native TensorFlow is installed, auto would pick it before wasm.
const nativeInstalled = isInstalled('@tensorflow/tfjs-node') || isInstalled('@tensorflow/tfjs-node-gpu');

const original = tf.getKernel('Step', 'wasm');
afterAll(() => {
  tf.unregisterKernel('Step', 'wasm');
  if (original !== undefined) tf.registerKernel(original);
});

it.skipIf(nativeInstalled)('skips a backend whose tiny update differs from the cpu backend, with a one-line reason', async () => {
  expect(original).toBeDefined();
  // ReLU's backward letting every gradient through: a subtle bug of the kind the check is for
  tf.unregisterKernel('Step', 'wasm');
  const onesLike = tf.getKernel('OnesLike', 'wasm')!.kernelFunc;
  tf.registerKernel({ kernelName: 'Step', backendName: 'wasm', kernelFunc: ({ inputs, backend }) => onesLike({ inputs, backend, attrs: {} }) });

  // synchronous: no WebGPU adapter (a GPU on this machine) comes before wasm
  const report = await selectBackend('auto', { synchronous: true });
  expect(report.backend).toBe('cpu');
  expect(report.reason).toMatch(/wasm on CPU failed its self-check: its tiny update differs from the cpu backend's by \d\.\d\de[+-]\d+ \(allowed 0\.0001\)/);
  expect(report.description).not.toContain('\n');
  await expect(selectBackend('wasm')).rejects.toBeInstanceOf(BackendUnavailableError);
  await expect(selectBackend('wasm')).rejects.toThrow(/^backend 'wasm' was requested but cannot start: wasm on CPU failed its self-check/);
});
