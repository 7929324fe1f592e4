/**
 * Standardised targets for DMPO's local models. Each agent's model predicts its state
 * delta s' - s and its reward in standardised units: the head's outputs o are mapped to
 * delta = mu + sigma * o and r = mu_r + sigma_r * o_r, with per-agent, per-feature means and
 * standard deviations of the deltas and rewards in the training data (the FIFO of real
 * episodes), and the loss weighs each squared error by 1 / sigma^2 of its quantity: the state
 * error of every window step in units of one step's typical change, the reward's in its own.
 *
 * Why: in the environment's units one 0.1 s step moves a state by ~1e-3 of its range while
 * the figure eight's reward (m/s) varies by ~2.6; raw MSE let the reward take the shared
 * trunk, and an 8-unit head trained by Adam from outputs of ~0.3 could not resolve deltas
 * of 1e-3: both models were far worse per step than predicting no change
 * (docs/dmpo-figure-eight.md). The DMPO paper is silent on it (its eq. 4 only says the state
 * is predicted as a residual); standardised targets are what MBPO's and PETS' models use, and
 * they make `rewardCoefficient` a unit-free weight (1: the reward's error counts as much as
 * one state feature's). Weighing by the deltas' sigma, not the states' variance, is what makes
 * the per-step dynamics matter: against a state's variance a model that predicts no change at
 * all is already within 1e-3 (measured on a synthetic fit, tests/unit/rl/learners/dmpo/
 * targetNormalisation.test.ts: 1/Var weights left the state error at that no-change level,
 * 1/sigma^2 weights took it 500x below). A feature that never changes gets the smallest sigma
 * and an output scaled by it, so its standardised error stays of order one.
 *
 * How, without touching the forward and backward passes (gcn.ts, gcnBatched.ts): the trained
 * weights are the standardised ones; the model runs on "physical" weights whose head columns
 * are scaled by sigma with mu added to the bias, and the gradient of a standardised head
 * weight is sigma times that of its physical weight. When the statistics are recomputed (each
 * train() call, as the FIFO changes), the standardised head is re-expressed so the physical
 * model is unchanged (as PopArt, van Hasselt et al. 2016, preserves its outputs); the first
 * statistics are simply set, since an untrained model's initial weights are meant in
 * standardised units (its first predictions are then small deltas, not ~0.3 of the range).
 */
import type { AgentLayout } from './gcnLayout.ts';
import type { RealEpisode } from './episodes.ts';
import type { LossWeights } from './gcnLoss.ts';

/** Smallest standard deviation of a delta or reward: a constant one still gets a finite head and loss weight. */
const MIN_STD = 1e-6;

/** Per agent, the statistics of its standardised head columns: obsDim state deltas, then the reward. */
export class TargetNormalisation {
  /** [n, obsDim + 1]: delta means, then the reward mean, per agent. */
  readonly mean: Float64Array;
  /** [n, obsDim + 1]: the standard deviations, same layout. */
  readonly std: Float64Array;
  /** The loss weights 1/sigma^2 (the reward's times the reward coefficient). */
  readonly lossWeights: LossWeights;
  /** Whether statistics were computed (before: identity, mean 0 and std 1). */
  private computed = false;
  private readonly columns: number;

  constructor(
    private readonly layouts: readonly AgentLayout[],
    private readonly obsDim: number,
    private readonly wrappedObs: readonly number[],
    private readonly rewardCoefficient: number,
  ) {
    const agents = layouts.length;
    this.columns = obsDim + 1;
    this.mean = new Float64Array(agents * this.columns);
    this.std = new Float64Array(agents * this.columns).fill(1);
    this.lossWeights = { state: new Float32Array(agents * obsDim), reward: new Float32Array(agents) };
    this.updateLossWeights();
  }

  /**
   * Recomputes the statistics from `episodes` and, when some were computed before, rewrites
   * the standardised head weights in `parameters` so the physical model stays the same.
   */
  update(episodes: readonly RealEpisode[], parameters: readonly Float32Array[]): void {
    const { columns, obsDim } = this;
    const agents = this.layouts.length;
    const sums = new Float64Array(agents * columns);
    const squares = new Float64Array(agents * columns);
    let count = 0;
    for (const episode of episodes) {
      const stateSize = agents * obsDim;
      for (let t = 0; t < episode.length; t++) {
        for (let i = 0; i < agents; i++) {
          for (let f = 0; f < obsDim; f++) {
            const before = episode.observations[t * stateSize + i * obsDim + f];
            let delta = episode.observations[(t + 1) * stateSize + i * obsDim + f] - before;
            // A wrapped field moves by its shortest circular difference (wrappedObservations.ts).
            if (this.wrappedObs.includes(f)) delta -= Math.round(delta);
            sums[i * columns + f] += delta;
            squares[i * columns + f] += delta * delta;
          }
          const reward = episode.rewards[t * agents + i];
          sums[i * columns + obsDim] += reward;
          squares[i * columns + obsDim] += reward * reward;
        }
      }
      count += episode.length;
    }
    if (count === 0) throw new Error('model target statistics need at least one stored transition');
    const oldMean = Float64Array.from(this.mean);
    const oldStd = Float64Array.from(this.std);
    for (let k = 0; k < sums.length; k++) {
      const mean = sums[k] / count;
      this.mean[k] = mean;
      this.std[k] = Math.max(MIN_STD, Math.sqrt(Math.max(0, squares[k] / count - mean * mean)));
    }
    if (this.computed) this.layouts.forEach((_, i) => this.reexpress(i, parameters[i], oldMean, oldStd));
    this.computed = true;
    this.updateLossWeights();
  }

  /** Writes agent `agent`'s physical weights (what the model runs on) from its standardised ones into `physical`. */
  physicalParameters(agent: number, standardised: Float32Array, physical: Float32Array): void {
    physical.set(standardised);
    this.forEachHeadColumn(agent, (column, weight, bias, rows) => {
      const { mean, std } = this.at(agent, column);
      for (let k = 0; k < rows; k++) physical[weight(k)] = std * standardised[weight(k)];
      physical[bias] = std * standardised[bias] + mean;
    });
  }

  /** Turns agent `agent`'s gradient with respect to its physical weights into that of its standardised ones, in place. */
  standardisedGradient(agent: number, gradient: Float32Array): void {
    this.forEachHeadColumn(agent, (column, weight, bias, rows) => {
      const { std } = this.at(agent, column);
      for (let k = 0; k < rows; k++) gradient[weight(k)] *= std;
      gradient[bias] *= std;
    });
  }

  /** The statistics as checkpoint arrays (with the flag whether they were computed). */
  snapshot(): Record<string, Float64Array | Uint8Array> {
    return { mean: this.mean, std: this.std, computed: Uint8Array.of(this.computed ? 1 : 0) };
  }

  /**
   * Restores the statistics. A checkpoint written before standardised targets has none: its
   * heads are in raw units, which identity statistics (mean 0, std 1) describe exactly, marked
   * computed so the next fit re-expresses them in standardised units without changing the
   * model (its runs still evaluate, replay and resume).
   */
  restore(arrays: Readonly<Record<string, ArrayLike<number> | undefined>>): void {
    if (arrays.mean === undefined && arrays.std === undefined && arrays.computed === undefined) {
      this.mean.fill(0);
      this.std.fill(1);
      this.computed = true;
      this.updateLossWeights();
      return;
    }
    const take = (name: string, target: Float64Array): void => {
      const values = arrays[name];
      if (values?.length !== target.length) throw new Error(`model checkpoint entry targets.${name} does not fit these models`);
      target.set(values);
    };
    take('mean', this.mean);
    take('std', this.std);
    this.computed = arrays.computed?.[0] === 1;
    this.updateLossWeights();
  }

  private at(agent: number, column: number): { mean: number; std: number } {
    const k = agent * this.columns + column;
    return { mean: this.mean[k], std: this.std[k] };
  }

  /** Keeps agent `agent`'s physical head when the statistics move from old to current. */
  private reexpress(agent: number, params: Float32Array, oldMean: Float64Array, oldStd: Float64Array): void {
    this.forEachHeadColumn(agent, (column, weight, bias, rows) => {
      const k = agent * this.columns + column;
      const ratio = oldStd[k] / this.std[k];
      for (let r = 0; r < rows; r++) params[weight(r)] *= ratio;
      params[bias] = (oldStd[k] * params[bias] + oldMean[k] - this.mean[k]) / this.std[k];
    });
  }

  /**
   * Calls `body` for each standardised column of agent `agent`'s head (the state deltas and
   * the reward; the done logit is left raw), with the index of its weight in row k and of its bias.
   */
  private forEachHeadColumn(agent: number, body: (column: number, weight: (row: number) => number, bias: number, rows: number) => void): void {
    const { head } = this.layouts[agent];
    const layer = head.layout.layers[0];
    for (let column = 0; column < this.columns; column++) {
      body(column, (row) => head.offset + layer.weightOffset + row * layer.outputSize + column, head.offset + layer.biasOffset + column, layer.inputSize);
    }
  }

  private updateLossWeights(): void {
    const { columns, obsDim } = this;
    this.layouts.forEach((_, i) => {
      for (let f = 0; f < obsDim; f++) this.lossWeights.state[i * obsDim + f] = 1 / this.std[i * columns + f] ** 2;
      this.lossWeights.reward[i] = this.rewardCoefficient / this.std[i * columns + obsDim] ** 2;
    });
  }
}
