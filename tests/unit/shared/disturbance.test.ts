/** The disturbed-vehicle marks a replay and a video draw from a stored episode's schedule: the same steps a live frame flags. */
import { describe, expect, it } from 'vitest';
import { FrameFlag } from '../../../src/shared/apiEvents.ts';
import { markDisturbed, type Disturbance } from '../../../src/shared/disturbance.ts';
import { createEnv } from '../../../src/main/sim/index.ts';

describe('markDisturbed', () => {
  it('flags exactly the vehicles and states the simulator flags, and leaves other bits alone', () => {
    const schedule: Disturbance[] = [
      { kind: 'brake', vehicle: 3, start: 5, duration: 4, accel: -3 },
      { kind: 'stop', vehicle: 7, start: 7, duration: 2 },
    ];
    const env = createEnv('ring', { preset: 'uncontrolled', length: 230 }, 1).reset(1);
    env.disturbances.set(schedule);
    const actions = new Float64Array(env.spec.nAgents);
    const flags = new Uint8Array(env.spec.nVehicles).fill(FrameFlag.collision);
    for (let t = 1; t <= 15; t++) {
      env.step(actions);
      markDisturbed(schedule, t, flags, FrameFlag.disturbed);
      const live = Array.from(env.disturbances.applied.subarray(0, env.spec.nVehicles), (code) => (code !== 0 ? FrameFlag.disturbed : 0));
      expect(Array.from(flags, (f) => f & FrameFlag.disturbed), `state ${t}`).toEqual(live);
    }
    expect(flags.every((f) => (f & FrameFlag.collision) !== 0)).toBe(true);
  });
});
