/**
 * The renderer as `headway serve` needs it: built into out/renderer by Vite with the same
 * config as `electron-vite build` (electron.vite.config.ts). Built on first use, and again
 * whenever a renderer or shared source is newer than the build, so a fresh clone's
 * `npx headway serve` just works and never serves a stale UI.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, RENDERER_OUT, RENDERER_SOURCES } from './paths.ts';

/** Newest modification time of a file or anything under a directory (0 when absent). */
export function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Why the renderer needs building, or null when out/renderer is current. `anyHooks`: a
 * current build serves whether or not it has test hooks (`headway export --video` needs
 * none and must not rebuild under a test server that serves the same folder).
 */
export function rendererBuildReason(outDir = RENDERER_OUT, anyHooks = false): string | null {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return 'not built yet';
  // An installed copy without sources serves what it has.
  if (!existsSync(RENDERER_SOURCES[0])) return null;
  // HEADWAY_TEST_HOOKS=1 builds with the renderer's test hooks and marks the build (electron.vite.config.ts).
  const testHooks = process.env.HEADWAY_TEST_HOOKS === '1';
  if (!anyHooks && existsSync(join(outDir, 'test-hooks')) !== testHooks) return testHooks ? 'test hooks asked for' : 'the last build had test hooks';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(...RENDERER_SOURCES.map(newestMtime));
  return sources > built ? 'sources changed since the last build' : null;
}

/** Builds the renderer into out/renderer when missing or stale; returns its directory. */
export async function ensureRendererBuilt(log: (line: string) => void = () => {}, force = false, anyHooks = false): Promise<string> {
  const reason = force ? 'rebuild requested' : rendererBuildReason(RENDERER_OUT, anyHooks);
  if (reason === null) return RENDERER_OUT;
  log(`building the app's renderer (${reason}) ...`);
  const started = Date.now();
  const [{ build }, { rendererConfig }] = await Promise.all([
    import('vite'),
    import(pathToFileURL(join(REPO_ROOT, 'electron.vite.config.ts')).href) as Promise<typeof import('../../../electron.vite.config.ts')>,
  ]);
  await build({ ...rendererConfig, configFile: false, logLevel: 'warn', mode: 'production' });
  log(`built out/renderer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return RENDERER_OUT;
}
