import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateConfigSchema, type SimulateConfigInput } from '../../../src/shared/api.ts';
import { runSimulate } from '../../../src/main/cli/simulate.ts';
import type { FromWorker } from '../../../src/main/jobs/protocol.ts';
import { prepareSimulation, SimulationLoop } from '../../../src/main/jobs/simulationLoop.ts';
import { tempDir } from '../cli/cli.helpers.ts';

/** A loop on a fake clock that advances a little on every reading (so max-speed ticks end). */
function harness(input: Omit<SimulateConfigInput, 'kind'>) {
  const config = simulateConfigSchema.parse({ kind: 'simulate', ...input });
  let time = 0;
  const messages: FromWorker[] = [];
  const loop = new SimulationLoop('sim-1-test', config, (message) => messages.push(message), () => (time += 0.001));
  return {
    loop,
    messages,
    advance(ms: number, every = 16) {
      for (let t = 0; t < ms; t += every) {
        time += every;
        loop.tick();
      }
    },
    frames: () => messages.flatMap((m) => (m.type === 'frame' ? [m.frame] : [])),
    states: () => messages.flatMap((m) => (m.type === 'state' ? [m.status] : [])),
    metrics: () => messages.flatMap((m) => (m.type === 'metrics' ? [m] : [])),
  };
}

describe('the live simulation loop', () => {
  it("reports routing's steady-state TSTT and its ratios among the episode's metrics, and streams the network's state", () => {
    const h = harness({ scenario: 'network-routing', params: { network: 'braess', policy: 'ue' }, speed: 'max' });
    h.loop.start();
    h.advance(200);
    const [metrics] = h.metrics();
    expect(metrics.values.tsttOverUe).toBeCloseTo(1, 4);
    // Braess: UE 552, SO 498.
    expect(metrics.values.tsttOverSo).toBeCloseTo(552 / 498, 3);
    expect(h.frames().at(-1)!.state.length).toBeGreaterThan(0);
  });

  it('announces the episode and its reset frame, then runs at real time', () => {
    const h = harness({ scenario: 'ring', params: { preset: 'uncontrolled', length: 230 } });
    h.loop.start();
    expect(h.messages[0].type).toBe('episode');
    const episode = h.messages[0].type === 'episode' ? h.messages[0].episode : null;
    expect(episode).toMatchObject({ scenario: 'ring', nVehicles: 22, nAgents: 0, roadLength: 230, horizon: 3000, dt: 0.1 });
    expect(h.frames()[0].step).toBe(0);
    h.advance(1000);
    const last = h.frames().at(-1)!;
    // 1x = 10 steps per second (+-1 for tick granularity).
    expect(last.step).toBeGreaterThanOrEqual(9);
    expect(last.step).toBeLessThanOrEqual(11);
    expect(last.position).toHaveLength(22);
  });

  it('decimates frames to the frame rate when the simulation outruns the display', () => {
    const h = harness({ scenario: 'ring', params: { preset: 'uncontrolled' }, speed: 50, frameRate: 20 });
    h.loop.start();
    h.advance(2000, 5);
    const frames = h.frames();
    const last = frames.at(-1)!;
    expect(last.step).toBeGreaterThan(900);
    // 2 s at 20 frames/s, plus the reset frame.
    expect(frames.length).toBeLessThanOrEqual(42);
    expect(frames.length).toBeGreaterThanOrEqual(35);
  });

  it('pauses, single-steps, resumes, changes speed and stops', () => {
    const h = harness({ scenario: 'figure-eight', params: { preset: 'uncontrolled' }, startPaused: true });
    h.loop.start();
    expect(h.states()).toEqual(['paused']);
    h.advance(500);
    expect(h.frames().at(-1)!.step).toBe(0);
    h.loop.command({ type: 'step', steps: 1 });
    expect(h.frames().at(-1)!.step).toBe(1);
    h.loop.command({ type: 'step', steps: 3 });
    expect(h.frames().at(-1)!.step).toBe(4);
    h.loop.command({ type: 'speed', speed: 5 });
    h.loop.command({ type: 'resume' });
    h.advance(1000);
    const running = h.frames().at(-1)!.step;
    expect(running).toBeGreaterThan(40);
    h.loop.command({ type: 'pause', holdTraining: false });
    h.advance(1000);
    expect(h.frames().at(-1)!.step).toBe(running);
    // Step while running pauses first.
    h.loop.command({ type: 'resume' });
    h.loop.command({ type: 'step', steps: 1 });
    expect(h.loop.currentStatus).toBe('paused');
    h.loop.command({ type: 'stop' });
    expect(h.loop.closed).toBe(true);
    expect(h.states().at(-1)).toBe('stopped');
  });

  it('ends with the episode metrics and the same return as `headway simulate`', async () => {
    const h = harness({ scenario: 'cacc-catchup', params: { horizon: 40 }, policy: 'random', seed: 7, speed: 'max' });
    h.loop.start();
    h.advance(200);
    expect(h.loop.closed).toBe(true);
    expect(h.states().at(-1)).toBe('finished');
    const [metrics] = h.metrics();
    expect(metrics).toMatchObject({ scope: 'episode', index: 0 });
    const cli = await runSimulate({ scenario: 'cacc-catchup', param: ['horizon=40'], seed: '7', policy: 'random', out: join(tempDir(), 'run.csv') });
    expect(metrics.values.return).toBe(cli.metrics.return);
    expect(metrics.values.meanSpeed).toBe(cli.metrics.meanSpeed);
    expect(metrics.values.steps).toBe(40);
    const last = h.frames().at(-1)!;
    expect(last.done).toBe(true);
    expect(last.episodeReturn).toBeCloseTo(cli.metrics.return, 6);
  });

  it('repeats episodes with the next seeds', () => {
    const h = harness({ scenario: 'ring', params: { horizon: 5 }, seed: 10, repeat: true, speed: 'max' });
    h.loop.start();
    h.advance(50);
    const episodes = h.messages.flatMap((m) => (m.type === 'episode' ? [m.episode] : []));
    expect(episodes.length).toBeGreaterThanOrEqual(3);
    expect(episodes.slice(0, 3).map((e) => [e.episode, e.seed])).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
    ]);
    h.loop.command({ type: 'stop' });
    expect(h.loop.closed).toBe(true);
  });

  it('marks the vehicles of a collision', () => {
    // A platoon that keeps 30 m/s (action 0: no control) runs into the leader slowing to 15 m/s.
    const h = harness({ scenario: 'cacc-slowdown', params: { initialSpeed: 30 }, policy: 'constant:0', speed: 'max' });
    h.loop.start();
    h.advance(500);
    expect(h.loop.closed).toBe(true);
    const last = h.frames().at(-1)!;
    expect(last.collided).toBe(true);
    // Vehicle 1 (agent 0) hit the leader (vehicle 0).
    expect(last.flags[0]).toBe(1);
    expect(last.flags[1]).toBe(1);
    expect(last.flags[8]).toBe(0);
    expect(h.metrics()[0].values.collision).toBe(1);
  });

  it('refuses a constant action outside the action space', () => {
    const config = simulateConfigSchema.parse({ kind: 'simulate', scenario: 'cacc-slowdown', policy: 'constant:7' });
    expect(prepareSimulation(config).errors).toEqual([{ field: 'policy', message: 'policy constant:7: K must be an action index from 0 to 3' }]);
    const ok = simulateConfigSchema.parse({ kind: 'simulate', scenario: 'ring', policy: 'constant:7' });
    expect(prepareSimulation(ok).errors).toEqual([]);
  });
});
