/**
 * Which runs and episodes this thread writes: its writer claims. A row records its writer's
 * host and pid, but the app trains in worker threads that share the pid, so the pid alone
 * cannot tell this thread's runs from a sibling thread's. Every RunStore of a thread shares
 * the thread's WriterClaims (THREAD_CLAIMS: each worker thread loads its own copy of this
 * module, hence its own object), so worker-thread writers of one process never mark each
 * other's runs interrupted, while a run this thread left open when it closed its store shows
 * as interrupted to the next store opened.
 */
import type { WriterClaim } from './writerLiveness.ts';

/** Claims of one kind of row (runs, or episodes), keyed by database file and row id. */
export class ClaimSet {
  /** Held by this thread. */
  private readonly claimed = new Set<string>();
  /** Given up by closing the store without closing the row: its writer is gone. */
  private readonly released = new Set<string>();

  /** This thread writes the row now. */
  claim(file: string, id: number): void {
    this.claimed.add(claimKey(file, id));
  }

  /** Claims the row again after this thread released it (a resumed run). */
  reclaim(file: string, id: number): void {
    this.claimed.add(claimKey(file, id));
    this.released.delete(claimKey(file, id));
  }

  /** The row was closed properly (final status, finished or discarded episode). */
  finish(file: string, id: number): void {
    this.claimed.delete(claimKey(file, id));
  }

  holds(file: string, id: number): boolean {
    return this.claimed.has(claimKey(file, id));
  }

  /** What this thread knows of the row's claim (see isWriterGone). */
  stateOf(file: string, id: number): WriterClaim {
    const key = claimKey(file, id);
    return this.claimed.has(key) ? 'held' : this.released.has(key) ? 'released' : 'none';
  }

  /** A store of `file` closes: the rows it still claims become released. */
  releaseFile(file: string): void {
    for (const key of [...this.claimed]) {
      if (!key.startsWith(`${file}\0`)) continue;
      this.claimed.delete(key);
      this.released.add(key);
    }
  }
}

export class WriterClaims {
  readonly runs = new ClaimSet();
  readonly episodes = new ClaimSet();

  releaseFile(file: string): void {
    this.runs.releaseFile(file);
    this.episodes.releaseFile(file);
  }
}

/** The claims of this thread. */
export const THREAD_CLAIMS = new WriterClaims();

function claimKey(file: string, id: number): string {
  return `${file}\0${id}`;
}
