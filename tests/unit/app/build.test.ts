/**
 * The built desktop app (`npm run build` -> out/main, out/preload) runs without the
 * TypeScript loader: no bundle imports tsx or a .ts file, every worker the bundles start by
 * a URL beside them is a built file, and the built update worker starts in plain Node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, 'out/main');
const BUNDLES = ['out/main', 'out/preload'];

/** `npm test` builds before the unit tests; run alone, this builds (main, preload and renderer) first. */
beforeAll(() => {
  if (!existsSync(join(MAIN, 'update-worker.js'))) execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'ignore' });
}, 240_000);

const bundleFiles = () => BUNDLES.flatMap((dir) => readdirSync(join(ROOT, dir)).filter((name) => /\.(c|m)?js$/.test(name)).map((name) => join(ROOT, dir, name)));

describe('the built app', () => {
  it('imports neither tsx nor any TypeScript file', () => {
    const offences = bundleFiles().flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/g)]
        .map((m) => m[1])
        .filter((spec) => spec === 'tsx' || spec.startsWith('tsx/') || /\.(ts|mts|cts)$/.test(spec))
        .map((spec) => `${file.slice(ROOT.length + 1)} imports ${spec}`),
    );
    expect(bundleFiles().length).toBeGreaterThan(2);
    expect(offences).toEqual([]);
  });

  it('builds every worker its bundles start from beside them', () => {
    const workers = bundleFiles().flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/new URL\("\.\/([\w-]+\.js)", import\.meta\.url\)/g)].map((m) => m[1]));
    expect(workers).toContain('update-worker.js');
    for (const worker of workers) expect(existsSync(join(MAIN, worker)), worker).toBe(true);
    expect(existsSync(join(MAIN, 'job-worker.js'))).toBe(true);
    // The main process starts the backend process from backend.js beside it (src/main/app/index.ts).
    expect(readFileSync(join(MAIN, 'index.js'), 'utf8')).toContain('"backend.js"');
    expect(existsSync(join(MAIN, 'backend.js'))).toBe(true);
  });

  it('keeps every native module out of the Electron main process: only the backend process loads the run store', () => {
    const imports = (file: string): string[] =>
      [...readFileSync(join(MAIN, file), 'utf8').matchAll(/^import\s+(?:[^'"]*?from\s*)?["']([^"']+)["']/gm)].map((m) => m[1]);
    /** Every package a bundle reaches through its static imports and the chunks they import. */
    const reached = (entry: string, seen = new Set<string>()): Set<string> => {
      for (const spec of imports(entry)) {
        if (spec.startsWith('./')) {
          if (!seen.has(spec)) reached(spec.slice(2), seen.add(spec));
        } else seen.add(spec);
      }
      return seen;
    };
    expect(reached('backend.js')).toContain('better-sqlite3');
    const main = reached('index.js');
    expect(main).toContain('electron');
    // Not even a dynamic import or require: no file of the main process's bundle loads a native module.
    const mainFiles = ['index.js', ...[...main].filter((spec) => spec.startsWith('./')).map((spec) => spec.slice(2))];
    const natives = mainFiles.flatMap((file) =>
      [...readFileSync(join(MAIN, file), 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/g)]
        .map((m) => m[1])
        .filter((spec) => /better-sqlite3|tfjs-node|^webgpu$/.test(spec))
        .map((spec) => `${file} loads ${spec}`),
    );
    expect(natives).toEqual([]);
  });

  it('starts the built update worker in plain Node, without the TypeScript loader', () => {
    const script = [
      "import { Worker } from 'node:worker_threads';",
      `const worker = new Worker(${JSON.stringify(join(MAIN, 'update-worker.js'))}, { workerData: { backend: 'cpu' }, execArgv: [] });`,
      "worker.once('error', (error) => { console.log(JSON.stringify({ ok: false, error: String(error) })); process.exit(1); });",
      "worker.once('message', (startup) => { console.log(JSON.stringify(startup)); worker.terminate(); });",
    ].join('\n');
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const startup = JSON.parse(output.trim().split('\n').pop()!) as { ok: boolean; backend?: { backend: string } };
    expect(startup).toMatchObject({ ok: true, backend: { backend: 'cpu' } });
  });
});
