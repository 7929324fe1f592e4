/**
 * The job runner: owns every long task of the app (live simulations and training runs),
 * each in its own worker thread, never on the main or UI thread.
 * It validates configs, starts and controls workers, keeps each job's state, latest episode
 * and frame, and turns worker messages into api events for the UIs.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  isJobEnded,
  parsePolicy,
  validateJobConfig,
  type ApiEvent,
  type DisturbanceRequest,
  type EpisodeSpec,
  type FieldError,
  type ForkRequest,
  type Frame,
  type JobCommand,
  type JobConfig,
  type JobInfo,
} from '../../shared/api.ts';
import { LEARNERS } from '../../shared/learners.ts';
import { SCENARIOS } from '../../shared/scenarios.ts';
import type { FromWorker, JobWorkerData, ToWorker } from '../jobs/protocol.ts';
import { EvaluationDisplay } from './display.ts';
import { checkRequest } from '../jobs/liveDisturbances.ts';
import { ForkError, loadForkSource, type ForkSource } from '../jobs/fork.ts';
import { prepareSimulation } from '../jobs/simulationLoop.ts';
import { RunStore } from '../store/index.ts';
import { defaultDatabasePath } from '../store/paths.ts';
import { DisturbanceError } from '../sim/disturbances.ts';

export interface JobRunnerOptions {
  /** Script of the job worker thread. Default: src/main/jobs/worker.mjs (runs from source through tsx). */
  workerEntry?: string | URL;
  /** Most jobs running at once. */
  maxActive?: number;
  /** Ended jobs kept in the list. */
  keepEnded?: number;
}

/** The config has field errors. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => f.message).join('; '));
  }
}

/** A job request that cannot be served: unknown job, or too many running. */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    readonly code: 'not-found' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

interface JobRecord {
  info: JobInfo;
  worker: Worker | null;
  episode: EpisodeSpec | null;
  frame: Frame | null;
  /** Training jobs: the live view of their evaluation episodes. */
  display: EvaluationDisplay | null;
  /** Simulations: the latest disturbances event. */
  disturbances?: DisturbancesEvent;
}

type DisturbancesEvent = Extract<ApiEvent, { type: 'disturbances' }>;

export type JobListener = (event: ApiEvent) => void;

export function defaultWorkerEntry(): URL {
  return new URL('../jobs/worker.mjs', import.meta.url);
}

function jobTitle(config: JobConfig): string {
  switch (config.kind) {
    case 'train':
      return `Train ${LEARNERS[config.learner].title} on ${SCENARIOS[config.scenario].title} · ${config.iterations} iterations · seed ${config.seed}`;
    case 'resume':
      return `Resume run ${config.runId}`;
    case 'evaluate':
      return `Evaluate run ${config.runId} (checkpoint ${config.checkpoint}) · ${config.episodes} episode${config.episodes === 1 ? '' : 's'} · seed ${config.seed}`;
    case 'simulate':
      break;
  }
  const preset = typeof config.params.preset === 'string' && config.params.preset !== 'dmpo' ? ` (${config.params.preset})` : '';
  const fork = config.fork ? ` · fork of episode ${config.fork.episodeId} at step ${config.fork.step}` : '';
  return `${SCENARIOS[config.scenario].title}${preset} · ${config.policy} · seed ${config.seed}${fork}`;
}

/** A fork's parent episode as the worker will read it (the worker reads it again: the history may change in between), or why it cannot be forked. */
function readForkSource(request: ForkRequest): ForkSource | ForkError {
  let store: RunStore;
  try {
    store = RunStore.open(defaultDatabasePath(), { readOnly: true });
  } catch (error) {
    return new ForkError('fork.episodeId', `fork.episodeId: cannot read the history: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return loadForkSource(store, request);
  } catch (error) {
    if (error instanceof ForkError) return error;
    throw error;
  } finally {
    store.close();
  }
}

export class JobRunner {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly listeners = new Set<JobListener>();
  private readonly workerEntry: string | URL;
  private readonly maxActive: number;
  private readonly keepEnded: number;
  private counter = 0;

  constructor(options: JobRunnerOptions = {}) {
    this.workerEntry = options.workerEntry ?? defaultWorkerEntry();
    this.maxActive = options.maxActive ?? 4;
    this.keepEnded = options.keepEnded ?? 20;
  }

  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every field error of a config (empty when it can start). */
  validate(input: unknown): FieldError[] {
    return this.check(input).errors;
  }

  start(input: unknown): JobInfo {
    const { config, errors } = this.check(input);
    if (errors.length > 0 || config === null) throw new ConfigError(errors);
    const active = [...this.jobs.values()].filter((job) => !isJobEnded(job.info.status)).length;
    if (active >= this.maxActive) throw new JobError('busy', `${active} jobs are running; stop one before starting another (at most ${this.maxActive})`);

    const id = `${config.kind === 'simulate' ? 'sim' : config.kind}-${++this.counter}-${randomBytes(3).toString('hex')}`;
    const info: JobInfo = {
      id,
      kind: config.kind,
      title: jobTitle(config),
      status: 'starting',
      config,
      episode: 0,
      step: 0,
      speed: config.kind === 'simulate' ? config.speed : 1,
      created: new Date().toISOString(),
      ended: null,
      error: null,
      progress:
        config.kind === 'simulate'
          ? null
          : {
              iteration: 0,
              iterations: config.kind === 'train' ? config.iterations : config.kind === 'evaluate' ? config.episodes : 0,
              envSteps: 0,
              runId: config.kind === 'train' ? null : config.runId,
              backend: null,
              held: false,
            },
      displayPaused: false,
    };
    const workerData: JobWorkerData = { jobId: id, config };
    const worker = new Worker(this.workerEntry, { workerData, name: `headway-${id}` });
    const trains = config.kind === 'train' || config.kind === 'resume';
    const record: JobRecord = { info, worker, episode: null, frame: null, display: trains ? new EvaluationDisplay((event) => this.emit(event)) : null };
    this.jobs.set(id, record);
    worker.on('message', (message: FromWorker) => this.onWorkerMessage(record, message));
    worker.on('error', (error) => this.end(record, 'failed', error.message));
    worker.on('exit', (code) => {
      record.worker = null;
      if (!isJobEnded(record.info.status)) this.end(record, 'failed', `the job's worker stopped unexpectedly (exit code ${code})`);
    });
    this.prune();
    this.emit({ type: 'job', job: { ...info } });
    return { ...info };
  }

  control(jobId: string, command: JobCommand): JobInfo {
    const record = this.jobs.get(jobId);
    if (!record) throw new JobError('not-found', `no job ${jobId}`);
    if (command.type === 'disturb') this.checkDisturb(record, command.disturbance);
    if (record.display) this.controlDisplay(record, record.display, command);
    else if (!isJobEnded(record.info.status) && record.worker) {
      const message: ToWorker = { type: 'command', command };
      record.worker.postMessage(message);
      if (command.type === 'speed' && record.info.kind === 'simulate') record.info.speed = command.speed;
    }
    return { ...record.info };
  }

  /**
   * A training job's view: pause, step and speed act on the displayed evaluation episode;
   * the job trains on unless a pause holds training too (it then waits between iterations
   * until resumed). Stop ends the training.
   */
  private controlDisplay(record: JobRecord, display: EvaluationDisplay, command: JobCommand): void {
    const toWorker = (forward: JobCommand) => {
      if (!isJobEnded(record.info.status) && record.worker) record.worker.postMessage({ type: 'command', command: forward } satisfies ToWorker);
    };
    switch (command.type) {
      case 'pause':
        display.pause();
        if (command.holdTraining) toWorker(command);
        break;
      case 'resume':
        display.resume();
        toWorker(command);
        break;
      case 'step':
        display.stepForward(command.steps);
        break;
      case 'speed':
        display.setSpeed(command.speed);
        record.info.speed = command.speed;
        break;
      case 'stop':
        toWorker(command);
        break;
    }
    record.info.displayPaused = display.paused;
    this.emit({ type: 'job', job: { ...record.info } });
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((job) => ({ ...job.info }));
  }

  /** The job of this runner that trains, resumes or evaluates run `runId` now, if any. */
  activeJobOfRun(runId: number): string | null {
    for (const { info } of this.jobs.values()) {
      if (!isJobEnded(info.status) && info.progress?.runId === runId) return info.id;
    }
    return null;
  }

  /** A job's current episode description, latest frame and (simulations) that episode's disturbances, for UIs that connect mid-job. */
  live(jobId: string): { episode: EpisodeSpec | null; frame: Frame | null; disturbances: DisturbancesEvent | null } {
    const record = this.jobs.get(jobId);
    if (record?.display) return { episode: record.display.episode, frame: record.display.frame, disturbances: null };
    const disturbances = record?.disturbances && record.disturbances.episode === record.episode?.episode ? record.disturbances : null;
    return { episode: record?.episode ?? null, frame: record?.frame ?? null, disturbances };
  }

  /** Stops every job and waits for the workers to exit. */
  async shutdown(): Promise<void> {
    const exits: Promise<unknown>[] = [];
    for (const record of this.jobs.values()) {
      if (record.worker) {
        const worker = record.worker;
        exits.push(new Promise((resolve) => worker.once('exit', resolve)));
        if (!isJobEnded(record.info.status)) this.end(record, 'stopped', null);
        void worker.terminate();
      }
      record.display?.dispose();
    }
    await Promise.all(exits);
  }

  private check(input: unknown): { config: JobConfig | null; errors: FieldError[] } {
    const validated = validateJobConfig(input);
    if (!validated.ok) return { config: null, errors: validated.errors };
    const { config } = validated;
    // Checks that need the environment (the action space of constant:K) and a fork's parent episode.
    if (config.kind === 'simulate' && parsePolicy(config.policy) !== null) {
      const fork = config.fork ? readForkSource(config.fork) : null;
      if (fork instanceof ForkError) return { config: null, errors: [{ field: fork.field, message: fork.message }] };
      const { errors } = prepareSimulation(config, fork);
      if (errors.length > 0) return { config: null, errors };
    }
    return { config, errors: [] };
  }

  /** A disturbance applies to a live simulation's vehicle as the simulator allows (checked again there). */
  private checkDisturb(record: JobRecord, request: DisturbanceRequest): void {
    const refuse = (message: string) => new ConfigError([{ field: 'disturbance', message }]);
    if (record.info.kind !== 'simulate') throw refuse('disturbances apply to live simulations only');
    const episode = record.episode;
    if (!episode || isJobEnded(record.info.status)) throw refuse('the simulation is not running');
    try {
      checkRequest(request, { scenario: episode.scenario, nVehicles: episode.nVehicles, vehicleKind: Uint8Array.from(episode.vehicleKind) });
    } catch (error) {
      if (error instanceof DisturbanceError) throw refuse(error.message);
      throw error;
    }
  }

  private onWorkerMessage(record: JobRecord, message: FromWorker): void {
    const { info } = record;
    switch (message.type) {
      case 'state': {
        info.episode = message.episode;
        info.step = message.step;
        info.speed = message.speed;
        if (message.status === 'finished' || message.status === 'stopped') this.end(record, message.status, null);
        else if (!isJobEnded(info.status)) {
          info.status = message.status;
          this.emit({ type: 'job', job: { ...info } });
        }
        break;
      }
      case 'episode':
        record.episode = message.episode;
        info.episode = message.episode.episode;
        this.emit({ type: 'episode', episode: message.episode });
        break;
      case 'frame':
        record.frame = message.frame;
        info.step = message.frame.step;
        this.emit({ type: 'frame', frame: message.frame });
        break;
      case 'metrics':
        this.emit({ type: 'metrics', jobId: info.id, scope: message.scope, index: message.index, values: message.values });
        break;
      case 'error':
        this.end(record, 'failed', message.message);
        break;
      case 'log':
        this.emit({ type: 'log', jobId: info.id, level: message.level, message: message.message });
        break;
      case 'disturbances': {
        const event = { type: 'disturbances', jobId: info.id, episode: message.episode, disturbances: message.disturbances } as const;
        record.disturbances = event;
        this.emit(event);
        break;
      }
      case 'training':
        if (info.progress) {
          info.progress = {
            ...info.progress,
            runId: message.runId,
            backend: message.backend,
            iteration: message.iteration,
            iterations: message.iterations ?? info.progress.iterations,
          };
          this.emit({ type: 'job', job: { ...info } });
          this.emit({ type: 'log', jobId: info.id, level: 'info', message: `${info.kind === 'evaluate' ? 'evaluating' : 'training'} run ${message.runId} on ${message.backend}` });
        }
        break;
      case 'displayEpisode':
        record.display?.offer({ spec: { ...message.episode, jobId: info.id }, shape: message.shape, records: message.records });
        break;
      case 'held':
        if (info.progress) {
          info.progress = { ...info.progress, held: message.held };
          this.emit({ type: 'job', job: { ...info } });
        }
        break;
      case 'progress':
        if (info.progress && !isJobEnded(info.status)) {
          info.progress = { ...info.progress, iteration: message.iteration, envSteps: message.envSteps };
          this.emit({ type: 'job', job: { ...info } });
        }
        break;
    }
  }

  private end(record: JobRecord, status: 'finished' | 'stopped' | 'failed', error: string | null): void {
    if (isJobEnded(record.info.status)) return;
    record.info.status = status;
    record.info.error = error;
    record.info.ended = new Date().toISOString();
    this.emit({ type: 'job', job: { ...record.info } });
    if (status === 'failed') this.emit({ type: 'log', jobId: record.info.id, level: 'error', message: error ?? 'job failed' });
  }

  private prune(): void {
    const ended = [...this.jobs.values()].filter((job) => isJobEnded(job.info.status));
    for (const job of ended.slice(0, Math.max(0, ended.length - this.keepEnded))) {
      job.display?.dispose();
      this.jobs.delete(job.info.id);
    }
  }

  private emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing UI connection must not break the job or the other UIs.
      }
    }
  }
}
