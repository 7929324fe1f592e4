/**
 * The PPO family: IPPO, MAPPO, CPPO and DPPO, one actor and one critic per agent.
 *
 * - IPPO, MAPPO and CPPO differ only in what the policy and the critic see (the learner
 *   catalogue in src/shared/learners.ts: own observation or N^1; own or global), and each
 *   agent's advantage is its own GAE.
 * - DPPO (DMPO paper eq. 6): policy on N_i^1, critic V_i on N_i^kappa regressing agent i's own
 *   reward-to-go; only the advantage aggregates over the neighbourhood: agent i's advantage
 *   comes from V~_i = (1/n) sum_{j in N_i^kappa} V_j, which by linearity of GAE is
 *   (1/n) sum_j A_j ('mean-value', the paper). The reference code summed the neighbours'
 *   advantages instead ('sum-advantage'); both are offered through `neighbourAggregation`.
 * - With `ratio: joint` the actors take JR-PPO's joint-ratio step (core/jointRatio.ts).
 *
 * Choices where the specs are silent:
 * - Each agent's critic regresses its own (scaled) reward-to-go, also with a global input
 *   (MAPPO, CPPO): the scenarios give per-agent rewards, so "V(s)" is agent i's V_i(s).
 * - Evaluation is deterministic (core/evaluation.ts).
 */
import { extendedAdvantages, normalisePerAgent, rolloutAdvantages } from '../core/advantages.ts';
import { episodeSummary, type IterationMetrics } from '../core/iteration.ts';
import type { LearnerProgram, LearnerSetup, OnPolicyRun } from '../core/learner.ts';
import { clipLoss, ppoUpdate } from '../core/ppoUpdate.ts';
import type { RolloutBuffer } from '../core/rollout.ts';
import type { UpdatePool } from '../parallel/updatePool.ts';

/** The learners this program runs (DMPO runs it on its real and model rollouts). */
export type PpoFamilySetup = LearnerSetup<'ippo' | 'mappo' | 'cppo'> | LearnerSetup<'dppo'> | LearnerSetup<'dmpo'>;

export class PpoFamily implements LearnerProgram {
  /** DPPO's and DMPO's extended value: every agent's N_i^kappa and how it aggregates; null for own advantages. */
  private readonly extended: { neighbourhoods: number[][]; mode: 'mean-value' | 'sum-advantage' } | null;

  constructor(
    private readonly setup: PpoFamilySetup,
    private readonly run: OnPolicyRun,
    private readonly pool: UpdatePool,
  ) {
    const { graph, nAgents } = run.policy.spec;
    this.extended =
      setup.learner === 'dppo' || setup.learner === 'dmpo'
        ? { neighbourhoods: Array.from({ length: nAgents }, (_, i) => graph.neighbourhood(i, setup.config.kappa)), mode: setup.config.neighbourAggregation }
        : null;
  }

  async iterate(): Promise<IterationMetrics> {
    const episodes = this.run.collect();
    const metrics = await this.update(this.run.rollout);
    return { ...metrics, ...episodeSummary(episodes) };
  }

  /** Values, (extended) advantages, and the PPO update of actors and critics on a filled rollout. */
  async update(rollout: RolloutBuffer): Promise<IterationMetrics> {
    const { setup, run } = this;
    const { config } = setup;
    const own = rolloutAdvantages(rollout, config.gamma, config.gaeLambda);
    const advantages = this.extended === null ? own : extendedAdvantages(own, this.extended.neighbourhoods, this.extended.mode);
    if (config.normaliseAdvantages) normalisePerAgent(advantages, run.policy.agents);
    const loss = clipLoss(config, run.policy.agents);
    const { metrics } = await ppoUpdate(this.pool, run.policy, rollout, advantages, loss, config, run.shuffleSeed);
    return metrics;
  }
}
