/**
 * DPPO: decentralised PPO with the extended value function (DMPO paper eq. 6).
 *
 * Policy on N_i^1, critic V_i on N_i^kappa regressing agent i's own reward-to-go; only the
 * advantage aggregates over the neighbourhood: agent i's advantage comes from
 * V~_i = (1/n) sum_{j in N_i^kappa} V_j, which by linearity of GAE is (1/n) sum_j A_j
 * ('mean-value', the paper). The reference code summed the neighbours' advantages instead
 * ('sum-advantage'); both are offered through `neighbourAggregation`.
 */
import { aggregateNeighbourAdvantages } from '../core/advantages.ts';
import { PpoLearner } from '../core/ppo.ts';

export class DppoLearner extends PpoLearner {
  private readonly criticNeighbourhoods = Array.from({ length: this.agents }, (_, i) => this.env.spec.graph.neighbourhood(i, Number(this.config.kappa)));

  protected override advantages(own: Float32Array, samplesPerAgent: number): Float32Array {
    const extended = new Float32Array(own.length);
    const mode = this.config.neighbourAggregation === 'sum-advantage' ? 'sum-advantage' : 'mean-value';
    aggregateNeighbourAdvantages(own, this.criticNeighbourhoods, samplesPerAgent, mode, extended);
    return extended;
  }
}
