import { describe, expect, it } from 'vitest';
import {
  API_METHODS,
  ApiRequestError,
  createApiClient,
  FRAME_ARRAYS,
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  parsePolicy,
  parseRequest,
  validateJobConfig,
  type ApiEvent,
  type ApiResult,
  type Frame,
} from '../../../src/shared/api.ts';
import { decodeFrame, encodeFrame, isFrameBuffer } from '../../../src/shared/frameCodec.ts';
import { buildAdjacency, distancesFrom, eccentricity, neighbourhood } from '../../../src/shared/neighbourhoods.ts';
import { ParamError, resolveParams } from '../../../src/shared/scenarios.ts';
import { AgentGraph } from '../../../src/main/sim/graph.ts';
import * as channels from '../../../src/shared/apiMethods.ts';

describe('job config validation (shared by the UI and the backend)', () => {
  it('accepts a minimal simulation and fills the defaults', () => {
    const result = validateJobConfig({ kind: 'simulate', scenario: 'ring' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({ policy: 'idle', seed: 0, repeat: false, speed: 1, frameRate: 30, params: {} });
    expect(result.params.vehicles).toBe(22);
  });

  it('reports parameter errors with the CLI message (resolveParams), on params.<name>', () => {
    const result = validateJobConfig({ kind: 'simulate', scenario: 'ring', params: { length: '10' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    let cliMessage = '';
    try {
      resolveParams('ring', { length: '10' });
    } catch (error) {
      cliMessage = (error as ParamError).message;
    }
    expect(result.errors).toEqual([{ field: 'params.length', message: cliMessage }]);
    expect(cliMessage).toContain('from 50 to 5000');
  });

  it('names unknown parameters, unknown fields, bad seeds and bad policies', () => {
    const unknown = validateJobConfig({ kind: 'simulate', scenario: 'cacc-catchup', params: { length: 230 } });
    expect(!unknown.ok && unknown.errors[0].field).toBe('params.length');
    const extra = validateJobConfig({ kind: 'simulate', scenario: 'ring', colour: 'red' });
    expect(!extra.ok && extra.errors).toEqual([{ field: 'colour', message: "unknown field 'colour'" }]);
    const seed = validateJobConfig({ kind: 'simulate', scenario: 'ring', seed: 'abc' });
    expect(!seed.ok && seed.errors[0]).toEqual({ field: 'seed', message: 'seed must be a whole number from 0 to 4294967295' });
    const negative = validateJobConfig({ kind: 'simulate', scenario: 'ring', seed: -1 });
    expect(!negative.ok && negative.errors[0].field).toBe('seed');
    const policy = validateJobConfig({ kind: 'simulate', scenario: 'ring', policy: 'constant:x' });
    expect(!policy.ok && policy.errors[0].field).toBe('policy');
    const scenario = validateJobConfig({ kind: 'simulate', scenario: 'highway' });
    expect(!scenario.ok && scenario.errors[0]).toMatchObject({ field: 'scenario' });
    expect(scenario.ok || scenario.errors[0].message).toContain('cacc-catchup');
    const kind = validateJobConfig({ kind: 'replay', scenario: 'ring' });
    expect(!kind.ok && kind.errors[0].field).toBe('kind');
  });

  it('checks resume and evaluate jobs by field', () => {
    expect(validateJobConfig({ kind: 'resume', runId: 3 })).toMatchObject({ ok: true, config: { kind: 'resume', runId: 3 } });
    expect(validateJobConfig({ kind: 'evaluate', runId: 3 })).toMatchObject({ ok: true, config: { checkpoint: 'best', seed: 0, episodes: 1 } });
    const bad = validateJobConfig({ kind: 'evaluate', runId: 0, checkpoint: 'worst', episodes: 50 });
    expect(!bad.ok && bad.errors.map((e) => e.field).sort()).toEqual(['checkpoint', 'episodes', 'runId']);
  });

  it('checks the training backend: auto by default, one of the catalogue otherwise', () => {
    expect(validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'ippo' })).toMatchObject({ ok: true, config: { backend: 'auto' } });
    expect(validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'ippo', backend: 'webgpu' })).toMatchObject({ ok: true, config: { backend: 'webgpu' } });
    const bad = validateJobConfig({ kind: 'train', scenario: 'ring', learner: 'ippo', backend: 'cuda' });
    expect(!bad.ok && bad.errors).toEqual([{ field: 'backend', message: 'backend must be one of auto, tensorflow, webgpu, wasm, cpu' }]);
  });

  it('reports every field at once', () => {
    const result = validateJobConfig({ kind: 'simulate', scenario: 'ring', params: { noise: 9 }, policy: 'sometimes' });
    expect(!result.ok && result.errors.map((e) => e.field).sort()).toEqual(['params.noise', 'policy']);
  });

  it('parses the policy language of the CLI', () => {
    expect(parsePolicy('idle')).toEqual({ kind: 'idle' });
    expect(parsePolicy('random')).toEqual({ kind: 'random' });
    expect(parsePolicy('constant:-0.5')).toEqual({ kind: 'constant', value: -0.5 });
    expect(parsePolicy('constant:')).toBeNull();
    expect(parsePolicy('constant:1e999')).toBeNull();
    expect(parsePolicy('greedy')).toBeNull();
  });
});

describe('api requests', () => {
  it('validates method names and payloads', () => {
    expect(parseRequest('hello', {}).ok).toBe(true);
    expect(parseRequest('hello', undefined).ok).toBe(true);
    const unknown = parseRequest('deleteEverything', {});
    expect(!unknown.ok && unknown.error.code).toBe('invalid-request');
    expect(parseRequest('__proto__', {}).ok).toBe(false);
    expect(parseRequest('hello', { extra: 1 }).ok).toBe(false);
    const control = parseRequest('controlJob', { jobId: 'sim-1-abc', command: { type: 'step' } });
    expect(control.ok && control.request.payload).toEqual({ jobId: 'sim-1-abc', command: { type: 'step', steps: 1 } });
    expect(parseRequest('controlJob', { jobId: '../etc', command: { type: 'stop' } }).ok).toBe(false);
    expect(parseRequest('controlJob', { jobId: 'sim-1', command: { type: 'explode' } }).ok).toBe(false);
    expect(parseRequest('controlJob', { jobId: 'sim-1', command: { type: 'speed', speed: 0 } }).ok).toBe(false);
    expect(parseRequest('controlJob', { jobId: 'sim-1', command: { type: 'speed', speed: 'max' } }).ok).toBe(true);
    expect(parseRequest('controlJob', { jobId: 'sim-1', command: { type: 'step', steps: 1e9 } }).ok).toBe(false);
  });

  it('the preload knows exactly the contract methods and channels', () => {
    expect([...channels.API_METHODS].sort()).toEqual([...API_METHODS].sort());
    expect(channels.IPC_INVOKE_CHANNEL).toBe(IPC_INVOKE_CHANNEL);
    expect(channels.IPC_EVENT_CHANNEL).toBe(IPC_EVENT_CHANNEL);
  });

  it('the typed client turns error results into ApiRequestError with the fields', async () => {
    const calls: [string, unknown][] = [];
    const listeners = new Set<(event: ApiEvent) => void>();
    const client = createApiClient(
      {
        async invoke(method, payload): Promise<ApiResult<unknown>> {
          calls.push([method, payload]);
          if (method === 'startJob') return { ok: false, error: { code: 'invalid-config', message: 'bad', fields: [{ field: 'seed', message: 'no' }] } };
          return { ok: true, value: { errors: [] } };
        },
        onEvent(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      'websocket',
    );
    await expect(client.validateJob({ kind: 'simulate' })).resolves.toEqual([]);
    const failure = await client.startJob({ kind: 'simulate', scenario: 'ring' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiRequestError);
    expect((failure as ApiRequestError).fields).toEqual([{ field: 'seed', message: 'no' }]);
    expect(calls.map(([m]) => m)).toEqual(['validateJob', 'startJob']);
    const stop = client.onEvent(() => {});
    expect(listeners.size).toBe(1);
    stop();
    expect(listeners.size).toBe(0);
  });
});

function sampleFrame(nVehicles: number, nAgents: number, obsDim: number, nTerms: number): Frame {
  const ramp = (n: number, scale: number) => Float64Array.from({ length: n }, (_, i) => i * scale + 0.1);
  return {
    jobId: 'sim-1-abcdef',
    episode: 2,
    step: 17,
    time: 1.7,
    collided: true,
    done: false,
    episodeReturn: -12.5,
    stepsPerSecond: 1234.5,
    position: ramp(nVehicles, 7.25),
    speed: ramp(nVehicles, 0.5),
    accel: ramp(nVehicles, -0.01),
    gap: ramp(nVehicles, 1 / 3),
    action: Float64Array.from({ length: nVehicles }, (_, i) => (i === 0 ? NaN : i)),
    flags: Uint8Array.from({ length: nVehicles }, (_, i) => i % 2),
    obs: ramp(nAgents * obsDim, Math.PI),
    reward: ramp(nAgents, -1e-9),
    rewardTerms: ramp(nAgents * nTerms, 2),
    value: ramp(nAgents, -3),
    actionParams: ramp(nAgents * 2, 0.01),
    state: ramp(3, 0.75),
    communication: ramp(nAgents * 4, 0.25),
  };
}

describe('binary frame codec (WebSocket)', () => {
  it('round-trips every field exactly, NaN included', () => {
    const frame = sampleFrame(9, 8, 5, 5);
    const buffer = encodeFrame(frame);
    expect(isFrameBuffer(buffer)).toBe(true);
    const decoded = decodeFrame(buffer);
    for (const [name] of FRAME_ARRAYS) expect(Array.from(decoded[name])).toEqual(Array.from(frame[name]));
    expect(Number.isNaN(decoded.action[0])).toBe(true);
    const { jobId, episode, step, time, collided, done, episodeReturn, stepsPerSecond } = decoded;
    expect({ jobId, episode, step, time, collided, done, episodeReturn, stepsPerSecond }).toEqual({
      jobId: 'sim-1-abcdef',
      episode: 2,
      step: 17,
      time: 1.7,
      collided: true,
      done: false,
      episodeReturn: -12.5,
      stepsPerSecond: 1234.5,
    });
  });

  it('keeps a 1,000-vehicle frame small and rejects foreign or truncated buffers', () => {
    // A simulation's frame: no policy, so no value, action distribution or communication.
    const buffer = encodeFrame({ ...sampleFrame(1000, 1000, 2, 2), value: new Float64Array(0), actionParams: new Float64Array(0), communication: new Float64Array(0) });
    expect(buffer.byteLength).toBeLessThan(82_000);
    expect(isFrameBuffer(new ArrayBuffer(16))).toBe(false);
    expect(() => decodeFrame(new TextEncoder().encode('{"id":1}').buffer as ArrayBuffer)).toThrow();
    expect(() => decodeFrame(buffer.slice(0, buffer.byteLength - 64))).toThrow(/truncated/);
  });
});

describe('neighbourhoods from the edge list', () => {
  it('match the simulator AgentGraph (order: self, distance, index)', () => {
    for (const graph of [AgentGraph.cycle(22), AgentGraph.chain(8), AgentGraph.cycle(14), new AgentGraph(6, [[0, 3], [3, 5], [1, 2]])]) {
      const adjacency = buildAdjacency(graph.n, graph.edges);
      for (let i = 0; i < graph.n; i++) {
        for (const k of [0, 1, 2, 3, 11]) expect(neighbourhood(adjacency, i, k)).toEqual(graph.neighbourhood(i, k));
      }
    }
  });

  it('knows how far kappa can go', () => {
    const ring = buildAdjacency(22, AgentGraph.cycle(22).edges);
    expect(eccentricity(distancesFrom(ring, 0))).toBe(11);
    const chain = buildAdjacency(8, AgentGraph.chain(8).edges);
    expect(eccentricity(distancesFrom(chain, 0))).toBe(7);
    expect(eccentricity(distancesFrom(chain, 3))).toBe(4);
  });
});
