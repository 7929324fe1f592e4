/**
 * DPO ("A Fully Decentralized Surrogate for Multi-Agent Policy Optimization"): per agent,
 * maximise mean of (1/N) ratio_i A_i - beta1_i sqrt(KL_s + 1e-8) - beta2_i KL_s with the
 * analytic per-state KL(pi_old || pi_i), no clipping. After each update, with d_i the
 * batch-mean KL of agent i: d_i > 1.5 dTarget doubles both betas, d_i < dTarget / 1.5
 * halves them. Variants: 'no-sqrt' (beta1 = 0: IPPO with an adaptive KL penalty) and
 * 'no-kl' (beta2 = 0). Policy and critic see the agent's own observation. Its presets set no
 * KL early stop (targetKl 0: the betas are its trust region) and its paper's dTarget for the
 * scenario's kind of action (learnerPresets.ts, DPO_UPDATE and DPO_OWN).
 */
import { normalisePerAgent, rolloutAdvantages } from '../core/advantages.ts';
import type { LearnerState } from '../core/checkpoint.ts';
import { episodeSummary, mean, type IterationMetrics } from '../core/iteration.ts';
import type { LearnerProgram, LearnerSetup, OnPolicyRun } from '../core/learner.ts';
import type { DpoLoss } from '../core/losses.ts';
import { earlyStopKl, ppoUpdate } from '../core/ppoUpdate.ts';
import type { UpdatePool } from '../parallel/updatePool.ts';

const ADAPT_MARGIN = 1.5;

export class Dpo implements LearnerProgram {
  private readonly beta1: number[];
  private readonly beta2: number[];

  constructor(
    private readonly setup: LearnerSetup<'dpo'>,
    private readonly run: OnPolicyRun,
    private readonly pool: UpdatePool,
  ) {
    const { config } = setup;
    const agents = run.policy.agents;
    this.beta1 = new Array<number>(agents).fill(config.dpoVariant === 'no-sqrt' ? 0 : config.beta1);
    this.beta2 = new Array<number>(agents).fill(config.dpoVariant === 'no-kl' ? 0 : config.beta2);
  }

  async iterate(): Promise<IterationMetrics> {
    const { config } = this.setup;
    const { run } = this;
    const episodes = run.collect();
    const advantages = rolloutAdvantages(run.rollout, config.gamma, config.gaeLambda);
    if (config.normaliseAdvantages) normalisePerAgent(advantages, run.policy.agents);
    const update = await ppoUpdate(this.pool, run.policy, run.rollout, advantages, this.loss(), config, run.shuffleSeed);
    adaptDpoPenalties(this.beta1, this.beta2, update.stats.map((s) => s.kl), config.dTarget);
    return { ...update.metrics, ...this.penaltyMetrics(), ...episodeSummary(episodes) };
  }

  /** The penalised surrogate with the current betas (copied: the update may run on workers). */
  private loss(): DpoLoss {
    const { config } = this.setup;
    return {
      kind: 'dpo',
      agentCount: this.run.policy.agents,
      beta1: [...this.beta1],
      beta2: [...this.beta2],
      entropyCoefficient: config.entropyCoef,
      targetKl: earlyStopKl(config.targetKl),
    };
  }

  private penaltyMetrics(): IterationMetrics {
    const metrics: IterationMetrics = { 'dpo/beta1': mean(this.beta1), 'dpo/beta2': mean(this.beta2) };
    this.beta1.forEach((_, i) => {
      metrics[`dpo/beta1/agent${i}`] = this.beta1[i];
      metrics[`dpo/beta2/agent${i}`] = this.beta2[i];
    });
    return metrics;
  }

  saveState(state: LearnerState): void {
    state.meta.dpoBeta1 = [...this.beta1];
    state.meta.dpoBeta2 = [...this.beta2];
  }

  restoreState(state: LearnerState): void {
    (state.meta.dpoBeta1 as number[]).forEach((b, i) => (this.beta1[i] = b));
    (state.meta.dpoBeta2 as number[]).forEach((b, i) => (this.beta2[i] = b));
  }
}

/** DPO's adaptive penalties: double both betas of an agent whose KL overshot 1.5 dTarget, halve them below dTarget / 1.5. */
export function adaptDpoPenalties(beta1: number[], beta2: number[], kl: readonly number[], dTarget: number): void {
  kl.forEach((d, i) => {
    const factor = d > dTarget * ADAPT_MARGIN ? 2 : d < dTarget / ADAPT_MARGIN ? 0.5 : 1;
    beta1[i] *= factor;
    beta2[i] *= factor;
  });
}
