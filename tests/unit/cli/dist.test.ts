/**
 * `npm run dist`, as far as a machine without Electron's binary goes: the backend's Node is
 * staged and loads the store module; electron-builder packages the built app (with a
 * stand-in for Electron's unpacked distribution, the one part downloaded from outside npm);
 * and the packaged backend, on the packaged Node, serves the api from the package alone.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledNodePath } from '../../../src/main/backend/nodeRuntime.ts';
import { BackendProcess } from '../../../src/main/backend/process.ts';
import { NODE_RUNTIME_DIR, stageNodeRuntime, storeModuleError } from '../../../src/main/cli/dist.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch = mkdtempSync(join(tmpdir(), 'headway-dist-'));

beforeAll(() => {
  if (!existsSync(join(ROOT, 'out/main/backend.js'))) execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'ignore' });
}, 240_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run dist', () => {
  it('stages the Node that built the native modules, and checks the store module loads on it', () => {
    const staged = stageNodeRuntime(join(scratch, 'runtime'));
    expect(staged).toBe(join(scratch, 'runtime', process.platform === 'win32' ? 'node.exe' : 'node'));
    expect(execFileSync(staged, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim()).toBe(process.versions.modules);
    expect(storeModuleError(staged)).toBeNull();

    const broken = join(scratch, 'broken-node');
    writeFileSync(broken, "#!/bin/sh\necho 'was compiled against a different Node.js version' >&2\nexit 1\n");
    chmodSync(broken, 0o755);
    expect(storeModuleError(broken)).toBe('was compiled against a different Node.js version');
    expect(storeModuleError(join(scratch, 'no-such-node'))).toMatch(/ENOENT/);
  });

  it.runIf(process.platform === 'linux')(
    'packages the built app with its Node, and the packaged backend serves the api on it',
    async () => {
      stageNodeRuntime(NODE_RUNTIME_DIR);
      const electronDist = join(scratch, 'electron-dist');
      mkdirSync(join(electronDist, 'resources'), { recursive: true });
      writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\n');
      chmodSync(join(electronDist, 'electron'), 0o755);
      const output = join(scratch, 'dist');
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules/electron-builder/cli.js'), '--config', 'electron-builder.config.mjs', '--dir', `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`],
        { cwd: ROOT, stdio: 'pipe', timeout: 240_000 },
      );
      const resources = join(output, 'linux-unpacked', 'resources');
      const app = join(resources, 'app');
      const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { main: string };
      expect(existsSync(join(app, manifest.main))).toBe(true);
      for (const built of ['out/main/backend.js', 'out/main/job-worker.js', 'out/main/update-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
        expect(existsSync(join(app, built)), built).toBe(true);
      }
      expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
      expect(existsSync(join(app, 'node_modules/electron'))).toBe(false);
      expect(existsSync(join(app, 'src'))).toBe(false);

      // The packaged app's own Node and backend, with nothing of the repository on hand.
      const home = join(scratch, 'home');
      const backend = new BackendProcess({
        node: bundledNodePath(resources, process.platform),
        entry: join(app, 'out/main/backend.js'),
        launch: { appVersion: '0.1.0', electron: '38' },
        env: { PATH: '/usr/bin:/bin', HOME: home, HEADWAY_DB: join(home, 'runs.db') },
      });
      expect(await backend.start()).toEqual({ node: process.versions.node, modules: process.versions.modules });
      try {
        expect(await backend.handle('hello', {}, null)).toMatchObject({ ok: true, value: { transport: 'ipc' } });
        expect(await backend.handle('listRuns', {}, null)).toEqual({ ok: true, value: [] });
      } finally {
        await backend.stop();
      }
    },
    300_000,
  );
});
