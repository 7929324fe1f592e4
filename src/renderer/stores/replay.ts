/**
 * Replay of stored episodes: which run and episode are open (and a second one to compare
 * side by side), the cursor and playback (play/pause, speed, single steps, jumps), the
 * selected vehicle and its inspector, and the whole-episode traces behind the diagrams.
 *
 * Frames stream by step range through a StepBlockCache per episode; the frame shown is
 * handed to the 3D viewports through onFrame listeners, outside Vue's deep reactivity
 * (frameSeq bumps for what re-reads it).
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import { isJobEnded, type JobInfo, type JobStatus, type RunOverview } from '../../shared/api.ts';
import type { EpisodeInfo, RunDetail, TrajectoryFrame } from '../../shared/runs.ts';
import type { TrajectoryLayout } from '../../shared/trajectoryLayout.ts';
import { observationFields, type ObservationField } from '../../shared/scenarios.ts';
import { useApi } from '../api/index.ts';
import { StepBlockCache } from '../replay/blockCache.ts';
import { useAgentGraph } from '../composables/useAgentGraph.ts';
import { communicationView, type CommunicationView } from '../../shared/communication.ts';
import { actionDistribution, type ActionDistribution } from '../inspect/actions.ts';
import { vehicleKindOf, type InspectedVehicle } from '../inspect/vehicles.ts';
import { blockRecords, decodeTraces, layoutOf, ShownFrame, traceStride, type DecodedTraces } from '../replay/episode.ts';

/** Playback speeds offered, as multiples of real time (1 = one control step per dt). */
export const PLAYBACK_SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10] as const;
/** Bytes of records per streamed block and in each episode's cache. */
const BLOCK_BYTES = 128 * 1024;
const CACHE_BYTES = 16 * 1024 * 1024;
/** Most steps per block (and at most the api's MAX_STEP_BLOCK). */
const MAX_BLOCK_STEPS = 256;

export type TrackRole = 'primary' | 'compare';
export type ReplayFrameListener = (frame: TrajectoryFrame, info: EpisodeInfo, snap: boolean) => void;

/** One episode on screen: its description, streamed frames and the frame shown. */
interface Track {
  run: RunDetail;
  info: EpisodeInfo;
  layout: TrajectoryLayout;
  cache: StepBlockCache;
  shown: ShownFrame;
  /** Step of the frame shown; -1 before the first. */
  shownStep: number;
}

/** A stored episode to compare with, and its run. */
export interface EpisodeChoice {
  run: RunDetail;
  episode: EpisodeInfo;
}

export interface ReplayInspectorView extends InspectedVehicle {
  /** Action applied at this step (NaN at reset and for vehicles no agent drives). */
  applied: number;
  /** The policy's choice in this state (applied at the next step), its distribution and the critic's value. */
  chosen: number | null;
  distribution: ActionDistribution | null;
  value: number | null;
  reward: number | null;
  rewardTerms: { name: string; value: number }[];
  obs: ObservationField[];
  /** Its gate and the message it received (IC3Net's episodes); null when the episode's policy does not communicate. */
  communication: CommunicationView | null;
}

export interface ReplayTimings {
  /** From choosing an episode to its first frame handed to the 3D view (ms). */
  firstFrameMs: number | null;
  /** From the latest jump of the cursor to its frame handed to the 3D view (ms). */
  lastScrubMs: number | null;
  /** Whether that frame's block was cached already. */
  lastScrubCached: boolean | null;
}

function blockSteps(bytesPerStep: number): number {
  let steps = MAX_BLOCK_STEPS;
  while (steps > 8 && steps * bytesPerStep > BLOCK_BYTES) steps /= 2;
  return steps;
}

export const useReplayStore = defineStore('replay', () => {
  const runs = ref<RunDetail[]>([]);
  const overview = shallowRef<RunOverview | null>(null);
  const primary = shallowRef<Track | null>(null);
  const compare = shallowRef<Track | null>(null);
  /** The replay cursor: the step shown. */
  const step = ref(0);
  /** Bumps whenever the primary frame shown changes. */
  const frameSeq = ref(0);
  const playing = ref(false);
  const speed = ref(1);
  const selectedVehicle = ref<number | null>(null);
  const traces = shallowRef<DecodedTraces | null>(null);
  const candidates = ref<EpisodeChoice[]>([]);
  /** Runs of the open episode's scenario: what an evaluation with its seed can run. */
  const scenarioRuns = ref<RunDetail[]>([]);
  const evaluation = ref<{ jobId: string; runId: number; status: JobStatus; error: string | null } | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const timings = ref<ReplayTimings>({ firstFrameMs: null, lastScrubMs: null, lastScrubCached: null });

  const listeners: Record<TrackRole, Set<ReplayFrameListener>> = { primary: new Set(), compare: new Set() };
  const episodeListeners: Record<TrackRole, Set<(info: EpisodeInfo | null) => void>> = { primary: new Set(), compare: new Set() };
  /** Bumps on every open; stale loads compare against it. */
  let openSeq = 0;
  let openStarted: number | null = null;
  let pendingJump: { step: number; started: number; cached: boolean } | null = null;
  let direction: 1 | -1 = 1;
  let animation = 0;
  let lastTick = 0;
  let carry = 0;

  const episode = computed(() => primary.value?.info ?? null);
  const lastStep = computed(() => Math.max(0, (primary.value?.info.steps ?? 1) - 1));
  const time = computed(() => step.value * (primary.value?.info.dt ?? 0.1));
  const returnSoFar = computed(() => {
    const t = traces.value;
    if (!t || t.frames === 0) return null;
    return t.returnSoFar[Math.min(t.frames - 1, Math.floor(step.value / t.stride))];
  });

  function onFrame(role: TrackRole, listener: ReplayFrameListener): () => void {
    listeners[role].add(listener);
    return () => listeners[role].delete(listener);
  }

  function onEpisode(role: TrackRole, listener: (info: EpisodeInfo | null) => void): () => void {
    episodeListeners[role].add(listener);
    return () => episodeListeners[role].delete(listener);
  }

  /** The frame shown by a viewport that (re)attaches. */
  function currentFrame(role: TrackRole): { frame: TrajectoryFrame; info: EpisodeInfo } | null {
    const track = role === 'primary' ? primary.value : compare.value;
    return track && track.shownStep >= 0 ? { frame: track.shown.frame, info: track.info } : null;
  }

  function makeTrack(run: RunDetail, info: EpisodeInfo): Track {
    const api = useApi();
    const layout = layoutOf(info);
    const size = blockSteps(layout.bytesPerStep);
    const capacity = Math.max(4, Math.floor(CACHE_BYTES / (size * layout.bytesPerStep)));
    const cache = new StepBlockCache(async (from, to) => blockRecords(await api.readEpisodeSteps(info.id, from, to)), info.steps, size, capacity);
    return markRaw({ run, info, layout, cache, shown: new ShownFrame(layout), shownStep: -1 });
  }

  /** Shows `target` (clamped to the episode) on a track if its block is cached; false when it is not. */
  function display(role: TrackRole, track: Track, target: number, snap: boolean): boolean {
    const s = Math.min(target, track.info.steps - 1);
    const block = track.cache.lookup(s);
    if (!block) return false;
    const frame = track.shown.show(block.records, block.from, s);
    track.shownStep = s;
    for (const listener of listeners[role]) listener(frame, track.info, snap);
    if (role === 'primary') {
      frameSeq.value++;
      const now = performance.now();
      if (openStarted !== null) {
        timings.value = { ...timings.value, firstFrameMs: now - openStarted };
        openStarted = null;
      }
      if (pendingJump && pendingJump.step === target) {
        timings.value = { ...timings.value, lastScrubMs: now - pendingJump.started, lastScrubCached: pendingJump.cached };
        pendingJump = null;
      }
    }
    return true;
  }

  /** Shows the cursor's step on every track, loading what is missing; resolves once shown. */
  async function showCursor(snap: boolean): Promise<void> {
    const target = step.value;
    const waits: Promise<unknown>[] = [];
    for (const [role, track] of [
      ['primary', primary.value],
      ['compare', compare.value],
    ] as const) {
      if (!track) continue;
      const s = Math.min(target, track.info.steps - 1);
      if (!display(role, track, target, snap)) {
        waits.push(
          track.cache.load(s).then(() => {
            if (step.value === target && (role === 'primary' ? primary.value : compare.value) === track) display(role, track, target, true);
          }),
        );
      }
      track.cache.prefetch(s, direction, 2);
    }
    try {
      await Promise.all(waits);
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /** Moves the cursor to the step at `time` seconds (a click on a chart over the episode). */
  function seekTime(time: number): void {
    const info = episode.value;
    if (info) void seek(time / info.dt);
  }

  /** Moves the cursor to `target` (clamped) and shows it there: a jump, timed for the scrub latency. */
  function seek(target: number): Promise<void> {
    const track = primary.value;
    if (!track) return Promise.resolve();
    const s = Math.max(0, Math.min(lastStep.value, Math.round(target)));
    if (s !== step.value) direction = s > step.value ? 1 : -1;
    step.value = s;
    pendingJump = { step: s, started: performance.now(), cached: track.cache.lookup(s) !== null };
    return showCursor(true);
  }

  const stepBy = (delta: number) => {
    pause();
    return seek(step.value + delta);
  };

  function tick(now: number): void {
    const track = primary.value;
    if (!playing.value || !track) return;
    carry += (((now - lastTick) / 1000) * speed.value) / track.info.dt;
    lastTick = now;
    const advance = Math.floor(carry);
    if (advance >= 1) {
      const target = Math.min(lastStep.value, step.value + advance);
      if (track.cache.lookup(target)) {
        carry -= advance;
        step.value = target;
        void showCursor(false);
      } else {
        // Not streamed yet: hold here until it is (the time owed is capped, so playback resumes at its pace).
        carry = Math.min(carry, advance);
        track.cache.load(target).catch((failure: unknown) => (error.value = String(failure)));
      }
      if (step.value >= lastStep.value) {
        pause();
        return;
      }
    }
    animation = requestAnimationFrame(tick);
  }

  function play(): void {
    if (!primary.value || playing.value) return;
    if (step.value >= lastStep.value) void seek(0);
    direction = 1;
    playing.value = true;
    carry = 0;
    lastTick = performance.now();
    animation = requestAnimationFrame(tick);
  }

  function pause(): void {
    playing.value = false;
    if (animation !== 0) cancelAnimationFrame(animation);
    animation = 0;
  }

  const togglePlay = () => (playing.value ? pause() : play());

  function setSpeed(value: number): void {
    speed.value = Math.max(PLAYBACK_SPEEDS[0], Math.min(PLAYBACK_SPEEDS[PLAYBACK_SPEEDS.length - 1], value));
  }

  async function loadRuns(): Promise<void> {
    try {
      runs.value = await useApi().listRuns({});
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /** Shows a run's episodes and opens its newest one of its own (forks of it are listed, one click away). */
  async function selectRun(runId: number): Promise<void> {
    const started = performance.now();
    const run = await useApi().getRun(runId);
    overview.value = run;
    const newest = run.episodes.find((e) => e.complete && e.fork === null) ?? run.episodes.find((e) => e.complete) ?? run.episodes[0];
    if (newest) await open(runId, newest.id, started);
    else closeEpisode();
  }

  function closeEpisode(): void {
    pause();
    openSeq++;
    primary.value = null;
    compare.value = null;
    traces.value = null;
    candidates.value = [];
    for (const listener of episodeListeners.primary) listener(null);
    for (const listener of episodeListeners.compare) listener(null);
  }

  /** Opens a stored episode at step 0; `started` is when the user asked (for the first-frame time). */
  async function open(runId: number, episodeId: number, started = performance.now()): Promise<void> {
    const seq = ++openSeq;
    pause();
    loading.value = true;
    error.value = null;
    openStarted = started;
    try {
      const api = useApi();
      // The run's overview as last read, unless the episode is newer (a fork stored since).
      const cached = overview.value?.run.id === runId && overview.value.episodes.some((e) => e.id === episodeId) ? overview.value : null;
      const detail = cached ?? (await api.getRun(runId));
      if (seq !== openSeq) return;
      overview.value = detail;
      const info = detail.episodes.find((e) => e.id === episodeId);
      if (!info) throw new Error(`episode ${episodeId} is not stored with run ${runId}`);
      const previous = primary.value?.info;
      const track = makeTrack(detail.run, info);
      if (!previous || previous.scenario !== info.scenario || previous.nVehicles !== info.nVehicles) selectedVehicle.value = null;
      primary.value = track;
      compare.value = null;
      traces.value = null;
      candidates.value = [];
      evaluation.value = null;
      for (const listener of episodeListeners.primary) listener(info);
      for (const listener of episodeListeners.compare) listener(null);
      step.value = 0;
      direction = 1;
      await showCursor(true);
      if (seq !== openSeq) return;
      loading.value = false;
      const stride = traceStride(info.steps);
      const decoded = decodeTraces(await api.readEpisodeTraces(info.id, stride));
      if (seq !== openSeq) return;
      traces.value = markRaw(decoded);
      void warm(track, seq);
      await findCandidates(info);
    } catch (failure) {
      if (seq === openSeq) error.value = failure instanceof Error ? failure.message : String(failure);
    } finally {
      if (seq === openSeq) loading.value = false;
    }
  }

  /** Loads the blocks nearest the cursor one at a time while the episode stays open, as many as the cache keeps: scrubbing nearby needs no request. */
  async function warm(track: Track, seq: number): Promise<void> {
    const { cache } = track;
    const order = Array.from({ length: cache.blockCount }, (_, k) => k).sort(
      (a, b) => Math.abs(a - cache.blockIndex(step.value)) - Math.abs(b - cache.blockIndex(step.value)) || a - b,
    );
    for (const index of order.slice(0, cache.capacity - 2)) {
      if (seq !== openSeq) return;
      await cache.load(index * cache.blockSize).catch(() => undefined);
    }
  }

  /** Stored episodes of other runs (or this one) with the same scenario and seed, and the runs that could be evaluated with that seed. */
  async function findCandidates(info: EpisodeInfo): Promise<void> {
    const api = useApi();
    const sameScenario = await api.listRuns({ scenario: info.scenario, limit: 200 });
    const overviews = await Promise.all(sameScenario.map((run) => api.getRun(run.id)));
    if (primary.value?.info.id !== info.id) return;
    scenarioRuns.value = sameScenario;
    candidates.value = overviews.flatMap((o) =>
      o.episodes.filter((e) => e.id !== info.id && e.seed === info.seed && e.complete).map((episode) => ({ run: o.run, episode })),
    );
  }

  async function setCompare(episodeId: number | null): Promise<void> {
    const choice = candidates.value.find((c) => c.episode.id === episodeId) ?? null;
    compare.value = choice ? makeTrack(choice.run, choice.episode) : null;
    for (const listener of episodeListeners.compare) listener(choice?.episode ?? null);
    if (choice) await showCursor(true);
  }

  /** Opens an episode with a candidate beside it and the cursor at `step`: a fork next to its parent, where they part. */
  async function openBeside(runId: number, episodeId: number, compareEpisodeId: number, at: number): Promise<void> {
    await open(runId, episodeId);
    if (primary.value?.info.id !== episodeId) return;
    await setCompare(compareEpisodeId);
    await seek(at);
  }

  /** Evaluates a run's best checkpoint with the open episode's seed (an app job), then lists the new episode to compare with. */
  async function evaluateForCompare(runId: number): Promise<void> {
    const info = primary.value?.info;
    if (!info) return;
    const api = useApi();
    // Job events can arrive before startJob answers: keep them until the job's id is known.
    const seen = new Map<string, JobInfo>();
    let jobId: string | null = null;
    let ended: (status: JobStatus) => void = () => undefined;
    const end = new Promise<JobStatus>((resolve) => (ended = resolve));
    const track = (job: JobInfo) => {
      seen.set(job.id, job);
      if (job.id !== jobId) return;
      evaluation.value = { jobId: job.id, runId, status: job.status, error: job.error };
      if (isJobEnded(job.status)) ended(job.status);
    };
    const unsubscribe = api.onEvent((event) => {
      if (event.type === 'job') track(event.job);
    });
    try {
      const job = await api.startJob({ kind: 'evaluate', runId, seed: info.seed, episodes: 1 });
      jobId = job.id;
      track(seen.get(job.id) ?? job);
      if ((await end) === 'finished' && primary.value?.info.id === info.id) await findCandidates(info);
    } catch (failure) {
      evaluation.value = { jobId: jobId ?? '', runId, status: 'failed', error: failure instanceof Error ? failure.message : String(failure) };
    } finally {
      unsubscribe();
    }
  }

  function select(vehicle: number | null): void {
    const info = primary.value?.info;
    selectedVehicle.value = info && vehicle !== null && vehicle >= 0 && vehicle < info.nVehicles ? vehicle : null;
  }

  const { kappa, agentOfVehicle, vehicleChoices, selectedAgent, maxKappa, setKappa, neighbourhoods } = useAgentGraph(() => primary.value?.info ?? null, selectedVehicle);

  const inspector = computed<ReplayInspectorView | null>(() => {
    void frameSeq.value;
    const track = primary.value;
    const v = selectedVehicle.value;
    if (!track || track.shownStep < 0 || v === null) return null;
    const { info } = track;
    const f = track.shown.frame;
    const agent = agentOfVehicle.value[v] ?? -1;
    const nTerms = info.rewardTermNames.length;
    const finite = (value: number) => (Number.isFinite(value) ? value : null);
    return {
      vehicle: v,
      agent,
      kind: vehicleKindOf(info.vehicleKind[v]),
      position: f.position[v],
      speed: f.speed[v],
      gap: f.gap[v],
      accel: f.accel[v],
      applied: f.vehicleAction[v],
      chosen: agent >= 0 ? finite(f.agentAction[agent]) : null,
      distribution: agent >= 0 ? actionDistribution(info.action, f.actionParams, agent * info.actionParamDim) : null,
      value: agent >= 0 ? finite(f.value[agent]) : null,
      reward: agent >= 0 ? finite(f.reward[agent]) : null,
      rewardTerms: agent >= 0 ? info.rewardTermNames.map((name, k) => ({ name, value: f.rewardTerms[agent * nTerms + k] })) : [],
      obs: agent >= 0 ? observationFields(info.obsNames, f.obs, agent * info.obsDim, info.roadLength) : [],
      communication: communicationView(f.communication, info.communicationDim, agent, info.nAgents, info.edges),
    };
  });

  return {
    runs,
    overview,
    primary,
    compare,
    step,
    frameSeq,
    playing,
    speed,
    selectedVehicle,
    kappa,
    traces,
    candidates,
    scenarioRuns,
    evaluation,
    loading,
    error,
    timings,
    episode,
    lastStep,
    time,
    returnSoFar,
    selectedAgent,
    maxKappa,
    neighbourhoods,
    inspector,
    vehicleChoices,
    onFrame,
    onEpisode,
    currentFrame,
    loadRuns,
    selectRun,
    open,
    openBeside,
    closeEpisode,
    seek,
    seekTime,
    stepBy,
    play,
    pause,
    togglePlay,
    setSpeed,
    setCompare,
    evaluateForCompare,
    select,
    setKappa,
  };
});
