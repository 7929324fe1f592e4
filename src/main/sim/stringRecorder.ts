/**
 * Every speed and gap of copy 0 of an environment, state by state: what the string-stability
 * readout (src/shared/stringStability.ts) reads. `headway simulate` records its episode
 * with it, and so does a live simulation of the app (the readout of a disturbance needs
 * the states before it, for the reference, and every state after).
 */
import { stringStability, type StringStabilityReadout } from '../../shared/stringStability.ts';
import { stringOrder, type Disturbance } from './disturbances.ts';
import { DT, type BatchedEnv } from './env.ts';

export class StringRecorder {
  private speed: Float64Array;
  private gap: Float64Array;
  private rows = 0;

  /** Records up to `maxRows` states (the reset state and one per step); memory grows with the episode. */
  constructor(
    private readonly env: BatchedEnv,
    private readonly maxRows: number,
  ) {
    const rows = Math.min(maxRows, 1024);
    this.speed = new Float64Array(rows * env.spec.nVehicles);
    this.gap = new Float64Array(rows * env.spec.nVehicles);
  }

  /** Starts a new episode (record its reset state next). */
  clear(): void {
    this.rows = 0;
  }

  /** Adds the state the environment is in now (nothing once maxRows are recorded). */
  record(): void {
    const n = this.env.spec.nVehicles;
    if (this.rows >= this.maxRows) return;
    if ((this.rows + 1) * n > this.speed.length) this.grow();
    this.speed.set(this.env.speed.subarray(0, n), this.rows * n);
    this.gap.set(this.env.gap.subarray(0, n), this.rows * n);
    this.rows++;
  }

  private grow(): void {
    const n = this.env.spec.nVehicles;
    const rows = Math.min(this.maxRows, 2 * (this.speed.length / n));
    const speed = new Float64Array(rows * n);
    const gap = new Float64Array(rows * n);
    speed.set(this.speed);
    gap.set(this.gap);
    this.speed = speed;
    this.gap = gap;
  }

  /** The readout of a disturbance over the states so far; null before it has started. */
  readout(d: Disturbance): StringStabilityReadout | null {
    if (d.start >= this.rows) return null;
    const n = this.env.spec.nVehicles;
    const series = { speed: this.speed.subarray(0, this.rows * n), gap: this.gap.subarray(0, this.rows * n), nVehicles: n, dt: DT };
    return stringStability(series, { order: stringOrder(this.env.spec, d.vehicle), start: d.start, duration: d.duration });
  }
}
