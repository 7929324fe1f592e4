/** A stored episode's description for renderer tests: a small ring episode, every field overridable. */
import type { EpisodeInfo } from '../../../src/shared/runs.ts';

export function storedEpisode(overrides: Partial<EpisodeInfo> = {}): EpisodeInfo {
  return {
    id: 1,
    runId: 1,
    iteration: 1,
    kind: 'eval',
    seed: 1001,
    scenario: 'ring',
    params: { length: 230 },
    dt: 0.1,
    horizon: 700,
    nVehicles: 2,
    nAgents: 1,
    obsDim: 1,
    action: { kind: 'continuous', low: -1, high: 1 },
    actionParamDim: 2,
    obsNames: ['speed'],
    rewardTermNames: ['speed'],
    agentVehicle: [1],
    vehicleKind: [0, 1],
    edges: [],
    roadLength: 230,
    vehicleLength: 5,
    checkpointId: null,
    fork: null,
    disturbances: [],
    steps: 701,
    complete: true,
    return: -1,
    collisions: 0,
    stats: {},
    created: '2026-01-01T00:00:00Z',
    finished: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}
