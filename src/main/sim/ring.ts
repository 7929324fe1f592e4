/**
 * Ring attenuation (shared/specs/scenarios.md section 2): vehicles on a single-lane loop
 * where Flow's IDM humans form stop-and-go waves.
 *
 * Vehicles are indexed in ring order, vehicle i+1 (mod n) ahead of vehicle i, so the leader
 * of i is i+1: vehicles cannot overtake on one lane, so the order never changes and no
 * sorting is needed. All vehicles update simultaneously from the state at time t; the step
 * overwrites each vehicle in place, which is safe because vehicle i reads only vehicle
 * i+1, not yet overwritten, except the last one, which reads vehicle 0's saved speed.
 *
 * Choices where the spec is silent:
 * - A negative gap ends the episode as a collision whether or not the safety cap is on (with
 *   the cap, and for IDM humans, it does not happen; checking it keeps the state honest).
 *   The collision step's reward is the usual formula (the spec gives the ring no penalty).
 * - `action` records the clipped acceleration that was applied; the reward uses the raw one.
 * - `accel` after reset is the realized acceleration of the last warmup step (0 without warmup).
 * - Human noise: one normal draw per human per step, in vehicle order, from the copy's
 *   stream (none when noise = 0). A random length is drawn first, at reset.
 * - rewardTerms are the signed summands of the reward: [speed, accel], summing to it.
 * - NaN actions throw: they would silently poison every later state.
 */
import { resolveParams, type ScenarioParams } from '../../shared/scenarios.ts';
import { agentOfVehicle, BatchedEnv, DT, VEHICLE_LENGTH, VehicleKind, type EnvSpec } from './env.ts';
import { AgentGraph } from './graph.ts';
import { capSpeed, loopGap, nextControlledSpeed, nextHumanSpeed, SAFE_DECEL } from './idm.ts';

/** Random ring lengths are integers in [RANDOM_LENGTH_MIN, RANDOM_LENGTH_MAX] m. */
export const RANDOM_LENGTH_MIN = 220;
export const RANDOM_LENGTH_MAX = 270;
const ACTION_LIMIT = 1;
/** Observation scales: dmpo's speed, flow-1av's speed and gap. */
const DMPO_SPEED_SCALE = 30;
const FLOW_SPEED_SCALE = 15;
/** Flow's WaveAttenuationPOEnv divides the gap by the largest ring length it trains on. */
const FLOW_GAP_SCALE = 270;
/** Reward: target speed 20 m/s, weights 4 (speed and acceleration). */
const TARGET_SPEED = 20;
const REWARD_WEIGHT = 4;


const RING_REWARD_TERMS = ['speed', 'accel'] as const;

function ringSpec(params: ScenarioParams<'ring'>): EnvSpec {
  const n = params.vehicles;
  const { preset } = params;
  const nAgents = preset === 'dmpo' ? n : preset === 'flow-1av' ? 1 : 0;
  const vehicleKind = new Uint8Array(n).fill(VehicleKind.human);
  vehicleKind.fill(VehicleKind.agent, 0, nAgents);
  return {
    scenario: 'ring',
    params,
    nAgents,
    nVehicles: n,
    obsDim: preset === 'flow-1av' ? 3 : 2,
    obsNames: preset === 'flow-1av' ? ['speed/15', '(leadSpeed-speed)/15', 'gap/270'] : ['speed/30', 'position/length'],
    wrappedObs: preset === 'flow-1av' ? [] : [1],
    action: { kind: 'continuous', low: -ACTION_LIMIT, high: ACTION_LIMIT },
    horizon: params.horizon,
    graph: preset === 'dmpo' ? AgentGraph.cycle(n) : AgentGraph.chain(nAgents),
    agentVehicle: Int32Array.from({ length: nAgents }, (_, i) => i),
    vehicleKind,
    rewardTermNames: RING_REWARD_TERMS,
    closedRoad: true,
    maxDecel: SAFE_DECEL,
  };
}

/** dmpo observation of agent j at speed v and position x on a ring of length L: [v/30, x/L]. */
function writeDmpoObservation(obs: Float64Array, j: number, v: number, x: number, length: number): void {
  obs[2 * j] = v / DMPO_SPEED_SCALE;
  obs[2 * j + 1] = x / length;
}

export class RingEnv extends BatchedEnv {
  private readonly n: number;
  /** The preset: every vehicle an agent (dmpo) or one agent among humans (flow-1av); neither is uncontrolled. */
  private readonly dmpo: boolean;
  private readonly flow1av: boolean;
  /** The fixed ring length, or null to draw one per reset. */
  private readonly fixedLength: number | null;
  private readonly warmup: number;
  private readonly safetyCap: boolean;
  /** sqrt(dt) * noise: the scale of one human noise draw. */
  private readonly noiseScale: number;
  /** agentOf[i]: the agent driving vehicle i, -1 for a human. */
  private readonly agentOf: Int32Array;

  /** `params` are resolved again here, so a partial or hand-built set is validated like user input. */
  constructor(params: Readonly<Record<string, unknown>>, numEnvs: number) {
    const resolved = resolveParams('ring', params);
    const spec = ringSpec(resolved);
    super(spec, numEnvs);
    this.n = spec.nVehicles;
    this.dmpo = resolved.preset === 'dmpo';
    this.flow1av = resolved.preset === 'flow-1av';
    this.fixedLength = resolved.length;
    this.warmup = resolved.warmup;
    this.safetyCap = resolved.safetyCap;
    this.noiseScale = Math.sqrt(DT) * resolved.noise;
    this.agentOf = agentOfVehicle(spec);
  }

  protected resetCopy(e: number): void {
    const n = this.n;
    const length = this.fixedLength ?? this.rng.integer(e, RANDOM_LENGTH_MIN, RANDOM_LENGTH_MAX);
    this.roadLength[e] = length;
    const spacing = length / n;
    const base = e * n;
    for (let i = 0; i < n; i++) {
      this.position[base + i] = i * spacing;
      this.speed[base + i] = 0;
      this.gap[base + i] = spacing - VEHICLE_LENGTH;
    }
    for (let t = 0; t < this.warmup; t++) this.advance(e, null, 0);
    if (this.dmpo) {
      for (let i = 0; i < n; i++) writeDmpoObservation(this.obs, base + i, this.speed[base + i], this.position[base + i], length);
    } else if (this.flow1av) {
      this.writeFlowObservation(e);
    }
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const collided = this.advance(e, actions, a0);
    if (this.flow1av) {
      this.writeFlowReward(e, actions, a0);
      this.writeFlowObservation(e);
    }
    if (collided) this.collided[e] = 1;
    return collided;
  }

  /**
   * Moves every vehicle of copy e one step; `actions` null drives every vehicle by the
   * human model (warmup). dmpo's observation and reward of an agent depend on its own
   * vehicle only, so they are written in the same pass (a second pass cost a fifth of the
   * step). Returns true when some gap became negative.
   */
  private advance(e: number, actions: ArrayLike<number> | null, a0: number): boolean {
    const n = this.n;
    const base = e * n;
    const length = this.roadLength[e];
    const { position, speed, accel, gap, action, agentOf, rng, safetyCap, noiseScale, obs, reward, rawReward, rewardTerms, disturbances } = this;
    const { applied } = disturbances;
    const dmpo = this.dmpo;
    const firstSpeed = speed[base];
    let collided = false;
    let prevX = 0;
    let prevV = 0;
    for (let i = 0; i < n; i++) {
      const k = base + i;
      const v = speed[k];
      const vLead = i + 1 < n ? speed[k + 1] : firstSpeed;
      const agent = actions === null ? -1 : agentOf[i];
      let next: number;
      let raw = 0;
      if (agent < 0) {
        next = nextHumanSpeed(v, vLead, gap[k], noiseScale === 0 ? 0 : noiseScale * rng.normal(e));
      } else {
        raw = actions![a0 + agent];
        if (Number.isNaN(raw)) throw new Error(`ring: action of agent ${agent} in copy ${e} is NaN`);
        const a = raw > ACTION_LIMIT ? ACTION_LIMIT : raw < -ACTION_LIMIT ? -ACTION_LIMIT : raw;
        action[k] = a;
        next = nextControlledSpeed(v, a, vLead, gap[k], safetyCap);
      }
      if (applied[k] !== 0) next = capSpeed(disturbances.nextSpeed(k, v), v, vLead, gap[k], safetyCap);
      accel[k] = (next - v) / DT;
      speed[k] = next;
      let x = position[k] + next * DT;
      if (x >= length) x -= length;
      position[k] = x;
      if (dmpo && agent >= 0) {
        const j = a0 + agent;
        writeDmpoObservation(obs, j, next, x, length);
        const speedTerm = (REWARD_WEIGHT * (TARGET_SPEED - Math.abs(TARGET_SPEED - next))) / (TARGET_SPEED * n);
        const accelTerm = -((REWARD_WEIGHT * Math.abs(raw)) / n);
        reward[j] = speedTerm + accelTerm;
        rawReward[j] = speedTerm + accelTerm;
        rewardTerms[2 * j] = speedTerm;
        rewardTerms[2 * j + 1] = accelTerm;
      }
      if (i > 0) {
        const g = loopGap(x, prevX, gap[k - 1], next, prevV, length);
        gap[k - 1] = g;
        if (g < 0) collided = true;
      }
      prevX = x;
      prevV = next;
    }
    const last = base + n - 1;
    const g = loopGap(position[base], prevX, gap[last], speed[base], prevV, length);
    gap[last] = g;
    return collided || g < 0;
  }

  /** flow-1av: the shared reward 4*mean(v)/20 - 4*mean(|a_rl|) of the one agent (vehicle 0). */
  private writeFlowReward(e: number, actions: ArrayLike<number>, a0: number): void {
    const { speed } = this;
    const base = e * this.n;
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += speed[base + i];
    const speedTerm = (REWARD_WEIGHT * (sum / this.n)) / TARGET_SPEED;
    const accelTerm = -REWARD_WEIGHT * Math.abs(actions[a0]);
    this.reward[a0] = speedTerm + accelTerm;
    this.rawReward[a0] = speedTerm + accelTerm;
    this.rewardTerms[2 * a0] = speedTerm;
    this.rewardTerms[2 * a0 + 1] = accelTerm;
  }

  /** flow-1av: [v/15, (v_lead - v)/15, gap/270] of vehicle 0, whose leader is vehicle 1. */
  private writeFlowObservation(e: number): void {
    const base = e * this.n;
    const v = this.speed[base];
    const o = 3 * e;
    this.obs[o] = v / FLOW_SPEED_SCALE;
    this.obs[o + 1] = (this.speed[base + 1] - v) / FLOW_SPEED_SCALE;
    this.obs[o + 2] = this.gap[base] / FLOW_GAP_SCALE;
  }
}
