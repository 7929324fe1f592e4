/**
 * The hyperparameter catalogue shared by every side (trainer, CLI, app forms): the learner and
 * preset ids, every hyperparameter with its documentation, range and the learners that read
 * it, and the types derived from it (a learner's config has exactly the fields it reads; a
 * misspelt name does not compile).
 */
import type { ParamSpec } from './scenarios.ts';

export const LEARNER_IDS = ['ippo', 'mappo', 'cppo', 'dppo', 'dpo', 'dmpo', 'ltde', 'dadc', 'dsac', 'ic3net', 'dmpo-sac'] as const;
export type LearnerId = (typeof LEARNER_IDS)[number];
export const PRESET_IDS = ['default', 'paper', 'reference-code'] as const;
export type LearnerPresetId = (typeof PRESET_IDS)[number];

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
  targetKl: num(0.01, 0, 100, 'Early stop of the epoch loop when mean KL(old||new) exceeds 1.5 x targetKl (0: never; DPO refuses any other value: its adaptive betas are its trust region).', PPO_FAMILY),
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
  criticReturnSteps: int(
    1,
    1,
    16,
    'LTDE: n of the critics’ n-step TD targets, sum_{j<n} gamma^j r(t+j) + gamma^n Q(t+n): a team’s split changes the next team’s cost one hop later, which a TD(0) target (n 1, the paper’s Algorithm 1) carries only through the fitted next Q, an n of 2 or more in an observed reward.',
    ['ltde'],
  ),
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
  actorDecayExponent: num(
    1,
    0.5,
    4,
    'DADC with lrDecayIterations > 0: the exponent p of the actor’s decay, lrActor / (1 + k / lrDecayIterations)^p; above 1 its rate equals the default’s at first and falls below it later (at k = 8 lrDecayIterations: 1/27 of lrActor at p 1.5 against 1/9 at p 1), lowered late without holding it up early; the sum of such rates converges, which the paper’s Robbins-Monro argument excludes (it needs p <= 1). 1: the default’s schedule.',
    ['dadc'],
  ),
  criticReplayWindows: int(
    1,
    1,
    64,
    'DADC: the critic’s TD steps fit the current window and the K - 1 windows before it (kept, unrolled with the current encoder; their prescriptions drawn by the actors of those iterations), so the critic learns from K times the data the actor sees once; 1: the current window only.',
    ['dadc'],
  ),
  actorSteps: int(5, 1, 10_000, 'DADC: actor gradient steps per iteration.', ['dadc']),
  criticUnits: int(
    0,
    0,
    256,
    'DADC: hidden units of each of the critic’s two tanh layers; 0: aisSize (the paper’s mabc critic, appendix E.1, has 5, as its AIS; its demand-response value network, ChainerRL’s PPO default, 64).',
    ['dadc'],
  ),
  actorUnits: int(
    0,
    0,
    256,
    'DADC: hidden units of the coordinator actor’s one tanh layer; 0: aisSize (the paper’s mabc actor has 5, its demand-response policy, ChainerRL’s PPO default, two tanh layers of 64).',
    ['dadc'],
  ),
  criticHead: choice(
    'joint',
    ['joint', 'per-choice'],
    'DADC: the critic’s shape. joint: Q(X_t, theta_t) from [X_t, theta_t], one output; per-choice (prescriptions=opportunities): the critic reads X_t alone, as the paper’s appendix E.1 value head does, and has one output per choice, theta_t (one-hot) picks its own, so the choices share the hidden layers but not the last weights.',
    ['dadc'],
  ),
  coordinatorStd: choice(
    'global',
    ['global', 'state'],
    'DADC, a Gaussian coordinator (prescriptions=boltzmann or linear): its log std. global: one vector for every state, trained on every row of the batch; state: a second output layer on the actor’s hidden layer gives each state its own (zero weights, bias initialLogStd, so it starts where global does), so a rarely seen state such as an episode’s first step keeps its exploration while the frequent ones narrow theirs.',
    ['dadc'],
  ),
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
  spatialDiscount: num(
    0,
    0,
    1,
    'IC3Net: each agent learns from sum_j alpha^d(i,j) r_j, the learning rewards of the agents its graph reaches discounted by alpha per hop d (Chu et al.’s NMARL code, where the CACC scenarios come from: its coop_gamma). 0: its own reward; 1: the sum over every agent (NMARL’s global reward, which its CACC configs train IC3Net on).',
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

/** The hyperparameters a learner reads. */
export function learnerHyperparameters(learner: LearnerId): HyperparameterSpec[] {
  return HYPERPARAMETERS.filter((spec) => spec.learners === undefined || spec.learners.includes(learner));
}
