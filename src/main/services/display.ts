/**
 * The live view of a training job: the evaluation episode of its latest evaluated iteration,
 * played to the UIs at real time (times the chosen speed) while training goes on at its own
 * pace in the job's worker. The worker hands over each stored evaluation episode whole (a few
 * MB at most); this player, on the main side, decimates it to the display frame rate and
 * answers pause / resume / single step / speed. When an episode has played to its end the
 * newest one that arrived meanwhile starts; older ones are skipped.
 */
import type { ApiEvent, EpisodeSpec, Frame, Speed } from '../../shared/api.ts';
import type { TrajectoryFrame } from '../../shared/runs.ts';
import { TrajectoryLayout, type TrajectoryShape } from '../../shared/trajectoryLayout.ts';

/** A stored evaluation episode as the worker hands it over. */
export interface DisplayEpisode {
  spec: EpisodeSpec;
  shape: TrajectoryShape;
  /** Every frame's record (src/shared/trajectoryLayout.ts), frame 0 = the reset state. */
  records: Float32Array;
}

/** Steps per second of 'max' speed on the display (the job itself is not limited by it). */
const MAX_DISPLAY_STEPS_PER_SECOND = 500;

const sumFinite = (values: Float32Array): number => {
  let sum = 0;
  for (const value of values) if (Number.isFinite(value)) sum += value;
  return sum;
};

export class EvaluationDisplay {
  private current: { episode: DisplayEpisode; layout: TrajectoryLayout; steps: number } | null = null;
  private queued: DisplayEpisode | null = null;
  private step = 0;
  private episodeReturn = 0;
  private stepCredit = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastFrame: Frame | null = null;
  paused = false;
  speed: Speed = 1;

  constructor(
    private readonly emit: (event: ApiEvent) => void,
    private readonly frameRate = 30,
  ) {}

  get episode(): EpisodeSpec | null {
    return this.current?.episode.spec ?? null;
  }

  get frame(): Frame | null {
    return this.lastFrame;
  }

  /** A new evaluation episode: shown at once when nothing plays, else after the one playing ends. */
  offer(episode: DisplayEpisode): void {
    if (this.current === null || this.atEnd()) this.show(episode);
    else this.queued = episode;
  }

  pause(): void {
    this.paused = true;
    this.stopTimer();
  }

  resume(): void {
    this.paused = false;
    if (this.current) this.startTimer();
  }

  /** Pauses and moves `steps` steps forward (into the next episode when this one has ended and one is queued). */
  stepForward(steps: number): void {
    this.pause();
    this.advance(steps);
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
  }

  dispose(): void {
    this.stopTimer();
    this.current = null;
    this.queued = null;
  }

  private show(episode: DisplayEpisode): void {
    const layout = new TrajectoryLayout(episode.shape);
    this.current = { episode, layout, steps: episode.records.length / layout.floatsPerStep };
    this.queued = null;
    this.step = 0;
    this.episodeReturn = 0;
    this.stepCredit = 0;
    this.emit({ type: 'episode', episode: episode.spec });
    this.emitFrame();
    if (!this.paused) this.startTimer();
  }

  private atEnd(): boolean {
    return this.current !== null && this.step >= this.current.steps - 1;
  }

  private advance(steps: number): void {
    for (let k = 0; k < steps; k++) {
      if (this.atEnd()) {
        if (!this.queued) break;
        this.show(this.queued);
        continue;
      }
      this.step++;
      this.episodeReturn += sumFinite(this.frameAt(this.step).reward);
    }
    this.emitFrame();
  }

  /** Display steps per second at the current speed (1 = real time). */
  private stepsPerSecond(): number {
    return this.speed === 'max' ? MAX_DISPLAY_STEPS_PER_SECOND : this.speed / (this.current?.episode.spec.dt ?? 0.1);
  }

  private tick(): void {
    this.stepCredit += this.stepsPerSecond() / this.frameRate;
    const steps = Math.floor(this.stepCredit);
    this.stepCredit -= steps;
    if (steps > 0 && !(this.atEnd() && !this.queued)) this.advance(steps);
  }

  private frameAt(step: number): TrajectoryFrame {
    const { episode, layout } = this.current!;
    return layout.decode(episode.records, step * layout.floatsPerStep, step);
  }

  private emitFrame(): void {
    if (!this.current) return;
    const { spec } = this.current.episode;
    const stored = this.frameAt(this.step);
    const frame: Frame = {
      jobId: spec.jobId,
      episode: spec.episode,
      step: this.step,
      time: Math.round(this.step * spec.dt * 1e6) / 1e6,
      collided: stored.collided,
      done: stored.terminated || stored.truncated,
      episodeReturn: this.episodeReturn,
      stepsPerSecond: this.paused ? 0 : this.stepsPerSecond(),
      position: Float64Array.from(stored.position),
      speed: Float64Array.from(stored.speed),
      accel: Float64Array.from(stored.accel),
      gap: Float64Array.from(stored.gap),
      action: Float64Array.from(stored.vehicleAction),
      // The store keeps whether a step collided, not which vehicles did.
      flags: new Uint8Array(spec.nVehicles),
      obs: Float64Array.from(stored.obs),
      reward: Float64Array.from(stored.reward, (r) => (Number.isNaN(r) ? 0 : r)),
      rewardTerms: Float64Array.from(stored.rewardTerms, (r) => (Number.isNaN(r) ? 0 : r)),
      value: Float64Array.from(stored.value),
      actionParams: Float64Array.from(stored.actionParams),
      state: Float64Array.from(stored.state),
      communication: Float64Array.from(stored.communication),
    };
    this.lastFrame = frame;
    this.emit({ type: 'frame', frame });
  }

  private startTimer(): void {
    this.timer ??= setInterval(() => this.tick(), 1000 / this.frameRate);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
