/** Scenes of the envs without vehicles: their static picture, their state per step, live frames and stored episodes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFrame, episodeSpec, storedEpisodeSpec } from '../../../src/main/jobs/frames.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import type { RoutingEnv } from '../../../src/main/sim/routing.ts';
import { sceneOf } from '../../../src/main/sim/scene.ts';
import { StepFrame } from '../../../src/main/sim/stepFrame.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { decodeFrame, encodeFrame } from '../../../src/shared/frameCodec.ts';
import { networkState, sceneStateLength, tabularColumn } from '../../../src/shared/scene.ts';

const folder = mkdtempSync(join(tmpdir(), 'headway-scene-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('network scene', () => {
  it('draws Braess from its coordinates and carries per-link flow, time, node mass and splits each step', () => {
    const env = createEnv('network-routing', { network: 'braess', policy: 'ue' }, 1) as RoutingEnv;
    env.reset(0);
    const scene = sceneOf(env);
    if (scene?.kind !== 'network') throw new Error('expected a network scene');
    expect(scene.nodeX).toEqual([0, 2, 1, 1]);
    expect(scene.linkFrom.length).toBe(env.network.linkCount);
    expect(scene.agentClass).toEqual([]);
    for (let t = 0; t < 5; t++) env.step(new Float64Array(0));
    const frame = decodeFrame(encodeFrame(captureFrame(env, 'sim-1', 0, 0, 0)));
    expect(frame.state.length).toBe(sceneStateLength(scene, 0));
    const state = networkState(scene, frame.state);
    expect(Array.from(state.flow)).toEqual(Array.from(env.linkFlow));
    expect(Array.from(state.time)).toEqual(Array.from(env.linkTimes));
    expect(Array.from(state.mass)).toEqual(Array.from(env.nodeMass));
    expect(Array.from(state.split)).toEqual(Array.from(env.splitRatio));
    expect(Math.max(...state.flow)).toBeGreaterThan(0);
    expect(episodeSpec(env, 'sim-1', 0, 0).scene).toEqual(scene);
  });

  it('lists the routing choices of the agents', () => {
    const env = createEnv('network-routing', { network: 'grid-3x3', policy: 'agents' }, 1);
    const scene = sceneOf(env);
    if (scene?.kind !== 'network') throw new Error('expected a network scene');
    expect(scene.agentClass.length).toBe(env.spec.nAgents);
    expect(scene.agentLink.every((a) => a >= 0 && a < scene.linkFrom.length)).toBe(true);
  });

  it('stores the scene with the episode and the state with every frame', () => {
    const env = createEnv('network-routing', { network: 'braess', policy: 'so' }, 1) as RoutingEnv;
    const store = RunStore.open(join(folder, 'scene.db'));
    try {
      const runId = store.createRun({ scenario: 'network-routing', params: {}, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' }).id;
      const writer = store.beginEpisode(runId, storedEpisodeSpec(env, 0, { iteration: 1, kind: 'eval', seed: 0, actionParamDim: 0 }));
      const recorded = new StepFrame(env.spec, 0);
      env.reset(0);
      const flows: number[][] = [];
      for (let t = 0; t < 4; t++) {
        if (t > 0) env.step(new Float64Array(0));
        writer.append(recorded.fillState(env, 0));
        flows.push(Array.from(Float32Array.from(env.linkFlow)));
      }
      const info = writer.finish({});
      expect(store.getEpisode(info.id).scene).toEqual(sceneOf(env));
      const frames = store.readSteps(info.id, 0, 4);
      const scene = sceneOf(env)!;
      if (scene.kind !== 'network') throw new Error('expected a network scene');
      expect(frames.map((frame) => Array.from(networkState(scene, frame.state).flow))).toEqual(flows);
    } finally {
      store.close();
    }
  });
});

describe('tabular scene', () => {
  it('carries the buffers and channel of mabc and the share ON of demand response', () => {
    const mabc = createEnv('mabc', {}, 1);
    mabc.reset(3);
    mabc.step(Float64Array.of(1, 0));
    const scene = sceneOf(mabc);
    if (scene?.kind !== 'tabular') throw new Error('expected a tabular scene');
    const frame = captureFrame(mabc, 'sim-1', 0, 0, 0);
    expect(tabularColumn(scene, 2, frame.state, 'action')).toEqual([1, 0]);
    expect([0, 1]).toContain(tabularColumn(scene, 2, frame.state, 'channel_busy')[0]);

    const demand = createEnv('demand-response', {}, 1);
    demand.reset(1);
    const demandScene = sceneOf(demand);
    if (demandScene?.kind !== 'tabular') throw new Error('expected a tabular scene');
    const state = captureFrame(demand, 'sim-1', 0, 0, 0).state;
    const on = tabularColumn(demandScene, demand.spec.nAgents, state, 'on');
    expect(tabularColumn(demandScene, demand.spec.nAgents, state, 'share_on')[0]).toBeCloseTo(on.reduce((a, b) => a + b, 0) / on.length, 12);
  });
});
