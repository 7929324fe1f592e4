/**
 * Picks the TensorFlow.js backend at run time and says which one runs and why.
 *
 * Preference under 'auto': native TensorFlow with CUDA (@tensorflow/tfjs-node-gpu), native
 * TensorFlow on the CPU (@tensorflow/tfjs-node), the wasm backend, the pure-JS cpu backend.
 * The native packages are optional dependencies that often fail to install, so they are
 * imported dynamically by name and their absence is a reason, not an error.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendReport {
  /** The tfjs backend now active. */
  readonly backend: BackendName;
  /** The package that provides it. */
  readonly provider: string;
  /** Why this backend, e.g. "tfjs-node-gpu not installed; tfjs-node not installed". */
  readonly reason: string;
  /** One line for logs and run records, e.g. "wasm (tfjs-node not installed)". */
  readonly description: string;
}

/** A forced backend could not be started; the message says why and what to do. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const requireHere = createRequire(import.meta.url);

/** The last selection, reused while its backend stays active and the same choice is asked for. */
let active: { choice: BackendChoice; report: BackendReport } | null = null;
let wasmPathsSet = false;

/**
 * Activates a backend and reports it. 'auto' walks the preference order; any other choice
 * forces that backend and throws BackendUnavailableError when it cannot start.
 * Calling again with the same choice returns the active report without re-probing.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<BackendReport> {
  if (active !== null && active.choice === choice && tf.getBackend() === active.report.backend) return active.report;
  const failures: string[] = [];
  let report: BackendReport | null = null;
  if (choice === 'auto' || choice === 'tensorflow') {
    report = await tryNative(failures);
    if (report === null && choice === 'tensorflow') {
      throw new BackendUnavailableError(
        `backend 'tensorflow' was requested but cannot start: ${failures.join('; ')}. ` +
          `Install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA), or choose 'auto', 'wasm' or 'cpu'.`,
      );
    }
  }
  if (report === null && (choice === 'auto' || choice === 'wasm')) {
    report = await tryWasm(choice === 'wasm' ? ['forced'] : failures);
    if (report === null && choice === 'wasm') {
      throw new BackendUnavailableError(
        `backend 'wasm' was requested but cannot start: ${failures.join('; ')}. Choose 'auto' or 'cpu'.`,
      );
    }
  }
  if (report === null) {
    if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError("the 'cpu' backend failed to start");
    report = describe('cpu', '@tensorflow/tfjs-backend-cpu', choice === 'cpu' ? ['forced'] : failures);
  }
  active = { choice, report };
  return report;
}

async function tryNative(failures: string[]): Promise<BackendReport | null> {
  for (const packageName of NATIVE_PACKAGES) {
    const shortName = packageName.replace('@tensorflow/', '');
    if (!isInstalled(packageName)) {
      failures.push(`${shortName} not installed`);
      continue;
    }
    try {
      await import(packageName);
    } catch (error) {
      failures.push(`${shortName} failed to load (${firstLine(error)})`);
      continue;
    }
    // A native package resolved against another copy of tfjs-core registers its backend there.
    if (tf.findBackendFactory('tensorflow') === null) {
      failures.push(`${shortName} loaded but registered with another copy of @tensorflow/tfjs-core`);
      continue;
    }
    if (!(await tf.setBackend('tensorflow'))) {
      failures.push(`${shortName} failed to start`);
      continue;
    }
    const reasons = [...failures];
    if (packageName === '@tensorflow/tfjs-node-gpu') {
      const usesGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
      reasons.push(usesGpu ? 'CUDA GPU' : 'no CUDA device found: TensorFlow runs on the CPU');
    }
    return describe('tensorflow', packageName, reasons);
  }
  return null;
}

async function tryWasm(reasons: string[]): Promise<BackendReport | null> {
  if (!wasmPathsSet) {
    // Under Node the backend must be told where its .wasm binaries live; bundlers and
    // test runners would otherwise resolve them next to the wrong script.
    const packageDir = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(path.join(packageDir, 'dist') + path.sep);
    wasmPathsSet = true;
  }
  let started = false;
  try {
    started = await tf.setBackend('wasm');
  } catch (error) {
    reasons.push(`wasm failed to start (${firstLine(error)})`);
    return null;
  }
  if (!started) {
    reasons.push('wasm failed to start');
    return null;
  }
  return describe('wasm', '@tensorflow/tfjs-backend-wasm', reasons);
}

function describe(backend: BackendName, provider: string, reasons: readonly string[]): BackendReport {
  const reason = reasons.length > 0 ? reasons.join('; ') : 'first choice';
  return { backend, provider, reason, description: `${backend} (${reason})` };
}

function isInstalled(packageName: string): boolean {
  try {
    requireHere.resolve(`${packageName}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
