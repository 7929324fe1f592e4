/**
 * One DADC agent's networks (the DADC paper, section 5 and appendix E.1; tanh throughout):
 * - AIS encoder: [Z_t, theta_{t-1}] -> Linear(H) tanh -> GRU(H) -> X_t.
 * - AIS predictor on [X_t, theta_t]: R_hat = Linear(1)(tanh Linear(H)) and the mean of the
 *   predicted distribution N(mean, I) of what comes next, from Linear(N)(tanh Linear(H)): the
 *   next AIS X_{t+1} (N = H, the paper's (P2)) or the next common observation Z_{t+1}
 *   (N = its width, the paper's (P2b); config aisTarget).
 * - Critic Q(X_t, theta_t): Linear(1)(tanh Linear(C)(tanh Linear(C)([X_t, theta_t]))), C = H unless
 *   config criticUnits; or, with criticHead per-choice (a finite set of choices, theta one-hot),
 *   Linear(K)(tanh Linear(C)(tanh Linear(C)(X_t))) . theta_t: one output per choice on X alone,
 *   the shape of the paper's appendix E.1 critic (a value head on X) with an output per choice.
 * - Coordinator actor: a Gaussian over the prescription parameters theta, mean
 *   Linear(P)(tanh Linear(A)(X)), A = H unless config actorUnits; its log std one vector for
 *   every state, or (config coordinatorStd state) a second output layer Linear(P) on the same
 *   hidden layer, zero weights and bias initialLogStd, so each state keeps its own exploration.
 * Weights start like PyTorch's nn.Linear (uniform +-1/sqrt(fan_in)) from a seeded stream, so
 * every agent that starts from the same seed holds the same networks. They run on tape.ts.
 */
import { RngStreams } from '../../../sim/rng.ts';
import { Matrix, type Tape } from './tape.ts';

interface Dense {
  w: Matrix;
  b: Matrix;
}

/** The parts trained at the three timescales. */
export type NetworkPart = 'approximator' | 'critic' | 'actor';
export const NETWORK_PARTS: readonly NetworkPart[] = ['approximator', 'critic', 'actor'];

export interface DadcShape {
  /** Width of the common observation Z_t. */
  common: number;
  /** Prescription parameters P. */
  prescription: number;
  /** AIS size H (the paper: 5). */
  ais: number;
  /** Width N of the predicted next quantity: H (next AIS) or the common observation's width (next Z). */
  next: number;
  /** The critic's hidden units C (default: H). */
  criticUnits?: number;
  /** The critic reads X alone and outputs Q of each choice, theta (one-hot) picks one (default: Q of [X, theta]). */
  criticPerChoice?: boolean;
  /** The actor's hidden units A (default: H). */
  actorUnits?: number;
  /** The log std per state, from the actor's hidden layer (default: one vector for every state). */
  stateStd?: boolean;
  initialLogStd: number;
}

/** The coordinator's Gaussian at a batch of AIS rows: its mean [B, P] and log std ([1, P] for every row, or [B, P] per row). */
export interface ActorOutput {
  mean: Matrix;
  logStd: Matrix;
}

export class DadcNetworks {
  private readonly rng = new RngStreams(1);
  private readonly input: Dense;
  /** GRU input and hidden projections to the update, reset and candidate gates [H, 3H]. */
  private readonly gruInput: Dense;
  private readonly gruHidden: Dense;
  private readonly rewardHidden: Dense;
  private readonly rewardOut: Dense;
  private readonly nextHidden: Dense;
  private readonly nextOut: Dense;
  private readonly criticHidden1: Dense;
  private readonly criticHidden2: Dense;
  private readonly criticOut: Dense;
  private readonly actorHidden: Dense;
  private readonly actorMeanOut: Dense;
  /** The state-independent log std [1, P] (a parameter), or null with a per-state log std. */
  readonly logStd: Matrix | null;
  /** The per-state log std's output layer (stateStd), or null. */
  private readonly actorLogStdOut: Dense | null;
  /** Every parameter by part, in a fixed order (checkpoints name them by it). */
  readonly parts: Readonly<Record<NetworkPart, readonly Matrix[]>>;

  constructor(
    readonly shape: DadcShape,
    seed: number,
  ) {
    this.rng.seed(0, seed);
    const { common, prescription: p, ais: h } = shape;
    this.input = this.dense(common + p, h);
    this.gruInput = this.dense(h, 3 * h);
    this.gruHidden = this.dense(h, 3 * h);
    this.rewardHidden = this.dense(h + p, h);
    this.rewardOut = this.dense(h, 1);
    this.nextHidden = this.dense(h + p, h);
    this.nextOut = this.dense(h, shape.next);
    // Drawn in the same order and sizes as before the options, so the defaults start from the same weights.
    const c = shape.criticUnits ?? h;
    this.criticHidden1 = this.dense(shape.criticPerChoice ? h : h + p, c);
    this.criticHidden2 = this.dense(c, c);
    this.criticOut = this.dense(c, shape.criticPerChoice ? p : 1);
    this.actorHidden = this.dense(h, shape.actorUnits ?? h);
    this.actorMeanOut = this.dense(shape.actorUnits ?? h, p);
    const a = shape.actorUnits ?? h;
    // Nothing drawn for the log std: the layers above start from the same weights either way.
    // Zero weights and bias initialLogStd: every state starts at the global std's value.
    this.actorLogStdOut = shape.stateStd
      ? { w: new Matrix(new Float64Array(a * p), a, p, true), b: new Matrix(new Float64Array(p).fill(shape.initialLogStd), 1, p, true) }
      : null;
    this.logStd = shape.stateStd ? null : new Matrix(new Float64Array(p).fill(shape.initialLogStd), 1, p, true);
    const of = (...layers: Dense[]) => layers.flatMap((l) => [l.w, l.b]);
    this.parts = {
      approximator: of(this.input, this.gruInput, this.gruHidden, this.rewardHidden, this.rewardOut, this.nextHidden, this.nextOut),
      critic: of(this.criticHidden1, this.criticHidden2, this.criticOut),
      actor: [...of(this.actorHidden, this.actorMeanOut), ...(this.actorLogStdOut ? of(this.actorLogStdOut) : [this.logStd!])],
    };
  }

  /** One encoder step for a batch: X_t from X_{t-1} [B, H], Z_t [B, common] and theta_{t-1} [B, P]. */
  encode(tape: Tape, previousAis: Matrix, common: Matrix, previousPrescription: Matrix): Matrix {
    const h = this.shape.ais;
    const x = tape.tanh(this.apply(tape, this.input, tape.concatColumns(common, previousPrescription)));
    const gates = this.apply(tape, this.gruInput, x);
    const recurrent = this.apply(tape, this.gruHidden, previousAis);
    const update = tape.sigmoid(tape.add(tape.columns(gates, 0, h), tape.columns(recurrent, 0, h)));
    const reset = tape.sigmoid(tape.add(tape.columns(gates, h, h), tape.columns(recurrent, h, h)));
    const candidate = tape.tanh(tape.add(tape.columns(gates, 2 * h, h), tape.mul(reset, tape.columns(recurrent, 2 * h, h))));
    return tape.interpolate(update, candidate, previousAis);
  }

  /** Predicted reward [B, 1] and mean of the next AIS or common observation [B, N] from X_t and theta_t. */
  predict(tape: Tape, ais: Matrix, prescription: Matrix): { reward: Matrix; next: Matrix } {
    const input = tape.concatColumns(ais, prescription);
    return {
      reward: this.apply(tape, this.rewardOut, tape.tanh(this.apply(tape, this.rewardHidden, input))),
      next: this.apply(tape, this.nextOut, tape.tanh(this.apply(tape, this.nextHidden, input))),
    };
  }

  /** Q(X_t, theta_t) [B, 1]. */
  q(tape: Tape, ais: Matrix, prescription: Matrix): Matrix {
    const perChoice = this.shape.criticPerChoice === true;
    const first = tape.tanh(this.apply(tape, this.criticHidden1, perChoice ? ais : tape.concatColumns(ais, prescription)));
    const out = this.apply(tape, this.criticOut, tape.tanh(this.apply(tape, this.criticHidden2, first)));
    // Per choice: the one-hot theta picks its choice's output.
    return perChoice ? tape.rowDot(out, prescription) : out;
  }

  /** Mean of the coordinator's Gaussian over theta [B, P]. */
  actorMean(tape: Tape, ais: Matrix): Matrix {
    return this.actor(tape, ais).mean;
  }

  /** The coordinator's Gaussian over theta: mean [B, P] and log std ([1, P], or [B, P] per state). */
  actor(tape: Tape, ais: Matrix): ActorOutput {
    const hidden = tape.tanh(this.apply(tape, this.actorHidden, ais));
    const mean = this.apply(tape, this.actorMeanOut, hidden);
    return { mean, logStd: this.actorLogStdOut ? this.apply(tape, this.actorLogStdOut, hidden) : this.logStd! };
  }

  zeroGradients(part: NetworkPart): void {
    for (const m of this.parts[part]) m.grad.fill(0);
  }

  private apply(tape: Tape, layer: Dense, input: Matrix): Matrix {
    return tape.dense(input, layer.w, layer.b);
  }

  private dense(inputs: number, outputs: number): Dense {
    const bound = 1 / Math.sqrt(inputs);
    const draw = (size: number) => Float64Array.from({ length: size }, () => (2 * this.rng.uniform(0) - 1) * bound);
    return { w: new Matrix(draw(inputs * outputs), inputs, outputs, true), b: new Matrix(draw(outputs), 1, outputs, true) };
  }
}

/** Where row r's log std of parameter k sits: one row for every state ([1, P]), or one per row ([B, P]). */
export const logStdIndex = (logStd: Matrix, r: number, k: number): number => (logStd.rows === 1 ? k : r * logStd.cols + k);

/** Log-density of each row of theta under N(mean, diag(exp(logStd))^2), into out. */
export function gaussianLogDensity(theta: ArrayLike<number>, mean: Matrix, logStd: Matrix, out: Float64Array): void {
  const p = mean.cols;
  for (let r = 0; r < mean.rows; r++) {
    let sum = 0;
    for (let k = 0; k < p; k++) {
      const s = logStd.value[logStdIndex(logStd, r, k)];
      const z = (theta[r * p + k] - mean.value[r * p + k]) / Math.exp(s);
      sum += -0.5 * z * z - s - 0.5 * Math.log(2 * Math.PI);
    }
    out[r] = sum;
  }
}

/** Adds weight[r] * d log N(theta_r) / d(mean, logStd) to their gradients. */
export function seedGaussianGradient(theta: ArrayLike<number>, mean: Matrix, logStd: Matrix, weight: ArrayLike<number>): void {
  const p = mean.cols;
  for (let r = 0; r < mean.rows; r++) {
    if (weight[r] === 0) continue;
    for (let k = 0; k < p; k++) {
      const at = logStdIndex(logStd, r, k);
      const std = Math.exp(logStd.value[at]);
      const z = (theta[r * p + k] - mean.value[r * p + k]) / std;
      mean.grad[r * p + k] += weight[r] * (z / std);
      logStd.grad[at] += weight[r] * (z * z - 1);
    }
  }
}

/** Smooth L1 (Huber, beta 1) of d, and its derivative. */
export const smoothL1 = (d: number): number => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5);
export const smoothL1Slope = (d: number): number => (Math.abs(d) < 1 ? d : Math.sign(d));
