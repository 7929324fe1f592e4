/**
 * Prepares the experiment history with the CLI (historyDb.ts), starts the real
 * `headway serve --port 0` on it (building the renderer first, with its test hooks, if it is
 * missing, stale or built without them) and hands the tests its link, the database file and
 * the prepared runs' ids.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { prepareHistoryDatabase } from './historyDb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    /** The run store the server reads and writes (tests may open it read-only to check what the UI shows). */
    databasePath: string;
    /** Ids of the runs prepared by historyDb.ts, by name. */
    historyRuns: Record<string, number>;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A throwaway run store, never the user's: the prepared history, then the runs trained from the app.
  const dbDir = mkdtempSync(join(tmpdir(), 'headway-e2e-db-'));
  const databasePath = join(dbDir, 'runs.db');
  project.provide('historyRuns', prepareHistoryDatabase(databasePath));
  project.provide('databasePath', databasePath);
  // HEADWAY_TEST_HOOKS: the renderer is built (and served) with its read-only test hooks (src/renderer/testHooks.ts).
  const env = { ...process.env, HEADWAY_DB: databasePath, HEADWAY_TEST_HOOKS: '1' };
  const child: ChildProcess = spawn(process.execPath, ['bin/headway.mjs', 'serve', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`headway serve printed no link within 150 s:\n${output}`)), 150_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`headway serve exited (${code}):\n${output}`)));
  });
  project.provide('serverUrl', url);
  return async () => {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dbDir, { recursive: true, force: true });
  };
}
