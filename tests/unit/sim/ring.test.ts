import { describe, expect, it } from 'vitest';
import { DT, VEHICLE_LENGTH, VehicleKind } from '../../../src/main/sim/env.ts';
import { RANDOM_LENGTH_MAX, RANDOM_LENGTH_MIN, RingEnv } from '../../../src/main/sim/ring.ts';
import { envSeed, RngStreams } from '../../../src/main/sim/rng.ts';
import { resolveParams } from '../../../src/shared/scenarios.ts';

const ring = (given: Record<string, unknown>, numEnvs = 1) => new RingEnv(resolveParams('ring', given), numEnvs);

/** Standard deviation of the speeds of copy 0 across its vehicles. */
function speedSpread(env: RingEnv): number {
  const n = env.spec.nVehicles;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += env.speed[i] / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (env.speed[i] - mean) ** 2 / n;
  return Math.sqrt(variance);
}

/** Runs an uncontrolled ring for `steps`; returns the spread averaged over the last `tail` steps and the smallest gap seen. */
function runUncontrolled(given: Record<string, unknown>, steps: number, tail: number) {
  const env = ring({ preset: 'uncontrolled', ...given }).reset(1);
  let spread = 0;
  let minGap = Infinity;
  for (let t = 0; t < steps; t++) {
    env.step([]);
    for (const g of env.gap) minGap = Math.min(minGap, g);
    if (t >= steps - tail) spread += speedSpread(env) / tail;
  }
  return { env, spread, minGap };
}

/** Uniform random accelerations in [-1, 1] for every agent of every copy, from a fixed stream. */
function randomActions(rng: RngStreams, out: Float64Array): Float64Array {
  for (let k = 0; k < out.length; k++) out[k] = 2 * rng.uniform(0) - 1;
  return out;
}

describe('ring: spec', () => {
  it('dmpo: every vehicle an agent on a cycle graph', () => {
    const { spec } = ring({});
    expect(spec.nAgents).toBe(22);
    expect(spec.nVehicles).toBe(22);
    expect(spec.obsDim).toBe(2);
    expect(spec.action).toEqual({ kind: 'continuous', low: -1, high: 1 });
    expect(spec.horizon).toBe(3000);
    expect(spec.graph.neighbourhood(0, 1)).toEqual([0, 1, 21]);
    expect(Array.from(spec.agentVehicle)).toEqual(Array.from({ length: 22 }, (_, i) => i));
    expect(spec.rewardTermNames).toEqual(['speed', 'accel']);
    expect(spec.closedRoad).toBe(true);
  });

  it('flow-1av: vehicle 0 controlled among 21 humans, 750 warmup steps by default', () => {
    const { spec } = ring({ preset: 'flow-1av' });
    expect(spec.nAgents).toBe(1);
    expect(spec.obsDim).toBe(3);
    expect(spec.params.warmup).toBe(750);
    expect(spec.vehicleKind[0]).toBe(VehicleKind.agent);
    expect(Array.from(spec.vehicleKind.subarray(1)).every((k) => k === VehicleKind.human)).toBe(true);
  });

  it('uncontrolled: no agents', () => {
    const env = ring({ preset: 'uncontrolled' }).reset(3);
    expect(env.spec.nAgents).toBe(0);
    expect(env.obs.length).toBe(0);
    env.step([]);
    expect(env.steps[0]).toBe(1);
  });

  it('rejects invalid parameters like user input', () => {
    expect(() => ring({ vehicles: 1 })).toThrow(/vehicles/);
    expect(() => ring({ preset: 'nope' })).toThrow(/preset/);
  });
});

describe('ring: physics', () => {
  it('uncontrolled humans at L = 230 form stop-and-go waves without colliding', () => {
    const { env, spread, minGap } = runUncontrolled({ length: 230 }, 3000, 500);
    expect(spread).toBeGreaterThan(1); // measured 2.92 m/s
    expect(minGap).toBeGreaterThanOrEqual(0);
    expect(env.collided[0]).toBe(0);
    expect(env.truncated[0]).toBe(1);
  });

  it('the waves need the noise: the noiseless uniform start stays in equilibrium', () => {
    const { spread } = runUncontrolled({ length: 230, noise: 0 }, 3000, 500);
    expect(spread).toBeLessThan(1e-6);
  });

  it('random agents never collide with the safety cap on', () => {
    for (const seed of [1, 2, 3]) {
      const env = ring({ length: null }, 2).reset(seed);
      const rng = new RngStreams(1);
      rng.seed(0, seed);
      const actions = new Float64Array(2 * 22);
      let minGap = Infinity;
      for (let t = 0; t < 3000; t++) {
        env.step(randomActions(rng, actions));
        for (const g of env.gap) minGap = Math.min(minGap, g);
      }
      expect(minGap).toBeGreaterThanOrEqual(0);
      expect(Array.from(env.collided)).toEqual([0, 0]);
      expect(Array.from(env.truncated)).toEqual([1, 1]);
    }
  });

  it('without the safety cap, accelerating into a braking leader is a collision', () => {
    // Even vehicles floor it, odd ones brake: vehicle 2i drives into the stopped vehicle 2i+1.
    const pattern = Float64Array.from({ length: 22 }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const run = (safetyCap: boolean) => {
      const env = ring({ length: 230, safetyCap }).reset(5);
      while (!env.allDone()) env.step(pattern);
      return env;
    };
    const uncapped = run(false);
    expect(uncapped.terminated[0]).toBe(1);
    expect(uncapped.collided[0]).toBe(1);
    expect(uncapped.steps[0]).toBeLessThan(100); // 5.45 m at 1 m/s^2 from rest: about 3.3 s
    expect(Math.min(...uncapped.gap)).toBeLessThan(0);
    const capped = run(true);
    expect(capped.collided[0]).toBe(0);
    expect(capped.truncated[0]).toBe(1);
  });

  it('dmpo step: state, reward and observation by hand', () => {
    const env = ring({ vehicles: 4, length: 100 }).reset(1);
    expect(Array.from(env.position)).toEqual([0, 25, 50, 75]);
    expect(Array.from(env.gap)).toEqual([20, 20, 20, 20]);
    [0, 0, 0, 0.25, 0, 0.5, 0, 0.75].forEach((o, k) => expect(env.obs[k]).toBeCloseTo(o, 15));
    // Vehicle 1 is made fast and close to vehicle 2, so the safe-speed cap binds for it.
    env.speed[1] = 10;
    env.position[1] = 30;
    env.gap[0] = 25;
    env.gap[1] = 15;
    env.step([1, 0.5, -1, 2]);
    // v_safe of vehicle 1 (v 10, leader at 0, gap 15), written out from the spec.
    const sStar = 2.5 + Math.max(0, 10 * 1 + (10 * (10 - 0)) / (2 * Math.sqrt(2.6 * 4.5)));
    const vSafe = Math.max(0, 10 + DT * 2.6 * (1 - (10 / 30) ** 4 - (sStar / 15) ** 2));
    expect(vSafe).toBeGreaterThan(0);
    expect(vSafe).toBeLessThan(10 + 0.5 * DT);
    const v = [0.1, vSafe, 0, 0.1];
    const x = [0.01, 30 + vSafe * DT, 50, 75.01];
    for (let i = 0; i < 4; i++) {
      expect(env.speed[i]).toBeCloseTo(v[i], 12);
      expect(env.position[i]).toBeCloseTo(x[i], 12);
    }
    expect(env.accel[1]).toBeCloseTo((vSafe - 10) / DT, 10);
    expect(Array.from(env.action)).toEqual([1, 0.5, -1, 1]); // applied (clipped) values
    const expectedGap = [x[1] - x[0], x[2] - x[1], x[3] - x[2], 100 + x[0] - x[3]].map((d) => d - VEHICLE_LENGTH);
    for (let i = 0; i < 4; i++) expect(env.gap[i]).toBeCloseTo(expectedGap[i], 12);
    const raw = [1, 0.5, -1, 2];
    for (let i = 0; i < 4; i++) {
      const speedTerm = (4 * (20 - Math.abs(20 - v[i]))) / (20 * 4);
      const accelTerm = (-4 * Math.abs(raw[i])) / 4; // the raw action, 2 for vehicle 3
      expect(env.rawReward[i]).toBeCloseTo(speedTerm + accelTerm, 12);
      expect(env.reward[i]).toBe(env.rawReward[i]);
      expect(env.rewardTerms[2 * i]).toBeCloseTo(speedTerm, 12);
      expect(env.rewardTerms[2 * i + 1]).toBeCloseTo(accelTerm, 12);
      expect(env.obs[2 * i]).toBeCloseTo(v[i] / 30, 12);
      expect(env.obs[2 * i + 1]).toBeCloseTo(x[i] / 100, 12);
    }
  });

  it('humans follow Flow IDM: one noiseless step by hand', () => {
    const env = ring({ preset: 'uncontrolled', vehicles: 3, length: 60, noise: 0 }).reset(1);
    env.speed[0] = 8;
    env.speed[1] = 3;
    env.step([]);
    // Vehicle 0: v 8 behind vehicle 1 at v 3, gap 15.
    const sStar = 2 + Math.max(0, 8 * 1 + (8 * (8 - 3)) / (2 * Math.sqrt(1 * 1.5)));
    const accel = 1 * (1 - (8 / 30) ** 4 - (sStar / 15) ** 2);
    expect(env.speed[0]).toBeCloseTo(Math.max(8 + accel * DT, 0), 12);
    expect(env.accel[0]).toBeCloseTo(env.speed[0] / DT - 80, 9);
    expect(Array.from(env.action).every(Number.isNaN)).toBe(true);
  });

  it('flow-1av: reward and observation by hand', () => {
    const env = ring({ preset: 'flow-1av', warmup: 0, length: 220 }).reset(1);
    expect(Array.from(env.obs)).toEqual([0, 0, 5 / 270]);
    env.step([-1.5]);
    // The agent brakes from rest: stays at 0. Humans start from rest too.
    const mean = env.speed.reduce((a, b) => a + b, 0) / 22;
    expect(env.speed[0]).toBe(0);
    expect(env.rawReward[0]).toBeCloseTo((4 * mean) / 20 - 4 * 1.5, 12);
    expect(env.rewardTerms[1]).toBeCloseTo(-6, 12);
    expect(env.obs[0]).toBe(0);
    expect(env.obs[1]).toBeCloseTo(env.speed[1] / 15, 12);
    expect(env.obs[2]).toBeCloseTo(env.gap[0] / 270, 12);
    expect(env.gap[0]).toBeCloseTo(5 + env.speed[1] * DT, 12);
  });

  it('length = null draws an integer length in [220, 270] at every reset', () => {
    const env = ring({ length: null });
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      env.reset(seed);
      const length = env.roadLength[0];
      expect(Number.isInteger(length)).toBe(true);
      expect(length).toBeGreaterThanOrEqual(RANDOM_LENGTH_MIN);
      expect(length).toBeLessThanOrEqual(RANDOM_LENGTH_MAX);
      expect(env.gap[0]).toBeCloseTo(length / 22 - 5, 12);
      seen.add(length);
    }
    expect(seen.size).toBeGreaterThan(40);
    expect(seen.has(220) && seen.has(270)).toBe(true);
  });

  it('warmup drives everyone as human before the first observation and is not counted', () => {
    const warm = ring({ length: 230, warmup: 300, horizon: 5 }).reset(9);
    // The same seed's uncontrolled ring after 300 steps: the warmup is exactly that.
    const humans = ring({ preset: 'uncontrolled', length: 230 }).reset(9);
    for (let t = 0; t < 300; t++) humans.step([]);
    expect(Array.from(warm.position)).toEqual(Array.from(humans.position));
    expect(Array.from(warm.speed)).toEqual(Array.from(humans.speed));
    expect(Math.max(...warm.speed)).toBeGreaterThan(0);
    expect(warm.steps[0]).toBe(0);
    expect(Array.from(warm.action).every(Number.isNaN)).toBe(true);
    for (let i = 0; i < 22; i++) expect(warm.obs[2 * i]).toBeCloseTo(warm.speed[i] / 30, 15);
    const zeros = new Float64Array(22);
    for (let t = 0; t < 4; t++) expect(warm.step(zeros).truncated[0]).toBe(0);
    expect(warm.step(zeros).truncated[0]).toBe(1);
  });

  it('throws on a NaN action', () => {
    const env = ring({}).reset(1);
    const actions = new Float64Array(22);
    actions[3] = NaN;
    expect(() => env.step(actions)).toThrow(/agent 3/);
  });
});

describe('ring: determinism', () => {
  const runBuffers = (env: RingEnv, seed: number, actionSeed: number, steps: number) => {
    env.reset(seed);
    const rng = new RngStreams(1);
    rng.seed(0, actionSeed);
    const actions = new Float64Array(env.numEnvs * env.spec.nAgents);
    for (let t = 0; t < steps; t++) env.step(randomActions(rng, actions));
    return env;
  };

  it('same seed and actions give bit-identical buffers', () => {
    for (const preset of ['dmpo', 'flow-1av']) {
      const a = runBuffers(ring({ preset, length: null, warmup: 20 }, 2), 11, 4, 500);
      const b = runBuffers(ring({ preset, length: null, warmup: 20 }, 2), 11, 4, 500);
      for (const key of ['position', 'speed', 'accel', 'gap', 'action', 'obs', 'reward', 'rewardTerms', 'roadLength'] as const) {
        expect(Buffer.from(a[key].buffer).equals(Buffer.from(b[key].buffer))).toBe(true);
      }
    }
  });

  it('batch copy e equals a single env reset with envSeed(seed, e)', () => {
    const E = 4;
    const seed = 77;
    const given = { preset: 'flow-1av', length: null, warmup: 50 };
    const batch = ring(given, E).reset(seed);
    const singles = Array.from({ length: E }, (_, e) => {
      const env = ring(given);
      env.resetEnv(0, envSeed(seed, e));
      return env;
    });
    const rng = new RngStreams(1);
    rng.seed(0, 3);
    const actions = new Float64Array(E);
    for (let t = 0; t < 300; t++) {
      randomActions(rng, actions);
      batch.step(actions);
      singles.forEach((env, e) => env.step([actions[e]]));
    }
    singles.forEach((env, e) => {
      expect(env.roadLength[0]).toBe(batch.roadLength[e]);
      expect(Array.from(env.position)).toEqual(Array.from(batch.position.subarray(e * 22, (e + 1) * 22)));
      expect(Array.from(env.speed)).toEqual(Array.from(batch.speed.subarray(e * 22, (e + 1) * 22)));
      expect(Array.from(env.obs)).toEqual(Array.from(batch.obs.subarray(e * 3, (e + 1) * 3)));
      expect(env.rawReward[0]).toBe(batch.rawReward[e]);
    });
    expect(new Set(Array.from(batch.roadLength)).size).toBeGreaterThan(1);
  });
});
