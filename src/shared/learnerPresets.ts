/**
 * The learners' presets per scenario: the values each sets before a user's explicit settings,
 * typed against the hyperparameter catalogue of learners.ts (a misspelt name does not compile).
 * - `paper`: the DMPO paper's table (ICLR version) where it gives a value.
 * - `reference-code`: the DMPO authors' public code (shared/specs/algorithms.md table).
 * - `default`: Headway's own, chosen so that `headway train` without options shows learning
 *   within minutes on this kind of machine (several environment copies per iteration, a
 *   larger actor learning rate than the reference's 5e-5, shorter CACC batches). Why each
 *   value differs from `paper`, with the measurements behind it: docs/default-presets.md and
 *   the comments beside each table.
 * The PPO baselines (ippo, mappo, cppo, dpo) use the DPPO row of a table unless it names
 * them. An explicit `--set KEY=VALUE` always wins over the preset.
 */
import type { Hyperparameters, LearnerId, LearnerPresetId } from './hyperparameters.ts';
import type { ScenarioId } from './scenarios.ts';

/** Values a preset sets: any hyperparameter, typed (a misspelt name does not compile). */
export type Overrides = Partial<Hyperparameters>;
type ScenarioTable = Readonly<Record<ScenarioId, Overrides>>;

/** CACC rewards are large (hundreds per step): the DMPO code learns on clip(r/100, -5, 5). */
const CACC_SCALE: Overrides = { rewardScale: 0.01, rewardClip: 5, rolloutSteps: 600, gaeLambda: 0.5 };

/** network-routing is in none of the seed papers' tables: one row for every preset (a critic over 2 hops, as LTDE's kappa). */
const ROUTING: Overrides = { kappa: 2, lrActor: 3e-4, lrCritic: 1e-3, rolloutSteps: 240 };
/** The DADC paper's environments (mabc, demand-response): discount 0.9, infinite horizon cut at 100 steps; no reference code. */
const DADC_ENVIRONMENT: Overrides = { gamma: 0.9, rolloutSteps: 100 };

/** DPPO reference-code row (and the PPO baselines'). */
const DPPO_REFERENCE: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, lrActor: 5e-5, lrCritic: 5e-4 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, lrActor: 5e-5, lrCritic: 7e-4 },
  ring: { lrActor: 1e-3, lrCritic: 1e-3, kappa: 3, rolloutSteps: 3000 },
  'figure-eight': { lrActor: 5e-5, lrCritic: 5e-4, kappa: 3, rolloutSteps: 1500 },
  'network-routing': ROUTING,
  mabc: DADC_ENVIRONMENT,
  'demand-response': DADC_ENVIRONMENT,
};

/** DMPO reference-code row. */
const DMPO_REFERENCE: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, innerIterations: 10, clipEpsilon: 0.2, targetKl: 7.5e-3, lrActor: 2e-4, lrCritic: 5e-4, lrModel: 2e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 5e-4, modelRewardCoef: 10 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, innerIterations: 8, clipEpsilon: 0.1, targetKl: 7.5e-3, lrActor: 5e-4, lrCritic: 5e-4, lrModel: 5e-4, nTraj: 1024, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 10 },
  ring: { kappa: 3, innerIterations: 10, clipEpsilon: 0.2, targetKl: 0.01, lrActor: 5e-4, lrCritic: 5e-4, lrModel: 5e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 10, rolloutSteps: 3000 },
  'figure-eight': { kappa: 3, innerIterations: 10, clipEpsilon: 0.15, targetKl: 7.5e-3, lrActor: 5e-5, lrCritic: 5e-5, lrModel: 5e-4, nTraj: 2048, modelUsage: 0.5, modelRolloutLength: 25, modelErrorThreshold: 2e-4, modelRewardCoef: 1, rolloutSteps: 1500 },
  'network-routing': ROUTING,
  mabc: DADC_ENVIRONMENT,
  'demand-response': DADC_ENVIRONMENT,
};

/** The paper's table: lr 5e-4, lambda 0.5, KL target 0.01, kappa 3 (2 on the chain), model usage 0.5 on ring/eight and 1 on CACC with rollout length 1. */
const PAPER: ScenarioTable = {
  'cacc-catchup': { ...CACC_SCALE, kappa: 2, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 1, modelRolloutLength: 1 },
  'cacc-slowdown': { ...CACC_SCALE, kappa: 2, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 1, modelRolloutLength: 1 },
  ring: { kappa: 3, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 0.5, rolloutSteps: 3000 },
  'figure-eight': { kappa: 3, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0.01, modelUsage: 0.5, rolloutSteps: 1500 },
  'network-routing': ROUTING,
  mabc: DADC_ENVIRONMENT,
  'demand-response': DADC_ENVIRONMENT,
};

/**
 * DPO's own paper: 15 epochs, Adam 5e-4 for actor and critic, and no KL early stop (targetKl
 * 0): its update runs every epoch on the penalised surrogate, whose adaptive betas are its
 * only trust region. With the PPO tables' early stop at 1.5 targetKl = 1.5 dTarget, every
 * stopped agent ended its update just past the rule's threshold, so its betas doubled in every
 * iteration whatever they were (to 1.6e7 after 300k env steps on the ring) until the penalty
 * drowned the advantage and the policy fell apart (docs/learning-report.md, paper scale).
 */
const DPO_UPDATE: Overrides = { epochs: 15, criticEpochs: 15, lrActor: 5e-4, lrCritic: 5e-4, targetKl: 0 };
/**
 * DPO's dTarget per scenario, as its paper sets it by the kind of action: 0.001 for continuous
 * control (multi-agent MuJoCo) on the ring and the figure eight, whose actions are
 * accelerations; 0.01 (its MPE value, the catalogue's default) on the discrete-action ones.
 * On the ring 0.01 let the update's KL jump past 1 after 200k env steps (docs/learning-report.md).
 */
const DPO_OWN: ScenarioTable = {
  'cacc-catchup': DPO_UPDATE,
  'cacc-slowdown': DPO_UPDATE,
  ring: { ...DPO_UPDATE, dTarget: 0.001 },
  'figure-eight': { ...DPO_UPDATE, dTarget: 0.001 },
  'network-routing': DPO_UPDATE,
  mabc: DPO_UPDATE,
  'demand-response': DPO_UPDATE,
};

/**
 * Headway's default preset per scenario: the paper's values plus what makes learning show
 * early on a laptop (the reasons, measured: docs/default-presets.md).
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
  'network-routing': ROUTING,
  mabc: DADC_ENVIRONMENT,
  'demand-response': DADC_ENVIRONMENT,
};

/**
 * LTDE on network-routing: the paper gives no numbers for routing, so its rates, discount,
 * batch and team size are Headway's (a short sweep on Braess, seeds 1-3). `paper` keeps the
 * paper's algorithm (its gradient estimator, critics from omega(0), random energies; it has
 * no code, so `reference-code` is `paper`); `default` changes what docs/ltde.md measured:
 * warm-started critics in a ball large enough for their values (the radius 20 ball held the
 * critics at about half of the delayed cost effects), a faster actor, and a penalty on
 * detours so that grids and TNTP networks start from routes, not a random walk, and the
 * choice's identity in the energy (the observation-only energy cannot hold the grid's
 * system-optimal splits even on exact gradients), and a burn-in that keeps the episodes'
 * filling steps out of the critics and the actor step (near the grid's optimum their
 * samples turned the estimated gradient against the steady state's exact one).
 */
const LTDE_PAPER: Overrides = { kappa: 1, gamma: 0.8, lrActor: 0.002, lrCritic: 0.02, criticSteps: 15_000, episodesPerIteration: 8, rewardScale: 1, criticBaseline: false, gradientClipNorm: 1e9 };
const LTDE_DEFAULT: Overrides = { ...LTDE_PAPER, criticBaseline: true, criticWarmStart: true, radius: 200, lrActor: 0.005, detourPenalty: 10, choiceIdentity: true, burnIn: 0.2 };

/**
 * DADC's base settings, which every preset below adjusts (first measured on mabc with Boltzmann
 * prescriptions, docs/dadc.md): four copies per batch, the timescales separated
 * (0.05 > 0.03 > 0.02), Monte-Carlo advantages (GAE lambda 1).
 */
const DADC_DEFAULT: Overrides = {
  framework: 'actor-critic',
  numEnvs: 4,
  rolloutSteps: 100,
  gamma: 0.9,
  lrApproximator: 0.05,
  lrCritic: 0.03,
  lrActor: 0.02,
  criticSteps: 10,
  gaeLambda: 1,
};
/**
 * DADC's defaults on the paper's environments (docs/dadc.md). Multi-access broadcast: the
 * paper's opportunity prescriptions; TD-error advantages (GAE lambda 0, the critic's judgement
 * of each choice: with 100-step Monte-Carlo returns the coordinator took one choice in every
 * state before the critic told them apart); aisLambda 0.95 (the next-AIS term is minimised by
 * a constant AIS, and at 0.5 it held the AIS nearly constant for the first 40 iterations;
 * with the next observation as the target 0.95 still beats 0.8 and 0.5);
 * the base rates decaying on Robbins-Monro schedules (lrDecayIterations 25), which keep what
 * the coordinator found better than constant slower rates (5-seed median 0.776 against 0.769);
 * the AIS predicts the next common observation (aisTarget next-observation: 5-seed median
 * 0.801 against 0.776 with the next AIS); 8 copies per iteration, twice the data per update
 * (median 0.853 after 200 iterations against 0.804 with 4 copies after the same 160,000
 * steps). Demand response: one prescription for all loads, a
 * 4x slower actor (lrActor 0.02 collapsed from -1.00 to -1.89), the next common observation
 * as the AIS target (every one of 5 seeds better: median -1.018 against -1.043), and the
 * paper's framework, PPO with ChainerRL's 10 epochs (clip 0.2), on a standardised common
 * observation with 16 copies and rates decaying over 100 iterations: after 1,000 iterations
 * (1.6M steps) the median of 5 seeds is 1.2% below the optimum, where the actor-critic
 * without these ended 4.6% below (it learns the episode's first step, forcing about 30% of
 * the ON loads OFF as the optimum does).
 */
const DADC_DEFAULTS: Readonly<Partial<Record<ScenarioId, Overrides>>> = {
  mabc: { ...DADC_DEFAULT, prescriptions: 'opportunities', gaeLambda: 0, aisLambda: 0.95, lrDecayIterations: 25, aisTarget: 'next-observation', numEnvs: 8 },
  'demand-response': {
    ...DADC_DEFAULT,
    sharePrescription: true,
    lrActor: 0.005,
    aisTarget: 'next-observation',
    framework: 'ppo',
    actorSteps: 10,
    clipEpsilon: 0.2,
    normaliseCommon: true,
    numEnvs: 16,
    lrDecayIterations: 100,
  },
};
/**
 * DADC, the paper's appendix E where it gives a value (actor-critic; AIS of 5; Adam 0.08 for
 * the approximator and 0.01 for the critic and the actor; batch 300 for multi-access
 * broadcast, 200 for demand response, which it trains with ChainerRL's PPO, whose defaults the
 * paper does not change: 10 epochs, clip 0.2; gamma 0.9; on multi-access
 * broadcast the actor's gradient weights log psi by the critic, Q(X_t, theta_t): GAE lambda 0,
 * its TD-error form). It has no reference code: `reference-code` is `paper`.
 */
const DADC_PAPER: Readonly<Partial<Record<ScenarioId, Overrides>>> = {
  mabc: { ...DADC_DEFAULT, prescriptions: 'opportunities', numEnvs: 1, rolloutSteps: 300, lrApproximator: 0.08, lrCritic: 0.01, lrActor: 0.01, gaeLambda: 0 },
  'demand-response': { ...DADC_DEFAULT, framework: 'ppo', actorSteps: 10, clipEpsilon: 0.2, numEnvs: 1, rolloutSteps: 200, sharePrescription: true },
};
/**
 * DADC on the CACC platoon with delayed broadcast (rl/learners/dadc/information.ts; no paper
 * values: every preset): linear prescriptions over the vehicle's own observation, one for all
 * vehicles (24 parameters instead of 192: the observation already says where a vehicle
 * stands), the PPO family's discount, and the team reward (the sum of 8 agents') scaled to
 * about the PPO family's per-agent scale (0.01 / 8), collisions clipped like theirs.
 */
const DADC_CACC: Overrides = { ...DADC_DEFAULT, prescriptions: 'linear', sharePrescription: true, gamma: 0.99, gaeLambda: 0.95, rewardScale: 0.01 / 8, rewardClip: 10 };

/**
 * Decentralised SAC on CACC (the DMPO paper's section 6.3 and the spec): Adam 3e-4, Polyak
 * 5e-3, gradient clip 5, replay 1e6, batch 256, one update per step, rewards as the DMPO
 * code's CACC. The paper gives no warm-up, temperature or target entropy: the field defaults
 * (the authors' code's) stand, so `paper` and `reference-code` coincide.
 */
const SAC_PAPER: Overrides = { ...CACC_SCALE, kappa: 2, numEnvs: 1, rolloutSteps: 600, lrActor: 3e-4, lrCritic: 3e-4, lrAlpha: 3e-4 };
/** The DMPO authors' algorithms/config/CACC_SAC.py: 2500 warm-up steps, alpha 0.2 toward a target entropy of 0.2 nats. */
const SAC_REFERENCE: Overrides = { ...SAC_PAPER, learningStarts: 2500, initialAlpha: 0.2, targetEntropy: 0.2 };
/**
 * Ours (measured on catch-up, docs/dsac.md): decisions held 10 steps (1 s), since at CACC's
 * 0.1 s step one step's action barely moves the return and the critics' errors decided the
 * greedy action; one update per decision of each copy (0.1 per env step) on batches of 128;
 * rewards / 1000 unclipped, so a collision (-1000) stays far worse than a large headway error;
 * critics at lr 1e-3 with tau 0.1 so values propagate within thousands of updates; a
 * temperature of 0.5 toward 0.5 nats, which keeps trying the gains long enough for the critics
 * to learn them (a small one settled on a constant action within a few thousand steps).
 */
const SAC_DEFAULT: Overrides = {
  ...SAC_PAPER,
  numEnvs: 4,
  rolloutSteps: 150,
  actionRepeat: 10,
  updatesPerStep: 0.1,
  batchSize: 128,
  replaySize: 200_000,
  learningStarts: 2400,
  rewardScale: 0.001,
  rewardClip: 1e9,
  lrCritic: 1e-3,
  tau: 0.1,
  lrAlpha: 3e-3,
  initialAlpha: 0.5,
  targetEntropy: 0.5,
};
const SAC_PRESETS: Readonly<Record<LearnerPresetId, Overrides>> = { paper: SAC_PAPER, 'reference-code': SAC_REFERENCE, default: SAC_DEFAULT };

/**
 * DMPO-SAC, the paper's table on CACC: model usage 1 (every batch from the model), rollout
 * length 1, Adam 3e-4 for actor, critic and model, K = 1; the spec's ensemble of 7. The rest
 * as the authors' code (below), where the paper is silent.
 */
const DMPO_SAC_PAPER: Overrides = { ...SAC_PAPER, kappa: 1, lrModel: 3e-4, ensembleSize: 7, modelRolloutLength: 1, realRatio: 0, modelUpdatesPerStep: 10, nTraj: 1_000_000, modelReplaySize: 1_000_000, modelRewardCoef: 1 };
/**
 * The authors' algorithms/config/CACC_MBPO.py: 2000 warm-up steps, 10 model and 20 SAC updates
 * per step on batches of 256, SAC on model data only, one-step branches refilling a model
 * replay of 1e6 (there every 200 steps, here once per iteration), critics on N^2.
 */
const DMPO_SAC_REFERENCE: Overrides = { ...SAC_REFERENCE, ...DMPO_SAC_PAPER, kappa: 2, learningStarts: 2000, updatesPerStep: 20 };
/**
 * Ours (not tuned; what it learns against DSAC's default: docs/dmpo-sac.md): DSAC's default
 * (decisions held 10 steps) with twice its updates per env step (the model data is what makes
 * more updates per real step worth taking), half of each batch real; five models per agent,
 * 0.2 model steps per env step, four one-step branches per real decision kept for ten
 * iterations: sized for minutes per run on a laptop.
 */
const DMPO_SAC_DEFAULT: Overrides = {
  ...SAC_DEFAULT,
  updatesPerStep: 0.2,
  realRatio: 0.5,
  lrModel: 1e-3,
  ensembleSize: 5,
  modelUpdatesPerStep: 0.2,
  modelRolloutLength: 1,
  nTraj: 240,
  modelReplaySize: 2_400,
  modelRewardCoef: 1,
};
const DMPO_SAC_PRESETS: Readonly<Record<LearnerPresetId, Overrides>> = { paper: DMPO_SAC_PAPER, 'reference-code': DMPO_SAC_REFERENCE, default: DMPO_SAC_DEFAULT };

/**
 * IC3Net's default (measured, README): short rollouts, so its one actor-critic step per batch
 * comes often, at a larger rate; CACC's reward scale as the other learners' default, and on
 * CACC 60-step rollouts with Monte Carlo advantages (gaeLambda 1): catching up pays off only
 * over many steps, which 20-step rollouts with GAE 0.95 on a young critic did not show on
 * seeds 2 and 3. On the ring (docs/ic3net.md) one-step advantages (gaeLambda 0), a smaller
 * initial std and no entropy bonus: the platoon starts at rest, where an agent's own
 * acceleration cost is its whole reward, and 20-step GAE buried it under every agent's
 * exploration noise. Neither DMPO table gives IC3Net's own values: `paper` and
 * `reference-code` take the tables' shared (DPPO) rows with the variant of that name.
 * Every preset leaves the gradient unclipped (gradientClipNorm 1e9; the field's default is
 * SAC's), the rate constant, the frozen steps in the policy loss (skipFrozenSteps off) and
 * the critic at the paper's one step (criticSteps 1): on catch-up neither a clip nor a
 * decay, nor any other single setting screened, kept what the default learns; leaving the
 * frozen steps out did not keep it either, and a critic that keeps up (value-head steps,
 * explaining 0.9 of the targets' variance) made every screened run crash (docs/ic3net.md,
 * seed 1 to 60k env steps). Each agent learns from its own reward (spatialDiscount 0, the
 * field's default, as the DMPO authors' IC3Net): the team reward NMARL trains IC3Net on for
 * CACC (spatialDiscount 1) kept no catch-up at 60k on seeds 1-3, nor did alpha 0.5 on seed 1.
 */
const IC3NET_DEFAULT: Overrides = { ic3netVariant: 'paper', numEnvs: 4, rolloutSteps: 50, bpttSteps: 25, lrActor: 3e-3, gaeLambda: 0.95, entropyCoef: 0.01, gradientClipNorm: 1e9, criticSteps: 1 };
const IC3NET_CACC_DEFAULT: Overrides = { ...IC3NET_DEFAULT, numEnvs: 8, rolloutSteps: 60, bpttSteps: 20, gaeLambda: 1, rewardScale: 1 / 2000, rewardClip: 2 };
/**
 * Catch-up without the entropy bonus (as the ring): over 300k env steps 4 of 5 seeds keep a
 * catch-up policy (final -2.2e4 to -7.9e4, untrained -1.7e5 to -2.6e5), where with 0.01 the
 * policy stayed near uniform (entropy 1.1-1.3 of ln 4) and its argmax flipped between holding,
 * catching up and crashing (docs/ic3net.md, "Without the entropy bonus"). Slow-down keeps
 * 0.01: there neither value avoided a collision in 150k env steps (seeds 1-3), so nothing
 * argues for a change; nor on the figure eight (IC3NET_DEFAULT), where both swing between
 * crossing collisions and 1.2e5-1.45e5 over 90k env steps (seeds 1-2).
 */
const IC3NET_CATCHUP_DEFAULT: Overrides = { ...IC3NET_CACC_DEFAULT, entropyCoef: 0 };
const IC3NET_RING_DEFAULT: Overrides = { ...IC3NET_DEFAULT, gaeLambda: 0, initialLogStd: -1.5, entropyCoef: 0 };
/** IC3Net's default where a scenario has its own; IC3NET_DEFAULT elsewhere. */
const IC3NET_DEFAULTS: Readonly<Partial<Record<ScenarioId, Overrides>>> = { ring: IC3NET_RING_DEFAULT, 'cacc-catchup': IC3NET_CATCHUP_DEFAULT, 'cacc-slowdown': IC3NET_CACC_DEFAULT };

function ic3netPreset(scenario: ScenarioId, preset: LearnerPresetId): Overrides {
  switch (preset) {
    case 'reference-code':
      return { ...DPPO_REFERENCE[scenario], ic3netVariant: 'reference-code', gradientClipNorm: 1e9, criticSteps: 1 };
    case 'paper':
      return { ...PAPER[scenario], ic3netVariant: 'paper', gradientClipNorm: 1e9, criticSteps: 1 };
    case 'default':
      return IC3NET_DEFAULTS[scenario] ?? IC3NET_DEFAULT;
  }
}

/** The preset's values for one learner and scenario, before explicit settings. */
export function presetValues(learner: LearnerId, scenario: ScenarioId, preset: LearnerPresetId): Overrides {
  if (learner === 'dsac') return SAC_PRESETS[preset];
  if (learner === 'dmpo-sac') return DMPO_SAC_PRESETS[preset];
  if (learner === 'ltde') return preset === 'default' ? LTDE_DEFAULT : LTDE_PAPER;
  if (learner === 'ic3net') return ic3netPreset(scenario, preset);
  if (learner === 'dadc') {
    if (scenario === 'cacc-catchup' || scenario === 'cacc-slowdown') return DADC_CACC;
    return (preset === 'default' ? DADC_DEFAULTS : DADC_PAPER)[scenario] ?? DADC_DEFAULT;
  }
  const reference = learner === 'dmpo' ? DMPO_REFERENCE[scenario] : DPPO_REFERENCE[scenario];
  const own = learner === 'dpo' ? DPO_OWN[scenario] : {};
  const paper = { ...PAPER[scenario], ...own };
  switch (preset) {
    case 'reference-code':
      return { ...reference, ...own };
    case 'paper':
      return paper;
    case 'default':
      return { ...paper, ...DEFAULT_CHANGES[scenario] };
  }
}
