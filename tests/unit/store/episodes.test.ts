/** Run store: recorded episodes, chunked trajectories and step-range reads. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/store/index.ts';
import type { StoredEpisodeSpec, TrajectoryFrame, TrajectoryStepInput } from '../../../src/shared/runs.ts';

const folder = mkdtempSync(join(tmpdir(), 'headway-store-episodes-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let store: RunStore;
let runId: number;
let fileCount = 0;
beforeEach(() => {
  store = RunStore.open(join(folder, `episodes-${fileCount++}.db`));
  runId = store.createRun({ scenario: 'cacc-catchup', params: {}, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' }).id;
});
afterEach(() => store.close());

// A CACC-like layout: a leader that is no agent, discrete actions with 4 logits, 5 reward terms.
const SPEC: StoredEpisodeSpec = {
  iteration: 12,
  kind: 'eval',
  seed: 99,
  scenario: 'cacc-catchup',
  params: { leadHeadway: null, horizon: 600 },
  dt: 0.1,
  horizon: 600,
  vehicleLength: 5,
  nVehicles: 4,
  nAgents: 3,
  obsDim: 5,
  action: { kind: 'discrete', n: 4 },
  actionParamDim: 4,
  obsNames: ['v', 'dv', 'dV', 'h', 'u'],
  rewardTermNames: ['headway', 'speed', 'accel', 'collision', 'safety'],
  agentVehicle: [1, 2, 3],
  vehicleKind: [2, 1, 1, 1],
  roadLength: null,
  edges: [
    [0, 1],
    [1, 2],
  ],
  checkpointId: 7,
};

/** Values differ by step, field and index, and are not float32-exact, so conversion is checked too. */
function stepFor(step: number): TrajectoryStepInput {
  const values = (length: number, field: number) => Float64Array.from({ length }, (_, k) => step * 1.1 + field * 100 + k * 0.3);
  return {
    collided: step === 17,
    terminated: step === 40,
    truncated: false,
    position: values(4, 0),
    speed: values(4, 1),
    accel: values(4, 2),
    gap: [NaN, 1, 2, 3],
    vehicleAction: [NaN, step % 4, 1, 2],
    agentAction: values(3, 5),
    reward: step === 0 ? [NaN, NaN, NaN] : values(3, 6),
    value: values(3, 7),
    obs: values(15, 8),
    actionParams: values(12, 9),
    rewardTerms: values(15, 10),
  };
}

const fields = ['position', 'speed', 'accel', 'gap', 'vehicleAction', 'agentAction', 'reward', 'value', 'obs', 'actionParams', 'rewardTerms'] as const;

function expectFrame(frame: TrajectoryFrame, step: number): void {
  const input = stepFor(step);
  expect(frame.step).toBe(step);
  expect([frame.collided, frame.terminated, frame.truncated]).toEqual([step === 17, step === 40, false]);
  for (const field of fields) {
    expect(frame[field]).toBeInstanceOf(Float32Array);
    expect(Array.from(frame[field]), `${field} of step ${step}`).toEqual(Array.from(input[field], Math.fround));
  }
}

function record(frames: number, chunkSteps: number): number {
  const writer = store.beginEpisode(runId, SPEC, { chunkSteps });
  for (let step = 0; step < frames; step++) writer.append(stepFor(step));
  return writer.finish({ meanSpeed: 14.5 }).id;
}

describe('episodes', () => {
  it('round-trips the episode record and its summary', () => {
    const id = record(41, 8);
    const rewardSum = Array.from({ length: 40 }, (_, i) => Array.from(stepFor(i + 1).reward).reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0);
    const info = store.getEpisode(id);
    expect(info).toMatchObject({ ...SPEC, id, runId, steps: 41, complete: true, collisions: 1, stats: { meanSpeed: 14.5 } });
    expect(info.return).toBeCloseTo(rewardSum, 9);
    expect(info.finished).not.toBeNull();
    expect(store.listEpisodes(runId)).toEqual([info]);
    expect(store.listEpisodes(runId, { kind: 'train' })).toEqual([]);
    expect(store.listEpisodes(runId, { iteration: 12 })).toHaveLength(1);
    expect(store.getRun(runId)!.lastEvalReturn).toBeCloseTo(rewardSum, 9);
  });

  it('stores an open road (Infinity, as the simulator reports it) as null', () => {
    const writer = store.beginEpisode(runId, { ...SPEC, roadLength: Infinity });
    expect(writer.finish().roadLength).toBeNull();
  });

  it('reads any step range, across chunk boundaries, equal to what was written', () => {
    const id = record(41, 8);
    const ranges: [number, number][] = [
      [0, 41],
      [0, 1],
      [7, 9],
      [8, 16],
      [5, 30],
      [39, 41],
      [40, 41],
      [16, 16],
      [35, 1000],
      [41, 50],
    ];
    for (const [from, to] of ranges) {
      const frames = store.readSteps(id, from, to);
      const expected = Math.max(0, Math.min(to, 41) - from);
      expect(frames.map((f) => f.step), `${from}..${to}`).toEqual(Array.from({ length: expected }, (_, i) => from + i));
      frames.forEach((frame) => expectFrame(frame, frame.step));
    }
  });

  it('serves the stored chunks of an episode still being recorded', () => {
    const writer = store.beginEpisode(runId, SPEC, { chunkSteps: 10 });
    for (let step = 0; step < 25; step++) writer.append(stepFor(step));
    expect(writer.steps).toBe(25);
    expect(store.getEpisode(writer.id)).toMatchObject({ complete: false, steps: 20, return: null, collisions: null });
    expect(store.readSteps(writer.id, 15, 30).map((f) => f.step)).toEqual([15, 16, 17, 18, 19]);
    writer.finish();
    expect(store.readSteps(writer.id, 15, 30).map((f) => f.step)).toEqual(Array.from({ length: 10 }, (_, i) => 15 + i));
  });

  it('sizes chunks from the layout: a 22-vehicle ring step is about 1.2 kB, about 200 steps a chunk', () => {
    const ring: StoredEpisodeSpec = {
      ...SPEC,
      nVehicles: 22,
      nAgents: 22,
      obsDim: 2,
      actionParamDim: 2,
      action: { kind: 'continuous', low: -1, high: 1 },
      rewardTermNames: ['speed', 'accel'],
      agentVehicle: Array.from({ length: 22 }, (_, i) => i),
      vehicleKind: Array(22).fill(1),
    };
    const writer = store.beginEpisode(runId, ring);
    expect(writer.chunkSteps).toBe(Math.floor((256 * 1024) / (4 * (5 * 22 + 22 * 9 + 1))));
    writer.abort();
  });

  it('drops an aborted episode with all its chunks', () => {
    const writer = store.beginEpisode(runId, SPEC, { chunkSteps: 4 });
    for (let step = 0; step < 10; step++) writer.append(stepFor(step));
    writer.abort();
    writer.abort();
    expect(store.listEpisodes(runId)).toEqual([]);
    expect(() => store.readSteps(writer.id, 0, 5)).toThrow(/episode \d+ does not exist/);
    expect(() => writer.append(stepFor(10))).toThrow(/recorder is aborted/);
  });

  it('rejects a frame of the wrong shape and keeps recording', () => {
    const writer = store.beginEpisode(runId, SPEC, { chunkSteps: 4 });
    writer.append(stepFor(0));
    const error = (() => {
      try {
        writer.append({ ...stepFor(1), obs: new Float64Array(14) });
      } catch (caught) {
        return caught as StoreError;
      }
    })();
    expect(error).toBeInstanceOf(StoreError);
    expect(error!.code).toBe('invalid');
    expect(error!.message).toMatch(/obs has 14 values, the episode's layout needs 15/);
    for (let step = 1; step < 6; step++) writer.append(stepFor(step));
    writer.finish();
    store.readSteps(writer.id, 0, 6).forEach((frame) => expectFrame(frame, frame.step));
    expect(() => writer.finish()).toThrow(/recorder is finished/);
  });

  it('rejects a bad episode spec or range', () => {
    expect(() => store.beginEpisode(runId, { ...SPEC, agentVehicle: [1, 2] })).toThrow(/agentVehicle has 2 entries for 3 agents/);
    expect(() => store.beginEpisode(runId, { ...SPEC, nAgents: -1 })).toThrow(/nAgents must be a non-negative integer/);
    expect(() => store.beginEpisode(404, SPEC)).toThrow(/run 404 does not exist/);
    const id = record(3, 2);
    expect(() => store.readSteps(id, 2, 1)).toThrow(/0 <= from <= to/);
    expect(() => store.readSteps(id, -1, 1)).toThrow(StoreError);
  });
});
