/**
 * Disturbances of a live simulation: applied by command from the current step, scripted from
 * the config, marked in the frames, read out for string stability like `headway simulate
 * --disturb` does, and refused with the field at fault.
 */
import { describe, expect, it } from 'vitest';
import { FrameFlag, simulateConfigSchema, type LiveDisturbance, type SimulateConfigInput } from '../../../src/shared/api.ts';
import { runSimulate } from '../../../src/main/cli/simulate.ts';
import type { FromWorker } from '../../../src/main/jobs/protocol.ts';
import { prepareSimulation, SimulationLoop } from '../../../src/main/jobs/simulationLoop.ts';
import { ConfigError, JobRunner } from '../../../src/main/services/jobs.ts';
import { tempDir } from '../cli/cli.helpers.ts';

function loopOf(input: Omit<SimulateConfigInput, 'kind'>) {
  const config = simulateConfigSchema.parse({ kind: 'simulate', ...input });
  const messages: FromWorker[] = [];
  const loop = new SimulationLoop('sim-1-test', config, (message) => messages.push(message), () => 0);
  const readouts = (): LiveDisturbance[] => messages.flatMap((m) => (m.type === 'disturbances' ? [m.disturbances] : [])).at(-1) ?? [];
  return { loop, messages, readouts, frames: () => messages.flatMap((m) => (m.type === 'frame' ? [m.frame] : [])) };
}

const RING = { scenario: 'ring' as const, params: { preset: 'uncontrolled', length: 230, noise: 0 }, startPaused: true };

describe('live disturbances', () => {
  it('a brake applied at step 500 gives the readout of the same brake from the CLI, and marks the vehicle while it acts', async () => {
    const live = loopOf(RING);
    live.loop.start();
    live.loop.command({ type: 'step', steps: 500 });
    live.loop.command({ type: 'disturb', disturbance: { kind: 'brake', vehicle: 3, accel: -4, duration: 2 } });
    live.loop.command({ type: 'step', steps: 1 });
    const during = live.frames().at(-1)!;
    expect(during.flags[3] & FrameFlag.disturbed).toBe(FrameFlag.disturbed);
    expect([...during.flags].filter((f) => f & FrameFlag.disturbed)).toHaveLength(1);
    live.loop.command({ type: 'step', steps: 2499 });
    expect(live.frames().at(-1)!.flags[3] & FrameFlag.disturbed).toBe(0);
    const [readout] = live.readouts();
    expect(readout).toMatchObject({ disturbance: { kind: 'brake', vehicle: 3 }, start: 500 });

    const dir = tempDir();
    const cli = await runSimulate({ scenario: 'ring', param: ['preset=uncontrolled', 'length=230', 'noise=0'], seed: '0', out: `${dir}/r.csv`, disturb: ['vehicle=3,at=500,accel=-4,for=20'] });
    const reference = cli.disturbances[0].stringStability!;
    expect(readout.readout!.verdict).toBe(reference.verdict);
    expect(readout.readout!.tailToHead).toBeCloseTo(reference.tailToHead, 12);
    expect(readout.readout!.vehicles.map((v) => v.vehicle)).toEqual(reference.vehicles.map((v) => v.vehicle));
    expect(readout.readout!.vehicles[1].peakSpeedDeviation).toBeCloseTo(reference.vehicles[1].peakSpeedDeviation, 12);
    // The series for the plot: per vehicle, thinned to at most 200 points.
    expect(readout.readout!.speedDeviation).toHaveLength(22);
    expect(readout.readout!.speedDeviation[0].length).toBeLessThanOrEqual(200);
  });

  it('a new disturbance of a vehicle ends the one still acting on it; a refused one changes nothing', () => {
    const live = loopOf({ ...RING, disturbances: [{ kind: 'hold', vehicle: 5, speed: 1, duration: 30, at: 1 }] });
    live.loop.start();
    live.loop.command({ type: 'step', steps: 20 });
    expect(live.frames().at(-1)!.flags[5] & FrameFlag.disturbed).toBe(FrameFlag.disturbed);
    live.loop.command({ type: 'disturb', disturbance: { kind: 'stop', vehicle: 5, duration: 1 } });
    expect(live.readouts().map((d) => [d.disturbance.kind, d.start])).toEqual([
      ['hold', 10],
      ['stop', 20],
    ]);
    live.loop.command({ type: 'disturb', disturbance: { kind: 'dip', vehicle: 2, depth: 3, duration: 5 } });
    expect(live.messages.at(-2)).toMatchObject({ type: 'log', level: 'error', message: expect.stringMatching(/kind=dip is not allowed on vehicle 2/) });
    expect(live.readouts()).toHaveLength(2);
  });

  it('refuses scripted disturbances and commands with the field at fault', async () => {
    expect(prepareSimulation(simulateConfigSchema.parse({ kind: 'simulate', scenario: 'ring', disturbances: [{ kind: 'brake', vehicle: 40, accel: -3, duration: 1, at: 5 }] })).errors).toEqual([
      { field: 'disturbances', message: expect.stringMatching(/^disturbances: vehicle=40 is not allowed; expected a vehicle index from 0 to 21/) },
    ]);
    expect(simulateConfigSchema.safeParse({ kind: 'simulate', scenario: 'ring', disturbances: [{ kind: 'brake', vehicle: 1, accel: -3, duration: 0, at: 5 }] }).success).toBe(false);

    const runner = new JobRunner();
    try {
      const job = runner.start({ kind: 'simulate', scenario: 'cacc-catchup', startPaused: true });
      const deadline = Date.now() + 20_000;
      while (runner.live(job.id).episode === null && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
      expect(() => runner.control(job.id, { type: 'disturb', disturbance: { kind: 'dip', vehicle: 3, depth: 2, duration: 5 } })).toThrow(ConfigError);
      expect(() => runner.control(job.id, { type: 'disturb', disturbance: { kind: 'dip', vehicle: 0, depth: 2, duration: 5 } })).not.toThrow();
    } finally {
      await runner.shutdown();
    }
  }, 30_000);
});
