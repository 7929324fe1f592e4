import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

describe('headway simulate --scenario network-routing', () => {
  it('writes per-link flows and costs per step, reaching the UE flows under policy=ue', async () => {
    const out = join(tempDir(), 'braess.csv');
    const result = await runCliInProcess(['simulate', '--scenario', 'network-routing', '--param', 'network=braess', '--param', 'policy=ue', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no agents, steady-state TSTT 552.000: 1.0000 x user equilibrium, 1.1084 x system optimum');
    const [header, ...rows] = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(header).toBe('step,link,from,to,flow_vph,time,volume_capacity,cost_vh');
    // 24 steps after the reset state, 5 links each; the last step carries 4, 2, 2, 2, 4 vehicles per hour.
    expect(rows).toHaveLength(25 * 5);
    const last = rows.slice(-5).map((row) => row.split(','));
    expect(last.map((fields) => Number(fields[4]).toFixed(6))).toEqual(['4.000000', '2.000000', '2.000000', '2.000000', '4.000000']);
    expect(last.map((fields) => fields.slice(0, 4).join(','))).toEqual(['24,1,1,3', '24,2,1,4', '24,3,3,2', '24,4,3,4', '24,5,4,2']);
  });

  it('runs the learning agents from --policy and refuses SUMO FCD output', async () => {
    const dir = tempDir();
    const jsonl = join(dir, 'grid.jsonl');
    const result = await runCliInProcess(['simulate', '--scenario', 'network-routing', '--param', 'network=grid-3x3', '--policy', 'constant:0', '--out', jsonl, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { agents: number; metrics: { routing: { tsttOverSo: number } } };
    expect(summary.agents).toBeGreaterThan(0);
    expect(summary.metrics.routing.tsttOverSo).toBeGreaterThan(1);
    const steps = readFileSync(jsonl, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { step: number; flow: number[] });
    expect(steps[1].flow).toHaveLength(24);
    const xml = join(dir, 'grid.xml');
    const refused = await runCliInProcess(['simulate', '--scenario', 'network-routing', '--out', xml]);
    expect([refused.code, refused.stderr]).toEqual([2, `headway: --out ${xml}: network-routing writes .csv or .jsonl (per-link flows and costs); SUMO FCD needs vehicles on roads\n`]);
    expect(existsSync(xml)).toBe(false);
    // No vehicles on roads, so nothing to disturb: one line, nothing written.
    const csv = join(dir, 'disturbed.csv');
    const disturbed = await runCliInProcess(['simulate', '--scenario', 'network-routing', '--disturb', 'vehicle=0,at=1,accel=-1,for=1', '--out', csv]);
    expect([disturbed.code, disturbed.stderr]).toEqual([2, 'headway: --disturb: network-routing has no vehicles to disturb\n']);
    expect(existsSync(csv)).toBe(false);
  });
});
