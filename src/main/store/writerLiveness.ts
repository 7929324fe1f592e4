/**
 * Whether the process that was writing a run (or recording an episode) is gone, so that its
 * unfinished work can be marked interrupted. Writers record their host name, pid and a
 * heartbeat (the time of their last write).
 */
import { hostname, uptime } from 'node:os';

export const THIS_HOST = hostname();

/** Allowance for the boot time computed from the clock and the uptime. */
const BOOT_TIME_SLACK_MS = 60_000;
/** A writer on another machine (shared folder, copied database) that has been silent this long has stopped. */
const FOREIGN_WRITER_SILENCE_MS = 24 * 3600_000;

/** When this process started: worker threads share the pid and this time. */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

/**
 * What this thread knows of a writer claim with our pid: it holds it, it held it and closed
 * its store without finishing (the writer is gone), or neither.
 */
export type WriterClaim = 'held' | 'released' | 'none';

/**
 * A pid equal to ours with no claim in this thread is another thread of this process (the
 * app trains in worker threads) when the heartbeat is from this process's lifetime, else an
 * earlier process whose pid we inherited. Pid reuse by an unrelated process after a reboot
 * is caught by the heartbeat being older than the boot.
 */
export function isWriterGone(host: string | null, pid: number | null, heartbeatMs: number | null, claim: WriterClaim, nowMs = Date.now()): boolean {
  if (host === null || pid === null) return true;
  if (host !== THIS_HOST) return heartbeatMs === null || nowMs - heartbeatMs > FOREIGN_WRITER_SILENCE_MS;
  if (pid === process.pid) return claim === 'released' || (claim === 'none' && (heartbeatMs === null || heartbeatMs < PROCESS_START_MS - 1000));
  const bootMs = nowMs - uptime() * 1000;
  if (heartbeatMs !== null && heartbeatMs < bootMs - BOOT_TIME_SLACK_MS) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: alive but owned by another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
