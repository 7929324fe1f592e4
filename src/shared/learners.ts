/**
 * Learner catalogue shared by every side (trainer, CLI, app forms): the learners (title,
 * summary, scenarios, what policy and critic see), the hyperparameter catalogue of
 * hyperparameters.ts, and the resolution of a learner's configuration (catalogue defaults,
 * then the preset of learnerPresets.ts for the scenario, then the user's settings).
 */
import { HYPERPARAMETERS, LEARNER_IDS, learnerHyperparameters, type HyperparameterSpec, type LearnerConfig, type LearnerId, type LearnerPresetId } from './hyperparameters.ts';
import { presetValues } from './learnerPresets.ts';
import { coerceParam, ParamError, type ParamValue, type ScenarioId } from './scenarios.ts';

// The catalogue's ids, types and fields are declared in hyperparameters.ts (the presets read
// them without a cycle); every consumer imports the learner catalogue from here.
export {
  HYPERPARAMETERS,
  LEARNER_IDS,
  learnerHyperparameters,
  PPO_FAMILY,
  PRESET_IDS,
  type HyperparameterName,
  type Hyperparameters,
  type HyperparameterSpec,
  type LearnerConfig,
  type LearnerId,
  type LearnerPresetId,
  type PpoFamilyId,
} from './hyperparameters.ts';

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
  /**
   * Its updates run on `--threads` update workers. Without it the learner trains on one
   * thread (DSAC, DMPO-SAC and IC3Net on the tensor backend, LTDE and DADC in plain
   * JavaScript), so a run starts no workers and uses one core whatever `--threads` says.
   */
  updateWorkers?: true;
  /** Hops of the agent graph the policy sees: 0 = own observation, 1 = N^1. */
  policyRadius: 0 | 1;
  /** What the critic sees: own observation, the kappa-hop neighbourhood, or every agent. */
  critic: 'own' | 'neighbourhood' | 'global';
  /** How agent i's advantage is formed. */
  advantage: 'own' | 'global-value' | 'extended-value';
}

export const LEARNERS: Readonly<Record<LearnerId, LearnerInfo>> = {
  ippo: { id: 'ippo', title: 'IPPO', updateWorkers: true, summary: 'Independent PPO: own observation, own critic, own advantage.', policyRadius: 0, critic: 'own', advantage: 'own' },
  mappo: {
    id: 'mappo',
    title: 'MAPPO',
    updateWorkers: true,
    summary: 'PPO with a centralised critic on all agents’ observations (global state).',
    policyRadius: 0,
    critic: 'global',
    advantage: 'global-value',
  },
  cppo: {
    id: 'cppo',
    title: 'CPPO',
    updateWorkers: true,
    summary: 'Neighbourhood policy (N^1) with a critic on all agents: the DMPO paper’s baseline.',
    policyRadius: 1,
    critic: 'global',
    advantage: 'own',
  },
  dppo: {
    id: 'dppo',
    title: 'DPPO',
    updateWorkers: true,
    summary: 'Decentralised PPO with the extended value function over N^kappa (DMPO paper eq. 6).',
    policyRadius: 1,
    critic: 'neighbourhood',
    advantage: 'extended-value',
  },
  dpo: { id: 'dpo', title: 'DPO', updateWorkers: true, summary: 'Fully decentralised surrogate with adaptive KL penalties (no clipping).', policyRadius: 0, critic: 'own', advantage: 'own' },
  dmpo: {
    id: 'dmpo',
    title: 'DMPO',
    updateWorkers: true,
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

/** The threads a run of `learner` given `--threads threads` trains with: one (no update worker) for learners that train on one thread. */
export function updateThreads(learner: LearnerId, threads: number): number {
  return LEARNERS[learner].updateWorkers ? threads : 1;
}

/** Whether `learner` trains on `scenario`. */
export function learnerTrainsOn(learner: LearnerId, scenario: ScenarioId): boolean {
  return LEARNERS[learner].scenarios?.includes(scenario) ?? true;
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
  if (learner === 'dpo') checkDpo(config);
  // Every field learner L reads is set above, each checked against its spec.
  return config as unknown as LearnerConfig<L>;
}

/**
 * DPO has no KL early stop: its adaptive betas are its only trust region. An early stop
 * ends an agent's epochs just past 1.5 targetKl, so its batch KL lands wherever targetKl puts
 * it rather than where the penalty drove it, and the betas' rule (double past 1.5 dTarget)
 * then answers the stop, not the policy: at targetKl = dTarget they doubled in every iteration
 * (to 1e7-1e10 on the ring) and the policy collapsed. So a positive targetKl is refused.
 */
function checkDpo(config: Readonly<Record<string, ParamValue>>): void {
  if (Number(config.targetKl) > 0) {
    throw new ParamError('targetKl', `learner dpo: targetKl=${String(config.targetKl)} is not allowed; DPO has no KL early stop (its adaptive betas, steered by dTarget, are its trust region), so targetKl must be 0`);
  }
}

/** DADC's prescription space exists on the scenario (and fits its local information), and its three timescales hold: the approximator learns fastest, the actor slowest. */
function checkDadc(scenario: ScenarioId, config: Readonly<Record<string, ParamValue>>): void {
  if (config.prescriptions === 'opportunities' && scenario !== 'mabc') {
    throw new ParamError('prescriptions', `learner dadc: prescriptions=opportunities needs a scenario with a finite set of prescriptions (mabc), not ${scenario}`);
  }
  if (Number(config.explorationFloor) > 0 && config.prescriptions !== 'opportunities') {
    throw new ParamError('explorationFloor', `learner dadc: explorationFloor=${String(config.explorationFloor)} needs prescriptions=opportunities (a categorical coordinator), not ${String(config.prescriptions)}; use 0`);
  }
  if (config.criticHead === 'per-choice' && config.prescriptions !== 'opportunities') {
    throw new ParamError('criticHead', `learner dadc: criticHead=per-choice needs prescriptions=opportunities (a finite set of choices, theta one-hot), not ${String(config.prescriptions)}; use joint`);
  }
  if (config.actorGradient === 'every-choice' && (config.prescriptions !== 'opportunities' || config.framework !== 'actor-critic')) {
    throw new ParamError('actorGradient', `learner dadc: actorGradient=every-choice needs prescriptions=opportunities (a finite set of choices) and framework=actor-critic, not ${String(config.prescriptions)} and ${String(config.framework)}; use sampled`);
  }
  if (config.actorGradient === 'deterministic' && (config.prescriptions === 'opportunities' || config.framework !== 'actor-critic')) {
    throw new ParamError('actorGradient', `learner dadc: actorGradient=deterministic needs a Gaussian coordinator (prescriptions=boltzmann or linear) and framework=actor-critic, not ${String(config.prescriptions)} and ${String(config.framework)}; use sampled`);
  }
  if (config.coordinatorStd === 'state' && config.prescriptions === 'opportunities') {
    throw new ParamError('coordinatorStd', `learner dadc: coordinatorStd=state needs a Gaussian coordinator (prescriptions=boltzmann or linear), not ${String(config.prescriptions)}; use global`);
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
