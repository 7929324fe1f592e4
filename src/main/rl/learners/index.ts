/**
 * The learners by id. IPPO, MAPPO and CPPO are the shared PPO core as it stands (they differ
 * in what policy and critic see, from the learner catalogue); DPPO adds the extended value
 * function, DPO its penalised surrogate, DMPO local models and branched rollouts on top of DPPO.
 */
import type { LearnerId } from '../../../shared/learners.ts';
import { PpoLearner, type LearnerSetup } from '../core/ppo.ts';
import type { NetworkTrainer } from '../trainer.ts';
import { DmpoLearner } from './dmpo.ts';
import { DpoLearner } from './dpo.ts';
import { DppoLearner } from './dppo.ts';

const LEARNER_CLASSES: Record<LearnerId, typeof PpoLearner> = {
  ippo: PpoLearner,
  mappo: PpoLearner,
  cppo: PpoLearner,
  dppo: DppoLearner,
  dpo: DpoLearner,
  dmpo: DmpoLearner,
};

export function createLearner(setup: LearnerSetup, trainer: NetworkTrainer): PpoLearner {
  return new LEARNER_CLASSES[setup.learner](setup, trainer);
}
