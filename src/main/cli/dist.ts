/**
 * `npm run dist`: an installable desktop app for this platform, in dist/ (electron-builder,
 * configured in electron-builder.config.mjs: an AppImage on Linux, a dmg on macOS, an NSIS
 * installer on Windows). Extra arguments go to electron-builder (`npm run dist -- --dir`
 * for an unpacked folder only).
 *
 * The app's backend process runs on plain Node (src/main/backend), so the package carries
 * the Node that runs this command, the one whose ABI `npm install` built better-sqlite3 for:
 * it is staged into out/node-runtime and checked to load the store module before packaging.
 * One platform at a time: the native modules and the Node are this machine's.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeExecutableName } from '../backend/nodeRuntime.ts';
import { REPO_ROOT } from '../server/paths.ts';
import { buildDesktopApp } from './start.ts';

/** Where the backend's Node is staged (electron-builder.config.mjs ships it as resources/node). */
export const NODE_RUNTIME_DIR = join(REPO_ROOT, 'out', 'node-runtime');

/** Copies a Node executable into `dir` under the name the packaged app looks for; returns its path. */
export function stageNodeRuntime(dir: string = NODE_RUNTIME_DIR, node: string = process.execPath, platform: NodeJS.Platform = process.platform): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const staged = join(dir, nodeExecutableName(platform));
  copyFileSync(node, staged);
  return staged;
}

/** Whether the repository's better-sqlite3 opens a database on `node`; the error text when not. */
export function storeModuleError(node: string): string | null {
  const check = spawnSync(node, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  if (check.error) return check.error.message;
  return check.status === 0 ? null : check.stderr.trim() || `exited with code ${check.status}`;
}

function installedElectronVersion(): string | null {
  const manifest = join(REPO_ROOT, 'node_modules', 'electron', 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : null;
}

const step = (n: number, text: string): boolean => process.stderr.write(`headway dist [${n}/4] ${text}\n`);

export function runDist(builderArgs: string[]): number {
  const electron = installedElectronVersion();
  if (electron === null) {
    process.stderr.write('headway dist: the electron package is not installed (an optional dependency); run `npm install` with network access to npm, then again.\n');
    return 1;
  }
  step(1, 'building the app (electron-vite build)');
  // A release never carries the renderer's test hooks.
  const env = { ...process.env, HEADWAY_TEST_HOOKS: undefined };
  const built = buildDesktopApp(env);
  if (built !== 0) return built;

  step(2, `staging Node ${process.version} (modules ABI ${process.versions.modules}) as the backend's runtime`);
  const staged = stageNodeRuntime();
  step(3, 'checking that better-sqlite3 loads on it');
  const error = storeModuleError(staged);
  if (error !== null) {
    process.stderr.write(`headway dist: better-sqlite3 does not load on ${process.execPath}:\n${error}\nRebuild it for this Node (npm rebuild better-sqlite3) and run npm run dist again.\n`);
    return 1;
  }

  step(4, `packaging with electron-builder for Electron ${electron} (it downloads Electron and its packaging tools the first time)`);
  const builder = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'electron-builder', 'cli.js'), '--config', 'electron-builder.config.mjs', ...builderArgs], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env,
  });
  if (builder.status === 0) process.stderr.write('headway dist: the app is in dist/\n');
  else {
    process.stderr.write(
      'headway dist: electron-builder failed. The first run downloads Electron and its packaging tools from github.com; ' +
        'without that access set ELECTRON_MIRROR, or pass an unpacked Electron: npm run dist -- -c.electronDist=/path/to/electron/dist\n',
    );
  }
  return builder.status ?? 1;
}
