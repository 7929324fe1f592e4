/** Messages between the trainer (main thread) and an update worker. */
import type { BackendChoice, BackendReport } from '../nn/backend.ts';
import type { ActorAgentStats, ActorGroupsJob, CriticAgentStats, CriticGroupsJob } from '../core/optimiser.ts';
import type { ParameterGroup } from '../nn/parameters.ts';

/** workerData of an update worker. */
export interface WorkerConfig {
  readonly backend: BackendChoice;
  readonly checkCache: string | null;
}

/** The worker's first message. */
export type WorkerStartup = { readonly ok: true; readonly backend: BackendReport } | { readonly ok: false; readonly error: string };

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'actor'; readonly job: ActorGroupsJob }
  | { readonly id: number; readonly kind: 'critic'; readonly job: CriticGroupsJob };

export type WorkerReply =
  | { readonly id: number; readonly groups: ParameterGroup[]; readonly stats: ActorAgentStats[] | CriticAgentStats[] }
  | { readonly id: number; readonly error: string };

/** The buffers of a group's arrays, to move (not copy) them between threads. */
export function groupBuffers(groups: readonly ParameterGroup[]): ArrayBuffer[] {
  return groups.flatMap((group) => [group.params, group.moments.first, group.moments.second].map((array) => array.buffer as ArrayBuffer));
}
