/**
 * CACC catch-up and slow-down (Chu et al. 2020, the NMARL CACC environment), as specified in
 * shared/specs/scenarios.md section 1 and checked against its golden trajectories.
 *
 * Vehicles: index 0 is the exogenous leader (speed profile prescribed, no agent), index i+1
 * is platoon agent i. Positions run along a straight road in the direction of travel; the
 * last platoon vehicle starts at 0, so positions are distances travelled from there.
 * The integrated headway h is the state of record (exactly the reference's update); the
 * positions are integrated with the same trapezoid rule for drawing and export.
 */
import type { ResolvedParams, ScenarioId } from '../../shared/scenarios.ts';
import { BatchedEnv, DT, VEHICLE_LENGTH, VehicleKind, type EnvSpec } from './env.ts';
import { AgentGraph } from './graph.ts';

const PLATOON_SIZE = 8;
const H_STOP = 5;
const H_GO = 35;
const V_MAX = 30;
const U_MAX = 2.5;
const H_STAR = 20;
const V_STAR = 15;
const ACCEL_WEIGHT = 0.1;
const SAFETY_HEADWAY = 10;
const SAFETY_WEIGHT = 5;
const COLLISION_HEADWAY = 1;
const COLLISION_REWARD = -1000;
/** After a collision the episode ends at the next multiple of this many steps (the reference's behaviour). */
const COLLISION_END_PERIOD = 60;
/** Slow-down: the leader decelerates linearly over this many points (t = 0..299), then holds V_STAR. */
const SLOWDOWN_POINTS = 300;
/** (alpha, beta) gains of the four discrete actions. */
const ACTION_ALPHA = [0, 0.5, 0, 0.5];
const ACTION_BETA = [0, 0, 0.5, 0.5];

/** Optimal-velocity function V(h); evaluated in the reference's operation order (bit-level agreement). */
export function optimalVelocity(h: number): number {
  if (h <= H_STOP) return 0;
  if (h >= H_GO) return V_MAX;
  return (V_MAX / 2) * (1 - Math.cos((Math.PI * (h - H_STOP)) / (H_GO - H_STOP)));
}

const clip = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

export const CACC_REWARD_TERMS = ['headway', 'speed', 'accel', 'collision', 'safety'] as const;
const TERM_SAFETY = 4;

export class CaccEnv extends BatchedEnv {
  private readonly catchUp: boolean;
  /** Per copy: the leader's initial speed (slow-down) or 15 (catch-up). */
  private readonly leaderStart: Float64Array;
  /** Per copy: h and v of each agent, and realized accelerations u*. */
  private readonly h: Float64Array;
  private readonly v: Float64Array;
  private readonly u: Float64Array;
  /** Per copy: speeds at t, kept while the new ones are computed. */
  private readonly vPrev: Float64Array;

  constructor(scenario: Extract<ScenarioId, 'cacc-catchup' | 'cacc-slowdown'>, params: ResolvedParams, numEnvs: number) {
    const n = PLATOON_SIZE;
    const spec: EnvSpec = {
      scenario,
      params,
      nAgents: n,
      nVehicles: n + 1,
      obsDim: 5,
      obsNames: [
        'speed error (v-15)/15',
        'leader speed difference clip((v_lead-v)/5, -2, 2)',
        'optimal-velocity difference clip((V(h)-v)/5, -2, 2)',
        'predicted headway error (h+(v_lead-v)dt-20)/20',
        'realized acceleration u*/2.5',
      ],
      action: { kind: 'discrete', n: 4 },
      horizon: Number(params.horizon),
      graph: AgentGraph.chain(n),
      agentVehicle: Int32Array.from({ length: n }, (_, i) => i + 1),
      vehicleKind: Uint8Array.from({ length: n + 1 }, (_, v) => (v === 0 ? VehicleKind.leader : VehicleKind.agent)),
      rewardTermNames: CACC_REWARD_TERMS,
      closedRoad: false,
    };
    super(spec, numEnvs);
    this.catchUp = scenario === 'cacc-catchup';
    this.leaderStart = new Float64Array(numEnvs);
    this.h = new Float64Array(numEnvs * n);
    this.v = new Float64Array(numEnvs * n);
    this.u = new Float64Array(numEnvs * n);
    this.vPrev = new Float64Array(n);
    this.roadLength.fill(Infinity);
  }

  /** The leader's speed v0(t) in copy e. */
  leaderSpeed(e: number, t: number): number {
    if (this.catchUp || t >= SLOWDOWN_POINTS - 1) return V_STAR;
    // numpy.linspace(start, 15, 300)[t], computed as numpy does: t * step + start.
    const start = this.leaderStart[e];
    return t * ((V_STAR - start) / (SLOWDOWN_POINTS - 1)) + start;
  }

  protected resetCopy(e: number): void {
    const n = PLATOON_SIZE;
    const o = e * n;
    const { params } = this.spec;
    let leadHeadway = H_STAR;
    let speed = V_STAR;
    if (this.catchUp) {
      leadHeadway = params.leadHeadway === null ? H_STAR * (1.5 + this.rng.uniform(e)) : Number(params.leadHeadway);
    } else {
      speed = params.initialSpeed === null ? V_STAR * (1.5 + this.rng.uniform(e)) : Number(params.initialSpeed);
    }
    this.leaderStart[e] = this.catchUp ? V_STAR : speed;
    for (let i = 0; i < n; i++) {
      this.h[o + i] = i === 0 ? leadHeadway : H_STAR;
      this.v[o + i] = speed;
      this.u[o + i] = 0;
    }
    // Positions: the tail starts at 0, each vehicle ahead one length plus its follower's headway further.
    const vo = e * (n + 1);
    let x = 0;
    for (let i = n - 1; i >= 0; i--) {
      this.position[vo + i + 1] = x;
      x += VEHICLE_LENGTH + this.h[o + i];
    }
    this.position[vo] = x;
    this.writeVehicles(e, 0);
    this.writeObservations(e, 0);
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const n = PLATOON_SIZE;
    const o = e * n;
    const vo = e * (n + 1);
    const t = this.steps[e];
    const nextT = t + 1;
    const nTerms = CACC_REWARD_TERMS.length;

    if (this.collided[e] === 1) {
      // The reference freezes the state after a collision and keeps punishing every agent;
      // the actions given are still recorded.
      for (let i = 0; i < n; i++) {
        this.action[vo + i + 1] = this.checkedAction(actions[a0 + i], i);
        this.setCollisionReward(a0 + i, nTerms);
      }
      this.writeObservations(e, nextT);
      return nextT % COLLISION_END_PERIOD === 0 || nextT >= this.spec.horizon;
    }

    const h = this.h;
    const v = this.v;
    const vPrev = this.vPrev;
    for (let i = 0; i < n; i++) vPrev[i] = v[o + i];
    const lead0 = this.leaderSpeed(e, t);
    const lead1 = this.leaderSpeed(e, nextT);

    let minHeadway = Infinity;
    for (let i = 0; i < n; i++) {
      const k = this.checkedAction(actions[a0 + i], i);
      const vi = vPrev[i];
      const vLead = i === 0 ? lead0 : vPrev[i - 1];
      const command = ACTION_ALPHA[k] * (optimalVelocity(h[o + i]) - vi) + ACTION_BETA[k] * (vLead - vi);
      const vNext = clip(vi + clip(command, -U_MAX, U_MAX) * DT, 0, V_MAX);
      v[o + i] = vNext;
      this.u[o + i] = (vNext - vi) / DT;
      this.action[vo + i + 1] = k;
    }
    for (let i = 0; i < n; i++) {
      const leadNow = i === 0 ? lead0 : vPrev[i - 1];
      const leadNext = i === 0 ? lead1 : v[o + i - 1];
      h[o + i] = h[o + i] + 0.5 * DT * (leadNow + leadNext - vPrev[i] - v[o + i]);
      if (h[o + i] < minHeadway) minHeadway = h[o + i];
    }
    this.position[vo] += 0.5 * DT * (lead0 + lead1);
    for (let i = 0; i < n; i++) this.position[vo + i + 1] += 0.5 * DT * (vPrev[i] + v[o + i]);

    const collision = minHeadway < COLLISION_HEADWAY;
    const withSafety = this.training && this.spec.params.safetyCost === true;
    for (let i = 0; i < n; i++) {
      const a = a0 + i;
      if (collision) {
        this.setCollisionReward(a, nTerms);
        continue;
      }
      const hi = h[o + i];
      const headwayTerm = -((hi - H_STAR) ** 2);
      const speedTerm = -((v[o + i] - V_STAR) ** 2);
      const accelTerm = -ACCEL_WEIGHT * this.u[o + i] ** 2;
      const safetyTerm = -SAFETY_WEIGHT * Math.min(hi - SAFETY_HEADWAY, 0) ** 2;
      const terms = a * nTerms;
      this.rewardTerms[terms] = headwayTerm;
      this.rewardTerms[terms + 1] = speedTerm;
      this.rewardTerms[terms + 2] = accelTerm;
      this.rewardTerms[terms + 3] = 0;
      this.rewardTerms[terms + TERM_SAFETY] = safetyTerm;
      const raw = headwayTerm + speedTerm + accelTerm;
      this.rawReward[a] = raw;
      this.reward[a] = withSafety ? raw + safetyTerm : raw;
    }
    if (collision) this.collided[e] = 1;
    this.writeVehicles(e, nextT);
    this.writeObservations(e, nextT);
    return collision && (nextT % COLLISION_END_PERIOD === 0 || nextT >= this.spec.horizon);
  }

  private checkedAction(k: number, agent: number): number {
    if (k !== 0 && k !== 1 && k !== 2 && k !== 3) {
      throw new Error(`${this.spec.scenario}: action of agent ${agent} is ${k}; allowed: 0, 1, 2, 3`);
    }
    return k;
  }

  private setCollisionReward(a: number, nTerms: number): void {
    this.rewardTerms.fill(0, a * nTerms, (a + 1) * nTerms);
    this.rewardTerms[a * nTerms + 3] = COLLISION_REWARD;
    this.rawReward[a] = COLLISION_REWARD;
    this.reward[a] = COLLISION_REWARD;
  }

  /** Mirrors the platoon state at time t into the per-vehicle buffers (leader first). */
  private writeVehicles(e: number, t: number): void {
    const n = PLATOON_SIZE;
    const o = e * n;
    const vo = e * (n + 1);
    const leadNow = this.leaderSpeed(e, t);
    this.speed[vo] = leadNow;
    this.accel[vo] = t === 0 ? 0 : (leadNow - this.leaderSpeed(e, t - 1)) / DT;
    this.gap[vo] = NaN;
    for (let i = 0; i < n; i++) {
      this.speed[vo + i + 1] = this.v[o + i];
      this.accel[vo + i + 1] = this.u[o + i];
      this.gap[vo + i + 1] = this.h[o + i];
    }
  }

  /** Observations on the state at time t (the leader speed is read at that t). */
  private writeObservations(e: number, t: number): void {
    const n = PLATOON_SIZE;
    const o = e * n;
    const lead = this.leaderSpeed(e, t);
    let w = e * n * 5;
    for (let i = 0; i < n; i++) {
      const vi = this.v[o + i];
      const hi = this.h[o + i];
      const vLead = i === 0 ? lead : this.v[o + i - 1];
      this.obs[w++] = (vi - V_STAR) / V_STAR;
      this.obs[w++] = clip((vLead - vi) / 5, -2, 2);
      this.obs[w++] = clip((optimalVelocity(hi) - vi) / 5, -2, 2);
      this.obs[w++] = (hi + (vLead - vi) * DT - H_STAR) / H_STAR;
      this.obs[w++] = this.u[o + i] / U_MAX;
    }
  }
}
