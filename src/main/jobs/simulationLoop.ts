/**
 * The live simulation a 'simulate' job runs in its worker: one environment copy under a
 * fixed policy, paced at a multiple of real time (or as fast as possible), with pause,
 * resume, single-step, stop and speed commands, and frames decimated to the display rate.
 *
 * Independent of worker_threads and of the clock (both injected), so tests drive it
 * directly; src/main/jobs/worker.ts wires it to a thread.
 */
import { DISTURBANCE_NOT_APPLIED, parsePolicy, policyNotAllowed, type FieldError, type JobCommand, type SimulateConfig, type Speed } from '../../shared/api.ts';
import { DisturbanceError } from '../sim/disturbances.ts';
import { DT, type BatchedEnv } from '../sim/env.ts';
import { createEnv } from '../sim/index.ts';
import { EpisodeStats } from '../sim/metrics.ts';
import type { RunStore } from '../store/index.ts';
import { checkForkConfig, ForkRecorder, rebuildForkState, type ForkSource } from './fork.ts';
import { captureFrame, episodeSpec, frameBuffers } from './frames.ts';
import { LiveDisturbances, scriptedSchedule } from './liveDisturbances.ts';
import { checkPolicy, makePolicy, type Policy } from './policies.ts';
import type { FromWorker } from './protocol.ts';

/** Control steps per simulated second. */
const STEPS_PER_SECOND = 1 / DT;
/** Wall time one tick may spend stepping before it yields to commands (ms). */
const TICK_BUDGET_MS = 12;
/** Paced mode never runs more than this many seconds of backlog at once (after a stall it drops the rest). */
const MAX_BACKLOG_S = 0.25;
/** Most string-stability readouts per second of wall time (each reads the whole episode so far). */
const READOUTS_PER_SECOND = 4;

export type PostMessage = (message: FromWorker, transfer?: ArrayBuffer[]) => void;

type LoopStatus = 'running' | 'paused' | 'finished' | 'stopped';

/** A simulation that continues a stored episode (src/main/jobs/fork.ts): its source, and the store to record it in (null: not recorded). */
export interface ForkStart {
  source: ForkSource;
  store: RunStore | null;
}

/**
 * Builds the env of a config, or the field errors that prevent it: the action-space check of
 * constant:K, the scripted disturbances against the scenario, a fork's config against its
 * parent episode. (A run:RUN_ID policy is checked against the run store when the worker
 * restores it; a fork's episode and step when the worker reads them.)
 */
export function prepareSimulation(config: SimulateConfig, fork: ForkSource | null = null): { env: BatchedEnv; errors: FieldError[] } {
  const env = createEnv(config.scenario, config.params, 1);
  env.training = false;
  const policy = parsePolicy(config.policy);
  const errors: FieldError[] = [];
  if (policy === null) errors.push(policyNotAllowed(config.policy));
  else {
    const problem = checkPolicy(policy, env.spec);
    if (problem) errors.push(problem);
  }
  try {
    env.disturbances.set(scriptedSchedule(config.disturbances).map((entry) => entry.disturbance));
  } catch (error) {
    if (!(error instanceof DisturbanceError)) throw error;
    errors.push({ field: 'disturbances', message: `disturbances: ${error.message}` });
  }
  if (fork) errors.push(...checkForkConfig(fork, config, env));
  return { env, errors };
}

export class SimulationLoop {
  readonly env: BatchedEnv;
  private readonly actions: Float64Array;
  private readonly disturbances: LiveDisturbances;
  private lastReadoutAt = -Infinity;
  private policy!: Policy;
  private stats!: EpisodeStats;
  private status: LoopStatus;
  private speed: Speed;
  private episode = 0;
  private episodeReturn = 0;
  /** Pacing: wall time the paced run (re)started, and steps taken since. */
  private paceStart = 0;
  private pacedSteps = 0;
  private lastFrameAt = -Infinity;
  private framePending = false;
  /** Throughput measurement: steps and wall time over a sliding window. */
  private rateWindowStart = 0;
  private rateWindowSteps = 0;
  private stepsPerSecond = 0;
  /** Records the fork episode while it plays (the first episode of a recorded fork). */
  private recorder: ForkRecorder | null = null;

  constructor(
    private readonly jobId: string,
    private readonly config: SimulateConfig,
    private readonly post: PostMessage,
    private readonly now: () => number = () => performance.now(),
    /** The restored policy of a run:RUN_ID config (src/main/jobs/runPolicy.ts); the same in every episode. */
    private readonly trained: Policy | null = null,
    /** Set for a fork: the first episode continues that stored episode instead of a reset. */
    private readonly fork: ForkStart | null = null,
  ) {
    const { env, errors } = prepareSimulation(config, fork?.source ?? null);
    if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
    this.env = env;
    this.actions = new Float64Array(env.spec.nAgents);
    this.disturbances = new LiveDisturbances(env, config.disturbances);
    this.speed = config.speed;
    this.status = config.startPaused ? 'paused' : 'running';
  }

  get currentStatus(): LoopStatus {
    return this.status;
  }

  /** True once the job has ended (finished or stopped): the worker may exit. */
  get closed(): boolean {
    return this.status === 'finished' || this.status === 'stopped';
  }

  /** Resets the first episode and announces it. */
  start(): void {
    this.beginEpisode();
    this.postState();
  }

  command(command: JobCommand): void {
    if (this.closed) return;
    switch (command.type) {
      case 'pause':
        if (this.status === 'running') {
          this.status = 'paused';
          this.flushFrame();
        }
        break;
      case 'resume':
        if (this.status === 'paused') {
          this.status = 'running';
          this.restartPacing();
        }
        break;
      case 'step': {
        if (this.status === 'running') this.status = 'paused';
        for (let k = 0; k < command.steps && !this.closed; k++) this.advance();
        this.flushFrame();
        break;
      }
      case 'stop':
        this.flushFrame();
        this.finishRecording();
        this.status = 'stopped';
        break;
      case 'speed':
        this.speed = command.speed;
        this.restartPacing();
        break;
      case 'disturb':
        try {
          this.disturbances.apply(command.disturbance);
        } catch (error) {
          if (!(error instanceof DisturbanceError)) throw error;
          this.post({ type: 'log', level: 'error', message: `${DISTURBANCE_NOT_APPLIED}: ${error.message}` });
          break;
        }
        this.postDisturbances();
        break;
    }
    this.postState();
  }

  /**
   * Runs the steps that are due. Returns the milliseconds until it wants to run again, or
   * null when idle (paused or ended): the next command wakes it.
   */
  tick(): number | null {
    if (this.status !== 'running') return null;
    const start = this.now();
    if (this.speed === 'max') {
      do {
        for (let k = 0; k < 16 && this.status === 'running'; k++) this.advance();
      } while (this.status === 'running' && this.now() - start < TICK_BUDGET_MS);
    } else {
      const stepsPerMs = (STEPS_PER_SECOND * this.speed) / 1000;
      let due = Math.floor((start - this.paceStart) * stepsPerMs) - this.pacedSteps;
      const maxBacklog = Math.max(1, Math.ceil(MAX_BACKLOG_S * STEPS_PER_SECOND * this.speed));
      if (due > maxBacklog) {
        // Fell behind (a stall, or a speed the CPU cannot sustain): drop the backlog.
        this.pacedSteps += due - maxBacklog;
        due = maxBacklog;
      }
      while (due > 0 && this.status === 'running') {
        this.advance();
        this.pacedSteps++;
        due--;
        if (this.now() - start >= TICK_BUDGET_MS) {
          this.pacedSteps += due;
          break;
        }
      }
    }
    const now = this.now();
    if (this.framePending && now - this.lastFrameAt >= 1000 / this.config.frameRate) this.flushFrame();
    if (this.status !== 'running') {
      this.postState();
      return null;
    }
    if (this.speed === 'max') return 0;
    const stepsPerMs = (STEPS_PER_SECOND * this.speed) / 1000;
    const nextStepAt = this.paceStart + (this.pacedSteps + 1) / stepsPerMs;
    const nextFrameAt = this.framePending ? this.lastFrameAt + 1000 / this.config.frameRate : Infinity;
    return Math.max(0, Math.min(nextStepAt, nextFrameAt) - now);
  }

  private restartPacing(): void {
    this.paceStart = this.now();
    this.pacedSteps = 0;
  }

  private beginEpisode(): void {
    const fork = this.episode === 0 ? this.fork : null;
    const seed = fork ? fork.source.episode.seed : this.config.seed + this.episode;
    const { env } = this;
    env.reset(seed);
    const policy = parsePolicy(this.config.policy);
    if (policy === null) throw new Error(`bad policy ${this.config.policy}`);
    if (policy.kind === 'run') {
      if (this.trained === null) throw new Error(`policy ${this.config.policy} was not restored`);
      this.policy = this.trained;
    } else this.policy = makePolicy(policy, env, seed);
    this.disturbances.beginEpisode(fork?.source.disturbances);
    this.stats = new EpisodeStats(env);
    this.episodeReturn = 0;
    if (fork) this.rebuild(fork);
    const source = fork
      ? { kind: 'fork' as const, runId: fork.source.episode.runId, parentEpisodeId: fork.source.episode.id, step: fork.source.step, storedEpisodeId: this.recorder?.episodeId ?? null }
      : undefined;
    this.post({ type: 'episode', episode: episodeSpec(env, this.jobId, this.episode, seed, source) });
    if (this.disturbances.count > 0) this.postDisturbances();
    this.restartPacing();
    this.rateWindowStart = this.now();
    this.rateWindowSteps = 0;
    this.flushFrame();
  }

  /** Rebuilds a fork's state (recording it when asked). */
  private rebuild(fork: ForkStart): void {
    const recorder = fork.store ? new ForkRecorder(fork.store, fork.source, this.config.policy) : null;
    try {
      rebuildForkState(this.env, fork.source, { beforeStep: (t) => recorder?.appendRebuilt(this.env, t), afterStep: () => this.afterStep() });
    } catch (error) {
      recorder?.abort();
      throw error;
    }
    this.recorder = recorder;
  }

  /** One control step; handles the episode's end. */
  private advance(): void {
    const { env, actions } = this;
    this.policy(env.steps[0], actions);
    this.recorder?.append(env, actions);
    env.step(actions);
    this.afterStep();
    this.framePending = true;
    this.measureRate(1);
    if (env.allDone()) this.endEpisode();
  }

  /** What every step of an episode feeds: the readouts' record, the episode's metrics and return (also the steps a fork rebuilds). */
  private afterStep(): void {
    this.disturbances.record();
    this.stats.add();
    for (let i = 0; i < this.env.spec.nAgents; i++) this.episodeReturn += this.env.rawReward[i];
  }

  /** Stores the recorded fork with its last state (the end, or where it was stopped). */
  private finishRecording(): void {
    const { recorder, env, actions } = this;
    if (!recorder) return;
    this.recorder = null;
    this.policy(env.steps[0], actions);
    recorder.append(env, actions);
    const info = recorder.finish(this.episodeValues(), this.disturbances.schedule);
    this.post({ type: 'log', level: 'info', message: `stored the fork as episode ${info.id} (${info.steps} steps, return ${info.return?.toFixed(1) ?? 'n/a'})` });
  }

  private endEpisode(): void {
    this.flushFrame();
    if (this.disturbances.count > 0) this.postDisturbances();
    this.finishRecording();
    this.post({ type: 'metrics', scope: 'episode', index: this.episode, values: this.episodeValues() });
    if (this.config.repeat && this.status !== 'stopped') {
      this.episode++;
      this.beginEpisode();
      this.postState();
    } else {
      this.status = 'finished';
    }
  }

  /** The episode's metrics as numbers (flags as 0/1; a scenario's group of figures, routing's TSTT and its ratios, by their own names). */
  private episodeValues(): Record<string, number> {
    const values: Record<string, number> = {};
    for (const [key, value] of Object.entries(this.stats.result())) {
      if (typeof value === 'number') values[key] = value;
      else if (typeof value === 'boolean') values[key] = value ? 1 : 0;
      else if (typeof value === 'object') for (const [name, figure] of Object.entries(value)) if (typeof figure === 'number') values[name] = figure;
    }
    return values;
  }

  private measureRate(steps: number): void {
    this.rateWindowSteps += steps;
    const now = this.now();
    const elapsed = now - this.rateWindowStart;
    if (elapsed >= 500) {
      this.stepsPerSecond = (this.rateWindowSteps * 1000) / elapsed;
      this.rateWindowStart = now;
      this.rateWindowSteps = 0;
    }
  }

  private flushFrame(): void {
    const frame = captureFrame(this.env, this.jobId, this.episode, this.episodeReturn, this.status === 'running' ? this.stepsPerSecond : 0);
    this.post({ type: 'frame', frame }, frameBuffers(frame));
    this.lastFrameAt = this.now();
    this.framePending = false;
    if (this.disturbances.count > 0 && this.lastFrameAt - this.lastReadoutAt >= 1000 / READOUTS_PER_SECOND) this.postDisturbances();
  }

  private postDisturbances(): void {
    this.post({ type: 'disturbances', episode: this.episode, disturbances: this.disturbances.summary() });
    this.lastReadoutAt = this.now();
  }

  private postState(): void {
    this.post({ type: 'state', status: this.status, episode: this.episode, step: this.env.steps[0], speed: this.speed });
  }
}
