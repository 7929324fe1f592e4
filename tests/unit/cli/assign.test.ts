import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

describe('headway assign', () => {
  it('writes the Braess system optimum as link flows', async () => {
    const out = join(tempDir(), 'flows.csv');
    const result = await runCliInProcess(['assign', '--network', 'braess', '--so', '--out', out, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { objective: string; tstt: number; relativeGap: number };
    expect(summary.objective).toBe('so');
    expect(summary.tstt).toBeCloseTo(498, 5);
    const [header, ...rows] = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(header).toBe('link,from,to,capacity,free_flow_time,flow,time,volume_capacity');
    expect(rows.map((row) => Number(row.split(',')[5]).toFixed(6))).toEqual(['3.000000', '3.000000', '3.000000', '0.000000', '3.000000']);
    expect(rows[3].split(',').slice(0, 3)).toEqual(['4', '3', '4']);
  });

  it('refuses bad input in one line with exit code 2, writing nothing', async () => {
    const dir = tempDir();
    const out = join(dir, 'flows.csv');
    const cases: [string[], string][] = [
      [['--network', 'atlantis'], 'headway: --network "atlantis" is not allowed; expected braess, grid-3x3, grid-5x5 or a TNTP file <name>_net.tntp\n'],
      [['--network', join(dir, 'missing_net.tntp')], `headway: --network ${join(dir, 'missing_net.tntp')}: cannot read it (no such file)\n`],
      [['--network', 'braess', '--gap', '2'], 'headway: --gap "2" is not allowed; expected a number from 0 to below 1\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = await runCliInProcess(['assign', ...args, '--out', out]);
      expect([result.code, result.stderr]).toEqual([2, stderr]);
    }
    expect(existsSync(out)).toBe(false);
  });
});
