/**
 * Learner catalogue shared by every side (trainer, CLI, app forms): the learner ids, every
 * hyperparameter with its documentation and range, and the presets per scenario.
 *
 * Presets:
 * - `paper`: the DMPO paper's table (ICLR version) where it gives a value.
 * - `reference-code`: the DMPO authors' public code (shared/specs/algorithms.md table).
 * - `default`: Headway's own, chosen so that `headway train` without options shows learning
 *   within minutes on this kind of machine (several environment copies per iteration, a
 *   larger actor learning rate than the reference's 5e-5, shorter CACC batches). Every
 *   value that differs from `paper` says why in DEFAULT_REASONS.
 * The PPO baselines (ippo, mappo, cppo, dpo) use the DPPO row of a table unless it names
 * them. An explicit `--set KEY=VALUE` always wins over the preset.
 */
import { coerceParam, ParamError, type ParamSpec, type ParamValue, type ScenarioId } from './scenarios.ts';

export const LEARNER_IDS = ['ippo', 'mappo', 'cppo', 'dppo', 'dpo', 'dmpo'] as const;
export type LearnerId = (typeof LEARNER_IDS)[number];
export const PRESET_IDS = ['default', 'paper', 'reference-code'] as const;
export type LearnerPresetId = (typeof PRESET_IDS)[number];

export function isLearnerId(id: string): id is LearnerId {
  return (LEARNER_IDS as readonly string[]).includes(id);
}

export interface LearnerInfo {
  id: LearnerId;
  title: string;
  summary: string;
  /** Hops of the agent graph the policy sees: 0 = own observation, 1 = N^1. */
  policyRadius: 0 | 1;
  /** What the critic sees: own observation, the kappa-hop neighbourhood, or every agent. */
  critic: 'own' | 'neighbourhood' | 'global';
  /** How agent i's advantage is formed. */
  advantage: 'own' | 'global-value' | 'extended-value';
}

export const LEARNERS: Readonly<Record<LearnerId, LearnerInfo>> = {
  ippo: { id: 'ippo', title: 'IPPO', summary: 'Independent PPO: own observation, own critic, own advantage.', policyRadius: 0, critic: 'own', advantage: 'own' },
  mappo: {
    id: 'mappo',
    title: 'MAPPO',
    summary: 'PPO with a centralised critic on all agents’ observations (global state).',
    policyRadius: 0,
    critic: 'global',
    advantage: 'global-value',
  },
  cppo: {
    id: 'cppo',
    title: 'CPPO',
    summary: 'Neighbourhood policy (N^1) with a critic on all agents: the DMPO paper’s baseline.',
    policyRadius: 1,
    critic: 'global',
    advantage: 'own',
  },
  dppo: {
    id: 'dppo',
    title: 'DPPO',
    summary: 'Decentralised PPO with the extended value function over N^kappa (DMPO paper eq. 6).',
    policyRadius: 1,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
  dpo: { id: 'dpo', title: 'DPO', summary: 'Fully decentralised surrogate with adaptive KL penalties (no clipping).', policyRadius: 0, critic: 'own', advantage: 'own' },
  dmpo: {
    id: 'dmpo',
    title: 'DMPO',
    summary: 'DPPO plus per-agent graph-convolutional local models and branched model rollouts.',
    policyRadius: 1,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
};

/** A hyperparameter: the scenario ParamSpec shape plus which learners read it. */
export type HyperparameterSpec = ParamSpec & { learners?: readonly LearnerId[] };

const num = (name: string, value: number, min: number, max: number, doc: string, learners?: readonly LearnerId[]): HyperparameterSpec => ({
  name,
  kind: 'number',
  default: value,
  min,
  max,
  doc,
  learners,
});
const int = (name: string, value: number, min: number, max: number, doc: string, learners?: readonly LearnerId[]): HyperparameterSpec => ({
  name,
  kind: 'integer',
  default: value,
  min,
  max,
  doc,
  learners,
});
const choice = (name: string, value: string, values: readonly string[], doc: string, learners?: readonly LearnerId[]): HyperparameterSpec => ({
  name,
  kind: 'enum',
  default: value,
  values,
  doc,
  learners,
});
const flag = (name: string, value: boolean, doc: string, learners?: readonly LearnerId[]): HyperparameterSpec => ({
  name,
  kind: 'boolean',
  default: value,
  doc,
  learners,
});

const EXTENDED: readonly LearnerId[] = ['dppo', 'dmpo'];
const PPO_CLIP: readonly LearnerId[] = ['ippo', 'mappo', 'cppo', 'dppo', 'dmpo'];

/** Every hyperparameter; defaults here are the `paper` values for the ring unless a preset says otherwise. */
export const HYPERPARAMETERS: readonly HyperparameterSpec[] = [
  int('numEnvs', 1, 1, 1024, 'Environment copies stepped together while collecting a rollout.'),
  int('rolloutSteps', 3000, 1, 1_000_000, 'Steps per environment copy collected each iteration (the batch is numEnvs x rolloutSteps per agent).'),
  int('kappa', 3, 1, 1000, 'Radius (graph hops) of the neighbourhood N^kappa an extended critic sees.', EXTENDED),
  num('gamma', 0.99, 0, 1, 'Discount factor.'),
  num('gaeLambda', 0.5, 0, 1, 'GAE lambda.'),
  num('lrActor', 5e-4, 1e-7, 1, 'Actor Adam learning rate.'),
  num('lrCritic', 5e-4, 1e-7, 1, 'Critic Adam learning rate.'),
  int('epochs', 10, 1, 1000, 'Passes over the batch per update.'),
  int('minibatches', 1, 1, 4096, 'Minibatches per epoch (1: full batch).'),
  int('criticEpochs', 10, 1, 1000, 'Passes of the critic over the batch per update.'),
  num('clipEpsilon', 0.2, 0, 10, 'PPO clip range epsilon (clip = fixed).', PPO_CLIP),
  choice('clip', 'fixed', ['fixed', 'per-agent-count'], 'fixed: epsilon as given; per-agent-count: epsilon = clipAlpha / N (seed 004).', PPO_CLIP),
  num('clipAlpha', 0.2, 0, 1000, 'alpha of the per-agent-count clip, epsilon = alpha / N.', PPO_CLIP),
  choice('ratio', 'independent', ['independent', 'joint'], 'independent: per-agent ratios; joint: clip the product of all agents’ ratios with one centralised advantage (JR-PPO).', PPO_CLIP),
  num('targetKl', 0.01, 0, 100, 'Early stop of the epoch loop when mean KL(old||new) exceeds 1.5 x targetKl (0: never).'),
  num('entropyCoef', 0, 0, 10, 'Entropy bonus coefficient.'),
  num('initialLogStd', -0.5, -10, 5, 'Initial state-independent log std of Gaussian policies.'),
  flag('shareParameters', false, 'One set of actor and critic weights shared by all agents (off: each agent its own).'),
  flag('normaliseAdvantages', true, 'Normalise advantages per agent over the batch.'),
  choice('neighbourAggregation', 'mean-value', ['mean-value', 'sum-advantage'], 'mean-value: the paper’s V~_i = (1/n) sum over N^kappa; sum-advantage: the reference code’s sum of neighbour advantages.', EXTENDED),
  num('rewardScale', 1, 1e-9, 1e9, 'Learning reward = clip(reward x rewardScale, -rewardClip, rewardClip); records keep the raw reward.'),
  num('rewardClip', 1e9, 0, 1e9, 'Clip of the scaled learning reward.'),
  int('evalEvery', 1, 0, 1_000_000, 'Iterations between evaluations (0: never).'),
  int('evalEpisodes', 1, 1, 1000, 'Episodes per evaluation (deterministic policy).'),
  int('checkpointEvery', 1, 1, 1_000_000, 'Iterations between periodic checkpoints.'),
  num('dTarget', 0.01, 1e-9, 10, 'DPO: target KL per update that adapts beta1 and beta2.', ['dpo']),
  num('beta1', 0.01, 0, 1e6, 'DPO: initial weight of sqrt(KL).', ['dpo']),
  num('beta2', 0.01, 0, 1e6, 'DPO: initial weight of KL.', ['dpo']),
  choice('dpoVariant', 'full', ['full', 'no-sqrt', 'no-kl'], 'DPO ablations: no-sqrt sets beta1 = 0, no-kl sets beta2 = 0.', ['dpo']),
  int('innerIterations', 10, 1, 1000, 'DMPO: policy updates per real episode (stops early on KL).', ['dmpo']),
  num('lrModel', 5e-4, 1e-7, 1, 'DMPO: local model learning rate.', ['dmpo']),
  int('nTraj', 2048, 1, 1_000_000, 'DMPO: branched rollouts started per model batch.', ['dmpo']),
  num('modelUsage', 0.5, 0, 1, 'DMPO: probability q0 that an inner iteration trains on model data rather than the real episode.', ['dmpo']),
  int('modelRolloutLength', 25, 1, 10_000, 'DMPO: length T of a branched rollout.', ['dmpo']),
  num('modelErrorThreshold', 2e-4, 0, 10, 'DMPO: model training stops when validation MSE(s)/Var(s) falls below this.', ['dmpo']),
  num('modelRewardCoef', 10, 0, 1e6, 'DMPO: weight of the reward MSE in the model loss.', ['dmpo']),
  int('modelSteps', 2000, 1, 1_000_000, 'DMPO: most model training steps per iteration.', ['dmpo']),
  int('modelStepsWarmup', 20_000, 1, 10_000_000, 'DMPO: most model training steps per iteration after the warm-up.', ['dmpo']),
  int('modelWarmupEpisodes', 50, 0, 1_000_000, 'DMPO: real episodes collected before model data is used.', ['dmpo']),
  int('modelBufferEpisodes', 15, 1, 10_000, 'DMPO: FIFO of real episodes the model trains on.', ['dmpo']),
  int('modelBatchWindows', 256, 1, 65_536, 'DMPO: 4-step training windows per model training step (the reference code’s model batch size).', ['dmpo']),
];

type Overrides = Readonly<Record<string, ParamValue>>;
type ScenarioTable = Readonly<Record<ScenarioId, Overrides>>;

/** CACC rewards are large (hundreds per step): the DMPO code learns on clip(r/100, -5, 5). */
const CACC_SCALE: Overrides = { rewardScale: 0.01, rewardClip: 5, rolloutSteps: 600, gaeLambda: 0.5 };

/** DPPO reference-code row (and the PPO baselines'). */
const DPPO_REFERENCE: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, lrActor: 5e-5, lrCritic: 5e-4 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, lrActor: 5e-5, lrCritic: 7e-4 },
  ring: { lrActor: 1e-3, lrCritic: 1e-3, kappa: 3, rolloutSteps: 3000 },
  'figure-eight': { lrActor: 5e-5, lrCritic: 5e-4, kappa: 3, rolloutSteps: 1500 },
};

/** DMPO reference-code row. */
const DMPO_REFERENCE: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, innerIterations: 10, clipEpsilon: 0.2, targetKl: 7.5e-3, lrActor: 2e-4, lrCritic: 5e-4, lrModel: 2e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 5e-4, modelRewardCoef: 10 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, innerIterations: 8, clipEpsilon: 0.1, targetKl: 7.5e-3, lrActor: 5e-4, lrCritic: 5e-4, lrModel: 5e-4, nTraj: 1024, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 10 },
  ring: { kappa: 3, innerIterations: 10, clipEpsilon: 0.2, targetKl: 0.01, lrActor: 5e-4, lrCritic: 5e-4, lrModel: 5e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 10, rolloutSteps: 3000 },
  'figure-eight': { kappa: 3, innerIterations: 10, clipEpsilon: 0.15, targetKl: 7.5e-3, lrActor: 5e-5, lrCritic: 5e-5, lrModel: 5e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 1, rolloutSteps: 1500 },
};

/** The paper's table: lr 5e-4, lambda 0.5, KL target 0.01, kappa 3 (2 on the chain), model usage 0.5 on ring/eight and 1 on CACC with rollout length 1. */
const PAPER: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 1, modelRolloutLength: 1 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 1, modelRolloutLength: 1 },
  ring: { kappa: 3, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 0.5, rolloutSteps: 3000 },
  'figure-eight': { kappa: 3, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 0.5, rolloutSteps: 1500 },
};

/** DPO's own paper: 15 epochs, Adam 5e-4 for actor and critic. */
const DPO_OWN: Overrides = { epochs: 15, criticEpochs: 15, lrActor: 5e-4, lrCritic: 5e-4 };

/**
 * Headway's default preset per scenario: the paper's values plus what makes learning show
 * early on a laptop. See DEFAULT_REASONS.
 */
/** DMPO: model fits and model batches sized for minutes, not hours, on a 2-core laptop. */
const DMPO_DEFAULT: Overrides = { modelBatchWindows: 64, lrModel: 2e-3, modelStepsWarmup: 1000, modelSteps: 300, nTraj: 512, innerIterations: 5 };

/** DMPO on CACC: small fast model fits that get under 10% state error, real data in half the inner updates, short branches. */
const DMPO_CACC_DEFAULT: Overrides = {
  ...DMPO_DEFAULT,
  modelBatchWindows: 64,
  lrModel: 2e-3,
  modelRewardCoef: 1,
  modelStepsWarmup: 500,
  modelSteps: 100,
  modelUsage: 0.25,
  modelRolloutLength: 5,
};

const CACC_DEFAULT: Overrides = {
  numEnvs: 8,
  rolloutSteps: 600,
  lrActor: 3e-4,
  lrCritic: 1e-3,
  minibatches: 4,
  gaeLambda: 0.95,
  rewardScale: 1 / 2000,
  rewardClip: 2,
  modelWarmupEpisodes: 8,
  ...DMPO_CACC_DEFAULT,
};
const DEFAULT_CHANGES: ScenarioTable = {
  'cacc-catchup': CACC_DEFAULT,
  'cacc-slowdown': CACC_DEFAULT,
  ring: { numEnvs: 4, rolloutSteps: 750, lrActor: 1e-3, lrCritic: 1e-3, minibatches: 4, gaeLambda: 0.95, modelWarmupEpisodes: 4, ...DMPO_DEFAULT },
  'figure-eight': { numEnvs: 4, rolloutSteps: 750, lrActor: 1e-3, lrCritic: 1e-3, minibatches: 4, gaeLambda: 0.95, modelWarmupEpisodes: 4, ...DMPO_DEFAULT, lrModel: 1e-3, modelRewardCoef: 1 },
};

export const DEFAULT_REASONS: Readonly<Record<string, string>> = {
  numEnvs: 'several environment copies per iteration: batched inference is nearly free per copy, and a batch from several episodes has less variance than one episode',
  rolloutSteps: 'ring and figure eight update every 750 steps instead of once per 3000/1500-step episode: four times as many updates for the same experience',
  lrActor: 'the reference actor rate 5e-5 barely moves in a short run (the authors’ DPPO was no better than random after 270k CACC steps); 3e-4 (CACC) and 1e-3 (ring, figure eight) with the KL early stop learn within minutes',
  lrCritic: '1e-3 so the value baseline keeps up with the policy',
  gaeLambda: '0.95 instead of 0.5: early in training the critic is poor, and a lambda near 1 leans on real returns instead of it (measured on CACC catch-up: with 0.5 DPPO did not improve in 180k steps, with 0.95 its training return rose from -3.4e5 to -2.7e4 in 216k steps)',
  rewardScale: 'CACC: the original NMARL normalisation, r / 2000 clipped to +-2: unlike the DMPO code’s clip(r / 100, -5, 5), it keeps a collision (-1000 per agent) distinguishable from a large headway error, which saturates the clip at 5',
  rewardClip: 'CACC: see rewardScale',
  modelStepsWarmup:
    'DMPO: the reference-size model trainer runs about 27 steps/s on CACC and 9 on the ring here, so the spec’s 20000-step first fit would take 12-40 minutes; with the smaller, faster steps of modelBatchWindows, 1000 on ring and figure eight (300 per later iteration) and 500 on CACC (100 later); fits stop earlier at the error threshold (measured on CACC catch-up: the state error fell below 0.1 by the ninth iteration and to 0.03 by the twentieth)',
  modelSteps: 'DMPO: see modelStepsWarmup',
  modelBatchWindows:
    'DMPO: 64 training windows per model step instead of the reference’s 256: a fixed per-op cost dominates, so a step costs about 40% as much (ring: 49 ms instead of 129; CACC: 19 instead of 48), and with lrModel 2e-3 the fit gets further per second; measured on random-action episodes after 1000 steps: ring state error 0.028 and reward error 0.15 (256 windows at 5e-4: 0.023 and 0.30, 2.3x the time); CACC after 300 steps as far as 256 windows at 5e-4 after 1000 (state error 0.14)',
  lrModel: 'DMPO: 2e-3 with the 64-window model batches (see modelBatchWindows); 1e-3 on the figure eight, where 2e-3 made the state error jump between 0.07 and 0.33 (1e-3: 0.08-0.15; 256 windows at 5e-4: 0.06-0.26)',
  modelRewardCoef:
    'DMPO on CACC and the figure eight: 1 (the reference’s figure-eight value) instead of 10: reward and state deltas share the 8-unit node output; on CACC with weight 10 the reward term held the state error at 0.12-0.15 (measured on random-action episodes, 1000 steps: 0.127 with 10, 0.072 with 1; reward error 0.29 and 0.49), above the paper’s 10% (its Figure 3); on the figure eight weight 10 drove the state error to 0.85. The ring keeps 10: with 1 its reward error stayed at 0.94 (the reward was not learnt), with 10 it fell to 0.15 at state error 0.028',
  modelUsage:
    'DMPO on CACC: 0.25 instead of the paper’s 1 and the reference code’s 0.5: with model data alone (the models are ready after the first real rollout) the policy fell to about random (measured: evaluation -1.6e5 before, -3.2e5 after 6 iterations); with 0.5 one seed of three did not learn in 16 iterations (training return -4.0e5 -> -1.5e5, seed 2), with 0.25 all three did (measured on catch-up, seeds 1, 2, 3: training return about -3.5e5 -> -2.9e4, -4.2e4, -4.4e4 after 16 iterations)',
  modelRolloutLength:
    'DMPO on CACC: 5-step branches instead of the paper’s 1 (a 1-step branch’s advantage is the critic’s TD error alone) and the reference’s 25 (2.7x the real batch per update, and the models are fitted on 4-step windows); measured on CACC catch-up, one run each: with 5 steps (this preset) evaluation -2.6e4 after 10 iterations and -2.0e4 after 12, with 25 steps (and modelRewardCoef 10) -1.1e5 after 12 and -8.3e4 after 18',
  nTraj: 'DMPO: 512 branched rollouts per model batch instead of 2048, so an inner update takes seconds',
  innerIterations: 'DMPO: 5 inner updates per iteration instead of 10, with the KL early stop',
  minibatches: 'four minibatches per epoch: more gradient steps per batch at the same cost',
  modelWarmupEpisodes: 'DMPO starts using its model after a handful of episodes instead of 50, so model-based learning shows within minutes',
};

export type LearnerConfig = Readonly<Record<string, ParamValue>>;

/** The hyperparameters a learner reads. */
export function learnerHyperparameters(learner: LearnerId): HyperparameterSpec[] {
  return HYPERPARAMETERS.filter((spec) => spec.learners === undefined || spec.learners.includes(learner));
}

/** The preset's values for one learner and scenario, before explicit settings. */
export function presetValues(learner: LearnerId, scenario: ScenarioId, preset: LearnerPresetId): Overrides {
  const reference = learner === 'dmpo' ? DMPO_REFERENCE[scenario] : DPPO_REFERENCE[scenario];
  const paper = { ...PAPER[scenario], ...(learner === 'dpo' ? DPO_OWN : {}) };
  switch (preset) {
    case 'reference-code':
      return { ...reference, ...(learner === 'dpo' ? DPO_OWN : {}) };
    case 'paper':
      return paper;
    case 'default':
      return { ...paper, ...DEFAULT_CHANGES[scenario] };
  }
}

/**
 * Resolves a learner's full configuration: spec defaults, then the preset for the scenario,
 * then the user's settings (text or JSON values). Unknown names, settings the learner does
 * not read and out-of-range values throw ParamError naming the field and what is allowed.
 */
export function resolveLearnerConfig(
  learner: LearnerId,
  scenario: ScenarioId,
  preset: LearnerPresetId = 'default',
  given: Readonly<Record<string, unknown>> = {},
): LearnerConfig {
  const specs = learnerHyperparameters(learner);
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const config: Record<string, ParamValue> = {};
  for (const spec of specs) config[spec.name] = spec.default;
  for (const [name, value] of Object.entries(presetValues(learner, scenario, preset))) {
    if (byName.has(name)) config[name] = value;
  }
  for (const [name, raw] of Object.entries(given)) {
    const spec = byName.get(name);
    if (!spec) {
      const other = HYPERPARAMETERS.some((s) => s.name === name);
      throw new ParamError(
        name,
        other
          ? `learner ${learner} does not use '${name}'`
          : `learner ${learner} has no setting '${name}'; its settings are ${specs.map((s) => s.name).join(', ')}`,
      );
    }
    config[name] = coerceParam(`learner ${learner}: setting`, spec, raw);
  }
  return config;
}
