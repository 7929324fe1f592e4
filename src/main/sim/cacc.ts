/**
 * CACC catch-up and slow-down (Chu et al. 2020, the NMARL CACC environment), as specified in
 * shared/specs/scenarios.md section 1 and checked against its golden trajectories.
 *
 * Vehicles: index 0 is the exogenous leader (speed profile prescribed, no agent), index i+1
 * is platoon agent i. Positions run along a straight road in the direction of travel; the
 * last platoon vehicle starts at 0, so positions are distances travelled from there.
 * The integrated headway h is the state of record (exactly the reference's update), kept in
 * the per-vehicle gap buffer with speeds and realized accelerations in theirs; positions are
 * integrated with the same trapezoid rule for drawing and export.
 */
import type { ScenarioId, ScenarioParams } from '../../shared/scenarios.ts';
import { approach, DIP } from './disturbances.ts';
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
/**
 * The collision rule: a collision when any platoon headway falls below `headway` m; from then on
 * every agent receives `reward` each step and the frozen episode ends at the next multiple of
 * `endPeriod` steps (the reference's behaviour). Exported with caccReward and caccAgentState so
 * that a learner's model can score a predicted state with the simulator's own rule.
 */
export const CACC_COLLISION = { headway: 1, reward: -1000, endPeriod: 60 } as const;
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

const headwayTerm = (h: number): number => -((h - H_STAR) ** 2);
const speedTerm = (v: number): number => -((v - V_STAR) ** 2);
const accelTerm = (u: number): number => -ACCEL_WEIGHT * u ** 2;
const safetyTerm = (h: number): number => -SAFETY_WEIGHT * Math.min(h - SAFETY_HEADWAY, 0) ** 2;

/**
 * One agent's reward in the state after a step without a collision: headway h, speed v and
 * realised acceleration u of that step; `withSafety`: the training reward's safety term (the
 * safetyCost parameter). The environment's own reward: stepCopy sums the same terms in this order.
 */
export function caccReward(h: number, v: number, u: number, withSafety: boolean): number {
  const raw = headwayTerm(h) + speedTerm(v) + accelTerm(u);
  return withSafety ? raw + safetyTerm(h) : raw;
}

/** Offsets of an agent's headway, speed, realised acceleration and leader speed difference v_lead - v in caccAgentState's output. */
export const CACC_STATE = { headway: 0, speed: 1, accel: 2, leadDifference: 3, size: 4 } as const;

/**
 * The inverse of writeObservations for one agent: its headway h, speed v, realised
 * acceleration u and leader speed difference v_lead - v (written to out[outAt + CACC_STATE.*])
 * from its observation obs[at..at+5). v and u are exact (up to rounding); v_lead - v is
 * feature 1, clipped at +-10 m/s, and h needs it to undo the predicted headway feature: both
 * exact while |v_lead - v| <= 10 m/s, beyond it h is off by (|v_lead - v| - 10) x DT m (0.1 m
 * per m/s of excess). Feature 2 (V(h) - v, clipped) is not needed.
 */
export function caccAgentState(obs: ArrayLike<number>, at: number, out: Float64Array, outAt: number): void {
  const v = obs[at] * V_STAR + V_STAR;
  const leadDifference = obs[at + 1] * 5;
  out[outAt + CACC_STATE.headway] = obs[at + 3] * H_STAR + H_STAR - leadDifference * DT;
  out[outAt + CACC_STATE.speed] = v;
  out[outAt + CACC_STATE.accel] = obs[at + 4] * U_MAX;
  out[outAt + CACC_STATE.leadDifference] = leadDifference;
}

const CACC_REWARD_TERMS = ['headway', 'speed', 'accel', 'collision', 'safety'] as const;
const N_TERMS = CACC_REWARD_TERMS.length;
const TERM_COLLISION = 3;
const TERM_SAFETY = 4;
const OBS_DIM = 5;

type CaccScenario = Extract<ScenarioId, 'cacc-catchup' | 'cacc-slowdown'>;

export class CaccEnv extends BatchedEnv {
  private readonly catchUp: boolean;
  /** Initial headway of the first vehicle (catch-up) or initial speed (slow-down); null: drawn per episode. */
  private readonly initialValue: number | null;
  private readonly safetyCost: boolean;
  /** Per copy: the leader's initial speed (slow-down) or 15 (catch-up). */
  private readonly leaderStart: Float64Array;
  /** V(h) of each agent's current headway, [E, n]: the command and the observation both use it. */
  private readonly optimal: Float64Array;

  constructor(scenario: CaccScenario, params: ScenarioParams<'cacc-catchup'> | ScenarioParams<'cacc-slowdown'>, numEnvs: number) {
    const n = PLATOON_SIZE;
    const spec: EnvSpec = {
      scenario,
      params,
      nAgents: n,
      nVehicles: n + 1,
      obsDim: OBS_DIM,
      obsNames: [
        'speed error (v-15)/15',
        'leader speed difference clip((v_lead-v)/5, -2, 2)',
        'optimal-velocity difference clip((V(h)-v)/5, -2, 2)',
        'predicted headway error (h+(v_lead-v)dt-20)/20',
        'realized acceleration u*/2.5',
      ],
      action: { kind: 'discrete', n: 4 },
      horizon: params.horizon,
      graph: AgentGraph.chain(n),
      agentVehicle: Int32Array.from({ length: n }, (_, i) => i + 1),
      vehicleKind: Uint8Array.from({ length: n + 1 }, (_, v) => (v === 0 ? VehicleKind.leader : VehicleKind.agent)),
      rewardTermNames: CACC_REWARD_TERMS,
      closedRoad: false,
      maxDecel: U_MAX,
    };
    super(spec, numEnvs);
    this.catchUp = scenario === 'cacc-catchup';
    this.initialValue = 'leadHeadway' in params ? params.leadHeadway : params.initialSpeed;
    this.safetyCost = params.safetyCost;
    this.leaderStart = new Float64Array(numEnvs);
    this.optimal = new Float64Array(numEnvs * n);
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
    let leadHeadway = H_STAR;
    let speed = V_STAR;
    if (this.catchUp) {
      leadHeadway = this.initialValue === null ? H_STAR * (1.5 + this.rng.uniform(e)) : this.initialValue;
    } else {
      speed = this.initialValue === null ? V_STAR * (1.5 + this.rng.uniform(e)) : this.initialValue;
    }
    this.leaderStart[e] = this.catchUp ? V_STAR : speed;
    const vo = e * (n + 1);
    this.speed[vo] = this.leaderSpeed(e, 0);
    this.gap[vo] = NaN;
    for (let i = 0; i < n; i++) {
      const k = vo + 1 + i;
      this.gap[k] = i === 0 ? leadHeadway : H_STAR;
      this.speed[k] = speed;
      this.optimal[e * n + i] = optimalVelocity(this.gap[k]);
    }
    // Positions: the tail starts at 0, each vehicle ahead one length plus its follower's headway further.
    let x = 0;
    for (let i = n - 1; i >= 0; i--) {
      this.position[vo + 1 + i] = x;
      x += VEHICLE_LENGTH + this.gap[vo + 1 + i];
    }
    this.position[vo] = x;
    this.writeObservations(e);
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const n = PLATOON_SIZE;
    const vo = e * (n + 1);
    const nextT = this.steps[e] + 1;
    const { gap, speed, accel, position, optimal } = this;

    if (this.collided[e] === 1) {
      // The reference freezes the state after a collision and keeps punishing every agent;
      // the actions given are still recorded.
      for (let i = 0; i < n; i++) {
        this.action[vo + 1 + i] = checkedAction(actions[a0 + i], i, this.spec.scenario);
        this.setCollisionReward(a0 + i);
      }
      return nextT % CACC_COLLISION.endPeriod === 0 || nextT >= this.spec.horizon;
    }

    // One pass in platoon order: agent i reads its predecessor's old and new speed.
    const { disturbances } = this;
    const { applied } = disturbances;
    const lead0 = speed[vo];
    const lead1 = this.nextLeaderSpeed(e, lead0, nextT);
    speed[vo] = lead1;
    accel[vo] = (lead1 - lead0) / DT;
    position[vo] += 0.5 * DT * (lead0 + lead1);
    let leadOld = lead0;
    let leadNew = lead1;
    let minHeadway = Infinity;
    for (let i = 0; i < n; i++) {
      const k = vo + 1 + i;
      const action = checkedAction(actions[a0 + i], i, this.spec.scenario);
      const vOld = speed[k];
      const command = ACTION_ALPHA[action] * (optimal[e * n + i] - vOld) + ACTION_BETA[action] * (leadOld - vOld);
      const vNew = applied[k] === 0 ? clip(vOld + clip(command, -U_MAX, U_MAX) * DT, 0, V_MAX) : Math.min(disturbances.nextSpeed(k, vOld), V_MAX);
      const h = gap[k] + 0.5 * DT * (leadOld + leadNew - vOld - vNew);
      speed[k] = vNew;
      accel[k] = (vNew - vOld) / DT;
      gap[k] = h;
      position[k] += 0.5 * DT * (vOld + vNew);
      optimal[e * n + i] = optimalVelocity(h);
      this.action[k] = action;
      if (h < minHeadway) minHeadway = h;
      leadOld = vOld;
      leadNew = vNew;
    }

    const collision = minHeadway < CACC_COLLISION.headway;
    if (collision) {
      this.collided[e] = 1;
      for (let i = 0; i < n; i++) this.setCollisionReward(a0 + i);
    } else {
      const withSafety = this.training && this.safetyCost;
      for (let i = 0; i < n; i++) {
        const k = vo + 1 + i;
        const a = a0 + i;
        const h = gap[k];
        // caccReward's terms, each computed once: the step records them one by one as well.
        const headway = headwayTerm(h);
        const speedError = speedTerm(speed[k]);
        const acceleration = accelTerm(accel[k]);
        const safety = safetyTerm(h);
        const terms = a * N_TERMS;
        this.rewardTerms[terms] = headway;
        this.rewardTerms[terms + 1] = speedError;
        this.rewardTerms[terms + 2] = acceleration;
        this.rewardTerms[terms + TERM_COLLISION] = 0;
        this.rewardTerms[terms + TERM_SAFETY] = safety;
        const raw = headway + speedError + acceleration;
        this.rawReward[a] = raw;
        this.reward[a] = withSafety ? raw + safety : raw;
      }
    }
    this.writeObservations(e);
    return collision && (nextT % CACC_COLLISION.endPeriod === 0 || nextT >= this.spec.horizon);
  }

  /**
   * The leader's speed in the state after nextT steps, from lead0 now: its profile v0, or what
   * a disturbance makes of it. Once a brake, hold or stop ends, the leader rejoins its profile
   * at up to U_MAX (a jump back would be no vehicle's motion); a dip ends on the profile.
   */
  private nextLeaderSpeed(e: number, lead0: number, nextT: number): number {
    const profile = this.leaderSpeed(e, nextT);
    const vo = e * (PLATOON_SIZE + 1);
    const code = this.disturbances.applied[vo];
    if (code === DIP) return Math.max(profile - this.disturbances.dipOffset(vo, nextT), 0);
    if (code !== 0) return this.disturbances.nextSpeed(vo, lead0);
    // Undisturbed the leader is always on its profile: the same value as ever, bit for bit.
    return lead0 === this.leaderSpeed(e, nextT - 1) ? profile : approach(lead0, profile, U_MAX * DT);
  }

  private setCollisionReward(a: number): void {
    this.rewardTerms.fill(0, a * N_TERMS, (a + 1) * N_TERMS);
    this.rewardTerms[a * N_TERMS + TERM_COLLISION] = CACC_COLLISION.reward;
    this.rawReward[a] = CACC_COLLISION.reward;
    this.reward[a] = CACC_COLLISION.reward;
  }

  /** Observations on the current state; v_lead of agent 0 is the leader's speed at the same time. */
  private writeObservations(e: number): void {
    const n = PLATOON_SIZE;
    const vo = e * (n + 1);
    const { gap, speed, accel, optimal, obs } = this;
    let w = e * n * OBS_DIM;
    for (let i = 0; i < n; i++) {
      const k = vo + 1 + i;
      const v = speed[k];
      const vLead = speed[k - 1];
      obs[w++] = (v - V_STAR) / V_STAR;
      obs[w++] = clip((vLead - v) / 5, -2, 2);
      obs[w++] = clip((optimal[e * n + i] - v) / 5, -2, 2);
      obs[w++] = (gap[k] + (vLead - v) * DT - H_STAR) / H_STAR;
      obs[w++] = accel[k] / U_MAX;
    }
  }
}

function checkedAction(k: number, agent: number, scenario: ScenarioId): number {
  if (k !== 0 && k !== 1 && k !== 2 && k !== 3) throw new Error(`${scenario}: action of agent ${agent} is ${k}; allowed: 0, 1, 2, 3`);
  return k;
}
