import { describe, expect, it } from 'vitest';
import type { ScenarioId } from '../../../src/shared/scenarios.ts';
import { stringStability } from '../../../src/shared/stringStability.ts';
import { stringOrder, type Disturbance } from '../../../src/main/sim/disturbances.ts';
import { DT, type BatchedEnv } from '../../../src/main/sim/env.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { createTrajectoryWriter } from '../../../src/main/sim/trajectoryFormats.ts';

/** Ring of 22 IDM humans without noise: from rest it settles into the uniform flow at 3.45 m/s (gap 5.45 m) well before 50 s. */
const QUIET_RING = { preset: 'uncontrolled', length: 230, noise: 0 };

function makeEnv(scenario: ScenarioId, params: Record<string, unknown>, disturbances: Disturbance[], numEnvs = 1): BatchedEnv {
  const env = createEnv(scenario, params, numEnvs);
  env.disturbances.set(disturbances);
  return env.reset(0);
}

function constantActions(env: BatchedEnv, value: number): Float64Array {
  return new Float64Array(env.numEnvs * env.spec.nAgents).fill(value);
}

/** Runs `steps` steps and returns every state's speeds and gaps of copy 0 ([rows, nVehicles]). */
function record(env: BatchedEnv, actions: Float64Array, steps: number): { speed: Float64Array; gap: Float64Array; nVehicles: number; dt: number } {
  const n = env.spec.nVehicles;
  const speed = new Float64Array((steps + 1) * n);
  const gap = new Float64Array((steps + 1) * n);
  speed.set(env.speed.subarray(0, n));
  gap.set(env.gap.subarray(0, n));
  for (let t = 1; t <= steps; t++) {
    env.step(actions);
    speed.set(env.speed.subarray(0, n), t * n);
    gap.set(env.gap.subarray(0, n), t * n);
  }
  return { speed, gap, nVehicles: n, dt: DT };
}

describe('disturbances act on the vehicle they name', () => {
  it('a brake on a ring human overrides its IDM for exactly its steps, clamped at 0, and only that vehicle in its first step', () => {
    const brake: Disturbance = { kind: 'brake', vehicle: 3, start: 500, duration: 20, accel: -4 };
    const env = makeEnv('ring', QUIET_RING, [brake]);
    const twin = makeEnv('ring', QUIET_RING, []);
    const none = constantActions(env, 0);
    for (let t = 0; t < 500; t++) {
      env.step(none);
      twin.step(none);
    }
    expect(Array.from(env.speed)).toEqual(Array.from(twin.speed));
    const before = env.speed[3];
    expect(before).toBeCloseTo(3.45, 1);
    env.step(none);
    twin.step(none);
    // Every vehicle moves on the state at t: in the first braked step only vehicle 3 differs.
    for (let v = 0; v < 22; v++) expect(env.speed[v] === twin.speed[v]).toBe(v !== 3);
    expect(env.speed[3]).toBe(before + -4 * DT);
    expect(env.disturbances.applied[3]).toBe(1);
    for (let t = 1; t < 20; t++) env.step(none);
    expect(env.speed[3]).toBe(0);
    expect(env.accel[3]).toBe(0);
    env.step(none);
    expect(env.disturbances.applied[3]).toBe(0);
    expect(env.speed[3]).toBeGreaterThan(0);
    expect(env.collided[0]).toBe(0);
  });

  it('a brake overrides an RL agent\'s action on the dmpo ring, whose action is still recorded', () => {
    const env = makeEnv('ring', { length: 230 }, [{ kind: 'brake', vehicle: 5, start: 100, duration: 10, accel: -2 }]);
    const go = constantActions(env, 0.5);
    for (let t = 0; t < 100; t++) env.step(go);
    const v = env.speed[5];
    env.step(go);
    expect(env.speed[5]).toBe(v - 2 * DT);
    expect(env.action[5]).toBe(0.5);
    expect(env.speed[4]).toBeGreaterThan(v);
  });

  it('hold drives towards its speed at the max deceleration and lands on it; stop reaches 0 and stays', () => {
    const env = makeEnv('ring', QUIET_RING, [
      { kind: 'hold', vehicle: 0, start: 500, duration: 30, speed: 1 },
      { kind: 'stop', vehicle: 10, start: 500, duration: 30 },
    ]);
    const none = constantActions(env, 0);
    for (let t = 0; t < 500; t++) env.step(none);
    const v = env.speed[0];
    env.step(none);
    expect(env.speed[0]).toBeCloseTo(v - env.spec.maxDecel * DT, 12);
    expect(env.spec.maxDecel).toBe(4.5);
    for (let t = 1; t < 30; t++) env.step(none);
    expect(env.speed[0]).toBe(1);
    expect(env.speed[10]).toBe(0);
    expect(env.disturbances.applied[10]).toBe(3);
  });

  it('a dip shapes the CACC leader profile as a raised cosine and ends on it; a brake on the leader rejoins the profile at 2.5 m/s^2', () => {
    const dip = makeEnv('cacc-catchup', { leadHeadway: 20 }, [{ kind: 'dip', vehicle: 0, start: 100, duration: 40, depth: 3 }]);
    const actions = constantActions(dip, 2);
    for (let t = 0; t < 100; t++) dip.step(actions);
    for (let tau = 1; tau <= 40; tau++) {
      dip.step(actions);
      expect(dip.speed[0]).toBeCloseTo(15 - 1.5 * (1 - Math.cos((2 * Math.PI * tau) / 40)), 12);
    }
    expect(dip.speed[0]).toBe(15);
    dip.step(actions);
    expect(dip.speed[0]).toBe(15);

    const brake = makeEnv('cacc-catchup', { leadHeadway: 20 }, [{ kind: 'brake', vehicle: 0, start: 10, duration: 10, accel: -3 }]);
    for (let t = 0; t < 20; t++) brake.step(actions);
    expect(brake.speed[0]).toBeCloseTo(12, 12);
    brake.step(actions);
    expect(brake.speed[0]).toBeCloseTo(12.25, 12);
    for (let t = 0; t < 11; t++) brake.step(actions);
    expect(brake.speed[0]).toBeCloseTo(15, 12);
    // Within reach of the profile it lands on it exactly, and stays there.
    brake.step(actions);
    brake.step(actions);
    expect(brake.speed[0]).toBe(15);
  });

  it('a brake on a CACC platoon vehicle and on a figure-eight vehicle', () => {
    const cacc = makeEnv('cacc-slowdown', { initialSpeed: 20 }, [{ kind: 'brake', vehicle: 4, start: 0, duration: 5, accel: -5 }]);
    cacc.step(constantActions(cacc, 3));
    expect(cacc.speed[4]).toBe(20 - 5 * DT);
    const eight = makeEnv('figure-eight', { preset: 'uncontrolled', noise: 0 }, [{ kind: 'brake', vehicle: 2, start: 200, duration: 5, accel: -4 }]);
    const twin = makeEnv('figure-eight', { preset: 'uncontrolled', noise: 0 }, []);
    for (let t = 0; t <= 200; t++) {
      eight.step(new Float64Array(0));
      twin.step(new Float64Array(0));
    }
    expect(eight.speed[2]).toBeCloseTo(Math.max(0, twin.speed[2] - 0.4), 0);
    expect(eight.speed[2]).toBeLessThan(twin.speed[2]);
  });
});

describe('disturbances are checked', () => {
  const env = createEnv('ring', {}, 1);
  const cases: [string, Disturbance[], RegExp][] = [
    ['vehicle out of range', [{ kind: 'stop', vehicle: 22, start: 0, duration: 1 }], /vehicle=22 is not allowed; expected a vehicle index from 0 to 21 \(ring has 22 vehicles\)/],
    ['a brake that accelerates', [{ kind: 'brake', vehicle: 0, start: 0, duration: 1, accel: 2 }], /accel=2 is not allowed; expected a negative acceleration/],
    ['a negative hold speed', [{ kind: 'hold', vehicle: 0, start: 0, duration: 1, speed: -1 }], /speed=-1 is not allowed/],
    ['a zero duration', [{ kind: 'stop', vehicle: 0, start: 0, duration: 0 }], /duration 0 is not allowed; expected at least 1 step/],
    ['a dip off the leader', [{ kind: 'dip', vehicle: 0, start: 0, duration: 10, depth: 2 }], /kind=dip is not allowed on vehicle 0; .*ring has none/],
    ['an unknown kind', [{ kind: 'jump', vehicle: 0, start: 0, duration: 1 } as unknown as Disturbance], /kind=jump is not allowed; expected one of brake, hold, stop, dip/],
    [
      'two at once on one vehicle',
      [
        { kind: 'stop', vehicle: 4, start: 10, duration: 10 },
        { kind: 'hold', vehicle: 4, start: 19, duration: 5, speed: 2 },
      ],
      /two disturbances of vehicle 4 overlap \(steps 10 to 19 and 19 to 23\)/,
    ],
  ];
  for (const [what, list, message] of cases) {
    it(what, () => {
      env.disturbances.set([{ kind: 'stop', vehicle: 1, start: 5, duration: 5 }]);
      expect(() => env.disturbances.set(list)).toThrow(message);
      expect(env.disturbances.list()).toEqual([{ kind: 'stop', vehicle: 1, start: 5, duration: 5 }]);
    });
  }

  it('a dip names the CACC leader', () => {
    expect(() => createEnv('cacc-catchup', {}, 1).disturbances.set([{ kind: 'dip', vehicle: 2, start: 0, duration: 10, depth: 2 }])).toThrow(/vehicle 0 here/);
  });
});

describe('disturbances are environment state', () => {
  const cases: [ScenarioId, Record<string, unknown>, Disturbance[]][] = [
    ['ring', { preset: 'uncontrolled' }, [{ kind: 'brake', vehicle: 7, start: 60, duration: 40, accel: -3 }]],
    ['ring', {}, [{ kind: 'hold', vehicle: 0, start: 50, duration: 100, speed: 0.5 }]],
    ['cacc-slowdown', {}, [{ kind: 'dip', vehicle: 0, start: 70, duration: 30, depth: 4 }, { kind: 'stop', vehicle: 3, start: 75, duration: 10 }]],
    ['figure-eight', { preset: 'flow-1av' }, [{ kind: 'brake', vehicle: 0, start: 60, duration: 30, accel: -2 }]],
  ];
  for (const [scenario, params, list] of cases) {
    it(`${scenario} ${JSON.stringify(params)} resumes bit-identically from a snapshot taken mid-disturbance`, () => {
      const env = makeEnv(scenario, params, list, 2);
      const actions = constantActions(env, env.spec.action.kind === 'discrete' ? 3 : 0.3);
      for (let t = 0; t < 77; t++) env.step(actions);
      expect(Array.from(env.disturbances.applied).some((code) => code !== 0)).toBe(true);
      const copy = createEnv(scenario, params, 2);
      copy.restore(env.snapshot());
      expect(copy.disturbances.list()).toEqual(list);
      expect(Array.from(copy.disturbances.applied)).toEqual(Array.from(env.disturbances.applied));
      for (let t = 0; t < 100; t++) {
        env.step(actions);
        copy.step(actions);
        expect(Array.from(copy.disturbances.applied)).toEqual(Array.from(env.disturbances.applied));
      }
      expect(Array.from(copy.speed)).toEqual(Array.from(env.speed));
      expect(Array.from(copy.position)).toEqual(Array.from(env.position));
      expect(Array.from(copy.obs)).toEqual(Array.from(env.obs));
    });
  }

  it('an undisturbed snapshot has no disturbance entries, and restoring it clears a schedule', () => {
    const plain = createEnv('ring', {}, 1).reset(0);
    expect(Object.keys(plain.snapshot()).filter((key) => key.startsWith('disturbances.'))).toEqual([]);
    const disturbed = makeEnv('ring', {}, [{ kind: 'stop', vehicle: 0, start: 0, duration: 5 }]);
    disturbed.step(constantActions(disturbed, 0));
    disturbed.restore(plain.snapshot());
    expect(disturbed.disturbances.count).toBe(0);
    expect(Array.from(disturbed.disturbances.applied).every((code) => code === 0)).toBe(true);
  });

  it('refuses a disturbance snapshot of another shape', () => {
    const snapshot = makeEnv('ring', {}, [{ kind: 'stop', vehicle: 0, start: 0, duration: 5 }]).snapshot();
    snapshot['disturbances.value'] = new Float64Array(3);
    expect(() => createEnv('ring', {}, 1).restore(snapshot)).toThrow(/'disturbances.value' does not fit this ring environment/);
  });
});

describe('trajectory writers show the applied disturbance', () => {
  it('as a CSV column and a JSONL array, only when disturbances are scheduled', () => {
    const env = makeEnv('cacc-catchup', { leadHeadway: 20 }, [{ kind: 'dip', vehicle: 0, start: 1, duration: 2, depth: 1 }]);
    const csv = createTrajectoryWriter('csv', env);
    const jsonl = createTrajectoryWriter('jsonl', env);
    expect(csv.begin()).toBe('step,time_s,vehicle,position_m,speed_mps,accel_mps2,headway_m,action,reward,disturbance\n');
    const actions = constantActions(env, 0);
    const rows: string[][] = [csv.step(0).trimEnd().split('\n')];
    const objects = [JSON.parse(jsonl.step(0)) as { disturbance: string[] }];
    for (let t = 1; t <= 4; t++) {
      env.step(actions);
      rows.push(csv.step(t).trimEnd().split('\n'));
      objects.push(JSON.parse(jsonl.step(t)) as { disturbance: string[] });
    }
    // The dip acts on steps 1 and 2, which lead to states 2 and 3.
    expect(rows.map((lines) => lines[0].split(',').at(-1))).toEqual(['', '', 'dip', 'dip', '']);
    expect(rows.map((lines) => lines[1].split(',').at(-1))).toEqual(['', '', '', '', '']);
    expect(objects.map((o) => o.disturbance[0])).toEqual(['', '', 'dip', 'dip', '']);
    expect(objects[2].disturbance).toHaveLength(9);

    const plain = createEnv('cacc-catchup', {}, 1).reset(0);
    expect(createTrajectoryWriter('csv', plain).begin()).toBe('step,time_s,vehicle,position_m,speed_mps,accel_mps2,headway_m,action,reward\n');
    expect(JSON.parse(createTrajectoryWriter('jsonl', plain).step(0))).not.toHaveProperty('disturbance');
  });
});

describe('string stability of simulated disturbances', () => {
  it('the quiet 22-vehicle IDM ring amplifies a small brake into a stop-and-go wave', () => {
    const brake: Disturbance = { kind: 'brake', vehicle: 3, start: 500, duration: 5, accel: -1 };
    const env = makeEnv('ring', QUIET_RING, [brake]);
    const r = stringStability(record(env, constantActions(env, 0), 3000), { order: stringOrder(env.spec, 3), start: 500, duration: 5 });
    expect(r.vehicles.map((v) => v.vehicle).slice(0, 4)).toEqual([3, 2, 1, 0]);
    expect(r.vehicles).toHaveLength(22);
    expect(r.vehicles[0].referenceSpeed).toBeCloseTo(3.45, 2);
    expect(r.vehicles[0].peakSpeedDeviation).toBeCloseTo(0.5, 6);
    expect(r.verdict).toBe('amplified');
    expect(r.tailToHead).toBeGreaterThan(5);
    expect(r.recoveryTime).toBeNull();
    for (const v of r.vehicles.slice(1)) expect(v.peakSpeedDeviation).toBeGreaterThan(3);
  });

  it('a CACC platoon damps a leader dip under relative-speed control (beta only), amplifies it under alpha = beta = 0.5', () => {
    const dip: Disturbance = { kind: 'dip', vehicle: 0, start: 300, duration: 50, depth: 3 };
    const readout = (action: number) => {
      const env = makeEnv('cacc-catchup', { leadHeadway: 20 }, [dip]);
      return stringStability(record(env, constantActions(env, action), 600), { order: stringOrder(env.spec, 0), start: 300, duration: 50 });
    };
    const damped = readout(2);
    expect(damped.vehicles.map((v) => v.vehicle)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(damped.vehicles[0].peakSpeedDeviation).toBeCloseTo(3, 9);
    expect(damped.verdict).toBe('damped');
    expect(damped.maxAmplification).toBeLessThan(1);
    expect(damped.tailToHead).toBeLessThan(0.25);
    expect(damped.recoveryTime).toBeGreaterThan(5);
    expect(damped.recoveryTime).toBeLessThan(30);
    const amplified = readout(3);
    expect(amplified.verdict).toBe('amplified');
    expect(amplified.tailToHead).toBeGreaterThan(1);
  });
});
