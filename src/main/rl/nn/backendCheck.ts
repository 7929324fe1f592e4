/**
 * The self-check a backend passes before it is chosen: a tiny update (a few gradient-descent
 * steps of a small MLP through the update's own kernels: fused matMul with bias and ReLU,
 * transposes, step, concat, asynchronous reads) on it must match the same update on the
 * cpu backend within SELF_CHECK_TOLERANCE. A driver that miscompiles a shader, or a native
 * build against another CUDA, fails here instead of training garbage.
 *
 * Results are cached in a JSON file (the caller names it: the CLI and the app use the
 * Headway data folder), keyed by backend, device, Headway and tfjs versions, platform and
 * host, so a machine pays for each check once per version.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { APP_VERSION } from '../../version.ts';
import { createMlpBatch, disposeMlpBatch, mlpGradient } from './fastMlp.ts';
import { initialParameters, MlpLayout } from './parameters.ts';

/** Largest allowed error, relative to the largest reference value of the same quantity. */
export const SELF_CHECK_TOLERANCE = 1e-4;

export interface SelfCheckResult {
  readonly passed: boolean;
  /** Largest relative difference from the cpu reference over every gradient step. */
  readonly largestError: number;
  /** Why it failed (empty when it passed). */
  readonly failure: string;
  /** Whether this result came from the cache file rather than a run now. */
  readonly cached: boolean;
}

const SHAPE = { inputSize: 6, hiddenSizes: [16, 16], outputSize: 2, extraSize: 0 } as const;
const ROWS = 48;
const STEPS = 3;
const LEARNING_RATE = 0.05;

/** Results already known in this thread, by cache key. */
const known = new Map<string, SelfCheckResult>();

/**
 * Checks the backend now active (tf.getBackend()) against cpu, or returns the cached result.
 * `device` names the hardware behind it (adapter, CUDA or CPU) and is part of the key.
 * The active backend is active again afterwards.
 */
export async function selfCheck(device: string, cacheFile: string | null): Promise<SelfCheckResult> {
  const backend = tf.getBackend();
  const key = [backend, device, `headway ${APP_VERSION}`, `tfjs ${tf.version_core}`, `${process.platform}-${process.arch}`, hostname()].join(' | ');
  const stored = cacheFile === null ? undefined : readCache(cacheFile)[key];
  if (stored !== undefined) return { ...stored, cached: true };
  const remembered = known.get(key);
  const result = remembered ?? (await compareWithCpu(backend));
  known.set(key, result);
  // A crash or NaN is not cached: JSON cannot hold it, and it may not recur.
  if (cacheFile !== null && Number.isFinite(result.largestError)) writeCache(cacheFile, key, result);
  return { ...result, cached: remembered !== undefined };
}

async function compareWithCpu(backend: string): Promise<SelfCheckResult> {
  let candidate: Float32Array[];
  try {
    candidate = await tinyUpdate();
  } catch (error) {
    return { passed: false, largestError: Infinity, failure: `the tiny update failed (${firstLine(error)})`, cached: false };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error("the 'cpu' backend failed to start");
  // Its first-use banner recommends tfjs-node, which selection has already tried.
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
  const reference = await tinyUpdate();
  if (!(await tf.setBackend(backend))) throw new Error(`the '${backend}' backend failed to restart after its self-check`);
  let largestError = 0;
  candidate.forEach((values, k) => {
    const scale = Math.max(...Array.from(reference[k], Math.abs));
    for (let i = 0; i < values.length; i++) {
      const error = Math.abs(values[i] - reference[k][i]) / scale;
      // NaN compares false: count it as the worst error
      largestError = error <= largestError ? largestError : error;
    }
  });
  const passed = largestError <= SELF_CHECK_TOLERANCE;
  const failure = passed ? '' : `its tiny update differs from the cpu backend's by ${largestError.toExponential(2)} (allowed ${SELF_CHECK_TOLERANCE})`;
  return { passed, largestError, failure, cached: false };
}

/** STEPS gradient-descent steps on a squared error; returns every step's gradient, then the final parameters. */
async function tinyUpdate(): Promise<Float32Array[]> {
  const layout = new MlpLayout(SHAPE);
  const params = initialParameters(layout, 17);
  const inputs = new Float32Array(ROWS * SHAPE.inputSize);
  for (let k = 0; k < inputs.length; k++) inputs[k] = Math.sin(0.37 * k + 0.1) * 2;
  const batch = createMlpBatch(inputs, ROWS, SHAPE.inputSize);
  const dOutput = new Float32Array(ROWS * SHAPE.outputSize);
  const gradients: Float32Array[] = [];
  try {
    for (let step = 0; step < STEPS; step++) {
      const gradient = new Float32Array(layout.size);
      await mlpGradient(
        layout,
        params,
        batch,
        (output) => {
          // d/dOutput of the mean squared distance to the target cos(k)
          for (let k = 0; k < output.length; k++) dOutput[k] = (2 * (output[k] - Math.cos(k))) / output.length;
          return dOutput;
        },
        gradient,
      );
      for (let k = 0; k < params.length; k++) params[k] -= LEARNING_RATE * gradient[k];
      gradients.push(gradient);
    }
  } finally {
    disposeMlpBatch(batch);
  }
  return [...gradients, params];
}

function readCache(file: string): Record<string, SelfCheckResult> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, SelfCheckResult>) : {};
  } catch {
    // missing or unreadable: checks run again and rewrite it
    return {};
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
function writeCache(file: string, key: string, result: SelfCheckResult): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ ...readCache(file), [key]: { ...result, cached: true } }, null, 2));
    renameSync(temporary, file);
  } catch {
    // A read-only data folder only costs the check again next time.
  }
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
