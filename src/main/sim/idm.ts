/**
 * Car-following pieces shared by the ring and the figure eight (shared/specs/scenarios.md
 * sections 2 and 3): Flow's IDM human driver, the safe-speed cap that stood in for SUMO's
 * "obey safe speed" mode, the speed updates built on them, and the gap on a closed road.
 *
 * Small pure functions over numbers, so V8 inlines them into the environments' step loops
 * (no objects, no allocation). Gaps are bumper to bumper; a stopped obstacle is a leader
 * with speed 0.
 */
import { DT, VEHICLE_LENGTH } from './env.ts';

// Flow's IDMController as the reference configured it (delta = 4 is written as two squarings).
const HUMAN_V0 = 30;
const HUMAN_T = 1;
const HUMAN_A = 1;
const HUMAN_S0 = 2;
/**
 * 1 / (2*sqrt(a*b)) and 1 / v0, here and below: multiplying by these instead of dividing
 * keeps divisions off each speed's dependency chain (measured 5-20% of a step); results
 * differ from the written formula in the last bit at most.
 */
const HUMAN_INV_TWO_SQRT_AB = 1 / (2 * Math.sqrt(1 * 1.5));
const HUMAN_INV_V0 = 1 / HUMAN_V0;
/** Flow floors the gap so that s* / gap stays finite. */
const HUMAN_MIN_GAP = 1e-3;

// The SUMO-like IDM whose next speed is the safe-speed cap.
const SAFE_V0 = 30;
const SAFE_T = 1;
const SAFE_ACCEL = 2.6;
/** The SUMO vehicle type's deceleration (m/s^2): the hardest the ring's and figure eight's vehicles brake. */
export const SAFE_DECEL = 4.5;
const SAFE_MIN_GAP = 2.5;
const SAFE_INV_TWO_SQRT_AB = 1 / (2 * Math.sqrt(SAFE_ACCEL * SAFE_DECEL));
const SAFE_INV_V0 = 1 / SAFE_V0;

/**
 * max(x, 0) for finite x without a branch, and exact: x + |x| is 2x or 0. The IDM's
 * max(0, ...) terms flip sign unpredictably in traffic; a mispredicted branch costs more.
 */
function positivePart(x: number): number {
  return 0.5 * (x + Math.abs(x));
}

/**
 * Flow's IDM acceleration (m/s^2, without noise) of a human at speed v behind a leader at
 * speed vLead, `gap` metres ahead (floored at 1e-3):
 * a*(1 - (v/v0)^4 - (s* / gap)^2), s* = s0 + max(0, v*T + v*(v - vLead)/(2*sqrt(a*b))).
 */
export function humanAccel(v: number, vLead: number, gap: number): number {
  const g = gap > HUMAN_MIN_GAP ? gap : HUMAN_MIN_GAP;
  const dynamic = v * HUMAN_T + v * (v - vLead) * HUMAN_INV_TWO_SQRT_AB;
  const q = (HUMAN_S0 + positivePart(dynamic)) / g;
  const r = v * HUMAN_INV_V0;
  const r2 = r * r;
  return HUMAN_A * (1 - r2 * r2 - q * q);
}

/**
 * The safe-speed cap v_safe: the next speed of an IDM with accel 2.6, decel 4.5, T 1 s,
 * minGap 2.5 m and v0 30, never below 0. A gap of 0 or less gives 0 (s* / gap is then
 * infinite or its square at least (2.5/|gap|)^2), so a capped vehicle stops at a touching
 * or overlapping leader.
 */
function safeSpeed(v: number, vLead: number, gap: number): number {
  const dynamic = v * SAFE_T + v * (v - vLead) * SAFE_INV_TWO_SQRT_AB;
  const q = (SAFE_MIN_GAP + positivePart(dynamic)) / gap;
  const r = v * SAFE_INV_V0;
  const r2 = r * r;
  // A branch, not positivePart: at gap 0 the sum is -Infinity, and -Infinity + Infinity is NaN.
  const next = v + DT * SAFE_ACCEL * (1 - r2 * r2 - q * q);
  return next > 0 ? next : 0;
}

/** A human's next speed: v' = max(v + (IDM + noise)*dt, 0); `noise` is the already scaled draw sqrt(dt)*N(0, sigma). */
export function nextHumanSpeed(v: number, vLead: number, gap: number, noise: number): number {
  return positivePart(v + (humanAccel(v, vLead, gap) + noise) * DT);
}

/** A controlled vehicle's next speed under the (already clipped) acceleration a: max(v + a*dt, 0), then min with v_safe when capped. */
export function nextControlledSpeed(v: number, a: number, vLead: number, gap: number, capped: boolean): number {
  return capSpeed(positivePart(v + a * DT), v, vLead, gap, capped);
}

/** `next`, the speed a vehicle now at v would take, bounded by v_safe when capped. */
export function capSpeed(next: number, v: number, vLead: number, gap: number, capped: boolean): number {
  if (!capped) return next;
  const cap = safeSpeed(v, vLead, gap);
  return cap < next ? cap : next;
}

/**
 * New bumper gap of a follower at xNew behind its leader at xLeadNew on a loop of length
 * `length` (both positions wrapped into [0, length)). The front-to-front distance is taken
 * modulo the length on the branch nearest to the previous gap advanced by the two speeds,
 * so a follower that drove through its leader (a collision) reads as a negative gap
 * instead of nearly a lap ahead.
 */
export function loopGap(xLeadNew: number, xNew: number, previousGap: number, vLeadNew: number, vNew: number, length: number): number {
  let d = xLeadNew - xNew;
  const expected = previousGap + VEHICLE_LENGTH + (vLeadNew - vNew) * DT;
  if (d - expected > 0.5 * length) d -= length;
  else if (expected - d > 0.5 * length) d += length;
  return d - VEHICLE_LENGTH;
}
