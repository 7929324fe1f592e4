/**
 * Picks the TensorFlow.js backend at run time and says which one runs, on what, and why.
 *
 * Preference under 'auto': native TensorFlow on a CUDA GPU (@tensorflow/tfjs-node-gpu), WebGPU
 * on a hardware adapter (Dawn's `webgpu` package: Vulkan, Metal or D3D12), native TensorFlow
 * on the CPU (@tensorflow/tfjs-node), the wasm backend, the pure-JS cpu backend. A software
 * WebGPU adapter (SwiftShader, lavapipe: isFallbackAdapter) is slower than wasm and is used
 * only when asked for ('webgpu'). Every candidate but cpu must first pass its self-check (a
 * tiny update matching the cpu backend's; backendCheck.ts); one that fails is skipped with a
 * one-line reason. The native and WebGPU packages are optional dependencies that often fail
 * to install, so they are imported dynamically by name and their absence is a reason.
 *
 * webgpu cannot read tensors synchronously under Node (dataSync needs a browser canvas), so
 * code that acts step by step (rollout inference, DMPO's model) asks for
 * `{ synchronous: true }`: webgpu is then skipped, and the updates go to a device worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BACKEND_CHOICES, type BackendChoice } from '../../../shared/backends.ts';
import { firstLine, selfCheck, type SelfCheckResult } from './backendCheck.ts';

export { BACKEND_CHOICES, type BackendChoice };

export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendReport {
  /** The tfjs backend now active. */
  readonly backend: BackendName;
  /** The package that provides it. */
  readonly provider: string;
  /** What it computes on: the WebGPU adapter, "CUDA GPU", or "CPU". */
  readonly device: string;
  /** A software emulation of a GPU (SwiftShader, lavapipe): correct but slower than wasm. */
  readonly software: boolean;
  /** Why this backend, e.g. "tfjs-node-gpu not installed; tfjs-node not installed; self-check passed". */
  readonly reason: string;
  /** One line for logs and run records, e.g. "wasm on CPU (tfjs-node not installed; ...)". */
  readonly description: string;
}

export interface BackendOptions {
  /** Only backends that can read tensors synchronously (all but webgpu). */
  readonly synchronous?: boolean;
  /** The self-check cache file; null keeps results in memory only. */
  readonly checkCache?: string | null;
}

/** A forced backend could not be started; the message says why and what to do. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/** The backend a candidate would run, started but not yet self-checked. */
type Started = Pick<BackendReport, 'backend' | 'provider' | 'device' | 'software'>;

const requireHere = createRequire(import.meta.url);

/** The last selection, reused while its backend stays active and the same choice is asked for. */
let active: { key: string; report: BackendReport } | null = null;

/** The backend active on this thread as its last selection reported it; null when none was selected (or another was set since). */
export function activeBackend(): BackendReport | null {
  return active !== null && tf.getBackend() === active.report.backend ? active.report : null;
}

/**
 * Activates a backend and reports it. 'auto' walks the preference order; any other choice
 * forces that backend and throws BackendUnavailableError when it cannot start or fails its
 * self-check. Calling again with the same choice returns the active report without re-probing.
 */
export async function selectBackend(choice: BackendChoice = 'auto', options: BackendOptions = {}): Promise<BackendReport> {
  const key = `${choice}|${options.synchronous === true}`;
  if (active !== null && active.key === key && tf.getBackend() === active.report.backend) return active.report;
  if (choice === 'webgpu' && options.synchronous === true) {
    throw new BackendUnavailableError("backend 'webgpu' cannot read tensors synchronously here; choose 'auto', 'tensorflow', 'wasm' or 'cpu'");
  }
  const reasons: string[] = [];
  const checkCache = options.checkCache ?? null;
  for (const candidate of candidates(choice, options.synchronous === true)) {
    const started = await candidate(reasons);
    if (started === null) continue;
    const check = started.backend === 'cpu' ? null : await selfCheck(started.device, checkCache);
    if (check !== null && !check.passed) {
      reasons.push(`${started.backend} on ${started.device} failed its self-check: ${check.failure}`);
      continue;
    }
    if (check !== null) reasons.push(checkSummary(check));
    const report = describe(started, choice === 'auto' ? reasons : ['forced', ...reasons]);
    active = { key, report };
    return report;
  }
  throw new BackendUnavailableError(`backend '${choice}' was requested but cannot start: ${reasons.join('; ')}. ${ALTERNATIVES[choice]}`);
}

const ALTERNATIVES: Record<BackendChoice, string> = {
  auto: '',
  tensorflow: "Install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA), or choose 'auto', 'wasm' or 'cpu'.",
  webgpu:
    "WebGPU needs the optional package 'webgpu' and a Vulkan, Metal or D3D12 driver (on Linux without a GPU: VK_ICD_FILENAMES pointing at SwiftShader's ICD); or choose 'auto', 'wasm' or 'cpu'.",
  wasm: "Choose 'auto' or 'cpu'.",
  cpu: '',
};

type Candidate = (reasons: string[]) => Promise<Started | null>;

function candidates(choice: BackendChoice, synchronous: boolean): Candidate[] {
  switch (choice) {
    case 'tensorflow':
      return [(reasons) => tryNative(reasons, false)];
    case 'webgpu':
      return [(reasons) => tryWebgpu(reasons, true)];
    case 'wasm':
      return [tryWasm];
    case 'cpu':
      return [tryCpu];
    case 'auto':
      return [
        (reasons) => tryNative(reasons, true),
        ...(synchronous ? [] : [(reasons: string[]) => tryWebgpu(reasons, false)]),
        (reasons) => tryNative(reasons, false),
        tryWasm,
        tryCpu,
      ];
  }
}

/** Native TensorFlow; with `gpuOnly`, only tfjs-node-gpu on a CUDA device. */
async function tryNative(reasons: string[], gpuOnly: boolean): Promise<Started | null> {
  const packages = gpuOnly ? ['@tensorflow/tfjs-node-gpu'] : ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
  for (const packageName of packages) {
    const shortName = packageName.replace('@tensorflow/', '');
    if (!isInstalled(packageName)) {
      if (!reasons.includes(`${shortName} not installed`)) reasons.push(`${shortName} not installed`);
      continue;
    }
    try {
      await import(packageName);
    } catch (error) {
      reasons.push(`${shortName} failed to load (${firstLine(error)})`);
      continue;
    }
    // A native package resolved against another copy of tfjs-core registers its backend there.
    if (tf.findBackendFactory('tensorflow') === null) {
      reasons.push(`${shortName} loaded but registered with another copy of @tensorflow/tfjs-core`);
      continue;
    }
    if (!(await tf.setBackend('tensorflow'))) {
      reasons.push(`${shortName} failed to start`);
      continue;
    }
    const usesGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
    if (gpuOnly && !usesGpu) {
      reasons.push(`${shortName} found no CUDA device`);
      return null;
    }
    // Both packages register 'tensorflow': once one has started, the other cannot be loaded too.
    return { backend: 'tensorflow', provider: packageName, device: usesGpu ? 'CUDA GPU' : 'CPU', software: false };
  }
  return null;
}

interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** WebGPU through Dawn; a software adapter only when `allowSoftware`. */
async function tryWebgpu(reasons: string[], allowSoftware: boolean): Promise<Started | null> {
  // Looking for a hardware adapter, look first in a throwaway process (see probeAdapterQuietly).
  const probed = allowSoftware || !isInstalled(DAWN_PACKAGE) ? undefined : probeAdapterQuietly();
  if (probed === null) {
    reasons.push('webgpu found no adapter (no Vulkan, Metal or D3D12 driver)');
    return null;
  }
  if (probed?.software) {
    reasons.push(`webgpu adapter ${probed.name} is a software emulation (used only with --backend webgpu)`);
    return null;
  }
  const gpu = await installWebgpu(reasons);
  if (gpu === null) return null;
  // The same request tfjs-backend-webgpu makes when it starts, so this is its adapter.
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    reasons.push('webgpu found no adapter (no Vulkan, Metal or D3D12 driver)');
    return null;
  }
  const { name, software } = describeAdapter(adapter);
  if (software && !allowSoftware) {
    reasons.push(`webgpu adapter ${name} is a software emulation (used only with --backend webgpu)`);
    return null;
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend refused it');
  } catch (error) {
    reasons.push(`webgpu on ${name} failed to start (${firstLine(error)})`);
    return null;
  }
  return { backend: 'webgpu', provider: '@tensorflow/tfjs-backend-webgpu + webgpu (Dawn)', device: name, software };
}

let webgpuNavigator: GpuLike | null = null;
/** Imported by a name in a variable, like the native packages: bundlers leave it to Node, which finds its dawn.node. */
const DAWN_PACKAGE = 'webgpu';

/** Installs Dawn's WebGPU globals and navigator.gpu once per thread; null (and a reason) when the package is missing. */
async function installWebgpu(reasons: string[]): Promise<GpuLike | null> {
  if (webgpuNavigator !== null) return webgpuNavigator;
  if (!isInstalled(DAWN_PACKAGE)) {
    reasons.push('webgpu not installed');
    return null;
  }
  try {
    quietVulkanLoader();
    const dawn = (await import(DAWN_PACKAGE)) as unknown as { create(flags: string[]): GpuLike; globals: object };
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    const scope = globalThis as { navigator?: object };
    // Node 20 has no navigator; 21+ has one without gpu.
    if (scope.navigator === undefined) scope.navigator = {};
    Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
    webgpuNavigator = gpu;
    return gpu;
  } catch (error) {
    reasons.push(`webgpu failed to load (${firstLine(error)})`);
    return null;
  }
}

/** The probe's result, once per process: Dawn's adapters do not come and go while it runs. */
let probedAdapter: { name: string; software: boolean } | null | undefined;

/**
 * The adapter Dawn offers, found by a child process whose stderr is dropped: Dawn and the
 * Vulkan loader print warnings there while they try the drivers a machine without a GPU has
 * (Mesa's lavapipe is refused, "no valid GPUs"), which a user's terminal should not see on
 * every run. Returns undefined where the probe itself fails; the caller then probes in-process.
 */
function probeAdapterQuietly(): { name: string; software: boolean } | null | undefined {
  if (probedAdapter !== undefined) return probedAdapter;
  quietVulkanLoader();
  const dawn = pathToFileURL(requireHere.resolve(DAWN_PACKAGE)).href;
  const probe =
    `const { create, globals } = await import(${JSON.stringify(dawn)}); Object.assign(globalThis, globals);` +
    `const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });` +
    `process.stdout.write(JSON.stringify(adapter && { info: { ...adapter.info }, isFallbackAdapter: adapter.isFallbackAdapter }) + '\\n'); process.exit(0);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const line = result.status === 0 ? result.stdout.trim().split('\n').at(-1) : undefined;
  if (line === undefined) return undefined;
  const adapter = JSON.parse(line) as GpuAdapterLike | null;
  probedAdapter = adapter === null ? null : describeAdapter(adapter);
  return probedAdapter;
}

/**
 * Vulkan's window-system code prints "error: XDG_RUNTIME_DIR is invalid or not set" on every
 * probe where the variable is unset (servers, CI, a plain ssh session), although nothing is
 * wrong: give it a private directory of this user's, as a desktop session would.
 */
function quietVulkanLoader(): void {
  if (process.platform !== 'linux' || process.env.XDG_RUNTIME_DIR !== undefined) return;
  const dir = path.join(tmpdir(), `headway-runtime-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

/** The adapter's name for people, and whether it is a CPU emulation. */
export function describeAdapter(adapter: GpuAdapterLike): { name: string; software: boolean } {
  const info = adapter.info ?? {};
  const name = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unnamed adapter';
  const software =
    adapter.isFallbackAdapter === true || info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(`${name} ${info.architecture ?? ''}`);
  return { name, software };
}

let wasmPathsSet = false;

async function tryWasm(reasons: string[]): Promise<Started | null> {
  if (!wasmPathsSet) {
    // Under Node the backend must be told where its .wasm binaries live; bundlers and
    // test runners would otherwise resolve them next to the wrong script.
    const packageDir = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(path.join(packageDir, 'dist') + path.sep);
    wasmPathsSet = true;
  }
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend refused it');
  } catch (error) {
    reasons.push(`wasm failed to start (${firstLine(error)})`);
    return null;
  }
  return { backend: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', device: 'CPU', software: false };
}

async function tryCpu(reasons: string[]): Promise<Started | null> {
  if (!(await tf.setBackend('cpu'))) {
    reasons.push('cpu failed to start');
    return null;
  }
  return { backend: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', device: 'CPU', software: false };
}

/** What `headway backends` shows of one backend. */
export interface BackendProbe {
  readonly backend: BackendName;
  /** Its packages are installed. */
  readonly installed: boolean;
  /** It started here (the package loaded and found its device). */
  readonly loads: boolean;
  readonly device: string | null;
  readonly software: boolean;
  /** Null where it did not load; cpu is the reference and passes with error 0. */
  readonly selfCheck: { readonly passed: boolean; readonly largestError: number; readonly cached: boolean } | null;
  /** Why it is not usable, or notes on it (semicolon-separated); empty when none. */
  readonly note: string;
}

const PACKAGES_OF: Record<BackendName, readonly (readonly string[])[]> = {
  // any one of the alternatives in a row, every row
  tensorflow: [['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']],
  webgpu: [['webgpu'], ['@tensorflow/tfjs-backend-webgpu']],
  wasm: [['@tensorflow/tfjs-backend-wasm']],
  cpu: [['@tensorflow/tfjs-backend-cpu']],
};

/** Tries one backend on its own (a software WebGPU adapter included) and self-checks it; leaves it active when it loads. */
export async function probeBackend(backend: BackendName, checkCache: string | null = null): Promise<BackendProbe> {
  const installed = PACKAGES_OF[backend].every((row) => row.some(isInstalled));
  const reasons: string[] = [];
  const started = installed ? await candidates(backend, false)[0](reasons) : null;
  if (started === null) {
    const note = installed ? reasons.join('; ') : `not installed (${PACKAGES_OF[backend].map((row) => row.join(' or ')).join(' and ')})`;
    return { backend, installed, loads: false, device: null, software: false, selfCheck: null, note };
  }
  const check = backend === 'cpu' ? { passed: true, largestError: 0, cached: false, failure: '' } : await selfCheck(started.device, checkCache);
  if (started.software) reasons.push('software emulation: used only when asked for');
  if (!check.passed) reasons.push(check.failure);
  active = null;
  return { ...started, installed, loads: true, selfCheck: { passed: check.passed, largestError: check.largestError, cached: check.cached }, note: reasons.join('; ') };
}

function checkSummary(check: SelfCheckResult): string {
  return `self-check passed (largest error ${check.largestError.toExponential(1)}${check.cached ? ', cached' : ''})`;
}

function describe(started: Started, reasons: readonly string[]): BackendReport {
  const reason = reasons.length > 0 ? reasons.join('; ') : 'first choice';
  return { ...started, reason, description: `${started.backend} on ${started.device} (${reason})` };
}

export function isInstalled(packageName: string): boolean {
  try {
    requireHere.resolve(`${packageName}/package.json`);
    return true;
  } catch {
    return false;
  }
}
