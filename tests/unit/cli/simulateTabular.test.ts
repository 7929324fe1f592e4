import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

describe('headway simulate on the scenarios without vehicles', () => {
  it('mabc: replays actions into its own CSV columns and reports the team return, plain and discounted', async () => {
    const dir = tempDir();
    const actions = join(dir, 'actions.json');
    // Device 1 transmits every step, device 2 never.
    writeFileSync(actions, JSON.stringify(Array.from({ length: 20 }, () => [1, 0])));
    const out = join(dir, 'mabc.csv');
    const result = await runCliInProcess(['simulate', '--scenario', 'mabc', '--actions', actions, '--seed', '4', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, ...lines] = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(header).toBe('step,agent,buffer,action,arrival,reward,channel_busy,delivered');
    expect(lines.length).toBe(21 * 2);
    const rows = lines.map((line) => line.split(','));
    expect(rows[0]).toEqual(['0', '0', '0', '', '', '', rows[0][6], '']);
    let team = 0;
    let discounted = 0;
    for (let t = 1; t <= 20; t++) {
      const [before, after] = [rows[2 * (t - 1)], rows[2 * t]];
      // The reward follows from the row before: -0.4 + 1 when the buffer held a packet on an idle channel.
      const delivered = before[2] === '1' && before[6] === '0' ? 1 : 0;
      expect(Number(after[5])).toBeCloseTo(-0.4 + delivered, 12);
      expect(Number(after[7])).toBe(delivered);
      expect(after[5]).toBe(rows[2 * t + 1][5]);
      team += Number(after[5]);
      discounted += 0.9 ** (t - 1) * Number(after[5]);
    }
    expect(result.stdout).toContain(`team return ${team.toFixed(4)}, discounted return ${discounted.toFixed(4)} (gamma 0.9)`);
  });

  it('demand-response: JSONL with the loads’ states, the share ON and its KL', async () => {
    const dir = tempDir();
    const out = join(dir, 'dr.jsonl');
    const result = await runCliInProcess(['simulate', '--scenario', 'demand-response', '--param', 'agents=10', '--steps', '3', '--policy', 'constant:1', '--out', out]);
    expect(result.code).toBe(0);
    const records = readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBe(4);
    const last = records[3] as { on: number[]; action: number[]; share_on: number; kl: number; reward: number[]; obs: number[][] };
    expect(last.action).toEqual(Array(10).fill(1));
    expect(last.share_on).toBeCloseTo(last.on.reduce((a, b) => a + b, 0) / 10, 12);
    expect(last.obs[0]).toEqual([last.on[0], last.share_on]);
    const previous = records[2] as { kl: number };
    expect(last.reward[0]).toBeCloseTo(-(0.1 + previous.kl), 12);
  });

  it('refuses FCD output and disturbances, writing nothing', async () => {
    const dir = tempDir();
    const xml = join(dir, 'mabc.xml');
    const fcd = await runCliInProcess(['simulate', '--scenario', 'mabc', '--out', xml]);
    expect(fcd.code).toBe(2);
    expect(fcd.stderr).toContain('mabc has no road, so no SUMO FCD; write a .csv or .jsonl file');
    expect(existsSync(xml)).toBe(false);
    const csv = join(dir, 'dr.csv');
    const disturbed = await runCliInProcess(['simulate', '--scenario', 'demand-response', '--disturb', 'brake:vehicle=0,start=1', '--out', csv]);
    expect(disturbed.code).toBe(2);
    expect(disturbed.stderr).toContain('demand-response has no vehicles to disturb');
    expect(existsSync(csv)).toBe(false);
  });
});

describe('headway plan', () => {
  it('refuses scenarios without a planner and bad grid steps by name', async () => {
    const ring = await runCliInProcess(['plan', '--scenario', 'ring']);
    expect(ring.code).toBe(2);
    expect(ring.stderr).toContain('--scenario "ring" is not allowed; expected one of mabc, demand-response');
    const grid = await runCliInProcess(['plan', '--scenario', 'demand-response', '--grid-step', '0.3']);
    expect(grid.code).toBe(2);
    expect(grid.stderr).toContain('--grid-step "0.3" is not allowed');
  });

  it('prints the demand-response optimum as JSON', async () => {
    const result = await runCliInProcess(['plan', '--scenario', 'demand-response', '--param', 'agents=4', '--grid-step', '1', '--json']);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { value: number; nodes: number; gridStep: number };
    expect(plan.nodes).toBe(5);
    expect(plan.gridStep).toBe(1);
    expect(plan.value).toBeLessThan(0);
  });
});
