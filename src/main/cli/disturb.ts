/**
 * `headway simulate --disturb ...`: the text of a disturbance (sim/disturbances.ts), parsed
 * into one, and its string-stability readout (shared/stringStability.ts) as summary lines.
 *
 *     vehicle=I|leader=KIND, kind=brake|hold|stop|dip, at=T, for=T (length=T for a dip),
 *     accel=A (brake, m/s^2 < 0), speed=V (hold, m/s), depth=V (dip, m/s)
 *
 * Times: seconds with an `s` (at=50s; whole 0.1 s steps) or steps without a unit (at=500).
 * kind defaults to brake when accel is given. leader=dip (or another kind) disturbs CACC's
 * exogenous leader. This file checks the text (fields, numbers, units); the simulator checks
 * the values (vehicle range, signs, dips only on a leader), and its message is passed on.
 */
import { DISTURBANCE_KINDS, checkDisturbance, DisturbanceError, type Disturbance, type DisturbanceKind } from '../sim/disturbances.ts';
import { DT, VehicleKind, type BatchedEnv, type EnvSpec } from '../sim/env.ts';
import type { StringStabilityReadout } from '../../shared/stringStability.ts';
import { UsageError } from './errors.ts';

const FIELDS = ['vehicle', 'leader', 'kind', 'at', 'for', 'length', 'accel', 'speed', 'depth'] as const;
type Field = (typeof FIELDS)[number];
/** The field holding each kind's value (stop has none). */
const VALUE_FIELD: Record<DisturbanceKind, 'accel' | 'speed' | 'depth' | null> = { brake: 'accel', hold: 'speed', stop: null, dip: 'depth' };

const isField = (key: string): key is Field => (FIELDS as readonly string[]).includes(key);
const isKind = (text: string): text is DisturbanceKind => (DISTURBANCE_KINDS as readonly string[]).includes(text);

/** A time field as steps: seconds with `s`, or steps without a unit; at least `min` steps. */
function parseSteps(field: string, raw: string, min: number): number {
  const match = /^(-?\d+(?:\.\d+)?)(s?)$/.exec(raw);
  const allowed = `expected ${min === 0 ? 'a time >= 0' : 'a duration > 0'}: seconds with s (e.g. ${field}=2s) or whole steps without a unit (e.g. ${field}=20)`;
  if (!match) throw new Error(`${field}=${raw} is not allowed; ${allowed}`);
  const number = Number(match[1]);
  const inSeconds = match[2] === 's';
  const steps = inSeconds ? Math.round(number / DT) : number;
  if (inSeconds ? Math.abs(steps * DT - number) > 1e-9 : !Number.isSafeInteger(steps)) {
    throw new Error(`${field}=${raw} is not allowed; expected ${inSeconds ? `a whole number of ${DT} s steps` : 'whole steps (or seconds with s)'}`);
  }
  if (steps < min) throw new Error(`${field}=${raw} is not allowed; ${allowed}`);
  return steps;
}

function parseNumber(field: string, raw: string): number {
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (Number.isNaN(value)) throw new Error(`${field}=${raw} is not allowed; expected a number`);
  return value;
}

/** One --disturb text as a disturbance of this scenario, in an episode of `steps` steps. */
function parseOne(text: string, spec: EnvSpec, steps: number): Disturbance {
  const fields = new Map<Field, string>();
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    const key = at > 0 ? part.slice(0, at).trim() : '';
    if (key === '') throw new Error(`"${part}" is not KEY=VALUE; expected e.g. vehicle=3,at=50s,accel=-4,for=2s`);
    if (!isField(key)) throw new Error(`unknown field "${key}"; expected ${FIELDS.join(', ')}`);
    if (fields.has(key)) throw new Error(`${key} is given twice`);
    fields.set(key, part.slice(at + 1).trim());
  }
  const leaderKind = fields.get('leader');
  if (leaderKind !== undefined && (fields.has('vehicle') || fields.has('kind'))) throw new Error('leader=KIND names the vehicle and the kind; give it without vehicle= and kind=');
  const kindText = leaderKind ?? fields.get('kind') ?? (fields.has('accel') ? 'brake' : undefined);
  if (kindText === undefined) throw new Error(`kind is missing; expected kind=${DISTURBANCE_KINDS.join('|')} (or accel=A for a brake)`);
  if (!isKind(kindText)) throw new Error(`${leaderKind === undefined ? 'kind' : 'leader'}=${kindText} is not allowed; expected one of ${DISTURBANCE_KINDS.join(', ')}`);

  let vehicle: number;
  if (leaderKind !== undefined) {
    vehicle = spec.vehicleKind.indexOf(VehicleKind.leader);
    if (vehicle < 0) throw new Error(`leader=${leaderKind} is not allowed; ${spec.scenario} has no exogenous leader (the cacc-* scenarios have); name a vehicle with vehicle=I`);
  } else {
    const raw = fields.get('vehicle');
    if (raw === undefined) throw new Error('vehicle is missing; expected vehicle=I (or leader=KIND)');
    if (!/^-?\d+$/.test(raw)) throw new Error(`vehicle=${raw} is not allowed; expected a vehicle index (a whole number)`);
    vehicle = Number(raw);
  }

  const rawAt = fields.get('at');
  if (rawAt === undefined) throw new Error('at is missing; expected the start, e.g. at=50s');
  const start = parseSteps('at', rawAt, 0);
  if (start >= steps) throw new Error(`at=${rawAt} is not allowed; expected a start before the episode's end (${steps} steps, ${(steps * DT).toFixed(1)} s)`);
  if (fields.has('for') && fields.has('length')) throw new Error('for and length are the same field; give one');
  const durationField = fields.has('length') ? 'length' : 'for';
  const rawDuration = fields.get(durationField);
  if (rawDuration === undefined) throw new Error('for is missing; expected the duration, e.g. for=2s');
  const duration = parseSteps(durationField, rawDuration, 1);

  const valueField = VALUE_FIELD[kindText];
  for (const field of ['accel', 'speed', 'depth'] as const) {
    if (field !== valueField && fields.has(field)) {
      throw new Error(`${field} is not a field of kind=${kindText}; ${kindText} takes ${valueField ?? 'no value'}`);
    }
  }
  const rawValue = valueField === null ? undefined : fields.get(valueField);
  if (valueField !== null && rawValue === undefined) throw new Error(`${valueField} is missing; kind=${kindText} needs ${valueField}=V`);
  const value = rawValue === undefined ? 0 : parseNumber(valueField!, rawValue);
  const timing = { vehicle, start, duration };
  const disturbance: Disturbance =
    kindText === 'brake'
      ? { ...timing, kind: kindText, accel: value }
      : kindText === 'hold'
        ? { ...timing, kind: kindText, speed: value }
        : kindText === 'dip'
          ? { ...timing, kind: kindText, depth: value }
          : { ...timing, kind: kindText };
  checkDisturbance(disturbance, spec);
  return disturbance;
}

/** Schedules every --disturb text on the environment, for an episode of `steps` steps; each error names the text it is about. */
export function applyDisturbances(texts: readonly string[], env: BatchedEnv, steps: number): Disturbance[] {
  // Routing moves vehicle mass over links, mabc and demand-response have no road: nothing to brake or hold.
  if (texts.length > 0 && env.spec.nVehicles === 0) throw new UsageError(`--disturb: ${env.spec.scenario} has no vehicles to disturb`);
  const list = texts.map((text) => {
    try {
      return parseOne(text, env.spec, steps);
    } catch (error) {
      throw new UsageError(`--disturb ${JSON.stringify(text)}: ${(error as Error).message}`);
    }
  });
  try {
    env.disturbances.set(list);
  } catch (error) {
    // What only the whole schedule can show (two on one vehicle at once).
    if (error instanceof DisturbanceError) throw new UsageError(`--disturb: ${error.message}`);
    throw error;
  }
  return list;
}

const seconds = (steps: number): string => `${(steps * DT).toFixed(1)} s`;
const fixed = (x: number, width: number): string => (Number.isNaN(x) ? '-' : x.toFixed(3)).padStart(width);

/** Human-readable lines of one disturbance's readout. */
export function describeReadout(d: Disturbance, r: StringStabilityReadout): string[] {
  const lines = [
    `string stability: ${d.kind} on vehicle ${d.vehicle} at ${seconds(d.start)} for ${seconds(d.duration)} (reference: means over ${seconds(r.reference.from)} to ${seconds(r.reference.to)})`,
    '  vehicle  ref speed  peak |dv|  peak |dgap|  ratio',
  ];
  r.vehicles.forEach((v, i) =>
    lines.push(`  ${String(v.vehicle).padStart(7)}  ${fixed(v.referenceSpeed, 9)}  ${fixed(v.peakSpeedDeviation, 9)}  ${fixed(v.peakGapDeviation, 11)}  ${i === 0 ? '(disturbed)' : fixed(v.amplification, 5)}`),
  );
  const recovery = r.recoveryTime === null ? `not recovered within ${r.tolerance} m/s by the end` : `recovered within ${r.tolerance} m/s after ${r.recoveryTime.toFixed(1)} s`;
  lines.push(`  tail/head ${fixed(r.tailToHead, 0)}, largest ratio ${fixed(r.maxAmplification, 0)}: ${r.verdict}; ${recovery}`);
  return lines;
}
