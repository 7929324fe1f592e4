/**
 * The live session: the job on screen, its episode and latest frame, playback controls
 * (pause, resume, single-step, stop, speed), the selected vehicle and the inspector's
 * view of it (observation, action, reward terms, recent speed and gap, its policy
 * neighbourhood N^1 and critic neighbourhood N^kappa).
 *
 * Frames are large and arrive up to 60 times a second: they are kept in shallow refs and
 * handed to the 3D view through onFrame listeners, outside Vue's deep reactivity.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import {
  FrameFlag,
  isJobEnded,
  VehicleKindCode,
  type ApiEvent,
  type EpisodeSpec,
  type Frame,
  type JobCommandInput,
  type JobInfo,
  type Speed,
} from '../../shared/api.ts';
import { communicationView, type CommunicationView } from '../../shared/communication.ts';
import { observationFields, type ObservationField } from '../../shared/scenarios.ts';
import { useApi } from '../api/index.ts';
import { useAgentGraph } from '../composables/useAgentGraph.ts';
import { actionDistribution, describeAction, type ActionDistribution } from '../inspect/actions.ts';
import { vehicleKindOf, type InspectedVehicle } from '../inspect/vehicles.ts';
import { VehicleHistory } from '../live/history.ts';

/** Seconds of history the inspector charts. */
export const HISTORY_WINDOW_S = 30;

export type FrameListener = (frame: Frame, episode: EpisodeSpec) => void;

export interface InspectorView extends InspectedVehicle {
  collided: boolean;
  /** A disturbance acts on it in this step. */
  disturbed: boolean;
  action: { value: number; text: string } | null;
  reward: number | null;
  rewardTerms: { name: string; value: number }[];
  obs: ObservationField[];
  /** What the learned policy thinks (training's evaluation episodes); null when no policy acts. */
  policy: PolicyView | null;
  /** Its gate and the message it received (IC3Net's evaluation episodes); null when its policy does not communicate. */
  communication: CommunicationView | null;
}

export interface PolicyView {
  /** The critic's value estimate of the state. */
  value: number;
  /** Discrete: the probability of each action. Continuous: the Gaussian's mean and std. */
  distribution: ActionDistribution;
}

/** The policy's view of one agent in a frame, when the frame carries one. */
function policyView(spec: EpisodeSpec, frame: Frame, agent: number): PolicyView | null {
  const width = spec.actionParamDim;
  if (width === 0 || frame.value.length <= agent || frame.actionParams.length < (agent + 1) * width) return null;
  const distribution = actionDistribution(spec.action, frame.actionParams, agent * width);
  return distribution ? { value: frame.value[agent], distribution } : null;
}

export const useLiveStore = defineStore('live', () => {
  const jobs = ref<Record<string, JobInfo>>({});
  const activeJobId = ref<string | null>(null);
  const episode = shallowRef<EpisodeSpec | null>(null);
  const frame = shallowRef<Frame | null>(null);
  /** Bumps on every frame: what the inspector re-reads on. */
  const frameSeq = ref(0);
  const episodeMetrics = ref<{ episode: number; values: Record<string, number> }[]>([]);
  const selectedVehicle = ref<number | null>(null);
  const lastError = ref<string | null>(null);
  /** 'job': frames from the backend. 'stress': the renderer's own synthetic stress scene. */
  const source = ref<'job' | 'stress'>('job');
  const speed = ref<Speed>(1);

  const history = markRaw(new VehicleHistory());
  /** The latest episode of jobs not (yet) on screen: a job's first episode can arrive before its start request returns. */
  const otherEpisodes = new Map<string, EpisodeSpec>();
  const listeners = new Set<FrameListener>();
  const episodeListeners = new Set<(episode: EpisodeSpec) => void>();

  const job = computed<JobInfo | null>(() => (activeJobId.value ? (jobs.value[activeJobId.value] ?? null) : null));
  const status = computed(() => job.value?.status ?? null);
  /** A training job's view can pause while the job trains on. */
  const displayPaused = computed(() => job.value?.displayPaused === true);
  const running = computed(() => (status.value === 'running' || status.value === 'starting') && !displayPaused.value);
  const paused = computed(() => status.value === 'paused' || (displayPaused.value && !isJobEnded(status.value!)));
  /** Pausing a training job's view also holds its training between iterations (the user's choice). */
  const holdTrainingOnPause = ref(false);
  const active = computed(() => source.value === 'stress' || (job.value !== null && !isJobEnded(job.value.status)));

  function onFrame(listener: FrameListener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  function onEpisode(listener: (episode: EpisodeSpec) => void): () => void {
    episodeListeners.add(listener);
    return () => episodeListeners.delete(listener);
  }

  function setEpisode(spec: EpisodeSpec): void {
    const sameScene = episode.value !== null && episode.value.scenario === spec.scenario && episode.value.nVehicles === spec.nVehicles;
    episode.value = spec;
    frame.value = null;
    history.reset(spec.nVehicles);
    if (!sameScene || (selectedVehicle.value !== null && selectedVehicle.value >= spec.nVehicles)) selectedVehicle.value = null;
    for (const listener of episodeListeners) listener(spec);
  }

  function acceptFrame(next: Frame): void {
    const spec = episode.value;
    if (!spec || next.episode !== spec.episode || next.position.length !== spec.nVehicles) return;
    frame.value = next;
    history.push(next.time, next.speed, next.gap);
    frameSeq.value++;
    for (const listener of listeners) listener(next, spec);
  }

  /** Routes a backend event; events of jobs other than the active one only update the job list. */
  function handleEvent(event: ApiEvent): void {
    switch (event.type) {
      case 'job':
        jobs.value = { ...jobs.value, [event.job.id]: event.job };
        if (event.job.id === activeJobId.value) speed.value = event.job.speed;
        break;
      case 'episode':
        if (source.value === 'job' && event.episode.jobId === activeJobId.value) setEpisode(event.episode);
        else {
          otherEpisodes.set(event.episode.jobId, event.episode);
          if (otherEpisodes.size > 8) otherEpisodes.delete(otherEpisodes.keys().next().value!);
        }
        break;
      case 'frame':
        if (source.value === 'job' && event.frame.jobId === activeJobId.value) acceptFrame(event.frame);
        break;
      case 'metrics':
        if (event.jobId === activeJobId.value && event.scope === 'episode') {
          episodeMetrics.value = [...episodeMetrics.value.slice(-19), { episode: event.index, values: event.values }];
        }
        break;
      case 'log':
        if (event.level === 'error' && (event.jobId === null || event.jobId === activeJobId.value)) lastError.value = event.message;
        break;
    }
  }

  /** Shows a job: its events from now on (the snapshot replays its episode and latest frame). */
  function attach(info: JobInfo): void {
    source.value = 'job';
    jobs.value = { ...jobs.value, [info.id]: info };
    if (activeJobId.value !== info.id) {
      activeJobId.value = info.id;
      episode.value = null;
      frame.value = null;
      episodeMetrics.value = [];
      const early = otherEpisodes.get(info.id);
      if (early) setEpisode(early);
    }
    speed.value = info.speed;
    lastError.value = null;
  }

  let stopLocal: (() => void) | null = null;

  /** Shows frames that the renderer makes itself (the stress scene); `stop` ends their source. */
  function attachLocal(spec: EpisodeSpec, stop: () => void): void {
    stopLocal?.();
    stopLocal = stop;
    source.value = 'stress';
    activeJobId.value = null;
    episodeMetrics.value = [];
    setEpisode(spec);
  }

  function pushLocalFrame(next: Frame): void {
    if (source.value === 'stress') acceptFrame(next);
  }

  function detachLocal(): void {
    stopLocal?.();
    stopLocal = null;
    if (source.value !== 'stress') return;
    source.value = 'job';
    episode.value = null;
    frame.value = null;
    selectedVehicle.value = null;
  }

  async function control(command: JobCommandInput): Promise<void> {
    const id = activeJobId.value;
    if (!id || source.value !== 'job') return;
    try {
      const info = await useApi().controlJob(id, command);
      jobs.value = { ...jobs.value, [info.id]: { ...jobs.value[info.id], ...info, status: jobs.value[info.id]?.status ?? info.status } };
    } catch (error) {
      lastError.value = error instanceof Error ? error.message : String(error);
    }
  }

  const pause = () => control({ type: 'pause', holdTraining: job.value?.kind !== 'simulate' && holdTrainingOnPause.value });
  const resume = () => control({ type: 'resume' });
  const step = (steps = 1) => control({ type: 'step', steps });
  const stop = () => control({ type: 'stop' });
  function setSpeed(value: Speed): Promise<void> {
    speed.value = value;
    return control({ type: 'speed', speed: value });
  }

  function select(vehicle: number | null): void {
    const spec = episode.value;
    selectedVehicle.value = spec && vehicle !== null && vehicle >= 0 && vehicle < spec.nVehicles ? vehicle : null;
  }

  const { kappa, agentOfVehicle, vehicleChoices, selectedAgent, maxKappa, setKappa, neighbourhoods } = useAgentGraph(() => episode.value, selectedVehicle);

  const inspector = computed<InspectorView | null>(() => {
    void frameSeq.value;
    const spec = episode.value;
    const f = frame.value;
    const v = selectedVehicle.value;
    if (!spec || !f || v === null) return null;
    const agent = agentOfVehicle.value[v] ?? -1;
    const kind = vehicleKindOf(spec.vehicleKind[v]);
    const nTerms = spec.rewardTermNames.length;
    const action = agent >= 0 && f.step > 0 ? { value: f.action[v], text: describeAction(spec.action, f.action[v]) } : null;
    return {
      vehicle: v,
      agent,
      kind,
      position: f.position[v],
      speed: f.speed[v],
      gap: f.gap[v],
      accel: f.accel[v],
      collided: (f.flags[v] & FrameFlag.collision) !== 0,
      disturbed: (f.flags[v] & FrameFlag.disturbed) !== 0,
      action,
      reward: agent >= 0 ? f.reward[agent] : null,
      rewardTerms: agent >= 0 ? spec.rewardTermNames.map((name, k) => ({ name, value: f.rewardTerms[agent * nTerms + k] })) : [],
      obs: agent >= 0 ? observationFields(spec.obsNames, f.obs, agent * spec.obsDim, spec.roadLength) : [],
      policy: agent >= 0 ? policyView(spec, f, agent) : null,
      communication: communicationView(f.communication, spec.communicationDim ?? 0, agent, spec.nAgents, spec.edges),
    };
  });

  const meanSpeed = computed(() => {
    void frameSeq.value;
    const f = frame.value;
    const spec = episode.value;
    if (!f || !spec) return null;
    let sum = 0;
    let count = 0;
    for (let v = 0; v < f.speed.length; v++) {
      if (spec.vehicleKind[v] === VehicleKindCode.leader) continue;
      sum += f.speed[v];
      count++;
    }
    return count > 0 ? sum / count : null;
  });

  return {
    jobs,
    activeJobId,
    episode,
    frame,
    frameSeq,
    episodeMetrics,
    selectedVehicle,
    kappa,
    lastError,
    source,
    speed,
    history,
    job,
    status,
    running,
    paused,
    holdTrainingOnPause,
    active,
    selectedAgent,
    maxKappa,
    neighbourhoods,
    inspector,
    vehicleChoices,
    meanSpeed,
    onFrame,
    onEpisode,
    handleEvent,
    attach,
    attachLocal,
    pushLocalFrame,
    detachLocal,
    control,
    pause,
    resume,
    step,
    stop,
    setSpeed,
    select,
    setKappa,
  };
});
