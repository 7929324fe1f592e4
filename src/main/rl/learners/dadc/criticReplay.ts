/**
 * The critic's replay (criticReplayWindows K): copies of the last K - 1 windows a coordinator
 * learned from, which its TD steps see besides the current window, so the critic is fitted on
 * K times the data the actor learns from once. The choices of mabc's optimum differ by a few
 * thousandths of Q (docs/dadc.md), and the critic fitted on one window of 800 rows ranks them
 * by its noise; more rows per TD step average it. The replayed windows keep what was recorded
 * (Z, theta, rewards, episode ends, the recurrent state each started from) and are unrolled
 * with the current encoder, as the current window is, so their AIS is today's. Their theta
 * were drawn by earlier actors: the critic learns Q of a mixture of the last K policies, which
 * the slow, decaying actor keeps close to the current one.
 */
import type { TypedArray } from '../../../sim/snapshot.ts';
import { AgentWindow } from './window.ts';

export class CriticReplay {
  private readonly windows: AgentWindow[];
  /** [windows held, index the next copy overwrites] (an array: it travels in checkpoints). */
  private readonly cursor = new Int32Array(2);

  constructor(held: number, steps: number, copies: number, commonWidth: number, prescription: number, ais: number) {
    this.windows = Array.from({ length: held }, () => new AgentWindow(steps, copies, commonWidth, prescription, ais));
  }

  /** Keeps a copy of `window` (learned from this iteration, not yet carried over), in place of the oldest once full. */
  keep(window: AgentWindow): void {
    if (this.windows.length === 0) return;
    const [count, next] = this.cursor;
    this.windows[next].copyFrom(window);
    this.cursor[0] = Math.min(count + 1, this.windows.length);
    this.cursor[1] = (next + 1) % this.windows.length;
  }

  /** The windows held, oldest first. */
  held(): AgentWindow[] {
    const [count, next] = this.cursor;
    const start = count < this.windows.length ? 0 : next;
    return Array.from({ length: count }, (_, k) => this.windows[(start + k) % this.windows.length]);
  }

  /** Everything a checkpoint needs (live views); nothing when no window is held (K = 1), so such checkpoints are as before. */
  arrays(): Record<string, TypedArray> {
    if (this.windows.length === 0) return {};
    const arrays: Record<string, TypedArray> = { cursor: this.cursor };
    this.windows.forEach((window, k) => {
      for (const [name, array] of Object.entries(window.arrays())) arrays[`${k}.${name}`] = array;
    });
    return arrays;
  }
}
