/**
 * The optimiser loop of the update: epochs x minibatches of (forward, hand-written loss
 * gradient, backward, Adam) for every parameter group of a job. Each group keeps its own
 * row order, Adam state and KL early stop; the job's formulation (nn/formulation.ts) decides
 * whether a step evaluates the groups one after another (per-agent, fused 2-D kernels: wasm,
 * cpu) or all at once (batched: GPU backends). The results do not depend on it.
 *
 * A job names a run of consecutive groups and carries exactly their agents' rows, so the
 * same function serves the main thread (all groups) and each worker (its share). Everything
 * in a job is structured-clonable.
 */
import { envSeed, RngStreams } from '../../sim/rng.ts';
import { adamStep } from '../nn/adam.ts';
import type { ActorBatch, CriticBatch } from './batches.ts';
import { groupGradients, type UpdateFormulation } from '../nn/formulation.ts';
import { MlpLayout, type MlpShape, type ParameterGroup } from '../nn/parameters.ts';
import { actionWidth, headOutputSize, type PolicyHead } from './distributions.ts';
import {
  evaluateValueLoss,
  PolicyLoss,
  PolicyStatistics,
  type ActorLoss,
  type PolicyRows,
  type PolicySummary,
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
  /** How gradient evaluations run (default per-agent); the UpdatePool sets it from its backend. */
  readonly formulation?: UpdateFormulation;
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
  const { groups, schedule, head } = job;
  const layout = new MlpLayout(job.shape);
  const loss = new PolicyLoss(head, job.loss, job.agentCount);
  const agents = job.agentsPerGroup;
  const samples = job.batch.samples;
  const rowCount = agents * samples;
  const outputSize = headOutputSize(head);
  const logStdSize = head.kind === 'gaussian' ? head.actionSize : 0;
  const actionSize = actionWidth(head);
  const rows = groups.map((_, g): Omit<PolicyRows, 'rowIndex'> => {
    const [start, end] = [g * rowCount, (g + 1) * rowCount];
    return {
      samplesPerAgent: samples,
      firstAgent: job.firstAgent + g * agents,
      actions: job.batch.actions.subarray(start * actionSize, end * actionSize),
      advantages: job.batch.advantages.subarray(start, end),
      oldOutput: job.batch.oldOutput.subarray(start * outputSize, end * outputSize),
      oldLogStd: job.batch.oldLogStd?.subarray(g * agents * logStdSize, (g + 1) * agents * logStdSize) ?? null,
    };
  });
  const params = groups.map((group) => group.params);
  const gradients = groups.map(() => new Float32Array(layout.size));
  const policyGradients = groups.map(() => ({ output: new Float32Array(rowCount * outputSize), logStd: logStdSize > 0 ? new Float32Array(logStdSize) : null }));
  const stopKl = loss.targetKl === undefined ? Infinity : 1.5 * loss.targetKl;
  const steps = new Array<number>(groups.length).fill(0);
  // Per group: null while it runs; once the KL early stop ends its loop, its statistics at its final parameters
  const stopped = new Array<PolicyStatistics | null>(groups.length).fill(null);
  const plan = new MinibatchPlan(rowCount, schedule, job.firstAgent, agents, groups.length);
  const engine = groupGradients(job.formulation ?? 'per-agent', layout, job.batch.observations, groups.length, rowCount, schedule.minibatches === 1);
  try {
    for (let epoch = 0; epoch < schedule.epochs && stopped.includes(null); epoch++) {
      for (let k = 0; k < schedule.minibatches && stopped.includes(null); k++) {
        const rowIndex = plan.rows(epoch, k);
        const active = stopped.map((statistics) => statistics === null);
        const statistics = groups.map(() => new PolicyStatistics(agents));
        const written = await engine.step(
          params,
          rowIndex,
          active,
          (g, output) => {
            const gradient = { output: policyGradients[g].output.subarray(0, rowIndex[g].length * outputSize), logStd: policyGradients[g].logStd };
            const evaluation = loss.evaluate({ ...rows[g], rowIndex: rowIndex[g] }, output, logStdOf(layout, head, params[g]), gradient, statistics[g]);
            return evaluation.meanKl > stopKl ? null : gradient.output;
          },
          gradients,
        );
        for (let g = 0; g < groups.length; g++) {
          if (!active[g]) continue;
          if (!written[g]) {
            // A full-batch step's statistics cover every row; a minibatch's do not (filled in below).
            stopped[g] = rowIndex[g].length === rowCount ? statistics[g] : new PolicyStatistics(agents);
            continue;
          }
          const dLogStd = policyGradients[g].logStd;
          if (dLogStd !== null) gradients[g].set(dLogStd, layout.extraOffset);
          adamStep(params[g], gradients[g], groups[g].moments, { learningRate: schedule.learningRate });
          steps[g] += 1;
        }
      }
    }
    const final = stopped.map((statistics) => statistics === null || !plan.isFull);
    const outputs = await engine.forward(params, final);
    const identity = plan.identity;
    return groups.flatMap((_, g) => {
      let statistics = stopped[g];
      if (final[g]) {
        statistics = new PolicyStatistics(agents);
        loss.evaluate({ ...rows[g], rowIndex: identity }, outputs[g]!, logStdOf(layout, head, params[g]), null, statistics);
      }
      return statistics!
        .summaries(loss.entropyCoefficient)
        .map((summary) => ({ ...summary, gradientSteps: steps[g], stoppedEarly: stopped[g] !== null }));
    });
  } finally {
    engine.dispose();
  }
}

/** The Gaussian log std (or its gradient) inside a flat actor vector; null for other heads. */
function logStdOf(layout: MlpLayout, head: PolicyHead, vector: Float32Array): Float32Array | null {
  return head.kind === 'gaussian' ? vector.subarray(layout.extraOffset, layout.extraOffset + head.actionSize) : null;
}

/** Runs the critic (MSE value loss) update of every group in the job. */
export async function updateCriticGroups(job: CriticGroupsJob): Promise<CriticAgentStats[]> {
  const { groups, schedule } = job;
  const layout = new MlpLayout(job.shape);
  const agents = job.agentsPerGroup;
  const samples = job.batch.samples;
  const rowCount = agents * samples;
  const returns = groups.map((_, g) => job.batch.returns.subarray(g * rowCount, (g + 1) * rowCount));
  const params = groups.map((group) => group.params);
  const gradients = groups.map(() => new Float32Array(layout.size));
  const dOutput = groups.map(() => new Float32Array(rowCount));
  const all = groups.map(() => true);
  const lossBefore = groups.map(() => new Float64Array(agents));
  const lossAfter = groups.map(() => new Float64Array(agents));
  const plan = new MinibatchPlan(rowCount, schedule, job.firstAgent, agents, groups.length);
  const engine = groupGradients(job.formulation ?? 'per-agent', layout, job.batch.observations, groups.length, rowCount, plan.isFull);
  let steps = 0;
  try {
    const valueLosses = async (sums: Float64Array[]) => {
      const outputs = await engine.forward(params, all);
      outputs.forEach((output, g) => evaluateValueLoss({ rowIndex: plan.identity, samplesPerAgent: samples, returns: returns[g] }, output!, null, sums[g]));
    };
    if (!plan.isFull) await valueLosses(lossBefore);
    for (let epoch = 0; epoch < schedule.epochs; epoch++) {
      for (let k = 0; k < schedule.minibatches; k++) {
        const rowIndex = plan.rows(epoch, k);
        // The first full-batch step's forward pass is at the initial parameters.
        const sums = steps === 0 && plan.isFull ? lossBefore : null;
        await engine.step(
          params,
          rowIndex,
          all,
          (g, output) => {
            const gradient = dOutput[g].subarray(0, rowIndex[g].length);
            evaluateValueLoss({ rowIndex: rowIndex[g], samplesPerAgent: samples, returns: returns[g] }, output, gradient, sums?.[g] ?? null);
            return gradient;
          },
          gradients,
        );
        groups.forEach((group, g) => adamStep(group.params, gradients[g], group.moments, { learningRate: schedule.learningRate }));
        steps += 1;
      }
    }
    if (steps === 0) await valueLosses(lossBefore);
    await valueLosses(lossAfter);
  } finally {
    engine.dispose();
  }
  return groups.flatMap((_, g) =>
    Array.from({ length: agents }, (_, a) => ({ lossBefore: lossBefore[g][a] / samples, loss: lossAfter[g][a] / samples, gradientSteps: steps })),
  );
}

/**
 * Each group's row order per step: the identity for the full batch; otherwise a fresh
 * permutation per group and epoch, seeded by (shuffleSeed, the group's first agent, epoch),
 * so a group's order is the same whichever thread or formulation runs it.
 */
class MinibatchPlan {
  readonly identity: Int32Array;
  readonly isFull: boolean;
  private readonly orders: Int32Array[];
  private readonly rng = new RngStreams(1);
  private shuffledEpoch = -1;

  constructor(
    private readonly rowCount: number,
    private readonly schedule: UpdateSchedule,
    private readonly firstAgent: number,
    private readonly agentsPerGroup: number,
    groups: number,
  ) {
    if (!Number.isInteger(schedule.minibatches) || schedule.minibatches < 1 || schedule.minibatches > rowCount) {
      throw new Error(`minibatches must be an integer in [1, ${rowCount}], got ${schedule.minibatches}`);
    }
    this.identity = Int32Array.from({ length: rowCount }, (_, r) => r);
    this.isFull = schedule.minibatches === 1;
    this.orders = Array.from({ length: groups }, () => (this.isFull ? this.identity : new Int32Array(rowCount)));
  }

  /** The rows of minibatch k of `epoch`, per group. */
  rows(epoch: number, k: number): Int32Array[] {
    if (this.isFull) return this.orders;
    if (epoch !== this.shuffledEpoch) {
      this.orders.forEach((order, g) => this.shuffle(order, this.firstAgent + g * this.agentsPerGroup, epoch));
      this.shuffledEpoch = epoch;
    }
    const { minibatches } = this.schedule;
    const start = Math.floor((k * this.rowCount) / minibatches);
    const end = Math.floor(((k + 1) * this.rowCount) / minibatches);
    return this.orders.map((order) => order.subarray(start, end));
  }

  /** Fisher-Yates from the identity, seeded by (shuffleSeed, group's first agent, epoch). */
  private shuffle(order: Int32Array, firstAgent: number, epoch: number): void {
    this.rng.seed(0, envSeed((this.schedule.shuffleSeed ?? 0) + 7919 * firstAgent, epoch));
    order.set(this.identity);
    for (let r = this.rowCount - 1; r > 0; r--) {
      const other = this.rng.integer(0, 0, r);
      const held = order[r];
      order[r] = order[other];
      order[other] = held;
    }
  }
}
