/**
 * The PPO update on a filled rollout: every agent's actor on its advantages (the clipped
 * surrogate with per-agent ratios, DPO's penalised surrogate, or JR-PPO's joint ratio) and
 * every agent's critic on its returns, both on the update pool, actor first.
 */
import type { Hyperparameters } from '../../../shared/learners.ts';
import type { UpdatePool } from '../parallel/updatePool.ts';
import type { ActorCritic } from './actorCritic.ts';
import { updateSummary, type IterationMetrics } from './iteration.ts';
import { jointRatioUpdate } from './jointRatio.ts';
import type { ActorLoss, PpoClipLoss } from './losses.ts';
import type { ActorAgentStats, UpdateSchedule } from './optimiser.ts';
import type { RolloutBuffer } from './rollout.ts';

/** What the update reads of a learner's config (`ratio` only where the learner offers JR-PPO). */
export type PpoUpdateConfig = Pick<Hyperparameters, 'epochs' | 'criticEpochs' | 'minibatches' | 'lrActor' | 'lrCritic' | 'targetKl' | 'entropyCoef'> & {
  readonly ratio?: Hyperparameters['ratio'];
};

export interface PpoUpdateResult {
  /** Per-agent actor statistics after the update. */
  readonly stats: ActorAgentStats[];
  /** updateSummary of actors and critics, plus the joint ratio's figures under JR-PPO. */
  readonly metrics: IterationMetrics;
}

/** The KL target of the epoch loop's early stop; none when targetKl is 0. */
export function earlyStopKl(targetKl: number): number | undefined {
  return targetKl > 0 ? targetKl : undefined;
}

/** PPO-clip with epsilon fixed, or alpha / N per agent (the per-agent-count clip). */
export function clipLoss(config: Pick<Hyperparameters, 'clip' | 'clipAlpha' | 'clipEpsilon' | 'entropyCoef' | 'targetKl'>, agents: number): PpoClipLoss {
  const epsilon = config.clip === 'per-agent-count' ? config.clipAlpha / agents : config.clipEpsilon;
  return { kind: 'ppo-clip', clipEpsilon: epsilon, entropyCoefficient: config.entropyCoef, targetKl: earlyStopKl(config.targetKl) };
}

/** Updates actors on `advantages` ([n, T, E]) with `loss`, and critics on the buffer's returns. */
export async function ppoUpdate(
  pool: UpdatePool,
  policy: ActorCritic,
  buffer: RolloutBuffer,
  advantages: Float32Array,
  loss: ActorLoss,
  config: PpoUpdateConfig,
  shuffleSeed: number,
): Promise<PpoUpdateResult> {
  const { networks } = policy;
  const samples = buffer.samples;
  const schedule = (epochs: number, learningRate: number): UpdateSchedule => ({ epochs, minibatches: config.minibatches, learningRate, shuffleSeed });
  const actorUpdate = config.ratio === 'joint' ? jointRatioActors(pool, policy, buffer, advantages, loss, config) : independentActors();
  const [actor, criticStats] = await Promise.all([
    actorUpdate,
    pool.updateCritics(networks, { samples, observations: buffer.criticInputs, returns: buffer.returns }, schedule(config.criticEpochs, config.lrCritic)),
  ]);
  return { stats: actor.stats, metrics: { ...updateSummary(actor.stats, criticStats), ...actor.metrics } };

  async function independentActors(): Promise<PpoUpdateResult> {
    const batch = { samples, observations: buffer.actorInputs, actions: buffer.actions, advantages, oldOutput: buffer.oldOutput, oldLogStd: buffer.oldLogStd ?? undefined };
    const stats = await pool.updateActors(networks, batch, loss, schedule(config.epochs, config.lrActor));
    return { stats, metrics: {} };
  }
}

function jointRatioActors(pool: UpdatePool, policy: ActorCritic, buffer: RolloutBuffer, advantages: Float32Array, loss: ActorLoss, config: PpoUpdateConfig): Promise<PpoUpdateResult> {
  if (loss.kind !== 'ppo-clip' || typeof loss.clipEpsilon !== 'number') throw new Error('the joint ratio (JR-PPO) clips with one epsilon for all agents');
  return jointRatioUpdate(pool, policy.networks, policy.head, buffer, advantages, {
    epochs: config.epochs,
    clipEpsilon: loss.clipEpsilon,
    learningRate: config.lrActor,
    targetKl: config.targetKl,
    entropyCoefficient: config.entropyCoef,
  });
}
