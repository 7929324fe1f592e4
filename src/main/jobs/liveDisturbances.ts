/**
 * The disturbances of a live simulation: the scripted ones of its config (from `at` seconds
 * after each reset) and the ones the user applies while it runs (from the current step), in
 * the environment's schedule (src/main/sim/disturbances.ts), with every state of the episode
 * recorded for their string-stability readouts (src/shared/stringStability.ts).
 */
import type { DisturbanceRequest, LiveDisturbance, ScriptedDisturbance } from '../../shared/api.ts';
import { summariseReadout } from '../../shared/stringStability.ts';
import { checkDisturbance, type CheckedRoad, type Disturbance } from '../sim/disturbances.ts';
import { DT, type BatchedEnv } from '../sim/env.ts';
import { StringRecorder } from '../sim/stringRecorder.ts';

/**
 * A request as the simulator's disturbance from state `start` on (its duration in whole
 * steps, at least one). The two forms name each kind's value alike (accel, speed, depth):
 * they differ in the timing only.
 */
export function toDisturbance(request: DisturbanceRequest, start: number): Disturbance {
  return { ...request, start, duration: Math.max(1, Math.round(request.duration / DT)) };
}

/** The request a scheduled disturbance answers (its duration in seconds): for disturbances a fork inherits. */
export function toRequest({ start: _start, ...disturbance }: Disturbance): DisturbanceRequest {
  return { ...disturbance, duration: disturbance.duration * DT };
}

/** Most values of speed (and as many of gap) a live simulation records for its readouts: 16 MB each. */
const MAX_RECORDED_VALUES = 2_000_000;

/** A config's scripted disturbances, each as its request and the simulator's disturbance from `at` on. */
export function scriptedSchedule(scripted: readonly ScriptedDisturbance[]): { request: DisturbanceRequest; disturbance: Disturbance }[] {
  return scripted.map(({ at, ...request }) => ({ request, disturbance: toDisturbance(request, Math.round(at / DT)) }));
}

/** Throws the simulator's DisturbanceError when the request cannot apply on this road. */
export function checkRequest(request: DisturbanceRequest, road: CheckedRoad): void {
  checkDisturbance(toDisturbance(request, 0), road);
}

export class LiveDisturbances {
  private entries: { request: DisturbanceRequest; disturbance: Disturbance }[] = [];
  private readonly recorder: StringRecorder;

  constructor(
    private readonly env: BatchedEnv,
    private readonly scripted: readonly ScriptedDisturbance[],
  ) {
    // Long episodes of many vehicles: the readouts read the first states only.
    this.recorder = new StringRecorder(env, Math.min(env.spec.horizon + 1, Math.floor(MAX_RECORDED_VALUES / env.spec.nVehicles)));
  }

  get count(): number {
    return this.entries.length;
  }

  /** The schedule as the simulator has it now (what a recorded episode stores). */
  get schedule(): Disturbance[] {
    return this.entries.map((entry) => entry.disturbance);
  }

  /** After a reset: the scripted disturbances (and those a fork inherits from its parent), and the reset state recorded. */
  beginEpisode(inherited: readonly Disturbance[] = []): void {
    this.entries = [...inherited.map((disturbance) => ({ request: toRequest(disturbance), disturbance })), ...scriptedSchedule(this.scripted)];
    this.env.disturbances.set(this.entries.map((e) => e.disturbance));
    this.recorder.clear();
    this.recorder.record();
  }

  /** After each step. */
  record(): void {
    this.recorder.record();
  }

  /**
   * Applies a request from the current state on. One still acting on that vehicle ends here
   * and a later scripted one of it is dropped: a vehicle takes one disturbance at a time.
   * Throws DisturbanceError (the schedule unchanged) when it cannot apply.
   */
  apply(request: DisturbanceRequest): void {
    const now = this.env.steps[0];
    const next = toDisturbance(request, now);
    const kept = this.entries.flatMap((entry) => {
      const d = entry.disturbance;
      if (d.vehicle !== next.vehicle || d.start + d.duration <= now) return [entry];
      return d.start < now ? [{ ...entry, disturbance: { ...d, duration: now - d.start } }] : [];
    });
    const entries = [...kept, { request, disturbance: next }];
    this.env.disturbances.set(entries.map((e) => e.disturbance));
    this.entries = entries;
  }

  /** Every disturbance of the episode with its readout over the states so far. */
  summary(): LiveDisturbance[] {
    return this.entries.map(({ request, disturbance }) => {
      const readout = this.recorder.readout(disturbance);
      return { disturbance: request, start: disturbance.start, readout: readout && summariseReadout(readout, DT) };
    });
  }
}
