/**
 * The environment API every learner, the CLI and the app use: one object steps E copies of a
 * scenario at once over struct-of-arrays typed buffers that it owns and overwrites in place.
 * Nothing is allocated per step.
 *
 * Layouts (row-major): per-agent buffers are [E, nAgents(, dim)], per-vehicle buffers
 * [E, nVehicles], per-copy flags [E].
 *
 * Episode ends: all agents of a copy end together. `terminated` marks a true end (collision
 * ends), `truncated` the horizon (learners bootstrap from V(s_T) there). Once a copy has
 * ended, step() leaves its state frozen and writes zero rewards for it until resetEnv().
 */
import type { ResolvedParams, ScenarioId } from '../../shared/scenarios.ts';
import { Disturbances } from './disturbances.ts';
import type { AgentGraph } from './graph.ts';
import { envSeed, RngStreams } from './rng.ts';
import { addPrefixed, isTypedArray, restoreArrays, underPrefix, type SnapshotArrays, type TypedArray } from './snapshot.ts';

export { DT, VEHICLE_LENGTH, VehicleKind } from './constants.ts';

export type ActionSpace =
  | { kind: 'discrete'; n: number }
  | { kind: 'continuous'; low: number; high: number };

export interface EnvSpec {
  scenario: ScenarioId;
  params: ResolvedParams;
  nAgents: number;
  nVehicles: number;
  obsDim: number;
  /** Names of the observation fields, in order (for inspectors and docs). */
  obsNames: readonly string[];
  /**
   * Observation fields that wrap around from 1 back to 0 (a position along a closed road as
   * a fraction of its length): one step can move them by almost -1 without anything having
   * jumped. Absent: none. Learned models of the dynamics must treat them as circular.
   */
  wrappedObs?: readonly number[];
  action: ActionSpace;
  horizon: number;
  graph: AgentGraph;
  /** agentVehicle[i]: the vehicle index agent i drives. */
  agentVehicle: Int32Array;
  /** vehicleKind[v]: VehicleKind of vehicle v. */
  vehicleKind: Uint8Array;
  /** Names of the raw reward terms reported per agent in rewardTerms. */
  rewardTermNames: readonly string[];
  /** The road is a loop of this length (ring, figure eight) or straight (CACC: false). */
  closedRoad: boolean;
  /** The hardest deceleration of the scenario's vehicles (m/s^2): the rate of a hold or stop disturbance. */
  maxDecel: number;
}

/** The inverse of spec.agentVehicle: result[v] is the agent driving vehicle v, or -1. */
export function agentOfVehicle(spec: Pick<EnvSpec, 'nVehicles' | 'agentVehicle'>): Int32Array {
  const agentOf = new Int32Array(spec.nVehicles).fill(-1);
  spec.agentVehicle.forEach((vehicle, agent) => (agentOf[vehicle] = agent));
  return agentOf;
}

export abstract class BatchedEnv {
  readonly obs: Float64Array;
  /** Learning reward: raw reward plus training-only terms when `training` is on. */
  readonly reward: Float64Array;
  /** The scenario's reward without training-only terms: what metrics and returns use. */
  readonly rawReward: Float64Array;
  /** [E, nAgents, nTerms] raw reward terms, named by spec.rewardTermNames. */
  readonly rewardTerms: Float64Array;
  readonly dones: Uint8Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /**
   * 1 once the copy has collided in its episode. Where the episode runs on after it (CACC
   * freezes the state until the next multiple of 60 steps), a step taken from a collided
   * copy changes nothing but its reward: its actions have no effect.
   */
  readonly collided: Uint8Array;
  /** Control steps taken since the copy's reset. */
  readonly steps: Int32Array;
  /** Vehicle state: position along the road (m), speed (m/s), realized acceleration (m/s^2), gap to the vehicle ahead (m), action applied (NaN for non-agents). */
  readonly position: Float64Array;
  readonly speed: Float64Array;
  readonly accel: Float64Array;
  readonly gap: Float64Array;
  readonly action: Float64Array;
  /** Road length of each copy (m); for CACC the distance the leader can drive is unbounded (Infinity). */
  readonly roadLength: Float64Array;
  /** Brakes, holds, stops and dips scheduled on vehicles (none unless set), and what each step applied. */
  readonly disturbances: Disturbances;
  protected readonly rng: RngStreams;
  /** When true (the default), `reward` includes training-only terms such as CACC's safety cost. */
  training = true;

  protected constructor(
    readonly spec: EnvSpec,
    readonly numEnvs: number,
  ) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new Error(`numEnvs must be a positive integer, got ${numEnvs}`);
    const agentValues = numEnvs * spec.nAgents;
    const vehicleValues = numEnvs * spec.nVehicles;
    this.obs = new Float64Array(agentValues * spec.obsDim);
    this.reward = new Float64Array(agentValues);
    this.rawReward = new Float64Array(agentValues);
    this.rewardTerms = new Float64Array(agentValues * spec.rewardTermNames.length);
    this.dones = new Uint8Array(agentValues);
    this.terminated = new Uint8Array(numEnvs);
    this.truncated = new Uint8Array(numEnvs);
    this.collided = new Uint8Array(numEnvs);
    this.steps = new Int32Array(numEnvs);
    this.position = new Float64Array(vehicleValues);
    this.speed = new Float64Array(vehicleValues);
    this.accel = new Float64Array(vehicleValues);
    this.gap = new Float64Array(vehicleValues);
    this.action = new Float64Array(vehicleValues);
    this.roadLength = new Float64Array(numEnvs);
    this.rng = new RngStreams(numEnvs);
    this.disturbances = new Disturbances(spec, numEnvs);
  }

  /** Resets every copy; copy e is seeded with envSeed(seed, e). */
  reset(seed: number): this {
    for (let e = 0; e < this.numEnvs; e++) this.resetEnv(e, envSeed(seed, e));
    return this;
  }

  /** Resets one copy from its own seed. */
  resetEnv(e: number, seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    this.rng.seed(e, seed);
    this.steps[e] = 0;
    this.terminated[e] = 0;
    this.truncated[e] = 0;
    this.collided[e] = 0;
    const a0 = e * this.spec.nAgents;
    this.reward.fill(0, a0, a0 + this.spec.nAgents);
    this.rawReward.fill(0, a0, a0 + this.spec.nAgents);
    this.dones.fill(0, a0, a0 + this.spec.nAgents);
    const nTerms = this.spec.rewardTermNames.length;
    this.rewardTerms.fill(0, a0 * nTerms, (a0 + this.spec.nAgents) * nTerms);
    const v0 = e * this.spec.nVehicles;
    this.action.fill(NaN, v0, v0 + this.spec.nVehicles);
    this.accel.fill(0, v0, v0 + this.spec.nVehicles);
    this.disturbances.clear(e);
    this.resetCopy(e);
  }

  /**
   * Advances every running copy by one control step. `actions` is [E, nAgents]: discrete
   * indices or accelerations. Returns this, whose buffers now hold the step's outputs.
   */
  step(actions: ArrayLike<number>): this {
    const { nAgents } = this.spec;
    if (actions.length !== this.numEnvs * nAgents) {
      throw new Error(`step needs ${this.numEnvs * nAgents} actions ([${this.numEnvs} envs, ${nAgents} agents]), got ${actions.length}`);
    }
    for (let e = 0; e < this.numEnvs; e++) {
      const a0 = e * nAgents;
      if (this.terminated[e] === 1 || this.truncated[e] === 1) {
        this.reward.fill(0, a0, a0 + nAgents);
        this.rawReward.fill(0, a0, a0 + nAgents);
        continue;
      }
      this.disturbances.begin(e, this.steps[e]);
      const ended = this.stepCopy(e, actions, a0);
      const t = ++this.steps[e];
      if (ended) this.terminated[e] = 1;
      else if (t >= this.spec.horizon) this.truncated[e] = 1;
      const done = this.terminated[e] | this.truncated[e];
      for (let i = 0; i < nAgents; i++) this.dones[a0 + i] = done;
    }
    return this;
  }

  /**
   * The complete dynamic state: every typed-array field (scenario state lives only in typed
   * arrays), the random streams and the disturbances, copied. Restoring it into an
   * environment built from the same spec continues bit-identically, so checkpoints resume
   * mid-episode exactly.
   */
  snapshot(): Record<string, TypedArray> {
    const state: Record<string, TypedArray> = {};
    for (const [key, value] of Object.entries(this)) if (isTypedArray(value)) state[key] = value.slice();
    addPrefixed(state, 'rng.', this.rng.snapshot());
    addPrefixed(state, 'disturbances.', this.disturbances.snapshot());
    return state;
  }

  restore(state: SnapshotArrays): void {
    const targets = Object.fromEntries(Object.entries(this).filter((entry): entry is [string, TypedArray] => isTypedArray(entry[1])));
    restoreArrays(targets, state, (key) => `environment state '${key}' does not fit this ${this.spec.scenario} environment`);
    this.rng.restore(underPrefix(state, 'rng.'));
    this.disturbances.restore(underPrefix(state, 'disturbances.'));
  }

  /** True when every copy has ended. */
  allDone(): boolean {
    for (let e = 0; e < this.numEnvs; e++) if ((this.terminated[e] | this.truncated[e]) === 0) return false;
    return true;
  }

  /** Sets the copy's initial state (rng already seeded) and writes its observations. */
  protected abstract resetCopy(e: number): void;

  /**
   * Advances copy e by one step from actions[a0 .. a0 + nAgents); writes state, observations,
   * rewards and reward terms. Returns true when the episode terminates (not truncation).
   */
  protected abstract stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean;
}
