/**
 * Standardised targets for DMPO's local models. Each agent's model predicts its state
 * delta s' - s and its reward in standardised units: the head's outputs o are mapped to
 * delta = mu + sigma * o and r = mu_r + sigma_r * o_r, with per-agent, per-feature means and
 * standard deviations of the deltas and rewards in the training data (the FIFO of real
 * episodes). The loss weighs the reward's squared error by rewardCoefficient / sigma_r^2 and
 * state feature f's by w_f = 1 / sigma_f^2 + c / (Var(s_f) + sigma_f^2): its error in units
 * of one step's change plus its error relative to the feature's spread, c chosen per agent so
 * that the second terms, in standardised units (c sigma_f^2 / (Var(s_f) + sigma_f^2)),
 * average 1 over its features.
 *
 * Why the heads: in the environment's units one 0.1 s step moves a state by ~1e-3 of its
 * range while the figure eight's reward (m/s) varies by ~2.6; raw MSE let the reward take the
 * shared trunk, and an 8-unit head trained by Adam from outputs of ~0.3 could not resolve
 * deltas of 1e-3: both models were far worse per step than predicting no change
 * (docs/dmpo-figure-eight.md). The DMPO paper is silent on it (its eq. 4 only says the state
 * is predicted as a residual); standardised targets are what MBPO's and PETS' models use.
 *
 * Why two terms per state feature (measured, docs/dmpo-figure-eight.md, "CACC"):
 * - 1/sigma^2 alone (the first version) ranks a feature by its error in units of one step's
 *   change. CACC's realised acceleration moves with every action by about its whole spread,
 *   the speeds and gaps by 1-4% of theirs, so per unit of the reported error (the Figure 3
 *   measure, MSE/Var pooled over features) the acceleration weighed 175-900 times less than
 *   the others: it was 95% of the reported state error (its own MSE/Var 0.6-0.76, the model
 *   barely better than its mean) and 16% of the loss, and DMPO's CACC learning test failed.
 * - The spread term alone (c / (Var + sigma^2)) fixed CACC but lost the figure eight's reward
 *   (validation MSE/Var 0.22, from 0.011): there the position's one-step change, a multiple
 *   of the speed like the reward, weighed as much as the speed's under 1/sigma^2 and trained
 *   the trunk for the reward too; relative to its spread it weighs almost nothing.
 * - 1/Var alone (tried before both) leaves the weighted state loss ~1e-4 of the reward's at a
 *   model that predicts no change: the state was never learnt (a synthetic fit stayed at the
 *   no-change error, targetNormalisation.test.ts). Hence c, which puts the spread term at
 *   the standardised scale; Var + sigma^2, not Var, keeps a constant feature's weight finite.
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
  /** [n, obsDim]: each agent's variance of each state feature (of the next states) in the training data. */
  readonly stateVariance: Float64Array;
  /** The loss weights: the states' from their one-step change and spread (updateLossWeights), the reward's 1/sigma^2 times the reward coefficient. */
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
    this.stateVariance = new Float64Array(agents * obsDim);
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
    const stateSums = new Float64Array(agents * obsDim);
    const stateSquares = new Float64Array(agents * obsDim);
    let count = 0;
    for (const episode of episodes) {
      const stateSize = agents * obsDim;
      for (let t = 0; t < episode.length; t++) {
        for (let i = 0; i < agents; i++) {
          for (let f = 0; f < obsDim; f++) {
            const before = episode.observations[t * stateSize + i * obsDim + f];
            const after = episode.observations[(t + 1) * stateSize + i * obsDim + f];
            stateSums[i * obsDim + f] += after;
            stateSquares[i * obsDim + f] += after * after;
            let delta = after - before;
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
    for (let k = 0; k < stateSums.length; k++) {
      const mean = stateSums[k] / count;
      this.stateVariance[k] = Math.max(0, stateSquares[k] / count - mean * mean);
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
    return { mean: this.mean, std: this.std, stateVariance: this.stateVariance, computed: Uint8Array.of(this.computed ? 1 : 0) };
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
      this.stateVariance.fill(0);
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
    // Checkpoints of the first standardised models kept no state variances: the weights are then 2/sigma^2 until the next fit recomputes them (updateLossWeights).
    if (arrays.stateVariance === undefined) this.stateVariance.fill(0);
    else take('stateVariance', this.stateVariance);
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

  /**
   * The state weights (see the header): w_f = 1 / sigma_f^2 + c / (Var(s_f) + sigma_f^2), c
   * such that the second terms, in standardised units, average 1 over an agent's features; the
   * reward's stays rewardCoefficient / sigma_r^2. Without state variances (a checkpoint from
   * before they were kept) every ratio is 1 and the weights are 2 / sigma^2.
   */
  private updateLossWeights(): void {
    const { columns, obsDim } = this;
    this.layouts.forEach((_, i) => {
      // Var + sigma^2, not Var: a feature that never changes (Var 0) keeps a finite weight.
      const spread = Array.from({ length: obsDim }, (_, f) => this.stateVariance[i * obsDim + f] + this.std[i * columns + f] ** 2);
      const ratios = spread.map((value, f) => this.std[i * columns + f] ** 2 / value);
      const scale = obsDim / ratios.reduce((a, b) => a + b, 0);
      for (let f = 0; f < obsDim; f++) this.lossWeights.state[i * obsDim + f] = 1 / this.std[i * columns + f] ** 2 + scale / spread[f];
      this.lossWeights.reward[i] = this.rewardCoefficient / this.std[i * columns + obsDim] ** 2;
    });
  }
}
