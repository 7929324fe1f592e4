/** `headway runs export RUN_ID... --bundle FILE.db` and `headway runs import FILE.db`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/index.ts';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

const dir = tempDir('headway-cli-bundles-');
const source = join(dir, 'source.db');
const target = join(dir, 'target.db');
const bundle = join(dir, 'share.db');

/** Two finished runs with a checkpoint each in `source`, one run already in `target`. */
function seed(): void {
  const store = RunStore.open(source);
  for (const seedValue of [1, 2]) {
    const id = store.createRun({ scenario: 'ring', params: {}, algo: 'ippo', config: {}, seed: seedValue, appVersion: 'test' }).id;
    store.recordIteration(id, { iteration: 1, envSteps: 100, wallTimeS: 1, values: { return: seedValue }, checkpoints: [{ iteration: 1, envSteps: 100, kind: 'periodic', data: new Uint8Array(1000) }] });
    store.updateStatus(id, 'finished');
  }
  store.close();
  const other = RunStore.open(target);
  other.updateStatus(other.createRun({ scenario: 'ring', params: {}, algo: 'dmpo', config: {}, seed: 0, appVersion: 'test' }).id, 'stopped');
  other.close();
}

describe('runs export --bundle and runs import', () => {
  seed();

  it('exports runs to a bundle and says what it wrote', async () => {
    const result = await runCliInProcess(['runs', 'export', '1', '2', '--bundle', bundle, '--db', source]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^exported 2 runs \\(2 checkpoints, 0 episodes, \\d+\\.\\d MB\\) to ${bundle}\n$`));
  });

  it('refuses an existing bundle file without --force, and replaces it with --force (--json)', async () => {
    const refused = await runCliInProcess(['runs', 'export', '1', '--bundle', bundle, '--db', source]);
    expect(refused).toMatchObject({ code: 2, stdout: '', stderr: `headway: --bundle ${bundle}: the file exists; choose another or pass --force to replace it\n` });
    const forced = await runCliInProcess(['runs', 'export', '1', '2', '--bundle', bundle, '--force', '--json', '--db', source]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ file: bundle, runs: [{ from: 1, to: 1 }, { from: 2, to: 2 }], checkpoints: 2, episodes: 0 });
  });

  it('imports the bundle with new ids beside the runs already there', async () => {
    const result = await runCliInProcess(['runs', 'import', bundle, '--db', target]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('imported runs 1,2 as 2,3 (2 checkpoints, 0 episodes)\n');
    const json = await runCliInProcess(['runs', 'import', bundle, '--json', '--db', target]);
    expect(JSON.parse(json.stdout)).toEqual({ runs: [{ from: 1, to: 4 }, { from: 2, to: 5 }], checkpoints: 2, episodes: 0 });
    const list = JSON.parse((await runCliInProcess(['runs', '--json', '--db', target])).stdout) as { id: number; algo: string }[];
    expect(list.map((run) => `${run.id} ${run.algo}`).sort()).toEqual(['1 dmpo', '2 ippo', '3 ippo', '4 ippo', '5 ippo']);
  });

  it('gives one-line errors: usage (exit 2) and refused files (exit 1)', async () => {
    const cases: [string[], number, string][] = [
      [['runs', 'export', '1', '--db', source], 2, 'runs export needs --bundle FILE.db, the bundle to write'],
      [['runs', 'export', '--bundle', bundle, '--db', source], 2, 'runs export needs at least one RUN_ID'],
      [['runs', 'export', '9', '--bundle', join(dir, 'new.db'), '--db', source], 2, 'RUN_ID 9: no such run in this database'],
      [['runs', 'export', 'x', '--bundle', join(dir, 'new.db'), '--db', source], 2, 'RUN_ID "x" is not allowed; expected an integer >= 1'],
      [['runs', 'import', '--db', target], 2, 'runs import needs one FILE.db (a run bundle), got 0 arguments'],
      [['runs', 'import', bundle, '--force', '--db', target], 2, '--bundle and --force go with runs export; runs import takes the bundle as its argument'],
      [['runs', 'show', '1', '2', '--db', source], 2, 'runs show needs one RUN_ID'],
      [['runs', 'show', '1', '--bundle', bundle, '--db', source], 2, '--bundle and --force go with runs export, not runs show'],
      [['runs', 'copy', '--db', source], 2, 'runs "copy" is not allowed; expected list, show, delete, export or import'],
      [['runs', 'import', join(dir, 'missing.db'), '--db', target], 1, `${join(dir, 'missing.db')} does not exist`],
    ];
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'not a database, just some notes '.repeat(10));
    cases.push([['runs', 'import', text, '--db', target], 1, `${text} is not a Headway database (not a SQLite file); it was left untouched`]);
    for (const [args, code, message] of cases) {
      const result = await runCliInProcess(args);
      expect({ code: result.code, stderr: result.stderr }, args.join(' ')).toEqual({ code, stderr: `headway: ${message}\n` });
    }
  });
});
