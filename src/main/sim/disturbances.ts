/**
 * Disturbances: what traffic engineers do to a controller under test, applied to one
 * vehicle from a start step for a number of steps, in every scenario.
 *
 * - `brake`: the vehicle accelerates at `accel` (m/s^2, negative) instead of what its driver
 *   or policy chose; speed never below 0.
 * - `hold`: the vehicle drives towards `speed` (m/s) at up to the scenario's maxDecel per
 *   second, then holds it (no instant jump, which no vehicle can do).
 * - `stop`: a hold at speed 0: brake to standstill at maxDecel and stay stopped.
 * - `dip` (CACC's exogenous leader only): the leader's prescribed speed profile v0(t) dips by
 *   `depth` m/s and recovers over the duration d, in the raised-cosine shape
 *   v0(t) - depth * (1 - cos(2*pi*tau/d)) / 2, tau = t - start: smooth (no jump in speed or
 *   acceleration at either end), deepest at d/2, peak deceleration depth*pi/d; never below 0.
 *
 * Timing: a disturbance with start s and duration d acts on the steps s .. s+d-1 (the step
 * from state t to t+1, t counted in control steps after reset and warmup), in every copy of
 * a batched environment. Where the scenario has a safe-speed cap (ring, figure eight, when
 * on), it still bounds a disturbed vehicle, whatever its kind: the cap is SUMO's "obey safe
 * speed", which a braking or holding driver obeys too. A disturbed human still draws its
 * noise, so the random stream, hence every other vehicle's noise, is the same as without
 * the disturbance. A disturbed agent's action is still recorded and still enters its reward.
 *
 * The schedule and what it applied are environment state: BatchedEnv snapshots them under
 * `disturbances.` (nothing at all when there is none, so undisturbed snapshots are as they
 * were and older checkpoints restore as undisturbed). Nothing is allocated per step.
 */
import { DISTURBANCE_KINDS, type Disturbance } from '../../shared/disturbance.ts';
import { DT, VehicleKind } from './constants.ts';
import { restoreArrays, type SnapshotArrays, type TypedArray } from './snapshot.ts';

export { DISTURBANCE_KINDS, type Disturbance, type DisturbanceKind } from '../../shared/disturbance.ts';

/** Codes in Disturbances.applied: 0 for none, else the index in DISTURBANCE_KINDS plus one. */
const BRAKE = 1;
const STOP = 3;
export const DIP = 4;

/** The road a disturbance acts on: what an EnvSpec says about its vehicles. */
export interface DisturbedRoad {
  readonly scenario: string;
  readonly nVehicles: number;
  readonly vehicleKind: Uint8Array;
  /** m/s^2: the rate of a hold or stop. */
  readonly maxDecel: number;
}

/** A disturbance that cannot apply; the message names the field, its value and what is allowed. */
export class DisturbanceError extends Error {
  override name = 'DisturbanceError';
}

/** The name of an applied code: '' for none. */
export function disturbanceName(code: number): string {
  return code === 0 ? '' : DISTURBANCE_KINDS[code - 1];
}

/** Moves speed v towards target by at most maxStep, landing exactly on the target when within reach. */
export function approach(v: number, target: number, maxStep: number): number {
  const d = target - v;
  return d > maxStep ? v + maxStep : d < -maxStep ? v - maxStep : target;
}

/** The string of vehicles a disturbance of `vehicle` travels along, head (the vehicle) to tail, in the scenario's indexing. */
export function stringOrder(spec: { readonly nVehicles: number; readonly closedRoad: boolean }, vehicle: number): number[] {
  const n = spec.nVehicles;
  // Closed roads index the vehicle ahead of i as i+1 (mod n), so followers count down and the
  // string is the whole loop; CACC's vehicle i follows i-1, so followers count up to the tail.
  return spec.closedRoad ? Array.from({ length: n }, (_, i) => (((vehicle - i) % n) + n) % n) : Array.from({ length: n - vehicle }, (_, i) => vehicle + i);
}

const valueOf = (d: Disturbance): number => (d.kind === 'brake' ? d.accel : d.kind === 'hold' ? d.speed : d.kind === 'dip' ? d.depth : 0);

/** Throws a DisturbanceError when `d` cannot apply on this road (ranges, and dips only on a leader). */
/** What a check needs of the road: its vehicles (the rate of a hold or stop does not enter it). */
export type CheckedRoad = Omit<DisturbedRoad, 'maxDecel'>;

export function checkDisturbance(d: Disturbance, road: CheckedRoad): void {
  const last = road.nVehicles - 1;
  if (!Number.isInteger(d.vehicle) || d.vehicle < 0 || d.vehicle > last) {
    throw new DisturbanceError(`vehicle=${d.vehicle} is not allowed; expected a vehicle index from 0 to ${last} (${road.scenario} has ${road.nVehicles} vehicles)`);
  }
  if (!Number.isSafeInteger(d.start) || d.start < 0) throw new DisturbanceError(`start ${d.start} is not allowed; expected a step >= 0`);
  if (!Number.isSafeInteger(d.duration) || d.duration < 1) throw new DisturbanceError(`duration ${d.duration} is not allowed; expected at least 1 step`);
  switch (d.kind) {
    case 'brake':
      if (!(Number.isFinite(d.accel) && d.accel < 0)) throw new DisturbanceError(`accel=${d.accel} is not allowed; expected a negative acceleration in m/s^2 (a brake, e.g. -4)`);
      return;
    case 'hold':
      if (!(Number.isFinite(d.speed) && d.speed >= 0)) throw new DisturbanceError(`speed=${d.speed} is not allowed; expected a speed >= 0 m/s`);
      return;
    case 'stop':
      return;
    case 'dip':
      if (!(Number.isFinite(d.depth) && d.depth > 0)) throw new DisturbanceError(`depth=${d.depth} is not allowed; expected a speed drop > 0 m/s`);
      if (road.vehicleKind[d.vehicle] !== VehicleKind.leader) {
        const leader = road.vehicleKind.indexOf(VehicleKind.leader);
        const where = leader < 0 ? `${road.scenario} has none` : `vehicle ${leader} here`;
        throw new DisturbanceError(`kind=dip is not allowed on vehicle ${d.vehicle}; a dip shapes the exogenous leader's speed profile (${where}); use brake, hold or stop`);
      }
      return;
    default: {
      const kind: unknown = (d as { kind: unknown }).kind;
      throw new DisturbanceError(`kind=${String(kind)} is not allowed; expected one of ${DISTURBANCE_KINDS.join(', ')}`);
    }
  }
}

/** A schedule as typed arrays, one entry per disturbance (snapshots are typed arrays). */
type Schedule = {
  kind: Uint8Array;
  vehicle: Int32Array;
  start: Int32Array;
  duration: Int32Array;
  value: Float64Array;
};

/** The disturbances of a schedule; a kind code that names no kind reads as undefined and is refused by checkDisturbance. */
function decodeSchedule(s: Schedule): Disturbance[] {
  return Array.from(s.kind, (code, j): Disturbance => {
    const timing = { vehicle: s.vehicle[j], start: s.start[j], duration: s.duration[j] };
    const value = s.value[j];
    const kind = DISTURBANCE_KINDS[code - 1];
    return kind === 'brake' ? { ...timing, kind, accel: value } : kind === 'hold' ? { ...timing, kind, speed: value } : kind === 'dip' ? { ...timing, kind, depth: value } : { ...timing, kind };
  });
}

/** The schedule of an environment's disturbances and, per copy and vehicle, the one applied in the last step. */
export class Disturbances {
  // The schedule (see Schedule).
  private kind = new Uint8Array(0);
  private vehicle = new Int32Array(0);
  private start = new Int32Array(0);
  private duration = new Int32Array(0);
  private value = new Float64Array(0);
  /** [E, nVehicles]: code of the disturbance applied to each vehicle in the step that led to the current state; 0 for none. */
  readonly applied: Uint8Array;
  /** [E, nVehicles]: the schedule entry of that disturbance. */
  private readonly entry: Int32Array;
  /** Speed change a hold or stop allows per step. */
  private readonly maxStep: number;

  constructor(
    private readonly road: DisturbedRoad,
    numEnvs: number,
  ) {
    this.applied = new Uint8Array(numEnvs * road.nVehicles);
    this.entry = new Int32Array(numEnvs * road.nVehicles);
    this.maxStep = road.maxDecel * DT;
  }

  get count(): number {
    return this.kind.length;
  }

  /** The schedule, in the order it was set. */
  list(): Disturbance[] {
    const { kind, vehicle, start, duration, value } = this;
    return decodeSchedule({ kind, vehicle, start, duration, value });
  }

  /** Replaces the schedule (checked first: a refused one leaves the old in place); nothing is applied until the next step. */
  set(list: readonly Disturbance[]): void {
    for (const d of list) checkDisturbance(d, this.road);
    list.forEach((a, i) =>
      list.slice(i + 1).forEach((b) => {
        if (a.vehicle === b.vehicle && a.start < b.start + b.duration && b.start < a.start + a.duration) {
          throw new DisturbanceError(
            `two disturbances of vehicle ${a.vehicle} overlap (steps ${a.start} to ${a.start + a.duration - 1} and ${b.start} to ${b.start + b.duration - 1}); a vehicle takes one at a time`,
          );
        }
      }),
    );
    this.kind = Uint8Array.from(list, (d) => DISTURBANCE_KINDS.indexOf(d.kind) + 1);
    this.vehicle = Int32Array.from(list, (d) => d.vehicle);
    this.start = Int32Array.from(list, (d) => d.start);
    this.duration = Int32Array.from(list, (d) => d.duration);
    this.value = Float64Array.from(list, valueOf);
    this.applied.fill(0);
  }

  /** Forgets what was applied to copy e (its reset state has no disturbance). */
  clear(e: number): void {
    const n = this.road.nVehicles;
    this.applied.fill(0, e * n, (e + 1) * n);
  }

  /** Marks what acts on each vehicle of copy e in the step from state t (read by the scenario's step through `applied`). */
  begin(e: number, t: number): void {
    const count = this.kind.length;
    if (count === 0) return;
    const base = e * this.road.nVehicles;
    this.clear(e);
    for (let j = 0; j < count; j++) {
      if (t >= this.start[j] && t - this.start[j] < this.duration[j]) {
        this.applied[base + this.vehicle[j]] = this.kind[j];
        this.entry[base + this.vehicle[j]] = j;
      }
    }
  }

  /**
   * Next speed of the vehicle at slot k (copy * nVehicles + vehicle), now at speed v, under
   * its applied brake, hold or stop; before any cap of the scenario.
   */
  nextSpeed(k: number, v: number): number {
    const value = this.value[this.entry[k]];
    const code = this.applied[k];
    if (code === BRAKE) {
      const next = v + value * DT;
      return next > 0 ? next : 0;
    }
    return approach(v, code === STOP ? 0 : value, this.maxStep);
  }

  /** The applied dip's drop below the profile at slot k, in the state after `t` steps. */
  dipOffset(k: number, t: number): number {
    const j = this.entry[k];
    return this.value[j] * 0.5 * (1 - Math.cos((2 * Math.PI * (t - this.start[j])) / this.duration[j]));
  }

  /** The schedule and what it applied; empty when there is no disturbance. */
  snapshot(): Record<string, TypedArray> {
    if (this.count === 0) return {};
    const { kind, vehicle, start, duration, value, applied, entry } = this;
    return { kind: kind.slice(), vehicle: vehicle.slice(), start: start.slice(), duration: duration.slice(), value: value.slice(), applied: applied.slice(), entry: entry.slice() };
  }

  /** Restores a snapshot of this class; one without entries clears the schedule. */
  restore(arrays: SnapshotArrays): void {
    const kinds = arrays.kind;
    if (kinds === undefined) {
      this.set([]);
      return;
    }
    const misfit = (name: string) => `environment state 'disturbances.${name}' does not fit this ${this.road.scenario} environment`;
    const n = kinds.length;
    const schedule: Schedule = { kind: new Uint8Array(n), vehicle: new Int32Array(n), start: new Int32Array(n), duration: new Int32Array(n), value: new Float64Array(n) };
    restoreArrays(schedule, arrays, misfit);
    const applied = { applied: new Uint8Array(this.applied.length), entry: new Int32Array(this.entry.length) };
    restoreArrays(applied, arrays, misfit);
    this.set(decodeSchedule(schedule));
    this.applied.set(applied.applied);
    this.entry.set(applied.entry);
  }
}
