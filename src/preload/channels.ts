/**
 * The IPC channel names and method list, without the rest of the contract: the preload
 * bundle stays a few lines (no zod in the sandboxed preload). Kept equal to src/shared/api.ts
 * by a unit test.
 */
import type { ApiMethod } from '../shared/api.ts';

export const IPC_INVOKE_CHANNEL = 'headway:invoke';
export const IPC_EVENT_CHANNEL = 'headway:event';
export const API_METHODS_LIST: readonly ApiMethod[] = [
  'hello',
  'validateJob',
  'startJob',
  'controlJob',
  'listJobs',
  'snapshot',
  'listRuns',
  'getRun',
  'updateRun',
  'deleteRun',
  'runMetrics',
  'readEpisodeSteps',
  'readEpisodeTraces',
];
