/**
 * The stored episode as the video export reads it: frames streamed forward in blocks
 * (the replay's StepBlockCache, a few blocks kept) and sampled at any replay time, moving
 * between two steps the way the replay's 3D view glides between them: positions linearly,
 * the short way round a loop; speeds (colours) and badges from the step reached.
 */
import type { HeadwayApi } from '../../shared/api.ts';
import { MAX_STEP_BLOCK } from '../../shared/apiHistory.ts';
import type { EpisodeInfo } from '../../shared/runs.ts';
import type { TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { StepBlockCache } from '../replay/blockCache.ts';
import { blockRecords, decodeTraces, layoutOf, ShownFrame, traceStride } from '../replay/episode.ts';

/** What one video frame shows. */
export interface SampledFrame {
  /** The replay time (s) and the step reached at it. */
  timeS: number;
  step: number;
  position: Float64Array;
  speed: Float32Array;
  collided: boolean;
  /** The episode's return up to the step reached (null before the first reward). */
  returnSoFar: number | null;
}

/** Steps per request: whole blocks of the api's largest size. */
const BLOCK_STEPS = MAX_STEP_BLOCK;

export class EpisodeFrames {
  private readonly layout: TrajectoryLayout;
  private readonly cache: StepBlockCache;
  private readonly before: ShownFrame;
  private readonly after: ShownFrame;
  private readonly sample: SampledFrame;

  private constructor(
    private readonly info: EpisodeInfo,
    api: HeadwayApi,
    private readonly returns: Float64Array,
    private readonly returnStride: number,
  ) {
    this.layout = layoutOf(info);
    this.cache = new StepBlockCache(async (from, to) => blockRecords(await api.readEpisodeSteps(info.id, from, to)), info.steps, BLOCK_STEPS, 3);
    this.before = new ShownFrame(this.layout);
    this.after = new ShownFrame(this.layout);
    this.sample = { timeS: 0, step: 0, position: new Float64Array(info.nVehicles), speed: new Float32Array(info.nVehicles), collided: false, returnSoFar: null };
  }

  /** Opens an episode: its return so far comes from the same traces the replay's readout uses. */
  static async open(api: HeadwayApi, info: EpisodeInfo): Promise<EpisodeFrames> {
    const stride = traceStride(info.steps);
    const traces = decodeTraces(await api.readEpisodeTraces(info.id, stride));
    return new EpisodeFrames(info, api, traces.returnSoFar, stride);
  }

  /**
   * The view at replay time `timeS` (clamped to the episode). The returned frame is reused by
   * the next call. Times are meant to grow: the blocks ahead are prefetched.
   */
  async at(timeS: number): Promise<SampledFrame> {
    const { info, sample } = this;
    const exact = Math.min(info.steps - 1, Math.max(0, timeS / info.dt));
    // A time that lands on a step (to rounding) shows that step, not a blend into the next one.
    const rounded = Math.round(exact);
    const stepAt = Math.abs(exact - rounded) < 1e-6 ? rounded : exact;
    const lower = Math.floor(stepAt);
    const upper = Math.min(info.steps - 1, lower + 1);
    const alpha = stepAt - lower;
    const a = await this.frame(this.before, lower);
    const b = upper === lower ? a : await this.frame(this.after, upper);
    this.cache.prefetch(upper, 1, 1);
    const reached = alpha >= 0.5 ? b : a;
    const loop = info.roadLength;
    for (let v = 0; v < info.nVehicles; v++) {
      let delta = b.position[v] - a.position[v];
      if (loop !== null) {
        if (delta > loop / 2) delta -= loop;
        else if (delta < -loop / 2) delta += loop;
      }
      sample.position[v] = a.position[v] + delta * alpha;
      sample.speed[v] = reached.speed[v];
    }
    sample.timeS = timeS;
    sample.step = reached.step;
    sample.collided = reached.collided;
    const k = Math.min(this.returns.length - 1, Math.floor(reached.step / this.returnStride));
    sample.returnSoFar = k >= 0 && reached.step > 0 ? this.returns[k] : null;
    return sample;
  }

  private async frame(shown: ShownFrame, step: number) {
    const block = this.cache.lookup(step) ?? (await this.cache.load(step));
    return shown.show(block.records, block.from, step);
  }
}
