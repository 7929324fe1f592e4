/**
 * Snapshots of environment copy 0 for the live view: the episode's static description and
 * one frame of its state (copied out of the env's reusable buffers, so they can be
 * transferred to another thread).
 */
import { CONFLICT_ZONE_HALF_LENGTH, FIGURE_EIGHT_CONFLICT_ZONES, FIGURE_EIGHT_LENGTH } from '../../shared/geometry.ts';
import { FRAME_ARRAYS, FrameFlag, type EpisodeSpec, type Frame } from '../../shared/api.ts';
import type { EpisodeInfo, StoredEpisodeSpec } from '../../shared/runs.ts';
import { isScenarioId } from '../../shared/scenarios.ts';
import { DT, VEHICLE_LENGTH, type BatchedEnv } from '../sim/env.ts';
import { sceneOf, sceneStateLengthOf, writeSceneState } from '../sim/scene.ts';

/** CACC: a collision is a headway below 1 m (shared/specs/scenarios.md section 1). */
const CACC_COLLISION_HEADWAY = 1;
/** Figure eight: a vehicle occupies a crossing zone while its front is past the entry by less than the zone plus its body. */
const OCCUPIED_SPAN = 2 * CONFLICT_ZONE_HALF_LENGTH + VEHICLE_LENGTH;

export function episodeSpec(env: BatchedEnv, jobId: string, episode: number, seed: number, source: EpisodeSpec['source'] = { kind: 'simulation' }): EpisodeSpec {
  const { spec } = env;
  const roadLength = env.roadLength[0];
  return {
    jobId,
    episode,
    seed,
    scenario: spec.scenario,
    params: { ...spec.params },
    nAgents: spec.nAgents,
    nVehicles: spec.nVehicles,
    obsDim: spec.obsDim,
    obsNames: [...spec.obsNames],
    rewardTermNames: [...spec.rewardTermNames],
    action: spec.action.kind === 'discrete' ? { kind: 'discrete', n: spec.action.n } : { kind: 'continuous', low: spec.action.low, high: spec.action.high },
    horizon: spec.horizon,
    dt: DT,
    vehicleLength: VEHICLE_LENGTH,
    roadLength: spec.closedRoad && Number.isFinite(roadLength) ? roadLength : null,
    vehicleKind: Array.from(spec.vehicleKind),
    agentVehicle: Array.from(spec.agentVehicle),
    edges: spec.graph.edges.map(([a, b]) => [a, b] as [number, number]),
    actionParamDim: 0,
    source,
    scene: sceneOf(env),
  };
}

/** The stored description of an episode played on copy `copy` of `env` (what the run store keeps beside its frames). */
export function storedEpisodeSpec(
  env: BatchedEnv,
  copy: number,
  recorded: Pick<StoredEpisodeSpec, 'iteration' | 'kind' | 'seed' | 'actionParamDim' | 'communicationDim'>,
): StoredEpisodeSpec {
  const { spec } = env;
  const roadLength = env.roadLength[copy];
  return {
    ...recorded,
    scenario: spec.scenario,
    params: spec.params,
    dt: DT,
    horizon: spec.horizon,
    nVehicles: spec.nVehicles,
    nAgents: spec.nAgents,
    obsDim: spec.obsDim,
    action: spec.action,
    obsNames: spec.obsNames,
    rewardTermNames: spec.rewardTermNames,
    agentVehicle: Array.from(spec.agentVehicle),
    vehicleKind: Array.from(spec.vehicleKind),
    edges: spec.graph.edges.map(([a, b]) => [a, b] as [number, number]),
    roadLength: Number.isFinite(roadLength) ? roadLength : null,
    vehicleLength: VEHICLE_LENGTH,
    scene: sceneOf(env),
  };
}

/** Marks the vehicles involved in copy 0's collision (none unless the env reports one). */
export function collisionFlags(env: BatchedEnv, flags: Uint8Array): void {
  flags.fill(0);
  if (env.collided[0] !== 1) return;
  const { nVehicles, scenario } = env.spec;
  const mark = (v: number) => (flags[v] |= FrameFlag.collision);
  if (scenario === 'cacc-catchup' || scenario === 'cacc-slowdown') {
    // Vehicle v (v >= 1) follows v - 1; its gap is the headway.
    for (let v = 1; v < nVehicles; v++) {
      if (env.gap[v] < CACC_COLLISION_HEADWAY) {
        mark(v);
        mark(v - 1);
      }
    }
    return;
  }
  // Loops: vehicle v + 1 (mod n) is ahead of v; a negative gap is a rear-end collision.
  for (let v = 0; v < nVehicles; v++) {
    if (env.gap[v] < 0) {
      mark(v);
      mark((v + 1) % nVehicles);
    }
  }
  if (scenario === 'figure-eight') {
    const inZone = (v: number, entry: number) => {
      const past = (((env.position[v] - entry) % FIGURE_EIGHT_LENGTH) + FIGURE_EIGHT_LENGTH) % FIGURE_EIGHT_LENGTH;
      return past < OCCUPIED_SPAN;
    };
    const [vertical, horizontal] = FIGURE_EIGHT_CONFLICT_ZONES;
    const inVertical: number[] = [];
    const inHorizontal: number[] = [];
    for (let v = 0; v < nVehicles; v++) {
      if (inZone(v, vertical.entry)) inVertical.push(v);
      if (inZone(v, horizontal.entry)) inHorizontal.push(v);
    }
    if (inVertical.length > 0 && inHorizontal.length > 0) [...inVertical, ...inHorizontal].forEach(mark);
  }
}

/** Copies copy 0's state into a new Frame. */
export function captureFrame(env: BatchedEnv, jobId: string, episode: number, episodeReturn: number, stepsPerSecond: number): Frame {
  const { nVehicles, nAgents, obsDim, rewardTermNames } = env.spec;
  const flags = new Uint8Array(nVehicles);
  collisionFlags(env, flags);
  // The vehicles a disturbance acted on in the step that led here.
  const { applied } = env.disturbances;
  for (let v = 0; v < nVehicles; v++) if (applied[v] !== 0) flags[v] |= FrameFlag.disturbed;
  const step = env.steps[0];
  const state = new Float64Array(sceneStateLengthOf(env));
  writeSceneState(env, 0, state);
  return {
    jobId,
    episode,
    step,
    time: Math.round(step * DT * 1e6) / 1e6,
    collided: env.collided[0] === 1,
    done: env.terminated[0] === 1 || env.truncated[0] === 1,
    episodeReturn,
    stepsPerSecond,
    position: env.position.slice(0, nVehicles),
    speed: env.speed.slice(0, nVehicles),
    accel: env.accel.slice(0, nVehicles),
    gap: env.gap.slice(0, nVehicles),
    action: env.action.slice(0, nVehicles),
    flags,
    obs: env.obs.slice(0, nAgents * obsDim),
    reward: env.rawReward.slice(0, nAgents),
    rewardTerms: env.rewardTerms.slice(0, nAgents * rewardTermNames.length),
    value: new Float64Array(0),
    actionParams: new Float64Array(0),
    state,
    communication: new Float64Array(0),
  };
}

/** The buffers of a frame, for transfer lists. */
export function frameBuffers(frame: Frame): ArrayBuffer[] {
  return FRAME_ARRAYS.map(([name]) => frame[name].buffer as ArrayBuffer);
}

/** The live-view description of a stored evaluation episode. */
export function displayEpisodeSpec(info: EpisodeInfo, jobId: string): EpisodeSpec {
  if (!isScenarioId(info.scenario)) throw new Error(`episode ${info.id} is of unknown scenario ${info.scenario}`);
  return {
    jobId,
    episode: info.iteration,
    seed: info.seed,
    scenario: info.scenario,
    params: { ...info.params },
    nAgents: info.nAgents,
    nVehicles: info.nVehicles,
    obsDim: info.obsDim,
    obsNames: [...info.obsNames],
    rewardTermNames: [...info.rewardTermNames],
    action: info.action,
    horizon: info.horizon,
    dt: info.dt,
    vehicleLength: info.vehicleLength,
    roadLength: info.roadLength,
    vehicleKind: [...info.vehicleKind],
    agentVehicle: [...info.agentVehicle],
    edges: info.edges.map(([a, b]) => [a, b] as [number, number]),
    actionParamDim: info.actionParamDim,
    communicationDim: info.communicationDim,
    source: { kind: 'evaluation', runId: info.runId, iteration: info.iteration },
    scene: info.scene,
  };
}
