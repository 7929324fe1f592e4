/**
 * DMPO's local-model gradients on a share of a window batch, as a job an update worker runs
 * (parallel/updateWorker.ts): the fit splits each batch's windows between the training
 * thread and a worker (localModel.ts), so both cores compute it. Plain data only: the job
 * crosses threads by structured clone.
 */
import type { ActionSpace } from '../../../sim/env.ts';
import { AgentGraph } from '../../../sim/graph.ts';
import { NetworkedGcn } from './gcn.ts';
import { GcnKernel } from './gcnKernel.ts';
import type { GcnArchitecture, ModelSystem } from './gcnLayout.ts';
import type { WindowBatch } from './gcnLoss.ts';

export interface ModelGradientJob {
  /** The agent graph as its size and edges, with each agent's observation and action. */
  readonly system: { readonly agents: number; readonly edges: readonly (readonly [number, number])[]; readonly obsDim: number; readonly action: ActionSpace };
  readonly architecture: GcnArchitecture;
  /** Every agent's flat parameters (copies: they move to the worker). */
  readonly parameters: Float32Array[];
  readonly batch: WindowBatch;
  readonly rewardCoefficient: number;
}

/** The job's description of a model system. */
export function jobSystem(system: ModelSystem): ModelGradientJob['system'] {
  return { agents: system.graph.n, edges: system.graph.edges, obsDim: system.obsDim, action: system.action };
}

/** Kernels by system and architecture: a worker builds each once. */
const kernels = new Map<string, GcnKernel>();

/** Every agent's loss gradient on the job's windows (GcnKernel.lossAndGradients). */
export function modelGradients(job: ModelGradientJob): Float32Array[] {
  const key = JSON.stringify([job.system, job.architecture]);
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    const { agents, edges, obsDim, action } = job.system;
    kernel = new GcnKernel(new NetworkedGcn({ graph: new AgentGraph(agents, edges), obsDim, action }, job.architecture));
    kernels.set(key, kernel);
  }
  return kernel.lossAndGradients(job.parameters, job.batch, job.rewardCoefficient).gradients;
}

/** Every typed array's buffer in a job (all private copies), to move rather than copy it. */
export function modelJobBuffers(job: ModelGradientJob): ArrayBuffer[] {
  const { batch } = job;
  return [...job.parameters, batch.startObservations, batch.actions, batch.nextObservations, batch.rewards, batch.terminals].map((array) => array.buffer as ArrayBuffer);
}
