/**
 * The experiment history the browser tests open: a database prepared by the real CLI
 * (`headway train`), so the app reads exactly what users' runs look like.
 *
 * - "catch-up DPPO seed 1", "catch-up DPPO seed 2", "catch-up IPPO seed 1": cacc-catchup,
 *   2 iterations each, one stored 600-step evaluation episode per iteration (two learners,
 *   two seeds of one: for grouping with spread bands).
 * - "ring IPPO": one iteration on the 230 m ring, its evaluation episode 3000 steps long
 *   (the wrap of the time-space diagram, long-episode streaming).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const HISTORY_RUNS = [
  { name: 'catch-up DPPO seed 1', args: ['--scenario', 'cacc-catchup', '--algo', 'dppo', '--seed', '1', '--iterations', '2', '--set', 'numEnvs=1'] },
  { name: 'catch-up DPPO seed 2', args: ['--scenario', 'cacc-catchup', '--algo', 'dppo', '--seed', '2', '--iterations', '2', '--set', 'numEnvs=1'] },
  { name: 'catch-up IPPO seed 1', args: ['--scenario', 'cacc-catchup', '--algo', 'ippo', '--seed', '1', '--iterations', '2', '--set', 'numEnvs=1'] },
  { name: 'ring IPPO', args: ['--scenario', 'ring', '--algo', 'ippo', '--seed', '1', '--iterations', '1', '--set', 'numEnvs=1', '--set', 'rolloutSteps=200', '--param', 'length=230'] },
] as const;

/** Trains the HISTORY_RUNS into `database` with the CLI; returns their run ids by name. */
export function prepareHistoryDatabase(database: string): Record<string, number> {
  const ids: Record<string, number> = {};
  for (const run of HISTORY_RUNS) {
    const output = execFileSync(process.execPath, ['bin/headway.mjs', 'train', ...run.args, '--name', run.name, '--threads', '1', '--json', '--db', database], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ids[run.name] = (JSON.parse(output.trim().split('\n').at(-1)!) as { runId: number }).runId;
  }
  return ids;
}
