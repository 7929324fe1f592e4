/**
 * What an iteration reports: named metric series (per-agent series as 'name/agentI'), the
 * summaries of a rollout and of an update, and the iteration's timings.
 */
import type { ActorAgentStats, CriticAgentStats } from './optimiser.ts';

/** Named metric series of one iteration (per-agent series as 'name/agentI'). */
export type IterationMetrics = Record<string, number>;

export interface IterationResult {
  iteration: number;
  envSteps: number;
  metrics: IterationMetrics;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The training episodes that ended during a rollout: how many, and their mean raw return. */
export function episodeSummary(returns: readonly number[]): IterationMetrics {
  return { 'train/episodes': returns.length, 'train/episodeReturn': mean(returns) };
}

/** Means over agents, the per-agent series, and the centralised TV distance (sum over agents). */
export function updateSummary(actor: readonly ActorAgentStats[], critic: readonly CriticAgentStats[]): IterationMetrics {
  const metrics: IterationMetrics = {
    'loss/actor': mean(actor.map((s) => s.loss)),
    'loss/critic': mean(critic.map((s) => s.loss)),
    kl: mean(actor.map((s) => s.kl)),
    clipFraction: mean(actor.map((s) => s.clipFraction)),
    entropy: mean(actor.map((s) => s.entropy)),
    'ratio/min': Math.min(...actor.map((s) => s.ratioMin)),
    'ratio/max': Math.max(...actor.map((s) => s.ratioMax)),
    'tv/mean': mean(actor.map((s) => s.totalVariation)),
    'tv/central': actor.reduce((sum, s) => sum + s.totalVariation, 0),
    earlyStops: actor.filter((s) => s.stoppedEarly).length,
  };
  actor.forEach((s, i) => {
    metrics[`kl/agent${i}`] = s.kl;
    metrics[`tv/agent${i}`] = s.totalVariation;
    metrics[`loss/actor/agent${i}`] = s.loss;
    metrics[`loss/critic/agent${i}`] = critic[i].loss;
  });
  return metrics;
}

/** Times an iteration's two phases: collecting experience, then learning from it. */
export class IterationClock {
  private readonly started = performance.now();
  private collected = this.started;

  /** Marks the end of the rollout. */
  rolloutDone(): void {
    this.collected = performance.now();
  }

  /** The timing metrics, at the end of the update, for `envSteps` steps collected. */
  metrics(envSteps: number): IterationMetrics {
    const updated = performance.now();
    return {
      'time/rolloutSeconds': (this.collected - this.started) / 1000,
      'time/updateSeconds': (updated - this.collected) / 1000,
      'time/envStepsPerSecond': envSteps / ((updated - this.started) / 1000),
    };
  }
}
