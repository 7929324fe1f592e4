/**
 * Figure eight (shared/specs/scenarios.md section 3): 14 vehicles on Flow's figure-eight
 * route, two loops joined through one unsignalised crossing at (0, 0). The route, its
 * length and the conflict zones come from src/shared/geometry.ts, which the view and the
 * FCD export draw with.
 *
 * As on the ring, vehicles are indexed in route order with vehicle i+1 (mod n) ahead of
 * vehicle i: one lane, no overtaking, so the order never changes. All vehicles update
 * simultaneously from the state at time t, in place (vehicle i reads only i+1; the last
 * reads vehicle 0's saved speed).
 *
 * The crossing. Every vehicle drives both streams in turn: the vertical one (bottom -> top)
 * and the horizontal one (right -> left). A vehicle approaches the conflict zone whose entry
 * is next ahead of its front; the first approacher of a zone is the one nearest its entry.
 * After every step the copy records, per zone, its first approacher, that vehicle's
 * distance to the entry, and whether the zone is occupied; the next step decides from that
 * record (the state at t) which approacher must treat the zone entry as a stopped obstacle:
 * - a human, while the other zone is occupied or the other zone's first approacher will
 *   reach its entry sooner (distance/speed; ties go to the vertical stream);
 * - a controlled vehicle (safe-speed cap only), while the other zone is occupied.
 * The obstacle replaces the real leader when it is nearer (always for the first approacher,
 * unless its leader's rear is still before the entry). Only first approachers need the
 * check: any other approacher's own leader is before the entry, hence nearer.
 *
 * Choices where the spec is silent:
 * - A vehicle occupies a zone from the moment its front passes the entry until its rear
 *   passes the exit (a 5 m body blocks the crossing until it has cleared it, as SUMO keeps
 *   a leaving vehicle registered on the junction until its back has left).
 * - "Will reach its entry sooner" compares the two first approachers only (the nearer
 *   vehicle of a stream always reaches first: no overtaking); a stopped vehicle's arrival
 *   time is infinite, so two stopped approachers tie and the vertical one goes.
 * - Start: uniform spacing L/14 with vehicle 0 on the bottom straight, placed so that each
 *   crossing point lies midway between the bodies of two consecutive vehicles (no vehicle
 *   starts inside a zone; spacing L/14 puts the two crossings exactly 7 vehicles apart).
 * - A negative route gap (rear-end, possible only without the cap) is a collision too, with
 *   the same end and penalty as one in the crossing.
 * - On the collision step every agent's reward is `collisionPenalty` alone (Flow returned 0
 *   on a crash); rewardTerms are [speed-or-desiredVelocity, collision], summing to it.
 * - Observations use the exact route length (402.743 m) for x/L.
 * - flow-1av observation: Flow's AccelEnv, all 14 speeds / 30 then all 14 positions / L
 *   (obsDim 28). Flow sorted vehicles by route position, a rotating order; here slots follow
 *   the vehicle index (route order from the controlled vehicle 0), so a slot always means
 *   the same vehicle and slot 0 is the controlled one.
 * - Human noise, action clipping and recording, and NaN actions as on the ring.
 */
import { CONFLICT_ZONE_HALF_LENGTH, FIGURE_EIGHT_CONFLICT_ZONES, FIGURE_EIGHT_LENGTH } from '../../shared/geometry.ts';
import { resolveParams, type ScenarioParams } from '../../shared/scenarios.ts';
import { agentOfVehicle, BatchedEnv, DT, VEHICLE_LENGTH, VehicleKind, type EnvSpec } from './env.ts';
import { AgentGraph } from './graph.ts';
import { capSpeed, loopGap, nextControlledSpeed, nextHumanSpeed, SAFE_DECEL } from './idm.ts';

const FIGURE_EIGHT_VEHICLES = 14;
const ACTION_LIMIT = 3;
const SPEED_SCALE = 30;
const TARGET_SPEED = 20;
const ROUTE = FIGURE_EIGHT_LENGTH;
const ENTRY_V = FIGURE_EIGHT_CONFLICT_ZONES[0].entry;
const ENTRY_H = FIGURE_EIGHT_CONFLICT_ZONES[1].entry;
/** A vehicle occupies a zone while its front is past the entry by less than this (zone plus body). */
const OCCUPIED_SPAN = 2 * CONFLICT_ZONE_HALF_LENGTH + VEHICLE_LENGTH;
const SPACING = ROUTE / FIGURE_EIGHT_VEHICLES;
/** Front of vehicle 0: the vertical crossing midway between its body and vehicle 1's. */
const FIRST_POSITION = FIGURE_EIGHT_CONFLICT_ZONES[0].crossing + VEHICLE_LENGTH / 2 - SPACING / 2;
/** ||20 * 1|| over the 14 vehicles: the desired-velocity reward's scale. */
const DESIRED_NORM = TARGET_SPEED * Math.sqrt(FIGURE_EIGHT_VEHICLES);

function figureEightSpec(params: ScenarioParams<'figure-eight'>): EnvSpec {
  const n = FIGURE_EIGHT_VEHICLES;
  const { preset } = params;
  const nAgents = preset === 'dmpo' ? n : preset === 'flow-1av' ? 1 : 0;
  const vehicleKind = new Uint8Array(n).fill(VehicleKind.human);
  vehicleKind.fill(VehicleKind.agent, 0, nAgents);
  const flow = preset === 'flow-1av';
  return {
    scenario: 'figure-eight',
    params,
    nAgents,
    nVehicles: n,
    obsDim: flow ? 2 * n : 2,
    obsNames: flow
      ? [...Array.from({ length: n }, (_, i) => `speed${i}/30`), ...Array.from({ length: n }, (_, i) => `position${i}/length`)]
      : ['speed/30', 'position/length'],
    wrappedObs: flow ? Array.from({ length: n }, (_, i) => n + i) : [1],
    action: { kind: 'continuous', low: -ACTION_LIMIT, high: ACTION_LIMIT },
    horizon: params.horizon,
    graph: preset === 'dmpo' ? AgentGraph.cycle(n) : AgentGraph.chain(nAgents),
    agentVehicle: Int32Array.from({ length: nAgents }, (_, i) => i),
    vehicleKind,
    rewardTermNames: [flow ? 'desiredVelocity' : 'speed', 'collision'],
    closedRoad: true,
    maxDecel: SAFE_DECEL,
  };
}

/** dmpo observation of agent j at speed v and route position x: [v/30, x/L]. */
function writeDmpoObservation(obs: Float64Array, j: number, v: number, x: number): void {
  obs[2 * j] = v / SPEED_SCALE;
  obs[2 * j + 1] = x / ROUTE;
}

/** Time to reach a zone entry `distance` ahead at `speed`; infinite when stopped. */
function arrivalTime(distance: number, speed: number): number {
  return speed > 0 ? distance / speed : Infinity;
}

export class FigureEightEnv extends BatchedEnv {
  /** The preset: every vehicle an agent (dmpo) or one agent among humans (flow-1av); neither is uncontrolled. */
  private readonly dmpo: boolean;
  private readonly flow1av: boolean;
  private readonly warmup: number;
  private readonly safetyCap: boolean;
  private readonly collisionPenalty: number;
  /** sqrt(dt) * noise: the scale of one human noise draw. */
  private readonly noiseScale: number;
  /** agentOf[i]: the agent driving vehicle i, -1 for a human. */
  private readonly agentOf: Int32Array;
  /** Per copy and zone (vertical 0, horizontal 1), for the current state: the first approacher (-1 if none), its distance to the entry, whether the zone is occupied. */
  private readonly approacher: Int32Array;
  private readonly approachDistance: Float64Array;
  private readonly occupied: Uint8Array;

  /** `params` are resolved again here, so a partial or hand-built set is validated like user input. */
  constructor(params: Readonly<Record<string, unknown>>, numEnvs: number) {
    const resolved = resolveParams('figure-eight', params);
    const spec = figureEightSpec(resolved);
    super(spec, numEnvs);
    this.dmpo = resolved.preset === 'dmpo';
    this.flow1av = resolved.preset === 'flow-1av';
    this.warmup = resolved.warmup;
    this.safetyCap = resolved.safetyCap;
    this.collisionPenalty = resolved.collisionPenalty;
    this.noiseScale = Math.sqrt(DT) * resolved.noise;
    this.agentOf = agentOfVehicle(spec);
    this.approacher = new Int32Array(2 * numEnvs);
    this.approachDistance = new Float64Array(2 * numEnvs);
    this.occupied = new Uint8Array(2 * numEnvs);
  }

  protected resetCopy(e: number): void {
    const n = FIGURE_EIGHT_VEHICLES;
    const base = e * n;
    this.roadLength[e] = ROUTE;
    for (let i = 0; i < n; i++) {
      this.position[base + i] = FIRST_POSITION + i * SPACING;
      this.speed[base + i] = 0;
      this.gap[base + i] = SPACING - VEHICLE_LENGTH;
    }
    this.scanZones(e);
    for (let t = 0; t < this.warmup; t++) this.advance(e, null, 0);
    if (this.dmpo) {
      for (let i = 0; i < n; i++) writeDmpoObservation(this.obs, base + i, this.speed[base + i], this.position[base + i]);
    } else if (this.flow1av) {
      this.writeFlowObservation(e);
    }
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const collided = this.advance(e, actions, a0);
    if (collided) {
      for (let j = a0; j < a0 + this.spec.nAgents; j++) {
        this.reward[j] = this.collisionPenalty;
        this.rawReward[j] = this.collisionPenalty;
        this.rewardTerms[2 * j] = 0;
        this.rewardTerms[2 * j + 1] = this.collisionPenalty;
      }
      this.collided[e] = 1;
    } else if (this.flow1av) {
      this.writeFlowReward(e, a0);
    }
    if (this.flow1av) this.writeFlowObservation(e);
    return collided;
  }

  /**
   * Moves every vehicle of copy e one step; `actions` null drives every vehicle by the
   * human model (warmup). Returns true on a collision: two vehicles of crossing streams in
   * the conflict zone at once, or a negative gap.
   */
  private advance(e: number, actions: ArrayLike<number> | null, a0: number): boolean {
    const n = FIGURE_EIGHT_VEHICLES;
    const base = e * n;
    const { position, speed, accel, gap, action, agentOf, rng, safetyCap, noiseScale, obs, reward, rawReward, rewardTerms, disturbances } = this;
    const { applied } = disturbances;
    const dmpo = this.dmpo;

    // Who must stop at a zone entry, decided on the state at t.
    const apV = this.approacher[2 * e];
    const apH = this.approacher[2 * e + 1];
    const distV = this.approachDistance[2 * e];
    const distH = this.approachDistance[2 * e + 1];
    const busyV = this.occupied[2 * e] === 1;
    const busyH = this.occupied[2 * e + 1] === 1;
    const timeV = apV >= 0 ? arrivalTime(distV, speed[base + apV]) : Infinity;
    const timeH = apH >= 0 ? arrivalTime(distH, speed[base + apH]) : Infinity;
    let stopV = -1;
    let stopH = -1;
    if (apV >= 0) {
      const human = actions === null || agentOf[apV] < 0;
      if (busyH || (human && timeH < timeV)) stopV = apV;
    }
    if (apH >= 0) {
      const human = actions === null || agentOf[apH] < 0;
      if (busyV || (human && apV >= 0 && timeV <= timeH)) stopH = apH;
    }

    const firstSpeed = speed[base];
    let collided = false;
    let prevX = 0;
    let prevV = 0;
    for (let i = 0; i < n; i++) {
      const k = base + i;
      const v = speed[k];
      let vLead = i + 1 < n ? speed[k + 1] : firstSpeed;
      let g = gap[k];
      if (i === stopV) {
        if (distV < g) {
          g = distV;
          vLead = 0;
        }
      } else if (i === stopH && distH < g) {
        g = distH;
        vLead = 0;
      }
      const agent = actions === null ? -1 : agentOf[i];
      let next: number;
      if (agent < 0) {
        next = nextHumanSpeed(v, vLead, g, noiseScale === 0 ? 0 : noiseScale * rng.normal(e));
      } else {
        const raw = actions![a0 + agent];
        if (Number.isNaN(raw)) throw new Error(`figure-eight: action of agent ${agent} in copy ${e} is NaN`);
        const a = raw > ACTION_LIMIT ? ACTION_LIMIT : raw < -ACTION_LIMIT ? -ACTION_LIMIT : raw;
        action[k] = a;
        next = nextControlledSpeed(v, a, vLead, g, safetyCap);
      }
      if (applied[k] !== 0) next = capSpeed(disturbances.nextSpeed(k, v), v, vLead, g, safetyCap);
      accel[k] = (next - v) / DT;
      speed[k] = next;
      let x = position[k] + next * DT;
      if (x >= ROUTE) x -= ROUTE;
      position[k] = x;
      if (dmpo && agent >= 0) {
        const j = a0 + agent;
        writeDmpoObservation(obs, j, next, x);
        const r = TARGET_SPEED - Math.abs(TARGET_SPEED - next);
        reward[j] = r;
        rawReward[j] = r;
        rewardTerms[2 * j] = r;
        rewardTerms[2 * j + 1] = 0;
      }
      if (i > 0) {
        const gNew = loopGap(x, prevX, gap[k - 1], next, prevV, ROUTE);
        gap[k - 1] = gNew;
        if (gNew < 0) collided = true;
      }
      prevX = x;
      prevV = next;
    }
    const last = base + n - 1;
    const gLast = loopGap(position[base], prevX, gap[last], speed[base], prevV, ROUTE);
    gap[last] = gLast;
    this.scanZones(e);
    return collided || gLast < 0 || (this.occupied[2 * e] & this.occupied[2 * e + 1]) === 1;
  }

  /** Records each zone's first approacher, its distance to the entry, and occupancy, for copy e's current state. */
  private scanZones(e: number): void {
    const base = e * FIGURE_EIGHT_VEHICLES;
    const position = this.position;
    let apV = -1;
    let apH = -1;
    let bestV = ROUTE;
    let bestH = ROUTE;
    let busyV = 0;
    let busyH = 0;
    for (let i = 0; i < FIGURE_EIGHT_VEHICLES; i++) {
      const s = position[base + i];
      let dV = ENTRY_V - s;
      if (dV < 0) dV += ROUTE;
      let dH = ENTRY_H - s;
      if (dH < 0) dH += ROUTE;
      // The nearer entry ahead is the zone approached; the other zone is the one last entered,
      // still occupied while the front is less than OCCUPIED_SPAN past its entry.
      if (dV < dH) {
        if (dV < bestV) {
          bestV = dV;
          apV = i;
        }
        if (dH > ROUTE - OCCUPIED_SPAN) busyH = 1;
      } else {
        if (dH < bestH) {
          bestH = dH;
          apH = i;
        }
        if (dV > ROUTE - OCCUPIED_SPAN) busyV = 1;
      }
    }
    this.approacher[2 * e] = apV;
    this.approacher[2 * e + 1] = apH;
    this.approachDistance[2 * e] = bestV;
    this.approachDistance[2 * e + 1] = bestH;
    this.occupied[2 * e] = busyV;
    this.occupied[2 * e + 1] = busyH;
  }

  /** flow-1av: the desired-velocity reward max(||20*1|| - ||v - 20*1||, 0) / ||20*1|| over all vehicles, given to the agent. */
  private writeFlowReward(e: number, a0: number): void {
    const base = e * FIGURE_EIGHT_VEHICLES;
    let squares = 0;
    for (let i = 0; i < FIGURE_EIGHT_VEHICLES; i++) {
      const d = this.speed[base + i] - TARGET_SPEED;
      squares += d * d;
    }
    const r = Math.max(DESIRED_NORM - Math.sqrt(squares), 0) / DESIRED_NORM;
    this.reward[a0] = r;
    this.rawReward[a0] = r;
    this.rewardTerms[2 * a0] = r;
    this.rewardTerms[2 * a0 + 1] = 0;
  }

  /** flow-1av: Flow's AccelEnv observation, all speeds / 30 then all positions / L, in vehicle order. */
  private writeFlowObservation(e: number): void {
    const n = FIGURE_EIGHT_VEHICLES;
    const base = e * n;
    const o = 2 * n * e;
    for (let i = 0; i < n; i++) {
      this.obs[o + i] = this.speed[base + i] / SPEED_SCALE;
      this.obs[o + n + i] = this.position[base + i] / ROUTE;
    }
  }
}
