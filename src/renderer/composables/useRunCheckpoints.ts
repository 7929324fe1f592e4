/**
 * The checkpoints of one chosen run, read from the history for a checkpoint choice (the
 * Simulate form's stored-run policy, the fork form's run policy): only the latest request's
 * answer is kept, so a quick change of run never shows another run's checkpoints.
 */
import { shallowRef } from 'vue';
import type { CheckpointInfo } from '../../shared/runs.ts';
import { useApi } from '../api/index.ts';

export function useRunCheckpoints(onError: (runId: number, reason: string) => void) {
  const checkpoints = shallowRef<CheckpointInfo[]>([]);
  let ticket = 0;

  /** Lists run `runId`'s checkpoints (none for null); a failure goes to `onError` with its reason. */
  async function load(runId: number | null): Promise<void> {
    const mine = ++ticket;
    checkpoints.value = [];
    if (runId === null) return;
    try {
      const overview = await useApi().getRun(runId);
      if (mine === ticket) checkpoints.value = overview.checkpoints;
    } catch (error) {
      if (mine === ticket) onError(runId, error instanceof Error ? error.message : String(error));
    }
  }

  return { checkpoints, load };
}
