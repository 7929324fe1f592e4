/**
 * `npm start`: opens the desktop app where Electron is installed, else browser mode.
 * Runs in plain Node (never imports Electron's api). Electron is an optional dependency;
 * where its binary was not downloaded (offline installs, CI, postinstall scripts denied)
 * this falls back to `headway serve` and prints the link.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT, RENDERER_SOURCES } from '../server/paths.ts';
import { newestMtime, rendererBuildReason } from '../server/rendererBuild.ts';
import { runServe } from './serve.ts';

/** The Electron executable, or why there is none. */
export function findElectron(): { path: string } | { missing: string } {
  if (process.env.HEADWAY_BROWSER === '1') return { missing: 'HEADWAY_BROWSER=1 asks for browser mode' };
  let path: unknown;
  try {
    path = createRequire(join(REPO_ROOT, 'package.json'))('electron');
  } catch {
    return { missing: 'the Electron binary is not installed here (an optional dependency: its download was skipped or failed)' };
  }
  if (typeof path !== 'string' || !existsSync(path)) return { missing: 'the Electron binary is missing' };
  return { path };
}

/** `electron-vite build` of out/main, out/preload and out/renderer; its exit status. */
export function buildDesktopApp(env: NodeJS.ProcessEnv = process.env): number {
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: REPO_ROOT, stdio: 'inherit', env });
  return build.status ?? 1;
}

/** Whether the desktop build (out/main, out/preload, out/renderer) is missing or older than its sources. */
function desktopBuildStale(): boolean {
  const main = join(REPO_ROOT, 'out', 'main', 'index.js');
  const preload = join(REPO_ROOT, 'out', 'preload', 'index.cjs');
  if (!existsSync(main) || !existsSync(preload) || rendererBuildReason() !== null) return true;
  const built = Math.min(statSync(main).mtimeMs, statSync(preload).mtimeMs);
  const sources = [join(REPO_ROOT, 'src', 'main'), join(REPO_ROOT, 'src', 'preload'), ...RENDERER_SOURCES];
  return Math.max(...sources.map(newestMtime)) > built;
}

export async function launch(): Promise<number> {
  const electron = findElectron();
  if ('missing' in electron) {
    process.stderr.write(`headway: ${electron.missing}; opening Headway in browser mode instead.\n`);
    await runServe({});
    return 0;
  }
  if (desktopBuildStale()) {
    process.stderr.write('headway: building the desktop app (electron-vite build, about 15 s) ...\n');
    const status = buildDesktopApp();
    if (status !== 0) return status;
  }
  return new Promise((resolve) => {
    // The backend process runs on this Node: the one whose ABI the native modules were built for.
    const child = spawn(electron.path, [REPO_ROOT], { stdio: 'inherit', env: { ...process.env, HEADWAY_NODE: process.env.HEADWAY_NODE ?? process.execPath } });
    child.on('error', (error) => {
      process.stderr.write(`headway: cannot start Electron (${error.message}); run \`npx headway serve\` for browser mode.\n`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 0));
  });
}
