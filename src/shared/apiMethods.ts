/**
 * The names of the api methods and the Electron IPC channels, and nothing else: no zod, no
 * payload types, so the sandboxed preload bundles only these few lines. src/shared/api.ts
 * declares each method's request and response in one table checked against this list (a
 * method missing from either side, or one too many, is a compile error).
 */

/** Electron IPC channels (preload <-> main). */
export const IPC_INVOKE_CHANNEL = 'headway:invoke';
export const IPC_EVENT_CHANNEL = 'headway:event';

export const API_METHODS = [
  'hello',
  'validateJob',
  'startJob',
  'controlJob',
  'listJobs',
  'snapshot',
  'listRuns',
  'listSweeps',
  'getRun',
  'updateRun',
  'deleteRun',
  'runMetrics',
  'readEpisodeSteps',
  'readEpisodeTraces',
] as const;

export type ApiMethod = (typeof API_METHODS)[number];
