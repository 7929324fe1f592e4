/**
 * DADC's checkpoint: everything needed to continue exactly. Every coordinator copy's
 * parameters, Adam moments, common stream, window and critic replay (under the name of the
 * first agent it serves: a copy computed once is stored once), every agent's private stream,
 * the information structure's state, the running statistics of Z (normaliseCommon), the
 * environments and the running episode returns.
 */
import type { RngStreams } from '../../../sim/rng.ts';
import { addPrefixed, restoreArrays, underPrefix, type SnapshotArrays, type TypedArray } from '../../../sim/snapshot.ts';
import type { LearnerState } from '../../core/checkpoint.ts';
import { checkpointMisfit, type TrainingEnvs } from '../../core/rollout.ts';
import type { RunningNormaliser } from '../../core/runningNormaliser.ts';
import type { CoordinatorCopy } from './coordinatorCopy.ts';
import type { InformationStructure } from './information.ts';
import { NETWORK_PARTS } from './networks.ts';

/** What of a DADC learner (dadc.ts) its checkpoint holds. */
export interface DadcCheckpointed {
  readonly coordinators: readonly CoordinatorCopy[];
  readonly agents: readonly { readonly index: number; readonly private: RngStreams }[];
  readonly information: InformationStructure;
  readonly commonScale: RunningNormaliser | null;
  readonly envs: TrainingEnvs;
  readonly runningDiscounted: Float64Array;
  readonly runningSteps: Int32Array;
  readonly iteration: number;
  readonly envSteps: number;
}

/** The learner's state, copied (the learner goes on training). */
export function dadcState(learner: DadcCheckpointed): LearnerState {
  const arrays: Record<string, TypedArray> = {};
  const adamSteps: Record<string, number[]> = {};
  for (const coordinator of learner.coordinators) {
    const prefix = `agent${coordinator.firstAgent}.`;
    for (const part of NETWORK_PARTS) {
      coordinator.networks.parts[part].forEach((m, k) => {
        arrays[`${prefix}${part}.${k}.params`] = m.value;
        arrays[`${prefix}${part}.${k}.adam1`] = coordinator.moments[part][k].first;
        arrays[`${prefix}${part}.${k}.adam2`] = coordinator.moments[part][k].second;
      });
      adamSteps[`${prefix}${part}`] = coordinator.moments[part].map((m) => m.step);
    }
    addPrefixed(arrays, `${prefix}common.`, coordinator.common.snapshot());
    addPrefixed(arrays, `${prefix}window.`, coordinator.window.arrays());
    addPrefixed(arrays, `${prefix}replay.`, coordinator.replay.arrays());
  }
  for (const agent of learner.agents) addPrefixed(arrays, `agent${agent.index}.private.`, agent.private.snapshot());
  addPrefixed(arrays, 'information.', learner.information.arrays());
  if (learner.commonScale) addPrefixed(arrays, 'commonScale.', learner.commonScale.arrays());
  const { episodeCounter } = learner.envs.snapshot(arrays);
  arrays.runningDiscounted = learner.runningDiscounted;
  arrays.runningSteps = learner.runningSteps;
  const copied = Object.fromEntries(Object.entries(arrays).map(([key, array]) => [key, array.slice()]));
  return { meta: { learner: 'dadc', iteration: learner.iteration, envSteps: learner.envSteps, episodeCounter, adamSteps }, arrays: copied };
}

/** Restores `state` into the learner's arrays; returns the iteration and env steps it was taken at. */
export function restoreDadc(learner: DadcCheckpointed, state: LearnerState): { iteration: number; envSteps: number } {
  const { meta, arrays } = state;
  if (meta.learner !== 'dadc') throw new Error(`checkpoint is of learner ${String(meta.learner)}, not dadc`);
  const adamSteps = meta.adamSteps as Record<string, number[]>;
  for (const coordinator of learner.coordinators) {
    const prefix = `agent${coordinator.firstAgent}.`;
    const targets: Record<string, TypedArray> = {};
    for (const part of NETWORK_PARTS) {
      coordinator.networks.parts[part].forEach((m, k) => {
        targets[`${part}.${k}.params`] = m.value;
        targets[`${part}.${k}.adam1`] = coordinator.moments[part][k].first;
        targets[`${part}.${k}.adam2`] = coordinator.moments[part][k].second;
        coordinator.moments[part][k].step = adamSteps[`${prefix}${part}`][k];
      });
    }
    addPrefixed(targets, 'window.', coordinator.window.arrays());
    addPrefixed(targets, 'replay.', coordinator.replay.arrays());
    restoreArrays(targets, underPrefix(arrays, prefix), (key) => checkpointMisfit(`${prefix}${key}`));
    coordinator.common.restore(underPrefix(arrays, `${prefix}common.`));
  }
  for (const agent of learner.agents) agent.private.restore(underPrefix(arrays, `agent${agent.index}.private.`));
  restoreArrays(learner.information.arrays(), underPrefix(arrays, 'information.'), (key) => checkpointMisfit(`information.${key}`));
  if (learner.commonScale) restoreArrays(learner.commonScale.arrays(), underPrefix(arrays, 'commonScale.'), (key) => checkpointMisfit(`commonScale.${key}`));
  learner.envs.restore(arrays, Number(meta.episodeCounter));
  restoreArrays({ runningDiscounted: learner.runningDiscounted, runningSteps: learner.runningSteps }, arrays as SnapshotArrays, checkpointMisfit);
  return { iteration: Number(meta.iteration), envSteps: Number(meta.envSteps) };
}
