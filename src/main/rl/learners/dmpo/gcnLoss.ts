/**
 * The DMPO local models' training loss on a window batch, in plain arithmetic from the
 * joint outputs of every step, and its gradient with respect to those outputs: shared by
 * both formulations of the model's forward and backward passes (gcn.ts, gcnBatched.ts).
 */

/**
 * Open-loop training windows: `steps` consecutive real transitions from `windows` start
 * states. Layouts are step-major so that each step is one contiguous block.
 */
export interface WindowBatch {
  readonly windows: number;
  readonly steps: number;
  /** [windows, n, obsDim]. */
  readonly startObservations: Float32Array;
  /** [steps, windows, n]: the real actions. */
  readonly actions: Float32Array;
  /** [steps, windows, n, obsDim]: the real next observations. */
  readonly nextObservations: Float32Array;
  /** [steps, windows, n]. */
  readonly rewards: Float32Array;
  /** [steps, windows, n]: 1 where the transition ended the episode for real. */
  readonly terminals: Float32Array;
}

/**
 * Weights of the squared errors in the training loss: one per state column of the joint
 * output ([n * obsDim], the environment's layout) and one per agent's reward ([n], the reward
 * coefficient included). Standardised targets (targetNormalisation.ts) weigh by 1/sigma^2.
 */
export interface LossWeights {
  readonly state: Float32Array;
  readonly reward: Float32Array;
}

/** Every state column weighted 1 and every reward `rewardCoefficient`: the loss in raw units. */
export function uniformLossWeights(shape: Pick<JointShape, 'agents' | 'obsDim'>, rewardCoefficient: number): LossWeights {
  return { state: new Float32Array(shape.agents * shape.obsDim).fill(1), reward: new Float32Array(shape.agents).fill(rewardCoefficient) };
}

/** The model's errors on a window batch (means over steps, windows, agents and features). */
export interface WindowErrors {
  readonly stateMse: number;
  /** Variance of the target observations per feature (pooled over steps, windows, agents), averaged over features. */
  readonly stateVariance: number;
  /** [obsDim]: stateMse's parts, the MSE of each feature (over steps, windows and agents): which feature the error is in. */
  readonly stateMseByFeature: Float64Array;
  /** [obsDim]: stateVariance's parts, each feature's variance. */
  readonly stateVarianceByFeature: Float64Array;
  readonly rewardMse: number;
  readonly rewardVariance: number;
  /** Binary cross-entropy of the done predictions. */
  readonly doneLoss: number;
  /** The training loss: weighted MSE(s) + weighted MSE(r) + BCE(d) (LossWeights). */
  readonly loss: number;
}

/** The joint output's shape: n agents, obsDim features each, outputWidth = n * (obsDim + 2) columns. */
export interface JointShape {
  readonly agents: number;
  readonly obsDim: number;
  readonly outputWidth: number;
}

/**
 * Loss terms from the outputs of every step; with `outputGradients`, also writes
 * dLoss/dOutput per step ([rows, outputWidth], the state part before the recurrent terms).
 */
export function windowLoss(shape: JointShape, batch: WindowBatch, outputs: readonly Float32Array[], weights: LossWeights, outputGradients: Float32Array[] | null): WindowErrors {
  const { agents, obsDim, outputWidth } = shape;
  const rows = batch.windows;
  const stateColumns = agents * obsDim;
  const stateCount = batch.steps * rows * stateColumns;
  const agentCount = batch.steps * rows * agents;
  const stateVarianceByFeature = featureVariances(batch.nextObservations, obsDim);
  const stateVariance = average(stateVarianceByFeature);
  const rewardVariance = featureVariances(batch.rewards, 1)[0];
  const featureSse = new Float64Array(obsDim);
  let stateSse = 0;
  let rewardSse = 0;
  let weightedSse = 0;
  let doneSum = 0;
  // The predicted state after step t: the start state plus the predicted deltas so far.
  const predicted = batch.startObservations.slice();
  for (let t = 0; t < batch.steps; t++) {
    const output = outputs[t];
    const gradient = outputGradients?.[t];
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < stateColumns; k++) {
        predicted[r * stateColumns + k] += output[r * outputWidth + k];
        const error = predicted[r * stateColumns + k] - batch.nextObservations[(t * rows + r) * stateColumns + k];
        stateSse += error * error;
        featureSse[k % obsDim] += error * error;
        weightedSse += (weights.state[k] * error * error) / stateCount;
        if (gradient !== undefined) gradient[r * outputWidth + k] = (2 * weights.state[k] * error) / stateCount;
      }
      for (let i = 0; i < agents; i++) {
        const target = (t * rows + r) * agents + i;
        const rewardError = output[r * outputWidth + stateColumns + i] - batch.rewards[target];
        rewardSse += rewardError * rewardError;
        weightedSse += (weights.reward[i] * rewardError * rewardError) / agentCount;
        const logit = output[r * outputWidth + stateColumns + agents + i];
        const label = batch.terminals[target];
        doneSum += softplus(logit) - label * logit;
        if (gradient !== undefined) {
          gradient[r * outputWidth + stateColumns + i] = (2 * weights.reward[i] * rewardError) / agentCount;
          gradient[r * outputWidth + stateColumns + agents + i] = (sigmoid(logit) - label) / agentCount;
        }
      }
    }
  }
  const stateMse = stateSse / stateCount;
  const rewardMse = rewardSse / agentCount;
  const doneLoss = doneSum / agentCount;
  const stateMseByFeature = featureSse.map((sse) => (sse * obsDim) / stateCount);
  return { stateMse, stateVariance, stateMseByFeature, stateVarianceByFeature, rewardMse, rewardVariance, doneLoss, loss: weightedSse + doneLoss };
}


export /** Splits each row of a [rows, width] array at `at`: left [rows, at], right [rows, width - at]. */
function splitColumns(values: Float32Array, rows: number, width: number, at: number): { left: Float32Array; right: Float32Array } {
  const left = new Float32Array(rows * at);
  const right = new Float32Array(rows * (width - at));
  for (let r = 0; r < rows; r++) {
    left.set(values.subarray(r * width, r * width + at), r * at);
    right.set(values.subarray(r * width + at, (r + 1) * width), r * (width - at));
  }
  return { left, right };
}

/** Population variance of each of `features` interleaved features. */
function featureVariances(values: Float32Array, features: number): Float64Array {
  const count = values.length / features;
  const variances = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    let sum = 0;
    for (let k = f; k < values.length; k += features) sum += values[k];
    const mean = sum / count;
    let squares = 0;
    for (let k = f; k < values.length; k += features) squares += (values[k] - mean) ** 2;
    variances[f] = squares / count;
  }
  return variances;
}

function average(values: Float64Array): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
