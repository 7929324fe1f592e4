/**
 * One DADC agent's memory of the current window of rolloutSteps steps of every copy: the
 * common observations Z_0..Z_T, its prescriptions theta_t and their log-probabilities, the
 * team rewards and where episodes ended, and the recurrent state (X, theta) it started the
 * window from and runs on now. Rows are time-major: row t * E + e.
 */
import type { TypedArray } from '../../../sim/snapshot.ts';
import type { DadcNetworks } from './networks.ts';
import type { Matrix, Tape } from './tape.ts';

export class AgentWindow {
  readonly rows: number;
  private readonly common: Float64Array;
  readonly theta: Float64Array;
  readonly logProbability: Float64Array;
  readonly reward: Float64Array;
  /** 0 where the step ended an episode (its successor belongs to the next one), else 1. */
  readonly continuing: Float64Array;
  private readonly startHidden: Float64Array;
  private readonly startPrevious: Float64Array;
  /** X_{t-1} and theta_{t-1} of each copy (zero at an episode's start). */
  readonly hidden: Float64Array;
  readonly previous: Float64Array;

  constructor(
    readonly steps: number,
    readonly copies: number,
    private readonly commonWidth: number,
    private readonly prescription: number,
    private readonly ais: number,
  ) {
    this.rows = steps * copies;
    this.common = new Float64Array((steps + 1) * copies * commonWidth);
    this.theta = new Float64Array(this.rows * prescription);
    this.logProbability = new Float64Array(this.rows);
    this.reward = new Float64Array(this.rows);
    this.continuing = new Float64Array(this.rows);
    this.startHidden = new Float64Array(copies * ais);
    this.startPrevious = new Float64Array(copies * prescription);
    this.hidden = new Float64Array(copies * ais);
    this.previous = new Float64Array(copies * prescription);
  }

  /** Stores Z_t of every copy ([E, commonWidth], from the information structure: information.ts). */
  observe(t: number, common: Float64Array): void {
    this.common.set(common, t * this.copies * this.commonWidth);
  }

  /** Stores the step's AIS and prescription as the recurrent state, and theta's log-probability. */
  act(t: number, ais: Float64Array, theta: Float64Array, logProbability: Float64Array): void {
    this.hidden.set(ais);
    this.previous.set(theta);
    this.theta.set(theta, t * this.copies * this.prescription);
    this.logProbability.set(logProbability, t * this.copies);
  }

  /** The team reward of step t in copy e; an ended episode restarts the recurrent state. */
  record(t: number, e: number, reward: number, ended: boolean): void {
    this.reward[t * this.copies + e] = reward;
    this.continuing[t * this.copies + e] = ended ? 0 : 1;
    if (ended) {
      this.hidden.fill(0, e * this.ais, (e + 1) * this.ais);
      this.previous.fill(0, e * this.prescription, (e + 1) * this.prescription);
    }
  }

  /** The next window starts where this one ended. */
  carryOver(): void {
    const width = this.copies * this.commonWidth;
    this.common.copyWithin(0, this.steps * width, (this.steps + 1) * width);
    this.startHidden.set(this.hidden);
    this.startPrevious.set(this.previous);
  }

  /** The recurrent state and Z_t of every copy, as tape constants. */
  hiddenMatrix = (tape: Tape): Matrix => tape.constant(this.hidden, this.copies, this.ais);
  previousMatrix = (tape: Tape): Matrix => tape.constant(this.previous, this.copies, this.prescription);
  commonMatrix = (tape: Tape, t: number): Matrix => tape.constant(this.common.subarray(t * this.copies * this.commonWidth, (t + 1) * this.copies * this.commonWidth), this.copies, this.commonWidth);
  /** Z_1..Z_T of every copy [T * E, commonWidth]: row r holds the common observation that followed row r. */
  nextCommon = (): Float64Array => this.common.subarray(this.copies * this.commonWidth);
  thetaMatrix = (tape: Tape, fromStep = 0, steps = this.steps): Matrix =>
    tape.constant(this.theta.subarray(fromStep * this.copies * this.prescription, (fromStep + steps) * this.copies * this.prescription), steps * this.copies, this.prescription);

  /** X_0..X_T of the window [(T + 1) * E, H], unrolled from its start with the current encoder (restarting where episodes ended). */
  unroll(tape: Tape, networks: DadcNetworks): Matrix {
    let hidden = tape.constant(this.startHidden, this.copies, this.ais);
    let previous = tape.constant(this.startPrevious, this.copies, this.prescription);
    const outputs: Matrix[] = [];
    for (let t = 0; t <= this.steps; t++) {
      const x = networks.encode(tape, hidden, this.commonMatrix(tape, t), previous);
      outputs.push(x);
      if (t === this.steps) break;
      hidden = tape.scaleRows(x, this.continuing, t * this.copies);
      previous = tape.scaleRows(this.thetaMatrix(tape, t, 1), this.continuing, t * this.copies);
    }
    return tape.concatRows(outputs);
  }

  /** Becomes a copy of `other` (a window of the same shape): the critic's replay (criticReplay.ts). */
  copyFrom(other: AgentWindow): void {
    const source = other.arrays();
    for (const [name, array] of Object.entries(this.arrays())) array.set(source[name]);
  }

  /** The window's arrays for a checkpoint (live views). */
  arrays(): Record<string, TypedArray> {
    const { common, theta, logProbability, reward, continuing, startHidden, startPrevious, hidden, previous } = this;
    return { common, theta, logProbability, reward, continuing, startHidden, startPrevious, hidden, previous };
  }
}
