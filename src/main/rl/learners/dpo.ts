/**
 * DPO ("A Fully Decentralized Surrogate for Multi-Agent Policy Optimization"): per agent,
 * maximise mean of (1/N) ratio_i A_i - beta1_i sqrt(KL_s + 1e-8) - beta2_i KL_s with the
 * analytic per-state KL(pi_old || pi_i), no clipping. After each update, with d_i the
 * batch-mean KL of agent i: d_i > 1.5 dTarget doubles both betas, d_i < dTarget / 1.5
 * halves them. Variants: 'no-sqrt' (beta1 = 0: IPPO with an adaptive KL penalty) and
 * 'no-kl' (beta2 = 0).
 */
import type { LearnerState } from '../core/stateCodec.ts';
import { PpoLearner, type IterationMetrics } from '../core/ppo.ts';
import type { ActorAgentStats } from '../group-update.ts';
import type { ActorLoss } from '../policy-loss.ts';

const ADAPT_MARGIN = 1.5;

export class DpoLearner extends PpoLearner {
  private readonly beta1 = new Array<number>(this.agents).fill(this.config.dpoVariant === 'no-sqrt' ? 0 : Number(this.config.beta1));
  private readonly beta2 = new Array<number>(this.agents).fill(this.config.dpoVariant === 'no-kl' ? 0 : Number(this.config.beta2));

  protected override actorLoss(): ActorLoss {
    return {
      kind: 'dpo',
      agentCount: this.agents,
      beta1: [...this.beta1],
      beta2: [...this.beta2],
      entropyCoefficient: Number(this.config.entropyCoef),
      targetKl: this.earlyStopKl(),
    };
  }

  protected override afterUpdate(stats: ActorAgentStats[]): IterationMetrics {
    adaptDpoPenalties(this.beta1, this.beta2, stats.map((s) => s.kl), Number(this.config.dTarget));
    const metrics: IterationMetrics = {};
    stats.forEach((_, i) => {
      metrics[`dpo/beta1/agent${i}`] = this.beta1[i];
      metrics[`dpo/beta2/agent${i}`] = this.beta2[i];
    });
    metrics['dpo/beta1'] = this.beta1.reduce((a, b) => a + b, 0) / this.agents;
    metrics['dpo/beta2'] = this.beta2.reduce((a, b) => a + b, 0) / this.agents;
    return metrics;
  }

  override state(): LearnerState {
    const state = super.state();
    state.meta.dpoBeta1 = [...this.beta1];
    state.meta.dpoBeta2 = [...this.beta2];
    return state;
  }

  override restore(state: LearnerState): void {
    super.restore(state);
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
