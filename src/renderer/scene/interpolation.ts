/**
 * Smooth display of decimated frames: the view draws at the screen's rate (60 fps) while
 * frames arrive at most at the job's frame rate (<= 30/s, ~10/s at real time). Each new frame
 * becomes the target; the displayed positions move from where they were to it over the
 * observed interval between frames. Positions on a loop take the short way round.
 */
export class FrameInterpolator {
  private from = new Float64Array(0);
  private to = new Float64Array(0);
  private start = 0;
  private duration = 1;
  private lastPush = -Infinity;
  private loop: number | null = null;

  /** A new scene: `n` vehicles on a loop of `loopLength` m (null for a straight road). */
  reset(n: number, loopLength: number | null): void {
    this.from = new Float64Array(n);
    this.to = new Float64Array(n);
    this.loop = loopLength;
    this.lastPush = -Infinity;
    this.start = 0;
    this.duration = 1;
  }

  /** A new target. `snap` jumps to it at once (new episode, first frame). */
  push(positions: ArrayLike<number>, now: number, snap = false): void {
    const n = this.to.length;
    if (snap || !Number.isFinite(this.lastPush)) {
      for (let i = 0; i < n; i++) this.from[i] = this.to[i] = positions[i];
      this.start = now;
      this.duration = 1;
      this.lastPush = now;
      return;
    }
    // Start from what is on screen now.
    this.sample(now, this.from);
    const interval = now - this.lastPush;
    this.duration = Math.min(250, Math.max(16, interval));
    this.start = now;
    this.lastPush = now;
    for (let i = 0; i < n; i++) this.to[i] = positions[i];
  }

  /** True while the displayed state is still moving towards the target. */
  moving(now: number): boolean {
    return now - this.start < this.duration;
  }

  /** Displayed positions at `now` into `out`. */
  sample(now: number, out: Float64Array): void {
    const n = this.to.length;
    const alpha = Math.min(1, Math.max(0, (now - this.start) / this.duration));
    const loop = this.loop;
    for (let i = 0; i < n; i++) {
      let delta = this.to[i] - this.from[i];
      if (loop !== null) {
        if (delta > loop / 2) delta -= loop;
        else if (delta < -loop / 2) delta += loop;
      }
      out[i] = this.from[i] + delta * alpha;
    }
  }
}

/** Midpoint of the vehicles' span along an open road (where the CACC view keeps its floating origin). */
export function platoonCentre(positions: ArrayLike<number>): number {
  let min = Infinity;
  let max = -Infinity;
  for (let v = 0; v < positions.length; v++) {
    min = Math.min(min, positions[v]);
    max = Math.max(max, positions[v]);
  }
  return (min + max) / 2;
}
