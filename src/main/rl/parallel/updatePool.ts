/**
 * The update pool: runs actor and critic updates of AgentNetworks, on the calling thread or
 * split by agent over worker threads.
 *
 * Agents' updates are independent (own weights, own Adam state, own early stop), and the
 * wasm backend is single-threaded under Node, so the parameter groups are divided into
 * contiguous runs, one per worker; each worker owns its own tfjs backend. The main thread
 * keeps the parameters: a request carries copies of a run's parameters and batch rows as
 * transferable typed arrays, and the updated parameters come back the same way. Results are
 * identical to the single-thread path (same code, same order of operations per group).
 *
 * The formulation (per-agent or batched, nn/formulation.ts) follows the backend unless
 * forced; on webgpu the one device worker evaluates all groups in one batched op per layer.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AgentNetworks, NetworkParameters } from '../nn/agentNetworks.ts';
import { selectBackend, type BackendChoice, type BackendReport } from '../nn/backend.ts';
import { formulationFor, type UpdateFormulation } from '../nn/formulation.ts';
import type { ParameterGroup } from '../nn/parameters.ts';
import {
  actorBatchAgents,
  checkActorBatch,
  checkCriticBatch,
  criticBatchAgents,
  type ActorBatch,
  type CriticBatch,
} from '../core/batches.ts';
import {
  updateActorGroups,
  updateCriticGroups,
  type ActorAgentStats,
  type ActorGroupsJob,
  type CriticAgentStats,
  type CriticGroupsJob,
  type UpdateSchedule,
} from '../core/optimiser.ts';
import type { ActorLoss } from '../core/losses.ts';
import { groupBuffers, type WorkerConfig, type WorkerReply, type WorkerRequest, type WorkerStartup } from './protocol.ts';

export interface UpdatePool {
  /** Threads doing the arithmetic: 1 for the calling thread, else the worker count. */
  readonly threads: number;
  /** The backend the arithmetic runs on. */
  readonly backend: BackendReport;
  /** How gradient evaluations run there (nn/formulation.ts). */
  readonly formulation: UpdateFormulation;
  /** Policy update of every agent; statistics per agent after the update. */
  updateActors(networks: AgentNetworks, batch: ActorBatch, loss: ActorLoss, schedule: UpdateSchedule): Promise<ActorAgentStats[]>;
  /** Value (MSE) update of every agent's critic. */
  updateCritics(networks: AgentNetworks, batch: CriticBatch, schedule: UpdateSchedule): Promise<CriticAgentStats[]>;
  /** Stops the workers, if any. */
  close(): Promise<void>;
}

export interface UpdatePoolOptions {
  /** 1 runs on the calling thread; more splits agents over that many workers. Default: the CPU count. Ignored on webgpu. */
  readonly threads?: number;
  readonly backend?: BackendChoice;
  /** The backends' self-check cache file (see backendCheck.ts); null or absent: in memory only. */
  readonly checkCache?: string | null;
  /** Forces a formulation (tests, benchmarks); default: formulationFor the backend, batched on GPUs. */
  readonly formulation?: UpdateFormulation;
}

/**
 * Selects (and self-checks) the backend on the calling thread, then builds the pool. On
 * webgpu one worker drives the device, and the calling thread, which acts step by step and
 * must read tensors synchronously, switches to the best synchronous backend.
 */
export async function createUpdatePool(options: UpdatePoolOptions = {}): Promise<UpdatePool> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  const checkCache = options.checkCache ?? null;
  const chosen = await selectBackend(options.backend ?? 'auto', { checkCache });
  const formulation = options.formulation ?? formulationFor(chosen);
  if (chosen.backend === 'webgpu') {
    const acting = await selectBackend('auto', { synchronous: true, checkCache });
    const report = { ...chosen, description: `${chosen.description}; ${formulation} updates; acting on ${acting.backend}` };
    return WorkerPool.start(1, { backend: 'webgpu', checkCache }, report, formulation);
  }
  if (threads === 1) return new LocalUpdates(chosen, formulation);
  return WorkerPool.start(threads, { backend: chosen.backend, checkCache }, chosen, formulation);
}

class LocalUpdates implements UpdatePool {
  readonly threads = 1;

  constructor(
    readonly backend: BackendReport,
    readonly formulation: UpdateFormulation,
  ) {}

  async updateActors(networks: AgentNetworks, batch: ActorBatch, loss: ActorLoss, schedule: UpdateSchedule): Promise<ActorAgentStats[]> {
    checkActorBatch(batch, networks.head, networks.agents, networks.actor.layout.shape.inputSize);
    const { actor } = networks;
    const stats = await updateActorGroups({ ...jobBase(actor, actor.groups, 0, batch, schedule, this.formulation), head: networks.head, loss, agentCount: networks.agents });
    actor.markChanged();
    return stats;
  }

  async updateCritics(networks: AgentNetworks, batch: CriticBatch, schedule: UpdateSchedule): Promise<CriticAgentStats[]> {
    checkCriticBatch(batch, networks.agents, networks.critic.layout.shape.inputSize);
    const { critic } = networks;
    const stats = await updateCriticGroups(jobBase(critic, critic.groups, 0, batch, schedule, this.formulation));
    critic.markChanged();
    return stats;
  }

  async close(): Promise<void> {}
}

function jobBase<Batch>(network: NetworkParameters, groups: ParameterGroup[], firstAgent: number, batch: Batch, schedule: UpdateSchedule, formulation: UpdateFormulation) {
  return { shape: network.layout.shape, groups, firstAgent, agentsPerGroup: network.agentsPerGroup, batch, schedule, formulation };
}

/** A contiguous run of parameter groups given to one worker. */
interface GroupRun {
  readonly worker: number;
  readonly firstGroup: number;
  readonly groupCount: number;
}

class WorkerPool implements UpdatePool {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();
  private readonly busy = new Set<NetworkParameters>();
  /** Set once a worker has crashed or stopped: its agents cannot be updated any more. */
  private broken: Error | null = null;

  private constructor(
    private readonly workers: Worker[],
    readonly backend: BackendReport,
    readonly formulation: UpdateFormulation,
  ) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => this.settle(reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => this.fail(new Error(`update worker stopped (exit code ${code})`)));
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Workers on the backend the calling thread has already selected and checked (`report`). */
  static async start(threads: number, config: WorkerConfig, report: BackendReport, formulation: UpdateFormulation): Promise<WorkerPool> {
    const workers = Array.from({ length: threads }, () => new Worker(updateWorkerEntry(), { workerData: config }));
    try {
      await Promise.all(workers.map(awaitStartup));
      return new WorkerPool(workers, report, formulation);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
  }

  async updateActors(networks: AgentNetworks, batch: ActorBatch, loss: ActorLoss, schedule: UpdateSchedule): Promise<ActorAgentStats[]> {
    const { actor, head } = networks;
    const inputSize = actor.layout.shape.inputSize;
    checkActorBatch(batch, head, networks.agents, inputSize);
    return this.dispatch(actor, (groups, firstAgent, agents) => ({
      kind: 'actor',
      job: {
        ...jobBase(actor, groups, firstAgent, actorBatchAgents(batch, head, inputSize, firstAgent, agents, true), schedule, this.formulation),
        head,
        loss,
        agentCount: networks.agents,
      },
    }));
  }

  async updateCritics(networks: AgentNetworks, batch: CriticBatch, schedule: UpdateSchedule): Promise<CriticAgentStats[]> {
    const { critic } = networks;
    const inputSize = critic.layout.shape.inputSize;
    checkCriticBatch(batch, networks.agents, inputSize);
    return this.dispatch(critic, (groups, firstAgent, agents) => ({
      kind: 'critic',
      job: jobBase(critic, groups, firstAgent, criticBatchAgents(batch, inputSize, firstAgent, agents, true), schedule, this.formulation),
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Sends each worker its run of groups, then installs the returned parameters. */
  private async dispatch<Stats>(
    network: NetworkParameters,
    request: (groups: ParameterGroup[], firstAgent: number, agents: number) => WorkerRequestBody,
  ): Promise<Stats[]> {
    // Parameters are copied out and replaced on return; two updates of one network at once would lose one.
    if (this.busy.has(network)) throw new Error('an update of these networks is already running');
    this.busy.add(network);
    try {
      const runs = splitGroups(network.groups.length, this.workers.length);
      const replies = await Promise.all(
        runs.map((run) => {
          const groups = network.groups.slice(run.firstGroup, run.firstGroup + run.groupCount).map(copyGroup);
          const firstAgent = run.firstGroup * network.agentsPerGroup;
          return this.send(run.worker, request(groups, firstAgent, run.groupCount * network.agentsPerGroup));
        }),
      );
      // All or nothing: parameters change only when every worker succeeded.
      const failure = replies.find((reply) => 'error' in reply);
      if (failure !== undefined && 'error' in failure) throw new Error(`update worker failed: ${failure.error}`);
      const stats: Stats[] = [];
      replies.forEach((reply, r) => {
        if ('error' in reply) return;
        network.groups.splice(runs[r].firstGroup, runs[r].groupCount, ...reply.groups);
        stats.push(...(reply.stats as Stats[]));
      });
      network.markChanged();
      return stats;
    } finally {
      this.busy.delete(network);
    }
  }

  private send(worker: number, body: WorkerRequestBody): Promise<WorkerReply> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    const message = { id, ...body } as WorkerRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[worker].postMessage(message, transferables(message.job));
    });
  }

  private settle(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    waiting?.resolve(reply);
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

/**
 * The update worker's entry: in the built app (out/main, where this module is bundled) the
 * built update-worker.js beside it; from source, updateWorker.mjs, which registers the
 * TypeScript loader first.
 */
export function updateWorkerEntry(): URL {
  const built = new URL('./update-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : new URL('./updateWorker.mjs', import.meta.url);
}

type WorkerRequestBody = { kind: 'actor'; job: ActorGroupsJob } | { kind: 'critic'; job: CriticGroupsJob };

function awaitStartup(worker: Worker): Promise<BackendReport> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    const onExit = (code: number) => reject(new Error(`update worker exited during start-up (exit code ${code})`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (startup: WorkerStartup) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (startup.ok) resolve(startup.backend);
      else reject(new Error(`update worker could not start: ${startup.error}`));
    });
  });
}

/** Contiguous, near-equal runs of groups; workers beyond the group count get none. */
export function splitGroups(groups: number, workers: number): GroupRun[] {
  const used = Math.min(groups, workers);
  return Array.from({ length: used }, (_, worker) => {
    const firstGroup = Math.floor((worker * groups) / used);
    return { worker, firstGroup, groupCount: Math.floor(((worker + 1) * groups) / used) - firstGroup };
  });
}

function copyGroup(group: ParameterGroup): ParameterGroup {
  const { params, moments } = group;
  return { params: params.slice(), moments: { first: moments.first.slice(), second: moments.second.slice(), step: moments.step } };
}

/** Every typed array's buffer in a job (all are private copies, so they can move). */
function transferables(job: ActorGroupsJob | CriticGroupsJob): ArrayBuffer[] {
  const buffers = groupBuffers(job.groups);
  for (const value of Object.values(job.batch)) {
    if (value instanceof Float32Array) buffers.push(value.buffer as ArrayBuffer);
  }
  return buffers;
}
