/**
 * Learner catalogue shared by every side (trainer, CLI, app forms): the learner ids, every
 * hyperparameter with its documentation and range, and the presets per scenario.
 *
 * Presets:
 * - `paper`: the DMPO paper's table (ICLR version) where it gives a value.
 * - `reference-code`: the DMPO authors' public code (shared/specs/algorithms.md table).
 * - `default`: Headway's own, chosen so that `headway train` without options shows learning
 *   within minutes on this kind of machine (several environment copies per iteration, a
 *   larger actor learning rate than the reference's 5e-5, shorter CACC batches). Why each
 *   value differs from `paper`, with the measurements behind it: docs/default-presets.md.
 * The PPO baselines (ippo, mappo, cppo, dpo) use the DPPO row of a table unless it names
 * them. An explicit `--set KEY=VALUE` always wins over the preset.
 */
import { coerceParam, ParamError, type ParamSpec, type ParamValue, type ScenarioId } from './scenarios.ts';

export const LEARNER_IDS = ['ippo', 'mappo', 'cppo', 'dppo', 'dpo', 'dmpo', 'ltde', 'dadc', 'dsac', 'ic3net', 'dmpo-sac'] as const;
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
  /** The scenarios it trains on; absent: every scenario. */
  scenarios?: readonly ScenarioId[];
  /** Its networks are tiny and run in plain JavaScript: no tensor backend is used. */
  plainJavaScript?: true;
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
  ltde: {
    id: 'ltde',
    title: 'LTDE',
    summary: 'Mean-field actor-critic on a network of states: team policies by node, localized (kappa-hop) team Q-functions (LTDE paper).',
    scenarios: ['network-routing'],
    plainJavaScript: true,
    policyRadius: 0,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
  dadc: {
    id: 'dadc',
    title: 'DADC',
    summary: 'Decentralised actor and critic on common information: every agent’s coordinator draws the same prescription (DADC paper).',
    scenarios: ['mabc', 'demand-response', 'cacc-catchup', 'cacc-slowdown'],
    plainJavaScript: true,
    policyRadius: 0,
    critic: 'global',
    advantage: 'global-value',
  },
  dsac: {
    id: 'dsac',
    title: 'DSAC',
    summary: 'Decentralised soft actor-critic (discrete actions): N^1 policy, twin extended Q critics on N^kappa with the neighbours’ actions, replay (DMPO paper on CACC).',
    scenarios: ['cacc-catchup', 'cacc-slowdown'],
    policyRadius: 1,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
  ic3net: {
    id: 'ic3net',
    title: 'IC3Net',
    summary: 'Communicating agents: own observation, hidden state, messages from graph neighbours behind a learned gate; one actor-critic step per batch (the DMPO paper’s baseline).',
    scenarios: ['cacc-catchup', 'cacc-slowdown', 'ring', 'figure-eight'],
    policyRadius: 1,
    critic: 'own',
    advantage: 'own',
  },
  'dmpo-sac': {
    id: 'dmpo-sac',
    title: 'DMPO-SAC',
    summary:
      'DSAC plus per-agent ensembles of MLP models on N^1 and short branched model rollouts mixed into its batches (the DMPO paper on CACC). CACC only: its base learner DSAC needs discrete actions, and on the ring and figure eight the paper’s DMPO is the PPO-based dmpo.',
    scenarios: ['cacc-catchup', 'cacc-slowdown'],
    policyRadius: 1,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
};

/** Whether `learner` trains on `scenario`. */
export function learnerTrainsOn(learner: LearnerId, scenario: ScenarioId): boolean {
  return LEARNERS[learner].scenarios?.includes(scenario) ?? true;
}

/** A hyperparameter: the scenario ParamSpec shape, its catalogue name, and which learners read it. */
export type HyperparameterSpec = ParamSpec & { name: HyperparameterName; learners?: readonly LearnerId[] };

/** One field of the catalogue (its name is its key). `learners`: who reads it (absent: every learner). */
type Field =
  | { readonly kind: 'number' | 'integer'; readonly default: number; readonly min: number; readonly max: number; readonly doc: string; readonly learners?: readonly LearnerId[] }
  | { readonly kind: 'enum'; readonly default: string; readonly values: readonly string[]; readonly doc: string; readonly learners?: readonly LearnerId[] }
  | { readonly kind: 'boolean'; readonly default: boolean; readonly doc: string; readonly learners?: readonly LearnerId[] };

const num = <const L extends readonly LearnerId[] | undefined = undefined>(value: number, min: number, max: number, doc: string, learners?: L) =>
  ({ kind: 'number', default: value, min, max, doc, learners: learners as L }) as const;
const int = <const L extends readonly LearnerId[] | undefined = undefined>(value: number, min: number, max: number, doc: string, learners?: L) =>
  ({ kind: 'integer', default: value, min, max, doc, learners: learners as L }) as const;
const choice = <const V extends string, const L extends readonly LearnerId[] | undefined = undefined>(value: NoInfer<V>, values: readonly V[], doc: string, learners?: L) =>
  ({ kind: 'enum', default: value, values, doc, learners: learners as L }) as const;
const flag = <const L extends readonly LearnerId[] | undefined = undefined>(value: boolean, doc: string, learners?: L) =>
  ({ kind: 'boolean', default: value, doc, learners: learners as L }) as const;

const EXTENDED = ['dppo', 'dmpo'] as const;
const PPO_CLIP = ['ippo', 'mappo', 'cppo', 'dppo', 'dmpo'] as const;
/** The learners of the PPO family (one OnPolicyRun: rollouts, GAE, epochs of minibatch updates). */
export const PPO_FAMILY = ['ippo', 'mappo', 'cppo', 'dppo', 'dpo', 'dmpo'] as const satisfies readonly LearnerId[];
export type PpoFamilyId = (typeof PPO_FAMILY)[number];
/** The off-policy soft actor-critic learners (replay, twin Q critics, learned temperature). */
const SAC = ['dsac', 'dmpo-sac'] as const;
/** The model-based learners: DMPO and DMPO-SAC read the model fields they share. */
const MODEL_BASED = ['dmpo', 'dmpo-sac'] as const;

/**
 * Every hyperparameter, declared once: kind, default, range and doc. Defaults here are the
 * `paper` values for the ring unless a preset says otherwise. The config types below are
 * derived from this table, so a misspelt field is a compile error.
 */
const HYPERPARAMETER_FIELDS = {
  numEnvs: int(1, 1, 1024, 'Environment copies stepped together while collecting a rollout.', [...PPO_FAMILY, 'dadc', ...SAC, 'ic3net']),
  rolloutSteps: int(3000, 1, 1_000_000, 'Steps per environment copy collected each iteration (the batch is numEnvs x rolloutSteps per agent).', [...PPO_FAMILY, 'dadc', ...SAC, 'ic3net']),
  kappa: int(3, 1, 1000, 'Radius (graph hops) of the neighbourhood N^kappa an extended critic sees (LTDE: road hops of the nodes a team critic sees and its actor sums over).', [...EXTENDED, 'ltde', ...SAC]),
  gamma: num(0.99, 0, 1, 'Discount factor.'),
  gaeLambda: num(0.5, 0, 1, 'GAE lambda (DADC: of the actor’s advantages over the critic’s TD errors).', [...PPO_FAMILY, 'dadc', 'ic3net']),
  lrActor: num(5e-4, 1e-7, 1, 'Actor Adam learning rate (IC3Net: of every weight, one Adam).'),
  lrCritic: num(5e-4, 1e-7, 1, 'Critic Adam learning rate (IC3Net: of the value head’s own steps, criticSteps > 1).', [...PPO_FAMILY, 'ltde', 'dadc', ...SAC, 'ic3net']),
  epochs: int(10, 1, 1000, 'Passes over the batch per update.', PPO_FAMILY),
  minibatches: int(1, 1, 4096, 'Minibatches per epoch (1: full batch).', PPO_FAMILY),
  criticEpochs: int(10, 1, 1000, 'Passes of the critic over the batch per update.', PPO_FAMILY),
  clipEpsilon: num(0.2, 0, 10, 'PPO clip range epsilon (clip = fixed; DADC: with framework ppo).', [...PPO_CLIP, 'dadc']),
  clip: choice('fixed', ['fixed', 'per-agent-count'], 'fixed: epsilon as given; per-agent-count: epsilon = clipAlpha / N (seed 004).', PPO_CLIP),
  clipAlpha: num(0.2, 0, 1000, 'alpha of the per-agent-count clip, epsilon = alpha / N.', PPO_CLIP),
  ratio: choice('independent', ['independent', 'joint'], 'independent: per-agent ratios; joint: clip the product of all agents’ ratios with one centralised advantage (JR-PPO).', PPO_CLIP),
  targetKl: num(0.01, 0, 100, 'Early stop of the epoch loop when mean KL(old||new) exceeds 1.5 x targetKl (0: never).', PPO_FAMILY),
  entropyCoef: num(0, 0, 10, 'Entropy bonus coefficient (IC3Net: of the action and the gate; DADC: of the coordinator’s distribution over prescriptions).', [...PPO_FAMILY, 'ic3net', 'dadc']),
  initialLogStd: num(-0.5, -10, 5, 'Initial state-independent log std of Gaussian policies (DADC: of the coordinator’s Gaussian over the prescription).', [...PPO_FAMILY, 'dadc', 'ic3net']),
  shareParameters: flag(false, 'One set of actor and critic weights shared by all agents (off: each agent its own).', PPO_FAMILY),
  normaliseAdvantages: flag(true, 'Normalise advantages per agent over the batch.', [...PPO_FAMILY, 'ic3net']),
  neighbourAggregation: choice('mean-value', ['mean-value', 'sum-advantage'], 'mean-value: the paper’s V~_i = (1/n) sum over N^kappa; sum-advantage: the reference code’s sum of neighbour advantages.', EXTENDED),
  rewardScale: num(1, 1e-9, 1e9, 'Learning reward = clip(reward x rewardScale, -rewardClip, rewardClip); records keep the raw reward (DADC: of the team reward).', [...PPO_FAMILY, 'ltde', ...SAC, 'ic3net', 'dadc']),
  rewardClip: num(1e9, 0, 1e9, 'Clip of the scaled learning reward.', [...PPO_FAMILY, ...SAC, 'ic3net', 'dadc']),
  evalEvery: int(1, 0, 1_000_000, 'Iterations between evaluations (0: never).'),
  evalEpisodes: int(1, 1, 1000, 'Episodes per evaluation (deterministic policy).'),
  checkpointEvery: int(1, 1, 1_000_000, 'Iterations between periodic checkpoints.'),
  dTarget: num(0.01, 1e-9, 10, 'DPO: target KL per update that adapts beta1 and beta2.', ['dpo']),
  beta1: num(0.01, 0, 1e6, 'DPO: initial weight of sqrt(KL).', ['dpo']),
  beta2: num(0.01, 0, 1e6, 'DPO: initial weight of KL.', ['dpo']),
  dpoVariant: choice('full', ['full', 'no-sqrt', 'no-kl'], 'DPO ablations: no-sqrt sets beta1 = 0, no-kl sets beta2 = 0.', ['dpo']),
  innerIterations: int(10, 1, 1000, 'DMPO: policy updates per real episode (stops early on KL).', ['dmpo']),
  lrModel: num(5e-4, 1e-7, 1, 'DMPO, DMPO-SAC: local model learning rate.', MODEL_BASED),
  nTraj: int(2048, 1, 1_000_000, 'DMPO: branched rollouts started per model batch; DMPO-SAC: per iteration, from states drawn from the real replay.', MODEL_BASED),
  modelUsage: num(0.5, 0, 1, 'DMPO: probability q0 that an inner iteration trains on model data rather than the real episode.', ['dmpo']),
  modelRolloutLength: int(25, 1, 10_000, 'DMPO, DMPO-SAC: length T of a branched rollout.', MODEL_BASED),
  modelErrorThreshold: num(2e-4, 0, 10, 'DMPO: model training stops when validation MSE(s)/Var(s) and MSE(r)/Var(r) both fall below this.', ['dmpo']),
  modelRewardCoef: num(10, 0, 1e6, 'DMPO, DMPO-SAC: weight of the reward MSE in the model loss (DMPO: of the standardised reward against the error of a state feature in units of its one-step change; targetNormalisation.ts).', MODEL_BASED),
  modelSteps: int(2000, 1, 1_000_000, 'DMPO: most model training steps per iteration.', ['dmpo']),
  modelStepsWarmup: int(20_000, 1, 10_000_000, 'DMPO: most model training steps per iteration after the warm-up.', ['dmpo']),
  modelWarmupEpisodes: int(50, 0, 1_000_000, 'DMPO: real episodes collected before model data is used.', ['dmpo']),
  modelBufferEpisodes: int(15, 1, 10_000, 'DMPO: FIFO of real episodes the model trains on.', ['dmpo']),
  modelBatchWindows: int(256, 1, 65_536, 'DMPO: 4-step training windows per model training step (the reference code’s model batch size).', ['dmpo']),
  width: int(64, 1, 100_000, 'LTDE: width M of every two-layer ReLU network (actor energies and team critics).', ['ltde']),
  radius: num(20, 1e-6, 1e6, 'LTDE: radius R of the projection balls, |W - W(0)|_inf <= R / sqrt(M).', ['ltde']),
  temperature: num(1, 1e-6, 1e6, 'LTDE: temperature tau of the energy-based policy softmax(tau f).', ['ltde']),
  teamVehicles: int(5, 1, 100_000, 'LTDE: vehicles n per team and class whose draws form the team action h(s).', ['ltde']),
  episodesPerIteration: int(8, 1, 100_000, 'LTDE: training episodes collected per iteration (their steps are the batch B).', ['ltde']),
  criticBaseline: flag(true, 'LTDE: subtract the team-Q sum with the team’s action replaced by its mean (a control variate; off: the paper’s estimator).', ['ltde']),
  criticWarmStart: flag(false, 'LTDE: each iteration’s critic TD (Algorithm 1) starts from the last critic instead of its initial weights omega(0) (off: the paper).', ['ltde']),
  detourPenalty: num(0, 0, 1e6, 'LTDE: beta subtracted from the energy of a link that brings its class no closer to its destination in free-flow time (a detour), so the initial policy routes instead of circling (0: the paper’s energy).', ['ltde']),
  boundedInputs: flag(false, 'LTDE: the energy reads log(1 + x) of each observation x, so that congested loads (BPR power 4) cannot make the energies, and with them the splits, arbitrarily hard (off: the observation itself, the paper).', ['ltde']),
  choiceIdentity: flag(false, 'LTDE: the energy also reads a one-hot of the routing choice (class and link) within its team, so the policy can hold any split whatever the observed loads (off: the paper’s energy of the observation alone).', ['ltde']),
  burnIn: num(0, 0, 0.9, 'LTDE: share of each training episode’s first steps (the network filling from empty) that neither the critics’ TD transitions nor the actor’s gradient use (0: every step, the paper; 0.5: the steady-state half the evaluation measures).', ['ltde']),
  actorEstimator: choice('sampled', ['sampled', 'expected'], 'LTDE: how an actor step weighs its choices. sampled: the score of the drawn team action times the team-Q sum (eq. 4.14, the paper); expected: the same gradient’s expectation over the team action, pi_a (dQ/dh_a - sum_b pi_b dQ/dh_b), from the critics’ derivatives at the mean action (no sampling noise from the finite teams).', ['ltde']),
  actorAverageFrom: int(
    0,
    0,
    1_000_000,
    'LTDE: Polyak-Ruppert averaging of the actors: from this iteration on the deployed policy (evaluation, routing/steadyTstt, the stored policy) is the running mean of the actor iterates since then, while the iterates keep collecting episodes and stepping (routing/steadyTsttIterate reports theirs); near the optimum a step’s direction is mostly critic error, and the mean of the wandering iterates is closer than any one. 0: the last iterate (the paper).',
    ['ltde'],
  ),
  lrActorDecayIterations: int(
    0,
    0,
    1_000_000,
    'LTDE: Robbins-Monro decay of the actor’s step: at iteration k it is lrActor / (1 + k / lrActorDecayIterations)^lrActorDecayExponent, so a large first step gets near fast and the later, smaller ones cut the critic error’s wander (0: constant lrActor, the paper).',
    ['ltde'],
  ),
  lrActorDecayExponent: num(0.7, 0.5, 1, 'LTDE: exponent p of lrActorDecayIterations’ decay; in (0.5, 1] the steps’ sum diverges and their squares’ sum converges, and below 1 they shrink slower than 1/k, as iterate averaging (actorAverageFrom) wants.', ['ltde']),
  criticSteps: int(
    15_000,
    1,
    10_000_000,
    'LTDE: TD steps per team critic and iteration (Algorithm 1); DADC: critic gradient steps per iteration; IC3Net: value steps per batch, the joint actor-critic step and criticSteps - 1 Adam steps of the value head alone (at lrCritic, on the hidden layer the rollout recorded) before it (1: the paper’s one step).',
    ['ltde', 'dadc', 'ic3net'],
  ),
  framework: choice('actor-critic', ['actor-critic', 'ppo'], 'DADC: the coordinator’s actor-critic framework: the policy gradient, or PPO’s clipped surrogate.', ['dadc']),
  aisSize: int(5, 1, 256, 'DADC: size H of the approximate information state (the paper: 5).', ['dadc']),
  aisLambda: num(0.5, 0, 1, 'DADC: lambda of the AIS loss lambda * smoothL1(reward) + (1 - lambda) * NLL(next), next as aisTarget names it.', ['dadc']),
  aisTarget: choice(
    'next-ais',
    ['next-ais', 'next-observation'],
    'DADC: what the AIS predictor learns to predict besides the reward, by the NLL of a unit-variance Gaussian: next-ais, the next AIS X_{t+1} (the paper’s property P2; the target is the encoder’s own output, so the term alone is minimised by a constant AIS), or next-observation, the next common observation Z_{t+1} given X_t and theta_t (the paper’s alternative P2a/P2b, an AIS that evolves like a state and predicts the next observation: a target in the data, which cannot collapse).',
    ['dadc'],
  ),
  lrApproximator: num(0.05, 1e-7, 1, 'DADC: Adam learning rate of the AIS approximator (fastest timescale; >= lrCritic >= lrActor).', ['dadc']),
  approximatorSteps: int(5, 1, 10_000, 'DADC: approximator gradient steps per iteration.', ['dadc']),
  lrDecayIterations: int(
    0,
    0,
    1_000_000,
    'DADC: Robbins-Monro decay of the three learning rates, as the paper’s convergence argument assumes: at iteration k each rate is its initial value / (1 + k / lrDecayIterations)^p with p 0.6 (approximator), 0.8 (critic), 1 (actor), so every sum of rates diverges, every sum of squares converges and critic / approximator and actor / critic go to 0; IC3Net: its one rate, lrActor / (1 + k / lrDecayIterations); 0: constant rates.',
    ['dadc', 'ic3net'],
  ),
  actorDecayStart: int(
    0,
    0,
    1_000_000,
    'DADC with lrDecayIterations > 0: the iteration K from which the actor’s rate decays; before it the actor keeps lrActor, from it its schedule runs as from iteration 0 (lrActor / (1 + (k - K) / lrDecayIterations)), so its rate is lowered only late; the approximator and the critic decay from the start. 0: every rate from the start.',
    ['dadc'],
  ),
  actorSteps: int(5, 1, 10_000, 'DADC: actor gradient steps per iteration.', ['dadc']),
  actorGradient: choice(
    'sampled',
    ['sampled', 'every-choice', 'deterministic'],
    'DADC: the coordinator’s policy gradient: sampled (the score function of the choice taken, weighted by its GAE advantage over the critic’s TD errors), every-choice (prescriptions=opportunities, framework actor-critic: the exact expectation over the choices, sum_c grad pi(c | X_t) (Q(X_t, c) - V(X_t)), which the critic alone weights, without the noise of the choice drawn and of what followed it) or deterministic (a Gaussian coordinator, framework actor-critic: the deterministic policy gradient through the critic, grad_theta Q(X_t, mean(X_t)) times d mean / d weights, DDPG-style; the Gaussian still explores so that the critic sees theta vary, its std is not trained but by entropyCoef).',
    ['dadc'],
  ),
  prescriptions: choice(
    'boltzmann',
    ['boltzmann', 'opportunities', 'linear'],
    'DADC: the coordinator’s prescription space: boltzmann (a Gaussian over Boltzmann logits per agent, local state and action), opportunities (a categorical over the scenario’s deterministic prescriptions; mabc: which devices may transmit, the paper’s appendix E.1, plus neither), or linear (a Gaussian over the weights of a linear softmax over the agent’s own observation: the CACC platoon, whose local information is continuous).',
    ['dadc'],
  ),
  explorationFloor: num(
    0,
    0,
    1,
    'DADC with prescriptions=opportunities: the coordinator draws its choice from (1 - f) * softmax + f / choices, so each choice keeps probability >= f / choices while the critic compares them (the actor and the critic learn this mixture; the deployed, greedy choice is its most probable one); 0: the softmax alone.',
    ['dadc'],
  ),
  normaliseCommon: flag(
    false,
    'DADC: standardise the common observation Z_t by the running mean and std of every Z seen in training (clipped to +-5) before the AIS reads or predicts it; the deployed coordinator uses the statistics as they stand. Demand response’s Z, the share ON, moves by a few hundredths between counts, which reached the AIS as differences of a few thousandths.',
    ['dadc'],
  ),
  sharePrescription: flag(false, 'DADC: one prescription for every agent (exchangeable agents, the paper’s demand response) instead of one block per agent.', ['dadc']),
  computeCoordinatorOnce: flag(
    true,
    'DADC: compute the agents’ coordinators once and share the result: they are equal (same seed, same common stream, same common data), so this changes no number, only the time (demand response: 1 coordinator instead of 100); off: every agent runs its own copy, as the paper describes.',
    ['dadc'],
  ),
  replaySize: int(1_000_000, 1, 10_000_000, 'SAC: transitions (one step of one copy, all agents) the replay buffer keeps, oldest dropped first.', SAC),
  batchSize: int(256, 1, 65_536, 'SAC: transitions per gradient update.', SAC),
  learningStarts: int(2500, 0, 100_000_000, 'SAC: environment steps of uniformly random actions before the first update.', SAC),
  updatesPerStep: num(1, 0, 100, 'SAC: gradient updates per environment step (one step of one copy); an iteration takes round(this x rolloutSteps x numEnvs).', SAC),
  tau: num(5e-3, 0, 1, 'SAC: Polyak rate of the target critics (target += tau (online - target) per update).', SAC),
  lrAlpha: num(3e-4, 1e-7, 1, 'SAC: Adam learning rate of each agent’s log temperature.', SAC),
  initialAlpha: num(0.2, 1e-6, 100, 'SAC: each agent’s temperature alpha before learning.', SAC),
  targetEntropy: num(0.2, 0, 100, 'SAC: policy entropy (nats) the temperature steers toward; uniform over CACC’s 4 actions is ln 4 = 1.39.', SAC),
  gradientClipNorm: num(5, 1e-6, 1e9, 'SAC: each network’s gradient is scaled down to this L2 norm when longer; LTDE: each team actor’s ascent direction, whose size follows the network’s costs; IC3Net: the one gradient of every weight before its Adam step (1e9: never).', [...SAC, 'ltde', 'ic3net']),
  actionRepeat: int(1, 1, 10_000, 'SAC: control steps each decision is held for, in training and evaluation (a copy decides when its step count is a multiple of it; must divide the horizon). The critics learn a decision’s value over its steps and bootstrap with gamma^actionRepeat.', SAC),
  nSteps: int(1, 1, 1000, 'SAC: stored transitions (decisions) summed along the episode before the critic target bootstraps (1: the one-step target; n: the discounted rewards of the next n, fewer where the episode ended or the buffer holds no more).', SAC),
  ensembleSize: int(7, 1, 64, 'DMPO-SAC: models per agent (a branch step uses one drawn at random per agent); the spec’s 7.', ['dmpo-sac']),
  modelUpdatesPerStep: num(10, 0, 1000, 'DMPO-SAC: model training steps (one Adam step of every model on batchSize real transitions) per environment step.', ['dmpo-sac']),
  modelReplaySize: int(1_000_000, 1, 10_000_000, 'DMPO-SAC: model transitions the model replay keeps (FIFO; nTraj x modelRolloutLength are added per iteration).', ['dmpo-sac']),
  modelReward: choice(
    'learned',
    ['learned', 'environment'],
    'DMPO-SAC: where a model branch’s rewards and done come from. learned: the models’ reward and done outputs (trained with the next state); environment: the simulator’s CACC reward and collision rule applied to each agent’s headway, speed and acceleration recovered from the predicted next state (the authors’ code; the models then learn the next state only; held decisions are scored along the straight line from the start state; docs/dmpo-sac.md).',
    ['dmpo-sac'],
  ),
  realRatio: num(0, 0, 1, 'DMPO-SAC: share of each SAC batch drawn from the real replay, the rest from the model replay (the authors’ code: 0; MBPO: 0.05).', ['dmpo-sac']),
  ic3netVariant: choice('paper', ['paper', 'reference-code'], 'IC3Net: paper (Singh et al.: LSTM, learned send gate, mean of the sending neighbours’ hidden states) or reference-code (the DMPO authors’ feed-forward version, gates open). Default paper: it learns faster here (README).', ['ic3net']),
  valueCoef: num(0.5, 0, 1000, 'IC3Net: weight of the value MSE in the one actor-critic loss.', ['ic3net']),
  bpttSteps: int(20, 1, 1_000_000, 'IC3Net paper variant: steps per truncated-BPTT chunk of the rollout.', ['ic3net']),
  skipFrozenSteps: flag(
    false,
    'IC3Net: leave the steps taken from a frozen state out of the policy and gate loss and out of the advantages’ normalisation (CACC: after a collision the state stands still up to the next multiple of 60 steps, so those actions change nothing and their log-probabilities carry only noise); the value loss keeps them. No other scenario freezes, so there it changes nothing.',
    ['ic3net'],
  ),
} as const satisfies Record<string, Field>;

type Fields = typeof HYPERPARAMETER_FIELDS;
export type HyperparameterName = keyof Fields;
type FieldValue<F> = F extends { kind: 'boolean' } ? boolean : F extends { kind: 'enum'; values: readonly (infer V)[] } ? V : number;
/** Whether learner L reads field F. */
type ReadBy<F, L extends LearnerId> = F extends { learners: readonly (infer X)[] } ? (L extends X ? true : false) : true;

/** Every hyperparameter with its value type. */
export type Hyperparameters = { readonly [K in HyperparameterName]: FieldValue<Fields[K]> };

/** Each learner's resolved configuration: exactly the fields it reads, typed. */
type ConfigTable = {
  readonly [L in LearnerId]: { readonly [K in HyperparameterName as ReadBy<Fields[K], L> extends true ? K : never]: FieldValue<Fields[K]> };
};

/**
 * The resolved configuration of learner L (resolveLearnerConfig). For a union of learners
 * (the default: any learner) one of theirs, so only the fields they all read can be read
 * without narrowing.
 */
export type LearnerConfig<L extends LearnerId = LearnerId> = ConfigTable[L];

/** Every hyperparameter as a spec, in catalogue order (forms, docs and validation read this). */
export const HYPERPARAMETERS: readonly HyperparameterSpec[] = Object.entries(HYPERPARAMETER_FIELDS).map(
  ([name, field]) => ({ name, ...field }) as HyperparameterSpec,
);

/** Values a preset sets: any hyperparameter, typed (a misspelt name does not compile). */
type Overrides = Partial<Hyperparameters>;
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

/** DPO's own paper: 15 epochs, Adam 5e-4 for actor and critic. */
const DPO_OWN: Overrides = { epochs: 15, criticEpochs: 15, lrActor: 5e-4, lrCritic: 5e-4 };

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


/** The hyperparameters a learner reads. */
export function learnerHyperparameters(learner: LearnerId): HyperparameterSpec[] {
  return HYPERPARAMETERS.filter((spec) => spec.learners === undefined || spec.learners.includes(learner));
}

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
 * as the AIS target (every one of 5 seeds better: median -1.018 against -1.043).
 */
const DADC_DEFAULTS: Readonly<Partial<Record<ScenarioId, Overrides>>> = {
  mabc: { ...DADC_DEFAULT, prescriptions: 'opportunities', gaeLambda: 0, aisLambda: 0.95, lrDecayIterations: 25, aisTarget: 'next-observation', numEnvs: 8 },
  'demand-response': { ...DADC_DEFAULT, sharePrescription: true, lrActor: 0.005, aisTarget: 'next-observation' },
};
/**
 * DADC, the paper's appendix E where it gives a value (actor-critic; AIS of 5; Adam 0.08 for
 * the approximator and 0.01 for the critic and the actor; batch 300 for multi-access
 * broadcast, 200 for demand response, which it trains with PPO; gamma 0.9; on multi-access
 * broadcast the actor's gradient weights log psi by the critic, Q(X_t, theta_t): GAE lambda 0,
 * its TD-error form). It has no reference code: `reference-code` is `paper`.
 */
const DADC_PAPER: Readonly<Partial<Record<ScenarioId, Overrides>>> = {
  mabc: { ...DADC_DEFAULT, prescriptions: 'opportunities', numEnvs: 1, rolloutSteps: 300, lrApproximator: 0.08, lrCritic: 0.01, lrActor: 0.01, gaeLambda: 0 },
  'demand-response': { ...DADC_DEFAULT, framework: 'ppo', numEnvs: 1, rolloutSteps: 200, sharePrescription: true },
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
 * seed 1 to 60k env steps).
 */
const IC3NET_DEFAULT: Overrides = { ic3netVariant: 'paper', numEnvs: 4, rolloutSteps: 50, bpttSteps: 25, lrActor: 3e-3, gaeLambda: 0.95, entropyCoef: 0.01, gradientClipNorm: 1e9, criticSteps: 1 };
const IC3NET_CACC_DEFAULT: Overrides = { ...IC3NET_DEFAULT, numEnvs: 8, rolloutSteps: 60, bpttSteps: 20, gaeLambda: 1, rewardScale: 1 / 2000, rewardClip: 2 };
const IC3NET_RING_DEFAULT: Overrides = { ...IC3NET_DEFAULT, gaeLambda: 0, initialLogStd: -1.5, entropyCoef: 0 };

function ic3netPreset(scenario: ScenarioId, preset: LearnerPresetId): Overrides {
  switch (preset) {
    case 'reference-code':
      return { ...DPPO_REFERENCE[scenario], ic3netVariant: 'reference-code', gradientClipNorm: 1e9, criticSteps: 1 };
    case 'paper':
      return { ...PAPER[scenario], ic3netVariant: 'paper', gradientClipNorm: 1e9, criticSteps: 1 };
    case 'default':
      if (scenario === 'ring') return IC3NET_RING_DEFAULT;
      return scenario === 'cacc-catchup' || scenario === 'cacc-slowdown' ? IC3NET_CACC_DEFAULT : IC3NET_DEFAULT;
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
export function resolveLearnerConfig<L extends LearnerId>(
  learner: L,
  scenario: ScenarioId,
  preset: LearnerPresetId = 'default',
  given: Readonly<Record<string, unknown>> = {},
): LearnerConfig<L> {
  if (!learnerTrainsOn(learner, scenario)) {
    throw new ParamError('scenario', `learner ${learner} trains on ${LEARNERS[learner].scenarios!.join(', ')} only, not ${scenario}`);
  }
  const specs = learnerHyperparameters(learner);
  const byName = new Map<string, HyperparameterSpec>(specs.map((spec) => [spec.name, spec]));
  const config: Record<string, ParamValue> = {};
  for (const spec of specs) config[spec.name] = spec.default;
  for (const [name, value] of Object.entries(presetValues(learner, scenario, preset))) {
    if (byName.has(name) && value !== undefined) config[name] = value;
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
  if (learner === 'dadc') checkDadc(scenario, config);
  // Every field learner L reads is set above, each checked against its spec.
  return config as unknown as LearnerConfig<L>;
}

/** DADC's prescription space exists on the scenario (and fits its local information), and its three timescales hold: the approximator learns fastest, the actor slowest. */
function checkDadc(scenario: ScenarioId, config: Readonly<Record<string, ParamValue>>): void {
  if (config.prescriptions === 'opportunities' && scenario !== 'mabc') {
    throw new ParamError('prescriptions', `learner dadc: prescriptions=opportunities needs a scenario with a finite set of prescriptions (mabc), not ${scenario}`);
  }
  if (Number(config.explorationFloor) > 0 && config.prescriptions !== 'opportunities') {
    throw new ParamError('explorationFloor', `learner dadc: explorationFloor=${String(config.explorationFloor)} needs prescriptions=opportunities (a categorical coordinator), not ${String(config.prescriptions)}; use 0`);
  }
  if (config.actorGradient === 'every-choice' && (config.prescriptions !== 'opportunities' || config.framework !== 'actor-critic')) {
    throw new ParamError('actorGradient', `learner dadc: actorGradient=every-choice needs prescriptions=opportunities (a finite set of choices) and framework=actor-critic, not ${String(config.prescriptions)} and ${String(config.framework)}; use sampled`);
  }
  if (config.actorGradient === 'deterministic' && (config.prescriptions === 'opportunities' || config.framework !== 'actor-critic')) {
    throw new ParamError('actorGradient', `learner dadc: actorGradient=deterministic needs a Gaussian coordinator (prescriptions=boltzmann or linear) and framework=actor-critic, not ${String(config.prescriptions)} and ${String(config.framework)}; use sampled`);
  }
  const continuousLocal = scenario === 'cacc-catchup' || scenario === 'cacc-slowdown';
  if (continuousLocal !== (config.prescriptions === 'linear')) {
    const allowed = continuousLocal ? 'linear (its local information, the vehicle’s own observation, is continuous)' : 'boltzmann or opportunities (its local information is a discrete state)';
    throw new ParamError('prescriptions', `learner dadc: prescriptions=${String(config.prescriptions)} does not fit ${scenario}; allowed: ${allowed}`);
  }
  const { lrApproximator, lrCritic, lrActor } = config as Record<string, number>;
  if (lrCritic > lrApproximator || lrActor > lrCritic) {
    throw new ParamError('lrActor', `learner dadc: the learning rates must keep the timescales lrApproximator >= lrCritic >= lrActor; got ${lrApproximator}, ${lrCritic}, ${lrActor}`);
  }
}
