/** The schematic views' reading of a step: the channel's outcome in multi-access broadcast, the share ON in demand response. */
import { describe, expect, it } from 'vitest';
import { captureFrame } from '../../../src/main/jobs/frames.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { sceneOf } from '../../../src/main/sim/scene.ts';
import type { TabularScene } from '../../../src/shared/scene.ts';
import { demandStep, mabcStep } from '../../../src/renderer/inspect/tabularScene.ts';

describe('multi-access broadcast', () => {
  // Both buffers start empty; the channel starts idle with stayIdle 1, stayBusy 0 (it never gets busy).
  const env = createEnv('mabc', { stayIdle: 1, stayBusy: 0, arrival1: 1, arrival2: 1 }, 1);
  const scene = sceneOf(env) as TabularScene;
  const after = (actions: [number, number]) => {
    env.step(Float64Array.from(actions));
    return mabcStep(scene, captureFrame(env, 'sim-1', 0, 0, 0).state);
  };

  it('tells idle, failed, success and collision apart', () => {
    env.reset(0);
    expect(mabcStep(scene, captureFrame(env, 'sim-1', 0, 0, 0).state).outcome).toBe('reset');
    expect(after([0, 0])).toMatchObject({ outcome: 'idle', buffers: [1, 1], sent: [0, 0], arrived: [1, 1], channelBusy: 0 });
    expect(after([1, 0]).outcome).toBe('success');
    expect(after([1, 1]).outcome).toBe('collision');
    env.reset(0);
    // Sending from an empty buffer delivers nothing.
    expect(after([1, 0]).outcome).toBe('failed');
  });
});

describe('demand response', () => {
  it('reads each load and the share ON', () => {
    const env = createEnv('demand-response', { agents: 20 }, 1);
    env.reset(4);
    const scene = sceneOf(env) as TabularScene;
    const step = demandStep(scene, 20, captureFrame(env, 'sim-1', 0, 0, 0).state);
    expect(step.on).toHaveLength(20);
    expect(step.share).toBeCloseTo(step.on.filter((on) => on === 1).length / 20, 12);
    expect(step.kl).toBeGreaterThanOrEqual(0);
  });
});
