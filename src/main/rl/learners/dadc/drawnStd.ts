/**
 * The std of the coordinator's draws over one collect, for the iteration's metrics
 * (coordinatorStd state: every state has its own std, so the iteration reports the mean over
 * its draws, and apart over the draws at an episode's first step, whose exploration the
 * global std lost). `begin` at the start of each collect; `metrics` after it.
 */
import type { Matrix } from './tape.ts';

export class DrawnStd {
  private draws = 0;
  private sum = 0;
  private startDraws = 0;
  private startSum = 0;

  /** Forgets the previous collect's draws. */
  begin(): void {
    this.draws = 0;
    this.sum = 0;
    this.startDraws = 0;
    this.startSum = 0;
  }

  /** Adds one step's per-state log std [E, P] (mean over the P parameters per copy); `steps[e]` 0 marks copy e's episode start. */
  record(logStd: Matrix, steps: Int32Array): void {
    const p = logStd.cols;
    for (let e = 0; e < logStd.rows; e++) {
      let std = 0;
      for (let k = 0; k < p; k++) std += Math.exp(logStd.value[e * p + k]) / p;
      this.draws += 1;
      this.sum += std;
      if (steps[e] === 0) {
        this.startDraws += 1;
        this.startSum += std;
      }
    }
  }

  /** The mean std of this collect's draws, all and at episode starts (NaN when no episode started). */
  metrics(): { 'prescription/std': number; 'prescription/startStd': number } {
    return { 'prescription/std': this.sum / this.draws, 'prescription/startStd': this.startDraws > 0 ? this.startSum / this.startDraws : NaN };
  }
}
