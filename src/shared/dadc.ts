/**
 * DADC's configuration (the DADC paper; rl/learners/dadc): every setting declared once with
 * its kind, default, range and doc, the presets per scenario, and one validation for the CLI,
 * benchmarks and tests. The config type is derived from the table.
 *
 * Presets:
 * - `paper`: the paper's appendix E where it gives a value (actor-critic; AIS of 5; Adam 0.08
 *   for the approximator and 0.01 for the critic and the actor; batch 300 for multi-access
 *   broadcast, 200 for demand response; gamma 0.9); the rest as `default`.
 * - `default`: Headway's own, measured on mabc (docs/dadc.md): four copies per batch, the
 *   timescales separated (0.05 > 0.03 > 0.02), Monte-Carlo advantages (GAE lambda 1: with
 *   lambda 0.95 and slower actors the coordinator settled near "never transmit").
 */
import { coerceParam, ParamError, type ParamSpec, type ParamValue, type ScenarioId } from './scenarios.ts';

type Field =
  | { readonly kind: 'number' | 'integer'; readonly default: number; readonly min: number; readonly max: number; readonly doc: string }
  | { readonly kind: 'enum'; readonly default: string; readonly values: readonly string[]; readonly doc: string }
  | { readonly kind: 'boolean'; readonly default: boolean; readonly doc: string };

const num = (value: number, min: number, max: number, doc: string) => ({ kind: 'number', default: value, min, max, doc }) as const;
const int = (value: number, min: number, max: number, doc: string) => ({ kind: 'integer', default: value, min, max, doc }) as const;

const DADC_FIELDS = {
  framework: { kind: 'enum', default: 'actor-critic', values: ['actor-critic', 'ppo'], doc: 'The actor-critic framework of the coordinator: the policy gradient, or PPO’s clipped surrogate.' },
  numEnvs: int(4, 1, 1024, 'Environment copies stepped together.'),
  rolloutSteps: int(100, 2, 1_000_000, 'Steps per copy per iteration (the paper’s batch: 300 for mabc, 200 for demand-response, one copy).'),
  gamma: num(0.9, 0, 0.999, 'Discount factor (the paper: 0.9).'),
  aisSize: int(5, 1, 256, 'Size H of the approximate information state (the paper: 5).'),
  aisLambda: num(0.5, 0, 1, 'lambda of the AIS loss lambda * smoothL1(reward) + (1 - lambda) * NLL(next AIS).'),
  lrApproximator: num(0.05, 1e-7, 1, 'Adam learning rate a of the AIS approximator (fastest timescale).'),
  lrCritic: num(0.03, 1e-7, 1, 'Adam learning rate b of the critic (b <= a).'),
  lrActor: num(0.02, 1e-7, 1, 'Adam learning rate c of the coordinator actor (c <= b: slowest).'),
  approximatorSteps: int(5, 1, 10_000, 'Approximator gradient steps per iteration.'),
  criticSteps: int(10, 1, 10_000, 'Critic gradient steps per iteration (targets fixed for the iteration).'),
  actorSteps: int(5, 1, 10_000, 'Actor gradient steps per iteration.'),
  clipEpsilon: num(0.2, 0, 10, 'PPO clip range (framework ppo).'),
  gaeLambda: num(1, 0, 1, 'GAE lambda of the actor’s advantages over the critic’s TD errors (0: one-step).'),
  initialLogStd: num(-0.5, -10, 5, 'Initial log std of the coordinator’s Gaussian over the prescription parameters.'),
  sharePrescription: { kind: 'boolean', default: false, doc: 'One prescription for every agent (exchangeable agents, the paper’s demand response) instead of one block per agent.' },
} as const satisfies Record<string, Field>;

type Fields = typeof DADC_FIELDS;
type FieldValue<F> = F extends { kind: 'boolean' } ? boolean : F extends { kind: 'enum'; values: readonly (infer V)[] } ? V : number;
export type DadcConfig = { -readonly [K in keyof Fields]: FieldValue<Fields[K]> };

export const DADC_SETTINGS: readonly ParamSpec[] = Object.entries(DADC_FIELDS).map(([name, field]) => ({ name, ...field }) as ParamSpec);

export const DADC_PRESET_IDS = ['default', 'paper'] as const;
export type DadcPresetId = (typeof DADC_PRESET_IDS)[number];

/** The scenarios DADC runs on (local and common information, discrete actions). */
export const DADC_SCENARIOS = ['mabc', 'demand-response'] as const satisfies readonly ScenarioId[];
export type DadcScenario = (typeof DADC_SCENARIOS)[number];

const PAPER: Readonly<Record<DadcScenario, Partial<DadcConfig>>> = {
  mabc: { framework: 'actor-critic', numEnvs: 1, rolloutSteps: 300, lrApproximator: 0.08, lrCritic: 0.01, lrActor: 0.01 },
  'demand-response': { framework: 'ppo', numEnvs: 1, rolloutSteps: 200, sharePrescription: true },
};
const DEFAULT: Readonly<Record<DadcScenario, Partial<DadcConfig>>> = {
  mabc: {},
  'demand-response': { sharePrescription: true },
};

/**
 * The preset's values for the scenario, then the given settings (text or JSON values);
 * unknown names, out-of-range values and learning rates out of timescale order throw
 * ParamError naming the field.
 */
export function resolveDadcConfig(scenario: DadcScenario, preset: DadcPresetId = 'default', given: Readonly<Record<string, unknown>> = {}): DadcConfig {
  const config: Record<string, ParamValue> = {};
  for (const spec of DADC_SETTINGS) config[spec.name] = spec.default;
  Object.assign(config, (preset === 'paper' ? PAPER : DEFAULT)[scenario]);
  const byName = new Map(DADC_SETTINGS.map((spec) => [spec.name, spec]));
  for (const [name, raw] of Object.entries(given)) {
    const spec = byName.get(name);
    if (!spec) throw new ParamError(name, `learner dadc has no setting '${name}'; its settings are ${[...byName.keys()].join(', ')}`);
    config[name] = coerceParam('learner dadc: setting', spec, raw);
  }
  const resolved = config as DadcConfig;
  if (resolved.lrCritic > resolved.lrApproximator || resolved.lrActor > resolved.lrCritic) {
    throw new ParamError(
      'lrActor',
      `learner dadc: the learning rates must keep the timescales lrApproximator >= lrCritic >= lrActor; got ${resolved.lrApproximator}, ${resolved.lrCritic}, ${resolved.lrActor}`,
    );
  }
  return resolved;
}
