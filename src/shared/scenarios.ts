/**
 * Scenario catalogue shared by every side (simulator, CLI, app forms): ids, the documented
 * parameters of each scenario with their defaults and ranges, and the presets.
 *
 * Defaults are the DMPO-paper setting (see shared/specs/scenarios.md; the DADC paper's appendix D
 * for mabc and demand-response). A preset only changes
 * parameter defaults; a parameter given explicitly always wins over its preset.
 */

export const SCENARIO_IDS = ['cacc-catchup', 'cacc-slowdown', 'ring', 'figure-eight', 'network-routing', 'mabc', 'demand-response'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** Scenarios without vehicles on a road (the DADC paper's): their trajectories are tables; the app draws them as schematics (src/shared/scene.ts). */
export const TABULAR_SCENARIO_IDS = ['mabc', 'demand-response'] as const satisfies readonly ScenarioId[];
/** The scenarios with vehicles on roads (a road network too): the golden learner tests run on these. */
export const ROAD_SCENARIO_IDS = SCENARIO_IDS.filter((id) => !(TABULAR_SCENARIO_IDS as readonly string[]).includes(id));

export type ParamValue = number | boolean | string | null;

/** The road networks built into network-routing (src/main/sim/network/builtin.ts); its `network` parameter also takes a TNTP file. */
export const BUILTIN_NETWORKS = ['braess', 'grid-3x3', 'grid-5x5'] as const;

interface ParamBase {
  name: string;
  doc: string;
}
export interface NumberParamSpec extends ParamBase {
  kind: 'number' | 'integer';
  default: number | null;
  /** Inclusive bounds. */
  min: number;
  max: number;
  /** When true the value may be null, meaning "drawn at random each reset" (documented in doc). */
  nullable?: boolean;
}
export interface BooleanParamSpec extends ParamBase {
  kind: 'boolean';
  default: boolean;
}
export interface EnumParamSpec extends ParamBase {
  kind: 'enum';
  default: string;
  values: readonly string[];
}
/** Free text, e.g. a file path or a name (network-routing's `network`). */
export interface TextParamSpec extends ParamBase {
  kind: 'text';
  default: string;
  /** Values the forms offer to pick (any other text is allowed too). */
  suggestions?: readonly string[];
}
export type ParamSpec = NumberParamSpec | BooleanParamSpec | EnumParamSpec | TextParamSpec;

export interface ScenarioInfo {
  id: ScenarioId;
  title: string;
  summary: string;
  params: readonly ParamSpec[];
  /** Preset name -> parameter defaults it changes. The traffic scenarios' default preset is 'dmpo'; the DADC paper's environments have the one preset 'paper'. */
  presets: Readonly<Record<string, Readonly<Record<string, ParamValue>>>>;
}

/** One parameter of the catalogue, without its name (its key in the scenario's table). */
type Field = Omit<NumberParamSpec, 'name'> | Omit<BooleanParamSpec, 'name'> | Omit<EnumParamSpec, 'name'> | Omit<TextParamSpec, 'name'>;

const number = <const F extends Omit<NumberParamSpec, 'name' | 'kind'>>(field: F) => ({ kind: 'number', ...field }) as const;
const integer = <const F extends Omit<NumberParamSpec, 'name' | 'kind'>>(field: F) => ({ kind: 'integer', ...field }) as const;
const flag = (value: boolean, doc: string) => ({ kind: 'boolean', default: value, doc }) as const;

const horizon = (steps: number) => integer({ default: steps, min: 1, max: 1_000_000, doc: `Episode length in control steps of 0.1 s (default ${steps}).` });

const probability = (value: number, doc: string) => number({ default: value, min: 0, max: 1, doc });

/** The DADC paper's environments are infinite-horizon with discount 0.9: 100 steps leave 0.9^100 < 3e-5 of the value out. */
const DADC_HORIZON = integer({ default: 100, min: 1, max: 1_000_000, doc: 'Episode length in steps (default 100: 0.9^100 < 3e-5, so the infinite-horizon discounted value is reached).' });
const DISCOUNT = number({ default: 0.9, min: 0, max: 0.999, doc: 'Discount of the discounted return reported beside the plain return, and of the planner (the paper: 0.9).' });

const WARMUP = integer({
  default: 0,
  min: 0,
  max: 100_000,
  doc: 'Steps every vehicle drives under the human model after reset, before agents act (not counted in the horizon).',
});

const NOISE = number({ default: 0.2, min: 0, max: 5, doc: 'Standard deviation of the human acceleration noise (m/s^2), applied as sqrt(dt)*N(0, noise).' });

const PRESET = {
  kind: 'enum',
  default: 'dmpo',
  values: ['dmpo', 'flow-1av', 'uncontrolled'],
  doc:
    'dmpo: every vehicle is a learning agent (the DMPO paper). flow-1av: one controlled vehicle among humans, ' +
    "Flow's single-agent benchmark. uncontrolled: humans only, the baseline.",
} as const;

const SAFETY_COST = flag(true, 'Adds the training-only headway penalty 5*min(h-10,0)^2 to the learning reward. Metrics never include it.');

/**
 * Every scenario's parameters, each declared once (kind, default, range, doc), in the order
 * forms show them. The parameter types below are derived from this table.
 */
const SCENARIO_FIELDS = {
  'cacc-catchup': {
    leadHeadway: number({
      default: null,
      nullable: true,
      min: 1,
      max: 1000,
      doc: 'Initial headway of the first platoon vehicle in m. Unset: 20*(1.5+U), U~Uniform[0,1) per episode.',
    }),
    safetyCost: SAFETY_COST,
    horizon: horizon(600),
  },
  'cacc-slowdown': {
    initialSpeed: number({
      default: null,
      nullable: true,
      min: 0,
      max: 100,
      doc: 'Initial speed of every vehicle and of the leader in m/s. Unset: 15*(1.5+U), U~Uniform[0,1) per episode.',
    }),
    safetyCost: SAFETY_COST,
    horizon: horizon(600),
  },
  ring: {
    preset: PRESET,
    length: number({
      default: null,
      nullable: true,
      min: 50,
      max: 50_000,
      doc: 'Ring length in m. Unset: an integer drawn uniformly from [220, 270] at every reset.',
    }),
    vehicles: integer({ default: 22, min: 2, max: 2000, doc: 'Number of vehicles on the ring.' }),
    warmup: WARMUP,
    safetyCap: flag(true, "Caps controlled vehicles at the IDM safe speed (SUMO's speed mode). Off: a negative gap is a collision that ends the episode."),
    noise: NOISE,
    horizon: horizon(3000),
  },
  'figure-eight': {
    preset: PRESET,
    warmup: WARMUP,
    safetyCap: flag(true, 'Caps controlled vehicles at the IDM safe speed, crossing traffic included.'),
    collisionPenalty: number({
      default: 0,
      min: -1e6,
      max: 0,
      doc: 'Reward every agent gets on the step two vehicles meet inside the crossing (the reference used 0).',
    }),
    noise: NOISE,
    horizon: horizon(1500),
  },
  'network-routing': {
    network: {
      kind: 'text',
      default: 'braess',
      suggestions: BUILTIN_NETWORKS,
      doc: 'Road network: braess, grid-3x3, grid-5x5, or the path of a TNTP file NAME_net.tntp (NAME_trips.tntp beside it; NAME_node.tntp optional).',
    },
    policy: {
      kind: 'enum',
      default: 'agents',
      values: ['agents', 'shortest-path', 'ue', 'so'],
      doc:
        'agents: the learning agents split the mass. Baselines without agents: shortest-path (free-flow least-time routes), ' +
        'ue and so (the split ratios of the user-equilibrium and system-optimum assignments).',
    },
    stepHours: number({ default: 0.01, min: 1e-6, max: 1, doc: 'Hours of demand each step emits (q_od x stepHours per OD pair); a step cost is vehicle-hours.' }),
    horizon: integer({
      default: null,
      nullable: true,
      min: 1,
      max: 1_000_000,
      doc: 'Episode length in steps (hops). Unset: 8 times the most hops of a free-flow least-time route, at least 20.',
    }),
  },
  mabc: {
    arrival1: probability(0.3, 'Packet arrival probability p1 of device 1 per step (Bernoulli).'),
    arrival2: probability(0.6, 'Packet arrival probability p2 of device 2 per step (Bernoulli).'),
    stayIdle: probability(0.75, 'alpha0: probability that an idle channel stays idle.'),
    stayBusy: probability(0.75, 'alpha1: probability that a busy channel stays busy.'),
    transmitCost: number({ default: 0.4, min: 0, max: 100, doc: 'kappa: cost of each transmission attempt.' }),
    successReward: number({ default: 1, min: 0, max: 100, doc: 'r: reward of a packet delivered (one device transmits a packet on an idle channel).' }),
    discount: DISCOUNT,
    horizon: DADC_HORIZON,
  },
  'demand-response': {
    agents: integer({ default: 100, min: 1, max: 1000, doc: 'Number n of ON/OFF loads (the paper: 100).' }),
    forceOffSlip: probability(0.2, 'epsilon1: probability that a forced OFF follows the natural dynamics D instead.'),
    forceOnSlip: probability(0.2, 'epsilon2: probability that a forced ON follows the natural dynamics D instead.'),
    costOff: number({ default: 0.1, min: 0, max: 100, doc: 'c0: cost of forcing a device OFF.' }),
    costOn: number({ default: 0.2, min: 0, max: 100, doc: 'c1: cost of forcing a device ON.' }),
    targetOn: number({ default: 0.3, min: 0.001, max: 0.999, doc: 'zeta(ON): target share of devices ON (zeta = [1 - targetOn, targetOn]).' }),
    initialOn: probability(2 / 3, 'P0(ON): probability that a device starts ON.'),
    discount: DISCOUNT,
    horizon: DADC_HORIZON,
  },
} as const satisfies Record<ScenarioId, Record<string, Field>>;

type Fields = typeof SCENARIO_FIELDS;
type FieldValue<F> = F extends { kind: 'boolean' }
  ? boolean
  : F extends { kind: 'text' }
    ? string
  : F extends { kind: 'enum'; values: readonly (infer V)[] }
    ? V
    : F extends { nullable: true }
      ? number | null
      : number;

/** The resolved parameters of scenario S (resolveParams), typed: what its simulator reads (for a union of scenarios, one of theirs). */
export type ScenarioParams<S extends ScenarioId> = S extends ScenarioId ? { readonly [K in keyof Fields[S]]: FieldValue<Fields[S][K]> } : never;

function paramSpecs(fields: Readonly<Record<string, Field>>): ParamSpec[] {
  return Object.entries(fields).map(([name, field]) => ({ name, ...field }) as ParamSpec);
}

export const SCENARIOS: Readonly<Record<ScenarioId, ScenarioInfo>> = {
  'cacc-catchup': {
    id: 'cacc-catchup',
    title: 'CACC catch-up',
    summary: 'An 8-vehicle platoon whose first vehicle starts far behind the leader and must close the gap.',
    params: paramSpecs(SCENARIO_FIELDS['cacc-catchup']),
    presets: { dmpo: {} },
  },
  'cacc-slowdown': {
    id: 'cacc-slowdown',
    title: 'CACC slow-down',
    summary: 'An 8-vehicle platoon driving too fast behind a leader that slows to 15 m/s over 30 s.',
    params: paramSpecs(SCENARIO_FIELDS['cacc-slowdown']),
    presets: { dmpo: {} },
  },
  ring: {
    id: 'ring',
    title: 'Ring attenuation',
    summary: '22 vehicles on a single-lane ring where human drivers form stop-and-go waves.',
    params: paramSpecs(SCENARIO_FIELDS.ring),
    presets: { dmpo: {}, 'flow-1av': { warmup: 750 }, uncontrolled: {} },
  },
  'figure-eight': {
    id: 'figure-eight',
    title: 'Figure eight',
    summary: '14 vehicles on two loops joined through one unsignalised crossing.',
    params: paramSpecs(SCENARIO_FIELDS['figure-eight']),
    presets: { dmpo: {}, 'flow-1av': {}, uncontrolled: {} },
  },
  'network-routing': {
    id: 'network-routing',
    title: 'Network routing',
    summary: 'Vehicle mass routed hop by hop over a road network with BPR link costs; each node is a team choosing split ratios.',
    params: paramSpecs(SCENARIO_FIELDS['network-routing']),
    presets: { dmpo: {} },
  },
  mabc: {
    id: 'mabc',
    title: 'Multi-access broadcast',
    summary: 'Two devices share a Markov ON/OFF channel; a packet gets through when exactly one transmits on an idle channel (the DADC paper).',
    params: paramSpecs(SCENARIO_FIELDS.mabc),
    presets: { paper: {} },
  },
  'demand-response': {
    id: 'demand-response',
    title: 'Demand response',
    summary: '100 ON/OFF loads steered toward a target share ON, each seeing its own state and the number ON (the DADC paper).',
    params: paramSpecs(SCENARIO_FIELDS['demand-response']),
    presets: { paper: {} },
  },
};

export function isScenarioId(id: string): id is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(id);
}

/** A parameter problem, phrased for the user: field, value given, what is allowed. */
export class ParamError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

/** Resolved parameters of any scenario, as stored and sent (resolveParams types them per scenario). */
export type ResolvedParams = Readonly<Record<string, ParamValue>>;

function describeAllowed(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'text':
      return 'non-empty text';
    default: {
      const what = spec.kind === 'integer' ? 'an integer' : 'a number';
      return `${what} from ${spec.min} to ${spec.max}${spec.nullable ? ' (or unset for random)' : ''}`;
    }
  }
}

/**
 * Parses one value given as text (CLI, URL) or as JSON (app forms) against its spec.
 * `context` starts the error message, e.g. "scenario ring: parameter".
 */
export function coerceParam(context: string, spec: ParamSpec, raw: unknown): ParamValue {
  const fail = (): never => {
    throw new ParamError(spec.name, `${context} ${spec.name}=${JSON.stringify(raw)} is not allowed; expected ${describeAllowed(spec)}`);
  };
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'on') return true;
      if (raw === 'false' || raw === '0' || raw === 'off') return false;
      return fail();
    case 'enum':
      if (typeof raw === 'string' && spec.values.includes(raw)) return raw;
      return fail();
    case 'text':
      if (typeof raw === 'string' && raw.trim() !== '') return raw.trim();
      return fail();
    default: {
      if (spec.nullable && (raw === null || raw === 'null' || raw === 'random' || raw === '')) return null;
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value) || value < spec.min || value > spec.max) return fail();
      if (spec.kind === 'integer' && !Number.isInteger(value)) return fail();
      return value;
    }
  }
}

/**
 * Resolves user-given parameters (text or JSON values) to a complete parameter set:
 * spec defaults, then the preset's defaults, then the given values. Unknown names and
 * out-of-range values throw ParamError naming the field and what is allowed.
 */
export function resolveParams<S extends ScenarioId>(scenario: S, given: Readonly<Record<string, unknown>> = {}): ScenarioParams<S> {
  const info = SCENARIOS[scenario];
  const byName = new Map(info.params.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      throw new ParamError(
        name,
        `scenario ${scenario} has no parameter '${name}'; its parameters are ${[...byName.keys()].join(', ')}`,
      );
    }
  }
  const resolved: Record<string, ParamValue> = {};
  for (const spec of info.params) resolved[spec.name] = spec.default;
  const presetSpec = byName.get('preset');
  if (presetSpec && given.preset !== undefined) resolved.preset = coerceParam(`scenario ${scenario}: parameter`, presetSpec, given.preset);
  Object.assign(resolved, info.presets[String(resolved.preset ?? 'dmpo')] ?? {});
  for (const [name, raw] of Object.entries(given)) {
    resolved[name] = coerceParam(`scenario ${scenario}: parameter`, byName.get(name)!, raw);
  }
  // Every parameter of the scenario is set above, each checked against its spec.
  return resolved as ScenarioParams<S>;
}

/**
 * Observation fields in physical units. Every scenario scales its observation for the
 * networks (its obsNames say how: "speed/30", "(v-15)/15", "position/length"); inspectors
 * show both the policy's input and the quantity it stands for. The scale is what the
 * field was divided by (roadLength: the loop length of the episode).
 */
export interface ObservationUnit {
  /** What the field measures once unscaled. */
  quantity: string;
  unit: string;
  scale: number | 'roadLength';
}

const OBSERVATION_UNITS: Readonly<Record<string, ObservationUnit>> = {
  'speed/30': { quantity: 'speed', unit: 'm/s', scale: 30 },
  'position/length': { quantity: 'position along the loop', unit: 'm', scale: 'roadLength' },
  'speed/15': { quantity: 'speed', unit: 'm/s', scale: 15 },
  '(leadSpeed-speed)/15': { quantity: 'leader speed − speed', unit: 'm/s', scale: 15 },
  'gap/270': { quantity: 'gap', unit: 'm', scale: 270 },
  'speed error (v-15)/15': { quantity: 'v − 15', unit: 'm/s', scale: 15 },
  'leader speed difference clip((v_lead-v)/5, -2, 2)': { quantity: 'v_lead − v (clipped)', unit: 'm/s', scale: 5 },
  'optimal-velocity difference clip((V(h)-v)/5, -2, 2)': { quantity: 'V(h) − v (clipped)', unit: 'm/s', scale: 5 },
  'predicted headway error (h+(v_lead-v)dt-20)/20': { quantity: 'predicted headway − 20', unit: 'm', scale: 20 },
  'realized acceleration u*/2.5': { quantity: 'acceleration', unit: 'm/s²', scale: 2.5 },
  // network-routing's fields are ratios already (their scales differ per node and class).
  'class mass at node / class demand per step': { quantity: 'mass waiting / demand per step', unit: 'ratio', scale: 1 },
  'link volume/capacity': { quantity: 'volume/capacity', unit: 'ratio', scale: 1 },
  'link time / class trip time scale': { quantity: 'link time / longest free-flow trip of the class', unit: 'ratio', scale: 1 },
  'route free-flow time via link / class trip time scale': { quantity: 'free-flow time to the destination via the link / longest free-flow trip of the class', unit: 'ratio', scale: 1 },
  'own buffer B^j': { quantity: 'packets in own buffer', unit: 'packets', scale: 1 },
  'previous action A^1': { quantity: 'device 1 transmitted last step', unit: '0/1', scale: 1 },
  'previous action A^2': { quantity: 'device 2 transmitted last step', unit: '0/1', scale: 1 },
  'channel seen (either transmitted)': { quantity: 'channel state shared', unit: '0/1', scale: 1 },
  'previous channel busy S (0 when unseen)': { quantity: 'channel busy last step', unit: '0/1', scale: 1 },
  'own state (1 ON)': { quantity: 'load ON', unit: '0/1', scale: 1 },
  'share of loads ON': { quantity: 'loads ON', unit: '%', scale: 100 },
};

/** The physical meaning of an observation field (figure-eight's flow-1av numbers its fields: speed3/30). */
export function observationUnit(name: string): ObservationUnit | null {
  return OBSERVATION_UNITS[name.replace(/^(speed|position)\d+\//, '$1/')] ?? null;
}

/** An observation value in physical units, or null when its field has none (or the loop length is unknown). */
export function physicalObservation(name: string, value: number, roadLength: number | null): number | null {
  const unit = observationUnit(name);
  if (!unit) return null;
  const scale = unit.scale === 'roadLength' ? roadLength : unit.scale;
  return scale === null ? null : value * scale;
}

/** One agent's observation for an inspector: each field's policy input and its physical value. */
export interface ObservationField {
  name: string;
  value: number;
  /** The quantity in physical units; null when the field has none. */
  physical: { value: number; unit: string; quantity: string } | null;
}

export function observationFields(names: readonly string[], values: ArrayLike<number>, offset: number, roadLength: number | null): ObservationField[] {
  return names.map((name, k) => {
    const value = values[offset + k];
    const unit = observationUnit(name);
    const physical = physicalObservation(name, value, roadLength);
    return { name, value, physical: unit && physical !== null ? { value: physical, unit: unit.unit, quantity: unit.quantity } : null };
  });
}
