/**
 * A production build of the renderer holds no test hook: it is built here as `headway serve`
 * and `electron-vite build` build it (electron.vite.config.ts without HEADWAY_TEST_HOOKS)
 * into a temporary folder, and its JavaScript is searched for the hooks' names; a build with
 * the hooks' flag on, searched the same way, finds all three. The e2e tests (tests/e2e,
 * served with HEADWAY_TEST_HOOKS=1) use the hooks themselves.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];

/** Builds the renderer into a temporary folder; its file names and its JavaScript, joined. */
async function buildRenderer(define?: Record<string, string>): Promise<{ files: string[]; js: string }> {
  delete process.env.HEADWAY_TEST_HOOKS;
  const [{ build }, { rendererConfig }] = await Promise.all([import('vite'), import('../../../electron.vite.config.ts')]);
  const outDir = mkdtempSync(join(tmpdir(), 'headway-renderer-build-'));
  dirs.push(outDir);
  const config = { ...rendererConfig, define: { ...rendererConfig.define, ...define } };
  await build({ ...config, configFile: false, logLevel: 'warn', mode: 'production', build: { ...rendererConfig.build, outDir } });
  const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' });
  const js = files
    .filter((file) => file.endsWith('.js'))
    .map((file) => readFileSync(join(outDir, file), 'utf8'))
    .join('\n');
  return { files, js };
}

const hooksIn = (js: string): string[] => [...new Set(js.match(/__headway\w*/g) ?? [])].sort();

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('renderer builds and test hooks', () => {
  let production: { files: string[]; js: string };
  beforeAll(async () => {
    production = await buildRenderer();
  }, 300_000);

  it('a production build holds the app and no __headway hook, and is not marked as a test build', () => {
    expect(production.js).toContain('replay-vehicle-picker');
    expect(hooksIn(production.js)).toEqual([]);
    expect(production.files).not.toContain('test-hooks');
  });

  it('a build with the test hooks flag holds all three hooks', async () => {
    const withHooks = await buildRenderer({ __HEADWAY_TEST_HOOKS__: 'true' });
    expect(hooksIn(withHooks.js)).toEqual(['__headwayCompare', '__headwayReplay', '__headwayView']);
  }, 300_000);
});
