/**
 * Puts a newly started simulation on the live view (the Simulate form's Start, a fork from
 * Replay): the view shows one simulation, so the one it showed stops instead of running on
 * unseen, and the renderer's own stress scene, if on, ends.
 */
import type { JobInfo } from '../../shared/api.ts';
import { useApi } from '../api/index.ts';
import { useLiveStore } from '../stores/live.ts';

export function showLiveJob(info: JobInfo): void {
  const live = useLiveStore();
  const previous = live.job;
  if (previous && previous.id !== info.id && live.source === 'job' && (previous.status === 'running' || previous.status === 'paused' || previous.status === 'starting')) {
    void useApi()
      .controlJob(previous.id, { type: 'stop' })
      .catch(() => {});
  }
  live.detachLocal();
  live.attach(info);
}
