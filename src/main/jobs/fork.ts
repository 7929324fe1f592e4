/**
 * Forks of stored episodes: continue an episode live from one of its states, under another
 * policy, with the state rebuilt exactly. The simulator is deterministic, so the episode's
 * seed, its exact actions (stored as float64 beside the float32 frames) and its
 * disturbances replay it bit for bit; every rebuilt state is checked against the stored
 * frame, so an episode recorded by a Headway whose physics differ fails with a message
 * instead of forking from a wrong state. A fork can be recorded as a new episode of the
 * same run, linked to its parent and step: its frames before the step are the parent's.
 *
 * Choices where the issue is silent: the parent's disturbances that started before the fork
 * step are part of its state and carry on (one still acting keeps acting); those that start
 * later are the parent's future and are dropped. A fork's own scripted disturbances count
 * from the reset like any simulation's, so they must start at or after the fork step.
 */
import { type FieldError, type ForkRequest, type SimulateConfig } from '../../shared/api.ts';
import type { Disturbance } from '../../shared/disturbance.ts';
import { withSortedKeys, type EpisodeInfo, type StoredEpisodeSpec } from '../../shared/runs.ts';
import { TRAJECTORY_FLAG, type TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { DT, type BatchedEnv } from '../sim/env.ts';
import { StepFrame, type StepFrameArrays } from '../sim/stepFrame.ts';
import type { EpisodeWriter, RunStore } from '../store/index.ts';

/** Everything rebuilding state `step` of a stored episode needs, read from the store. */
export interface ForkSource {
  episode: EpisodeInfo;
  step: number;
  /** float64 [step, nAgents]: the actions of frames 0 .. step-1, exactly. */
  actions: Float64Array;
  /** Frames 0 .. step as stored (float32), to check the rebuilt states against and to copy into a recorded fork. */
  layout: TrajectoryLayout;
  records: Float32Array;
  /** The parent's disturbances that started before the fork step (they are part of its state). */
  disturbances: Disturbance[];
}

/** A fork that cannot start; the message names the field, the value and what is allowed. */
export class ForkError extends Error {
  override name = 'ForkError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads what rebuilding state `request.step` of the episode needs; throws ForkError when the episode cannot be forked there. */
export function loadForkSource(store: RunStore, request: ForkRequest): ForkSource {
  let episode: EpisodeInfo;
  try {
    episode = store.getEpisode(request.episodeId);
  } catch {
    throw new ForkError('fork.episodeId', `fork.episodeId: there is no episode ${request.episodeId} in this history`);
  }
  const { step } = request;
  if (step > episode.steps - 1) throw new ForkError('fork.step', `fork.step ${step} is past the end of episode ${episode.id}: its states are 0 to ${episode.steps - 1}`);
  const block = store.readStepBlock(episode.id, 0, step + 1);
  const ended = block.layout.flagsAt(block.records, step * block.layout.floatsPerStep) & (TRAJECTORY_FLAG.terminated | TRAJECTORY_FLAG.truncated);
  if (ended) throw new ForkError('fork.step', `fork.step ${step}: episode ${episode.id} ended there (${ended & TRAJECTORY_FLAG.terminated ? 'a collision' : 'its horizon'}), so nothing is left to play; choose a step from 0 to ${step - 1}`);
  let actions = store.readActions(episode.id, 0, step);
  if (actions === null) {
    // Stored before Headway kept exact actions: discrete actions are whole numbers, exact in float32; accelerations are not.
    if (episode.action.kind !== 'discrete') {
      throw new ForkError('fork.episodeId', `episode ${episode.id} was stored by an older Headway without its exact actions; its continuous actions are rounded to float32, so its states cannot be rebuilt exactly: record it again to fork it`);
    }
    const { offset, length } = block.layout.fieldRange('agentAction');
    actions = new Float64Array(step * length);
    for (let t = 0; t < step; t++) actions.set(block.records.subarray(t * block.layout.floatsPerStep + offset, t * block.layout.floatsPerStep + offset + length), t * length);
  }
  const disturbances = episode.disturbances.filter((d) => d.start < step);
  return { episode, step, actions, layout: block.layout, records: block.records, disturbances };
}

/** The problems of a fork's config against its parent episode (its scenario, parameters and seed must be the episode's). */
export function checkForkConfig(source: ForkSource, config: SimulateConfig, env: BatchedEnv): FieldError[] {
  const { episode, step } = source;
  const errors: FieldError[] = [];
  if (config.scenario !== episode.scenario) errors.push({ field: 'scenario', message: `scenario ${config.scenario}: a fork of episode ${episode.id} runs on its scenario, ${episode.scenario}` });
  else if (JSON.stringify(withSortedKeys(env.spec.params)) !== JSON.stringify(withSortedKeys(episode.params))) {
    errors.push({ field: 'params', message: `params: a fork of episode ${episode.id} runs on its parameters, ${JSON.stringify(withSortedKeys(episode.params))}; these resolve to ${JSON.stringify(withSortedKeys(env.spec.params))}` });
  }
  if (config.seed !== episode.seed) errors.push({ field: 'seed', message: `seed ${config.seed}: a fork of episode ${episode.id} has its seed, ${episode.seed}` });
  if (config.repeat) errors.push({ field: 'repeat', message: 'repeat: a fork plays one episode; turn repeat off' });
  config.disturbances.forEach((d, i) => {
    if (Math.round(d.at / DT) < step) errors.push({ field: `disturbances.${i}.at`, message: `disturbances.${i}.at ${d.at} s is before the fork at ${(step * DT).toFixed(1)} s (step ${step}); a fork's disturbances start at or after it` });
  });
  return errors;
}

/** What watches a rebuild: the state before each step (with the stored action about to be applied), and after it. */
export interface RebuildObserver {
  beforeStep?(t: number): void;
  afterStep?(): void;
}

/**
 * Rebuilds state `source.step` in copy 0 of `env`, which the caller has just reset from the
 * episode's seed with the disturbances scheduled, by replaying the stored actions. Throws
 * when a rebuilt state differs from the stored frame.
 */
export function rebuildForkState(env: BatchedEnv, source: ForkSource, observer: RebuildObserver = {}): void {
  const { step, actions } = source;
  const { nAgents } = env.spec;
  checkState(env, source, 0);
  for (let t = 0; t < step; t++) {
    observer.beforeStep?.(t);
    env.step(actions.subarray(t * nAgents, (t + 1) * nAgents));
    observer.afterStep?.();
    checkState(env, source, t + 1);
  }
}

/** Throws when copy 0's positions or speeds differ from frame `t` of the stored episode (compared as the float32 it stored). */
function checkState(env: BatchedEnv, { episode, layout, records }: ForkSource, t: number): void {
  const at = t * layout.floatsPerStep;
  for (const field of ['position', 'speed'] as const) {
    const { offset, length } = layout.fieldRange(field);
    const live = env[field];
    for (let v = 0; v < length; v++) {
      const stored = records[at + offset + v];
      if (Math.fround(live[v]) !== stored) {
        throw new Error(
          `episode ${episode.id} cannot be rebuilt exactly: at step ${t} vehicle ${v}'s ${field} is ${live[v]}, the stored episode says ${stored} (was it recorded by a Headway whose simulator differs?)`,
        );
      }
    }
  }
}

/**
 * Records a fork as a new episode of its parent's run: the rebuilt states before the fork
 * step (equal to the parent's frames, with the parent's actions, critic values and action
 * distributions), then each state of the fork as it plays.
 */
export class ForkRecorder {
  private readonly writer: EpisodeWriter;
  private readonly state: StepFrame;

  constructor(
    store: RunStore,
    private readonly source: ForkSource,
    policy: string,
  ) {
    const { episode, step } = source;
    // The parent's description (an EpisodeInfo is one, with its record's fields besides, which beginning an episode does not read).
    const spec: StoredEpisodeSpec = { ...episode, checkpointId: null, disturbances: [], fork: { parentEpisodeId: episode.id, step, policy } };
    this.writer = store.beginEpisode(episode.runId, spec);
    this.state = new StepFrame(episode, episode.actionParamDim, episode.communicationDim);
  }

  /** Appends rebuilt state t (before the fork step) with what the parent's policy did there. */
  appendRebuilt(env: BatchedEnv, t: number): void {
    const { layout, records, actions } = this.source;
    const { nAgents } = env.spec;
    const parent = layout.decode(records, t * layout.floatsPerStep, t);
    const frame = this.fillState(env);
    frame.agentAction.set(actions.subarray(t * nAgents, (t + 1) * nAgents));
    frame.value.set(parent.value);
    frame.actionParams.set(parent.actionParams);
    frame.communication.set(parent.communication);
    this.writer.append(frame);
  }

  /** Appends copy 0's current state with the actions the fork's policy chose in it (applied on the next step). */
  append(env: BatchedEnv, actions: Float64Array): void {
    const frame = this.fillState(env);
    frame.agentAction.set(actions);
    // No learned policy's critic, action distribution or communication in a fork's own frames.
    frame.value.fill(NaN);
    frame.actionParams.fill(NaN);
    frame.communication.fill(NaN);
    this.writer.append(frame);
  }

  /** Copy 0's state and the reward of the step that led to it (none at the reset state). */
  private fillState(env: BatchedEnv): StepFrameArrays {
    const frame = this.state.fillState(env, 0);
    const started = env.steps[0] > 0;
    for (let i = 0; i < env.spec.nAgents; i++) frame.reward[i] = started ? env.rawReward[i] : NaN;
    return frame;
  }

  /** The id of the episode being recorded. */
  get episodeId(): number {
    return this.writer.id;
  }

  /** Stores the rest and the summary; the fork episode is complete (shorter than its horizon when stopped early). */
  finish(stats: Readonly<Record<string, number>>, disturbances: readonly Disturbance[]): EpisodeInfo {
    return this.writer.finish(stats, disturbances);
  }

  /** Drops the recorded fork (its rebuild or its job failed). */
  abort(): void {
    this.writer.abort();
  }
}
