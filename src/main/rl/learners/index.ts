/**
 * The learners by id. The PPO family runs its programs over the shared OnPolicyRun: IPPO,
 * MAPPO, CPPO and DPPO are the PPO family's program (ppo.ts), DPO its penalised surrogate
 * (dpo.ts), DMPO DPPO with local models and branched rollouts (dmpo/). LTDE (ltde.ts, team
 * networks on a road network), DADC (dadc/, coordinators on common information) and IC3Net
 * (ic3net/, communicating recurrent agents) are learners of their own shape; DMPO-SAC
 * (dmpoSac/) is DSAC's parts with ensemble models and branched rollouts.
 */
import type { LearnerId, PpoFamilyId } from '../../../shared/learners.ts';
import { OnPolicyLearner, OnPolicyRun, type Learner, type LearnerProgram, type LearnerSetup } from '../core/learner.ts';
import type { UpdatePool } from '../parallel/updatePool.ts';
import { Dadc } from './dadc/dadc.ts';
import { Dmpo } from './dmpo/dmpo.ts';
import { DmpoSac } from './dmpoSac/dmpoSac.ts';
import { Dpo } from './dpo.ts';
import { Dsac } from './dsac/dsac.ts';
import { Ic3net } from './ic3net/ic3net.ts';
import { Ltde } from './ltde.ts';
import { PpoFamily } from './ppo.ts';

export function createLearner(setup: LearnerSetup, pool: UpdatePool): Learner {
  switch (setup.learner) {
    case 'ippo':
    case 'mappo':
    case 'cppo':
    case 'dppo':
    case 'dpo':
    case 'dmpo':
      return createOnPolicyLearner(configured(setup, setup.learner), pool);
    case 'ltde':
      return new Ltde(configured(setup, 'ltde'));
    case 'dadc':
      return new Dadc(configured(setup, 'dadc'));
    case 'dsac':
      return new Dsac(configured(setup, 'dsac'));
    case 'ic3net':
      return new Ic3net(configured(setup, 'ic3net'));
    case 'dmpo-sac':
      return new DmpoSac(configured(setup, 'dmpo-sac'));
  }
}

/** A learner of the PPO family, with its run and actor-critic open to inspection (tests, benchmarks). */
export function createOnPolicyLearner(setup: LearnerSetup<PpoFamilyId>, pool: UpdatePool): OnPolicyLearner {
  const run = new OnPolicyRun(setup);
  return new OnPolicyLearner(setup, run, programOf(setup, run, pool));
}

function programOf(setup: LearnerSetup<PpoFamilyId>, run: OnPolicyRun, pool: UpdatePool): LearnerProgram {
  switch (setup.learner) {
    case 'ippo':
    case 'mappo':
    case 'cppo':
      return new PpoFamily(configured(setup, setup.learner), run, pool);
    case 'dppo':
      return new PpoFamily(configured(setup, 'dppo'), run, pool);
    case 'dpo':
      return new Dpo(configured(setup, 'dpo'), run, pool);
    case 'dmpo':
      return new Dmpo(configured(setup, 'dmpo'), run, pool);
  }
}

/**
 * The setup with its config typed for learner `id` (the case it was switched to):
 * resolveLearnerConfig(id, ...) resolved every field that learner reads.
 */
function configured<L extends LearnerId>(setup: LearnerSetup, id: L): LearnerSetup<L> {
  if (setup.learner !== id) throw new Error(`a ${setup.learner} setup is not a ${id} setup`);
  return setup as unknown as LearnerSetup<L>;
}
