/**
 * The optimiser loop of the fast path: epochs x minibatches of (forward, hand-written loss
 * gradient, backward, Adam) for each parameter group, one group after another.
 *
 * A job names a run of consecutive groups and carries exactly their agents' rows, so the
 * same function serves the main thread (all groups) and each worker (its share). Everything
 * in a job is structured-clonable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { envSeed, RngStreams } from '../../sim/rng.ts';
import { adamStep } from '../nn/adam.ts';
import type { ActorBatch, CriticBatch } from './batches.ts';
import { createMlpBatch, disposeMlpBatch, mlpForwardAsync, mlpGradient, type MlpBatch } from '../nn/fastMlp.ts';
import { MlpLayout, type MlpShape, type ParameterGroup } from '../nn/parameters.ts';
import { actionWidth, headOutputSize, type PolicyHead } from './distributions.ts';
import {
  evaluateValueLoss,
  PolicyLoss,
  PolicyStatistics,
  type ActorLoss,
  type PolicyEvaluation,
  type PolicyGradients,
  type PolicyRows,
  type PolicySummary,
  type ValueRows,
} from './losses.ts';

export interface UpdateSchedule {
  readonly epochs: number;
  /** Minibatches per epoch; 1 is full batch. Rows are reshuffled every epoch otherwise. */
  readonly minibatches: number;
  readonly learningRate: number;
  /** Seeds the minibatch shuffling (same seed, same order, whichever thread runs a group). */
  readonly shuffleSeed?: number;
}

export interface ActorAgentStats extends PolicySummary {
  /** Adam steps applied to the parameters this agent uses. */
  readonly gradientSteps: number;
  /** Whether the KL early stop ended the epoch loop. */
  readonly stoppedEarly: boolean;
}

export interface CriticAgentStats {
  /** Mean squared error against the returns before and after the update. */
  readonly lossBefore: number;
  readonly loss: number;
  readonly gradientSteps: number;
}

export interface GroupsJob<Batch> {
  readonly shape: MlpShape;
  /** Updated in place. */
  readonly groups: ParameterGroup[];
  /** Global index of the first group's first agent. */
  readonly firstAgent: number;
  readonly agentsPerGroup: number;
  /** The rows of exactly these groups' agents. */
  readonly batch: Batch;
  readonly schedule: UpdateSchedule;
}

export interface ActorGroupsJob extends GroupsJob<ActorBatch> {
  readonly head: PolicyHead;
  readonly loss: ActorLoss;
  /** Agents in the whole system (per-agent loss settings are indexed globally). */
  readonly agentCount: number;
}

export type CriticGroupsJob = GroupsJob<CriticBatch>;

/** Runs the actor update of every group in the job; statistics per agent, in agent order. */
export async function updateActorGroups(job: ActorGroupsJob): Promise<ActorAgentStats[]> {
  const layout = new MlpLayout(job.shape);
  const loss = new PolicyLoss(job.head, job.loss, job.agentCount);
  const { samples } = job.batch;
  const inputSize = job.shape.inputSize;
  const outputSize = headOutputSize(job.head);
  const logStdSize = job.head.kind === 'gaussian' ? job.head.actionSize : 0;
  const actionSize = actionWidth(job.head);
  const agents = job.agentsPerGroup;
  const stats: ActorAgentStats[] = [];
  for (const [g, group] of job.groups.entries()) {
    const rowStart = g * agents * samples;
    const rowEnd = rowStart + agents * samples;
    const rows: Omit<PolicyRows, 'rowIndex'> = {
      samplesPerAgent: samples,
      firstAgent: job.firstAgent + g * agents,
      actions: job.batch.actions.subarray(rowStart * actionSize, rowEnd * actionSize),
      advantages: job.batch.advantages.subarray(rowStart, rowEnd),
      oldOutput: job.batch.oldOutput.subarray(rowStart * outputSize, rowEnd * outputSize),
      oldLogStd: job.batch.oldLogStd?.subarray(g * agents * logStdSize, (g + 1) * agents * logStdSize) ?? null,
    };
    const inputs = job.batch.observations.subarray(rowStart * inputSize, rowEnd * inputSize);
    stats.push(...(await updateActorGroup(layout, loss, group, inputs, rows, agents, job.schedule)));
  }
  return stats;
}

async function updateActorGroup(
  layout: MlpLayout,
  loss: PolicyLoss,
  group: ParameterGroup,
  inputs: Float32Array,
  rows: Omit<PolicyRows, 'rowIndex'>,
  agents: number,
  schedule: UpdateSchedule,
): Promise<ActorAgentStats[]> {
  const { params, moments } = group;
  const rowCount = agents * rows.samplesPerAgent;
  const outputSize = headOutputSize(loss.head);
  const logStd = logStdOf(layout, loss.head, params);
  const gradient = new Float32Array(layout.size);
  const dLogStd = loss.head.kind === 'gaussian' ? new Float32Array(loss.head.actionSize) : null;
  const dOutputBuffer = new Float32Array(rowCount * outputSize);
  const stopKl = loss.targetKl === undefined ? Infinity : 1.5 * loss.targetKl;
  const plan = new MinibatchPlan(inputs, layout.shape.inputSize, rowCount, schedule, rows.firstAgent);
  // stopStatistics: the statistics at the final parameters when the KL early stop ends the loop
  const progress = { steps: 0, stopStatistics: null as PolicyStatistics | null };
  try {
    for (let epoch = 0; epoch < schedule.epochs && progress.stopStatistics === null; epoch++) {
      await plan.run(epoch, async (rowIndex, batch) => {
        const evaluated = { ...rows, rowIndex };
        const statistics = new PolicyStatistics(agents);
        const dOutput = dOutputBuffer.subarray(0, rowIndex.length * outputSize);
        const gradients = { output: dOutput, logStd: dLogStd };
        if ((await policyGradientStep(layout, loss, params, batch, evaluated, gradients, gradient, statistics, stopKl)) === null) {
          // A full-batch step's statistics cover every row; a minibatch's do not.
          progress.stopStatistics =
            rowIndex.length === rowCount ? statistics : await policyStatistics(layout, loss, params, inputs, rows, agents, logStd);
          return false;
        }
        adamStep(params, gradient, moments, { learningRate: schedule.learningRate });
        progress.steps += 1;
        return true;
      });
    }
  } finally {
    plan.dispose();
  }
  const { steps, stopStatistics } = progress;
  const statistics = stopStatistics ?? (await policyStatistics(layout, loss, params, inputs, rows, agents, logStd));
  return statistics
    .summaries(loss.entropyCoefficient)
    .map((summary) => ({ ...summary, gradientSteps: steps, stoppedEarly: stopStatistics !== null }));
}

/**
 * One fast-path gradient evaluation of the policy loss: forward, dLoss/dOutput and dLoss/dLogStd
 * by hand, backward. Writes the whole gradient (layout order) into `gradient`, using
 * `dOutput.output` ([rows, outputSize]) as scratch. Returns the batch loss and mean KL, or null,
 * with no backward pass, when the mean KL exceeds `stopKl`.
 */
export async function policyGradientStep(
  layout: MlpLayout,
  loss: PolicyLoss,
  params: Float32Array,
  batch: MlpBatch,
  rows: PolicyRows,
  dOutput: PolicyGradients,
  gradient: Float32Array,
  statistics: PolicyStatistics | null,
  stopKl = Infinity,
): Promise<PolicyEvaluation | null> {
  const result: { evaluation: PolicyEvaluation | null } = { evaluation: null };
  const stepped = await mlpGradient(
    layout,
    params,
    batch,
    (output) => {
      const evaluation = loss.evaluate(rows, output, logStdOf(layout, loss.head, params), dOutput, statistics);
      result.evaluation = evaluation;
      return evaluation.meanKl > stopKl ? null : dOutput.output;
    },
    gradient,
  );
  if (dOutput.logStd !== null) gradient.set(dOutput.logStd, layout.extraOffset);
  return stepped ? result.evaluation : null;
}

/** One fast-path gradient evaluation of the MSE value loss; returns the loss. */
export async function valueGradientStep(
  layout: MlpLayout,
  params: Float32Array,
  batch: MlpBatch,
  rows: ValueRows,
  dOutput: Float32Array,
  gradient: Float32Array,
  agentSums: Float64Array | null,
): Promise<number> {
  let loss = 0;
  await mlpGradient(
    layout,
    params,
    batch,
    (output) => {
      loss = evaluateValueLoss(rows, output, dOutput, agentSums);
      return dOutput;
    },
    gradient,
  );
  return loss;
}

/** The Gaussian log std (or its gradient) inside a flat actor vector; null for other heads. */
function logStdOf(layout: MlpLayout, head: PolicyHead, vector: Float32Array): Float32Array | null {
  return head.kind === 'gaussian' ? vector.subarray(layout.extraOffset, layout.extraOffset + head.actionSize) : null;
}

async function policyStatistics(
  layout: MlpLayout,
  loss: PolicyLoss,
  params: Float32Array,
  inputs: Float32Array,
  rows: Omit<PolicyRows, 'rowIndex'>,
  agents: number,
  logStd: Float32Array | null,
): Promise<PolicyStatistics> {
  const rowCount = agents * rows.samplesPerAgent;
  const output = await forwardAll(layout, params, inputs, rowCount);
  const statistics = new PolicyStatistics(agents);
  loss.evaluate({ ...rows, rowIndex: identityIndex(rowCount) }, output, logStd, null, statistics);
  return statistics;
}

/** Runs the critic (MSE value loss) update of every group in the job. */
export async function updateCriticGroups(job: CriticGroupsJob): Promise<CriticAgentStats[]> {
  const layout = new MlpLayout(job.shape);
  const { samples } = job.batch;
  const inputSize = job.shape.inputSize;
  const agents = job.agentsPerGroup;
  const stats: CriticAgentStats[] = [];
  for (const [g, group] of job.groups.entries()) {
    const rowStart = g * agents * samples;
    const rowEnd = rowStart + agents * samples;
    const inputs = job.batch.observations.subarray(rowStart * inputSize, rowEnd * inputSize);
    const returns = job.batch.returns.subarray(rowStart, rowEnd);
    stats.push(...(await updateCriticGroup(layout, group, inputs, returns, agents, samples, job.firstAgent + g * agents, job.schedule)));
  }
  return stats;
}

async function updateCriticGroup(
  layout: MlpLayout,
  group: ParameterGroup,
  inputs: Float32Array,
  returns: Float32Array,
  agents: number,
  samples: number,
  firstAgent: number,
  schedule: UpdateSchedule,
): Promise<CriticAgentStats[]> {
  const { params, moments } = group;
  const rowCount = agents * samples;
  const gradient = new Float32Array(layout.size);
  const dOutputBuffer = new Float32Array(rowCount);
  const plan = new MinibatchPlan(inputs, layout.shape.inputSize, rowCount, schedule, firstAgent);
  const lossBefore = new Float64Array(agents);
  let steps = 0;
  try {
    if (schedule.minibatches > 1) await valueLossByAgent(layout, params, inputs, returns, samples, lossBefore);
    for (let epoch = 0; epoch < schedule.epochs; epoch++) {
      await plan.run(epoch, async (rowIndex, batch) => {
        const dOutput = dOutputBuffer.subarray(0, rowIndex.length);
        // The first full-batch step's forward pass is at the initial parameters.
        const sums = steps === 0 && rowIndex.length === rowCount ? lossBefore : null;
        await valueGradientStep(layout, params, batch, { rowIndex, samplesPerAgent: samples, returns }, dOutput, gradient, sums);
        adamStep(params, gradient, moments, { learningRate: schedule.learningRate });
        steps += 1;
        return true;
      });
    }
  } finally {
    plan.dispose();
  }
  if (steps === 0) await valueLossByAgent(layout, params, inputs, returns, samples, lossBefore);
  const lossAfter = new Float64Array(agents);
  await valueLossByAgent(layout, params, inputs, returns, samples, lossAfter);
  return Array.from({ length: agents }, (_, a) => ({
    lossBefore: lossBefore[a] / samples,
    loss: lossAfter[a] / samples,
    gradientSteps: steps,
  }));
}

/** Adds each agent's sum of squared value errors over all its rows into `sums`. */
async function valueLossByAgent(
  layout: MlpLayout,
  params: Float32Array,
  inputs: Float32Array,
  returns: Float32Array,
  samples: number,
  sums: Float64Array,
): Promise<void> {
  const output = await forwardAll(layout, params, inputs, returns.length);
  evaluateValueLoss({ rowIndex: identityIndex(returns.length), samplesPerAgent: samples, returns }, output, null, sums);
}

async function forwardAll(layout: MlpLayout, params: Float32Array, inputs: Float32Array, rows: number): Promise<Float32Array> {
  const tensor = tf.tensor3d(inputs, [1, rows, layout.shape.inputSize]);
  try {
    return await mlpForwardAsync(layout, params, tensor);
  } finally {
    tensor.dispose();
  }
}

function identityIndex(rows: number): Int32Array {
  const index = new Int32Array(rows);
  for (let r = 0; r < rows; r++) index[r] = r;
  return index;
}

/**
 * Row order and input tensors of each step. The full batch builds its tensors once for all
 * epochs (which also keeps XNNPACK's packing of the inputs cached); minibatches are gathered
 * from a fresh permutation every epoch.
 */
class MinibatchPlan {
  private readonly fullBatch: MlpBatch | null;
  private readonly order: Int32Array;
  private readonly rng = new RngStreams(1);

  constructor(
    private readonly inputs: Float32Array,
    private readonly inputSize: number,
    private readonly rows: number,
    private readonly schedule: UpdateSchedule,
    private readonly firstAgent: number,
  ) {
    if (!Number.isInteger(schedule.minibatches) || schedule.minibatches < 1 || schedule.minibatches > rows) {
      throw new Error(`minibatches must be an integer in [1, ${rows}], got ${schedule.minibatches}`);
    }
    this.order = identityIndex(rows);
    this.fullBatch = schedule.minibatches === 1 ? createMlpBatch(inputs, rows, inputSize) : null;
  }

  /** Calls `step` for each minibatch of `epoch` in turn until it returns false. */
  async run(epoch: number, step: (rowIndex: Int32Array, batch: MlpBatch) => Promise<boolean>): Promise<void> {
    if (this.fullBatch !== null) {
      await step(this.order, this.fullBatch);
      return;
    }
    this.shuffle(epoch);
    const { minibatches } = this.schedule;
    for (let k = 0; k < minibatches; k++) {
      const rowIndex = this.order.subarray(Math.floor((k * this.rows) / minibatches), Math.floor(((k + 1) * this.rows) / minibatches));
      const gathered = new Float32Array(rowIndex.length * this.inputSize);
      rowIndex.forEach((row, r) => gathered.set(this.inputs.subarray(row * this.inputSize, (row + 1) * this.inputSize), r * this.inputSize));
      const batch = createMlpBatch(gathered, rowIndex.length, this.inputSize);
      try {
        if (!(await step(rowIndex, batch))) return;
      } finally {
        disposeMlpBatch(batch);
      }
    }
  }

  dispose(): void {
    if (this.fullBatch !== null) disposeMlpBatch(this.fullBatch);
  }

  /** Fisher-Yates from the identity, seeded by (shuffleSeed, group, epoch). */
  private shuffle(epoch: number): void {
    this.rng.seed(0, envSeed((this.schedule.shuffleSeed ?? 0) + 7919 * this.firstAgent, epoch));
    const order = this.order;
    for (let r = 0; r < this.rows; r++) order[r] = r;
    for (let r = this.rows - 1; r > 0; r--) {
      const other = this.rng.integer(0, 0, r);
      const held = order[r];
      order[r] = order[other];
      order[other] = held;
    }
  }
}
