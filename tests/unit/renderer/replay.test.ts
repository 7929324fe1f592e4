import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EpisodeStepBlock, EpisodeTraces, HeadwayApi, RunOverview } from '../../../src/shared/api.ts';
import { encodeFloat32 } from '../../../src/shared/base64.ts';
import type { EpisodeInfo, RunDetail } from '../../../src/shared/runs.ts';
import { TrajectoryLayout } from '../../../src/shared/trajectoryLayout.ts';
import { provideApi } from '../../../src/renderer/api/index.ts';
import { actionDistribution } from '../../../src/renderer/inspect/actions.ts';
import { StepBlockCache } from '../../../src/renderer/replay/blockCache.ts';
import { niceTicks, polylineRuns, positionRange, wrapPosition } from '../../../src/renderer/replay/diagrams.ts';
import { decodeTraces, layoutOf, ShownFrame, traceStride } from '../../../src/renderer/replay/episode.ts';
import { useReplayStore } from '../../../src/renderer/stores/replay.ts';
import { storedEpisode } from './storedEpisode.ts';

/** A fetcher over a synthetic episode whose record for step s is filled with s; it counts requests and can be held. */
function fakeFetcher(floatsPerStep: number) {
  const requests: [number, number][] = [];
  let failNext = false;
  const fetch = async (from: number, to: number): Promise<Float32Array> => {
    requests.push([from, to]);
    await Promise.resolve();
    if (failNext) {
      failNext = false;
      throw new Error('offline');
    }
    const records = new Float32Array((to - from) * floatsPerStep);
    for (let s = from; s < to; s++) records.fill(s, (s - from) * floatsPerStep, (s - from + 1) * floatsPerStep);
    return records;
  };
  return { fetch, requests, failOnce: () => (failNext = true) };
}

describe('StepBlockCache', () => {
  it('loads the block around a step once, however many wait for it, and serves it from the cache after', async () => {
    const source = fakeFetcher(3);
    const cache = new StepBlockCache(source.fetch, 1000, 100, 4);
    expect(cache.lookup(250)).toBeNull();
    const [a, b] = await Promise.all([cache.load(250), cache.load(299)]);
    expect(a).toBe(b);
    expect(source.requests).toEqual([[200, 300]]);
    const block = cache.lookup(277)!;
    expect(block.from).toBe(200);
    expect(block.records[(277 - 200) * 3]).toBe(277);
  });

  it('clips the last block to the episode and never asks for a whole episode to show one frame', async () => {
    const source = fakeFetcher(1);
    const cache = new StepBlockCache(source.fetch, 3000, 256, 16);
    await cache.load(2999);
    expect(source.requests).toEqual([[2816, 3000]]);
    expect(cache.blockCount).toBe(12);
  });

  it('evicts the least recently used block beyond its capacity', async () => {
    const source = fakeFetcher(1);
    const cache = new StepBlockCache(source.fetch, 1000, 100, 3);
    for (const step of [0, 100, 200]) await cache.load(step);
    cache.lookup(0); // block 0 becomes the most recently used
    await cache.load(300);
    expect(cache.cachedBlocks()).toEqual([2, 0, 3]);
    expect(cache.lookup(150)).toBeNull();
  });

  it('prefetches ahead in the play direction, within the episode', async () => {
    const source = fakeFetcher(1);
    const cache = new StepBlockCache(source.fetch, 1000, 100, 8);
    cache.prefetch(450, 1, 2);
    cache.prefetch(50, -1, 2);
    cache.prefetch(150, -1, 3);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(source.requests).toEqual([
      [500, 600],
      [600, 700],
      [0, 100],
    ]);
  });

  it('forgets a failed request so the block is asked for again', async () => {
    const source = fakeFetcher(1);
    const cache = new StepBlockCache(source.fetch, 1000, 100, 8);
    source.failOnce();
    await expect(cache.load(10)).rejects.toThrow('offline');
    await expect(cache.load(10)).resolves.toMatchObject({ from: 0, steps: 100 });
    expect(source.requests).toHaveLength(2);
  });
});

describe('time-space diagram lines', () => {
  it('breaks a loop position at the wrap and nowhere else', () => {
    // Two vehicles on a 100 m loop; vehicle 0 crosses the origin between frames 2 and 3 and again between 5 and 6.
    const v0 = [80, 88, 96, 4, 12, 97, 3];
    const v1 = [30, 31, 32, 33, 34, 35, 36];
    const position = new Float32Array(v0.flatMap((p, k) => [p, v1[k]]));
    expect(polylineRuns(position, 7, 2, 0, 100)).toEqual([
      [0, 2],
      [3, 4],
      [5, 5],
      [6, 6],
    ]);
    expect(polylineRuns(position, 7, 2, 1, 100)).toEqual([[0, 6]]);
  });

  it('wraps unwrapped loop positions into the loop and breaks there too', () => {
    const position = new Float32Array([190, 199, 207, 215]);
    expect(Array.from(position, (p) => wrapPosition(p, 100))).toEqual([90, 99, 7, 15]);
    expect(polylineRuns(position, 4, 1, 0, 100)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('never breaks an open road line, and ranges it over its positions', () => {
    const position = new Float32Array([0, 400, 10, 410, 900, 1300]);
    expect(polylineRuns(position, 3, 2, 0, null)).toEqual([[0, 2]]);
    const [lo, hi] = positionRange({ frames: 3, nVehicles: 2, frameTime: 0.1, position, speed: new Float32Array(6) }, null);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(1300);
    expect(positionRange({ frames: 3, nVehicles: 2, frameTime: 0.1, position, speed: new Float32Array(6) }, 230)).toEqual([0, 230]);
  });

  it('puts round ticks on an axis', () => {
    expect(niceTicks(0, 230, 5)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(0, 300, 6)).toEqual([0, 50, 100, 150, 200, 250, 300]);
  });
});

describe('action distributions', () => {
  it('shows stored categorical probabilities as they are', () => {
    const d = actionDistribution({ kind: 'discrete', n: 4 }, new Float32Array([9, 9, 0.1, 0.2, 0.3, 0.4]), 2);
    expect(d?.kind).toBe('discrete');
    if (d?.kind !== 'discrete') return;
    expect(d.probabilities.map((p) => Number(p.toFixed(6)))).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('turns logits into probabilities with a softmax', () => {
    const d = actionDistribution({ kind: 'discrete', n: 3 }, [Math.log(1), Math.log(2), Math.log(5)]);
    if (d?.kind !== 'discrete') throw new Error('expected a discrete distribution');
    expect(d.probabilities[0]).toBeCloseTo(0.125, 12);
    expect(d.probabilities[1]).toBeCloseTo(0.25, 12);
    expect(d.probabilities[2]).toBeCloseTo(0.625, 12);
    const shifted = actionDistribution({ kind: 'discrete', n: 2 }, [1000, 1000]);
    expect(shifted).toEqual({ kind: 'discrete', probabilities: [0.5, 0.5] });
  });

  it('reads a Gaussian as mean and standard deviation; nothing at reset (NaN)', () => {
    expect(actionDistribution({ kind: 'continuous', low: -1, high: 1 }, [0, 0, 0.25, 0.6], 2)).toEqual({ kind: 'continuous', mean: 0.25, std: 0.6, low: -1, high: 1 });
    expect(actionDistribution({ kind: 'continuous', low: -1, high: 1 }, [NaN, NaN])).toBeNull();
    expect(actionDistribution({ kind: 'discrete', n: 2 }, [NaN, NaN])).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------
// The store against a fake api serving a synthetic stored episode

const N_VEHICLES = 3;
const STEPS = 700;

function episodeInfo(): EpisodeInfo {
  return storedEpisode({
    id: 7,
    horizon: STEPS,
    nVehicles: N_VEHICLES,
    nAgents: N_VEHICLES,
    obsDim: 2,
    obsNames: ['speed', 'gap'],
    agentVehicle: [0, 1, 2],
    vehicleKind: [1, 1, 1],
    edges: [
      [0, 1],
      [1, 2],
      [0, 2],
    ],
    steps: STEPS,
  });
}

/** Step s: vehicle v at (s + 100 v) mod 230, speed s / 100, reward 1 per agent from step 1. */
function syntheticRecords(layout: TrajectoryLayout, from: number, to: number): Float32Array {
  const records = new Float32Array((to - from) * layout.floatsPerStep);
  const position = layout.fieldRange('position');
  const speed = layout.fieldRange('speed');
  const reward = layout.fieldRange('reward');
  for (let s = from; s < to; s++) {
    const at = (s - from) * layout.floatsPerStep;
    for (let v = 0; v < N_VEHICLES; v++) {
      records[at + position.offset + v] = (s + 100 * v) % 230;
      records[at + speed.offset + v] = s / 100;
      records[at + reward.offset + v] = s === 0 ? NaN : 1;
    }
  }
  return records;
}

function fakeHistoryApi(info: EpisodeInfo) {
  const layout = layoutOf(info);
  const stepRequests: [number, number][] = [];
  const run = { id: 1, name: 'ring run', scenario: 'ring' } as RunDetail;
  const api = {
    transport: 'websocket',
    listRuns: async () => [run],
    getRun: async (): Promise<RunOverview> => ({ run, checkpoints: [], episodes: [info], series: [], activeJobId: null }),
    readEpisodeSteps: async (episodeId: number, from: number, to: number): Promise<EpisodeStepBlock> => {
      stepRequests.push([from, to]);
      const records = syntheticRecords(layout, from, Math.min(to, STEPS));
      return { episodeId, from, steps: Math.min(to, STEPS) - from, floatsPerStep: layout.floatsPerStep, records: encodeFloat32(records) };
    },
    readEpisodeTraces: async (episodeId: number, stride = 1): Promise<EpisodeTraces> => {
      const frames = Math.ceil(STEPS / stride);
      const reward = new Float32Array(frames).map((_, k) => (k === 0 ? 0 : N_VEHICLES));
      const empty = encodeFloat32(new Float32Array(frames * N_VEHICLES));
      return { episodeId, steps: STEPS, stride, frames, nVehicles: N_VEHICLES, position: empty, speed: empty, gap: empty, accel: empty, reward: encodeFloat32(reward), collided: encodeFloat32(new Float32Array(frames)), nState: 0, state: '' };
    },
    onEvent: () => () => undefined,
  } as unknown as HeadwayApi;
  return { api, stepRequests };
}

describe('replay store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('opens an episode at step 0 from one block, streams jumps by block, and hands every frame to the viewports', async () => {
    const info = episodeInfo();
    const { api, stepRequests } = fakeHistoryApi(info);
    provideApi(api);
    const replay = useReplayStore();
    const shown: [number, number, boolean][] = [];
    replay.onFrame('primary', (frame, _info, snap) => shown.push([frame.step, frame.position[1], snap]));
    await replay.open(1, 7);
    expect(stepRequests[0]).toEqual([0, 256]);
    expect(shown[0]).toEqual([0, 100, true]);
    expect(replay.timings.firstFrameMs).not.toBeNull();
    await replay.seek(650);
    expect(shown.at(-1)).toEqual([650, (650 + 100) % 230, true]);
    expect(stepRequests.every(([from, to]) => to - from <= 256)).toBe(true);
    expect(replay.inspector).toBeNull();
    replay.select(1);
    expect(replay.inspector).toMatchObject({ vehicle: 1, agent: 1, speed: expect.closeTo(6.5, 5), reward: 1 });
    expect(replay.neighbourhoods?.policyAgents).toEqual([1, 0, 2]);
    // The traces say 3 per step after reset: the return up to step 650.
    expect(replay.returnSoFar).toBe(650 * 3);
    await replay.stepBy(-1);
    expect(replay.step).toBe(649);
    await replay.seek(-5);
    expect(replay.step).toBe(0);
  });

  it('keeps one shown-frame buffer per viewport, decoded like the stored layout', () => {
    const info = episodeInfo();
    const layout = layoutOf(info);
    const records = syntheticRecords(layout, 100, 110);
    const shown = new ShownFrame(layout);
    const a = shown.show(records, 100, 105);
    const expected = layout.decode(records, 5 * layout.floatsPerStep, 105);
    expect(Array.from(a.position)).toEqual(Array.from(expected.position));
    const b = shown.show(records, 100, 109);
    expect(b).toBe(a);
    expect(b.step).toBe(109);
    expect(b.position[0]).toBe(109);
  });

  it('asks for every step up to a few thousand and strides longer episodes; the return so far scales with the stride', () => {
    expect(traceStride(3000)).toBe(1);
    expect(traceStride(30000)).toBe(5);
    const traces = decodeTraces({
      episodeId: 1,
      steps: 6,
      stride: 2,
      frames: 3,
      nVehicles: 1,
      position: encodeFloat32(new Float32Array(3)),
      speed: encodeFloat32(new Float32Array(3)),
      gap: encodeFloat32(new Float32Array(3)),
      accel: encodeFloat32(new Float32Array(3)),
      reward: encodeFloat32(new Float32Array([0, 1, 2])),
      collided: encodeFloat32(new Float32Array(3)),
      nState: 0,
      state: '',
    });
    expect(Array.from(traces.returnSoFar)).toEqual([0, 2, 6]);
  });
});
