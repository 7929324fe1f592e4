import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess, tempDir } from './cli.helpers.ts';

const QUIET_RING = ['--scenario', 'ring', '--param', 'preset=uncontrolled', '--param', 'length=230', '--param', 'noise=0'];

interface Row {
  step: number;
  vehicle: number;
  speed: number;
  disturbance: string;
}

function readCsv(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  expect(header).toBe('step,time_s,vehicle,position_m,speed_mps,accel_mps2,headway_m,action,reward,disturbance');
  return lines.map((line) => {
    const cells = line.split(',');
    return { step: Number(cells[0]), vehicle: Number(cells[2]), speed: Number(cells[4]), disturbance: cells[9] };
  });
}

interface Readout {
  verdict: string;
  tailToHead: number;
  recoveryTime: number | null;
  vehicles: { vehicle: number; peakSpeedDeviation: number; referenceGap: number | null; speedDeviation: number[] }[];
}

describe('headway simulate --disturb', () => {
  it('brakes a ring vehicle: the deviation is in the trajectory file and the summary reads out an amplified wave', async () => {
    const out = join(tempDir(), 'ring.csv');
    // The small brake (0.5 m/s) grows slowly: past the input only after some 150 s, so run the whole 300 s.
    const result = await runCliInProcess(['simulate', ...QUIET_RING, '--disturb', 'vehicle=3,at=50s,accel=-1,for=0.5s', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = readCsv(out).filter((r) => r.vehicle === 3);
    expect(rows.filter((r) => r.disturbance === 'brake').map((r) => r.step)).toEqual([501, 502, 503, 504, 505]);
    expect(rows[505].speed).toBeCloseTo(rows[500].speed - 0.5, 12);
    expect(rows[500].speed).toBeCloseTo(3.45, 2);
    expect(result.stdout).toMatch(/string stability: brake on vehicle 3 at 50\.0 s for 0\.5 s \(reference: means over 45\.1 s to 50\.0 s\)/);
    expect(result.stdout).toMatch(/^ +3 +3\.45\d +0\.500 +[\d.]+ +\(disturbed\)$/m);
    expect(result.stdout).toMatch(/tail\/head [\d.]+, largest ratio [\d.]+: amplified; not recovered within 0\.1 m\/s by the end/);
    const ratio = Number(/tail\/head ([\d.]+)/.exec(result.stdout)![1]);
    expect(ratio).toBeGreaterThan(5);
  });

  it('dips the CACC leader (leader=dip, length, steps without a unit); --json has the readout and its series', async () => {
    const dir = tempDir();
    const out = join(dir, 'platoon.jsonl');
    const args = ['simulate', '--scenario', 'cacc-catchup', '--param', 'leadHeadway=20', '--policy', 'constant:2', '--json', '--out', out];
    const result = await runCliInProcess([...args, '--disturb', 'leader=dip,at=300,depth=3,length=5s']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { disturbances: { disturbance: unknown; stringStability: Readout }[] };
    expect(summary.disturbances[0].disturbance).toEqual({ vehicle: 0, start: 300, duration: 50, kind: 'dip', depth: 3 });
    const r = summary.disturbances[0].stringStability;
    expect(r.verdict).toBe('damped');
    expect(r.tailToHead).toBeLessThan(0.25);
    expect(r.recoveryTime).toBeGreaterThan(5);
    expect(r.vehicles.map((v) => v.vehicle)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.vehicles[0].peakSpeedDeviation).toBeCloseTo(3, 9);
    expect(r.vehicles[0].referenceGap).toBeNull();
    expect(r.vehicles[1].speedDeviation).toHaveLength(301);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { disturbance: string[] });
    expect(lines[325].disturbance).toEqual(['dip', '', '', '', '', '', '', '', '']);
    expect(lines[351].disturbance[0]).toBe('');

    const plain = await runCliInProcess(args.filter((a) => a !== '--json').concat('--disturb', 'vehicle=0,kind=dip,at=30s,depth=3,for=5s'));
    expect(plain.stdout).toMatch(/string stability: dip on vehicle 0 at 30\.0 s for 5\.0 s/);
    expect(plain.stdout).toMatch(/: damped; recovered within 0\.1 m\/s after [\d.]+ s/);
  });

  it('reads out each disturbance, holds and stops included, and writes FCD XML without a column', async () => {
    const out = join(tempDir(), 'ring.xml');
    const result = await runCliInProcess(['simulate', ...QUIET_RING, '--steps', '800', '--disturb', 'vehicle=0,kind=hold,speed=1,at=50s,for=3s', '--disturb', 'vehicle=10,kind=stop,at=60s,for=2s', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/string stability: hold on vehicle 0 at 50\.0 s for 3\.0 s/);
    expect(result.stdout).toMatch(/string stability: stop on vehicle 10 at 60\.0 s for 2\.0 s/);
    expect(readFileSync(out, 'utf8')).not.toMatch(/disturbance/);
  });

  it('prints what --disturb takes in the help', async () => {
    const help = await runCliInProcess(['simulate', '--help']);
    expect(help.stdout).toMatch(/--disturb <spec>/);
    expect(help.stdout).toMatch(/leader=dip,at=30s,depth=3,for=5s/);
  });
});

describe('headway simulate --disturb rejects bad input with one line naming the field, exit 2, nothing written', () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  const cases: [string, string[], RegExp][] = [
    ['vehicle out of range', ['--scenario', 'ring', '--disturb', 'vehicle=22,at=5s,accel=-4,for=2s'], /--disturb "vehicle=22,at=5s,accel=-4,for=2s": vehicle=22 is not allowed; expected a vehicle index from 0 to 21 \(ring has 22 vehicles\)/],
    ['vehicle not a number', ['--scenario', 'ring', '--disturb', 'vehicle=three,at=5s,accel=-4,for=2s'], /vehicle=three is not allowed; expected a vehicle index \(a whole number\)/],
    ['negative duration', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=-4,for=-2s'], /for=-2s is not allowed; expected a duration > 0: seconds with s \(e\.g\. for=2s\) or whole steps without a unit/],
    ['zero duration', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=-4,for=0'], /for=0 is not allowed; expected a duration > 0/],
    ['a time off the step grid', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5.05s,accel=-4,for=2s'], /at=5.05s is not allowed; expected a whole number of 0.1 s steps/],
    ['fractional steps', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5.5,accel=-4,for=2s'], /at=5.5 is not allowed; expected whole steps \(or seconds with s\)/],
    ['a time with another unit', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5min,accel=-4,for=2s'], /at=5min is not allowed; expected a time >= 0/],
    ['a start past the end', ['--scenario', 'ring', '--steps', '100', '--disturb', 'vehicle=3,at=10s,accel=-4,for=2s'], /at=10s is not allowed; expected a start before the episode's end \(100 steps, 10\.0 s\)/],
    ['unknown kind', ['--scenario', 'ring', '--disturb', 'vehicle=3,kind=swerve,at=5s,for=2s'], /kind=swerve is not allowed; expected one of brake, hold, stop, dip/],
    ['no kind', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,for=2s'], /kind is missing; expected kind=brake\|hold\|stop\|dip \(or accel=A for a brake\)/],
    ['unknown field', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=-4,for=2s,lane=1'], /unknown field "lane"; expected vehicle, leader, kind, at, for, length, accel, speed, depth/],
    ['not KEY=VALUE', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,brake,for=2s'], /"brake" is not KEY=VALUE; expected e\.g\. vehicle=3,at=50s,accel=-4,for=2s/],
    ['a field twice', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,at=6s,accel=-4,for=2s'], /at is given twice/],
    ['missing start', ['--scenario', 'ring', '--disturb', 'vehicle=3,accel=-4,for=2s'], /at is missing; expected the start, e\.g\. at=50s/],
    ['missing duration', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=-4'], /for is missing; expected the duration, e\.g\. for=2s/],
    ['for and length', ['--scenario', 'cacc-catchup', '--disturb', 'leader=dip,at=5s,depth=2,for=2s,length=3s'], /for and length are the same field; give one/],
    ['a brake that accelerates', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=4,for=2s'], /accel=4 is not allowed; expected a negative acceleration in m\/s\^2/],
    ['a value that is no number', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=hard,for=2s'], /accel=hard is not allowed; expected a number/],
    ['a field of another kind', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,kind=brake,accel=-4,speed=3,for=2s'], /speed is not a field of kind=brake; brake takes accel/],
    ['a hold without its speed', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,kind=hold,for=2s'], /speed is missing; kind=hold needs speed=V/],
    ['a dip on the ring', ['--scenario', 'ring', '--disturb', 'leader=dip,at=5s,depth=2,for=2s'], /leader=dip is not allowed; ring has no exogenous leader/],
    ['a dip on a platoon vehicle', ['--scenario', 'cacc-catchup', '--disturb', 'vehicle=2,kind=dip,at=5s,depth=2,for=2s'], /kind=dip is not allowed on vehicle 2; a dip shapes the exogenous leader's speed profile \(vehicle 0 here\)/],
    ['leader and vehicle', ['--scenario', 'cacc-catchup', '--disturb', 'leader=dip,vehicle=0,at=5s,depth=2,for=2s'], /leader=KIND names the vehicle and the kind/],
    ['two at once on one vehicle', ['--scenario', 'ring', '--disturb', 'vehicle=3,at=5s,accel=-4,for=2s', '--disturb', 'vehicle=3,kind=stop,at=6s,for=2s'], /--disturb: two disturbances of vehicle 3 overlap \(steps 50 to 69 and 60 to 79\)/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const result = await runCliInProcess(['simulate', ...args, '--out', out]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/^\s+at .*:\d+/m);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
    });
  }
});
