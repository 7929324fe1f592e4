/**
 * "Continue live from here": the Replay view's fork form (policy, scripted disturbances,
 * store as episode) for the episode and step on screen, the simulate job it starts (shown
 * live in the Simulate view), and the fork on the live view with the way back to Replay
 * beside its parent once it is stored.
 *
 * The disturbance rows are checked at once with the api's schema (replay/fork.ts); the
 * whole config is then validated by the backend, whose field errors land next to their
 * fields like the Simulate form's.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { isJobEnded, parsePolicy, type JobInfo } from '../../shared/api.ts';
import type { RunDetail } from '../../shared/runs.ts';
import { useApi } from '../api/index.ts';
import { useJobValidation } from '../composables/useJobValidation.ts';
import { useRunCheckpoints } from '../composables/useRunCheckpoints.ts';
import { showLiveJob } from '../live/showJob.ts';
import { checkDisturbances, DISTURBANCE_VALUES, forkConfig, samePolicy, type DisturbanceDraft } from '../replay/fork.ts';
import { useLiveStore } from './live.ts';
import { useReplayStore } from './replay.ts';
import type { CheckpointPick } from './runs.ts';
import { useViewStore } from './view.ts';

export type ForkPolicyKind = 'same' | 'run' | 'idle' | 'human' | 'random' | 'constant';

/** The fork on the live view, from its job's config and (once its episode started) the episode's source. */
export interface LiveFork {
  job: JobInfo;
  parentEpisodeId: number;
  step: number;
  policy: string;
  record: boolean;
  runId: number | null;
  /** The episode it is stored as; null before its episode started or when not stored. */
  storedEpisodeId: number | null;
}

/** Most seconds a disturbance starts after the fork by default: soon enough to watch. */
const FIRST_DISTURBANCE_DELAY_S = 2;

export const useForkStore = defineStore('fork', () => {
  const replay = useReplayStore();
  const live = useLiveStore();
  const view = useViewStore();

  const open = ref(false);
  const policyKind = ref<ForkPolicyKind>('same');
  /** Another run of the scenario, and which of its checkpoints. */
  const runId = ref<number | null>(null);
  const checkpoint = ref<CheckpointPick>('best');
  const constantK = ref('0');
  const drafts = ref<DisturbanceDraft[]>([]);
  const record = ref(true);
  const submitting = ref(false);
  let timer: ReturnType<typeof setTimeout> | undefined;

  const info = computed(() => replay.primary?.info ?? null);
  const step = computed(() => replay.step);
  /** Runs whose policy can play the scenario: the episode's own and the others of its scenario. */
  const runChoices = computed<RunDetail[]>(() => {
    const own = replay.primary?.run;
    const others = replay.scenarioRuns.filter((run) => run.id !== own?.id);
    return own ? [own, ...others] : others;
  });
  const same = computed(() => (info.value ? samePolicy(info.value, replay.overview?.checkpoints ?? [], step.value) : null));

  const policy = computed(() => {
    switch (policyKind.value) {
      case 'same':
        return same.value ?? 'idle';
      case 'run':
        return `run:${runId.value ?? 0}@${checkpoint.value}`;
      case 'constant':
        return `constant:${constantK.value.trim()}`;
      default:
        return policyKind.value;
    }
  });

  /** The episode's last state: it ended there, nothing is left to play. */
  const atEnd = computed(() => info.value !== null && step.value >= info.value.steps - 1);

  const checked = computed(() => checkDisturbances(drafts.value, step.value, info.value?.dt ?? 0.1));

  /** Mistakes caught here, before the backend is asked. */
  const localErrors = computed<Record<string, string>>(() => {
    const errors = { ...checked.value.errors };
    if (policyKind.value === 'constant' && parsePolicy(policy.value) === null) errors.policy = 'K must be a number';
    if (policyKind.value === 'run' && runId.value === null) errors.policy = 'choose a run';
    return errors;
  });

  function config() {
    const episode = info.value;
    if (!episode) return null;
    return forkConfig(episode, step.value, { policy: policy.value, disturbances: checked.value.disturbances, record: record.value, speed: live.speed });
  }

  // fork.*: what the backend says of the parent episode and step (no such episode, step past its end), shown at the form's head.
  const validation = useJobValidation(config, ['policy', 'disturbances', 'fork'], []);
  const { formError, validating, applyFailure } = validation;
  /** What each field shows: its own mistake first, else the backend's. */
  const errors = computed<Record<string, string>>(() => ({ ...validation.errors.value, ...localErrors.value }));
  const forkErrors = computed(() => Object.entries(errors.value).filter(([field]) => field.startsWith('fork.')).map(([, message]) => message));
  const canStart = computed(() => info.value !== null && !atEnd.value && config() !== null && !submitting.value && Object.keys(errors.value).length === 0 && formError.value === null);

  function scheduleValidation(): void {
    clearTimeout(timer);
    validation.errors.value = {};
    formError.value = null;
    if (!open.value || atEnd.value || config() === null || Object.keys(localErrors.value).length > 0) return;
    timer = setTimeout(() => void validation.validate(), 150);
  }
  watch([open, policy, drafts, record, () => info.value?.id, step], scheduleValidation, { deep: true });

  /** Another run's checkpoints for the checkpoint choice; the pick falls back to best. */
  const { checkpoints: runCheckpoints, load } = useRunCheckpoints((id, reason) => (formError.value = `Could not list the checkpoints of run ${id}: ${reason}`));
  function loadCheckpoints(id: number | null): Promise<void> {
    if (checkpoint.value !== 'best' && checkpoint.value !== 'latest') checkpoint.value = 'best';
    return load(id);
  }
  watch(runId, (id) => void loadCheckpoints(id));

  function toggle(): void {
    open.value = !open.value;
    if (open.value && (runId.value === null || !runChoices.value.some((run) => run.id === runId.value))) runId.value = runChoices.value[0]?.id ?? null;
  }

  /** A new row: the selected vehicle (else the first agent's) braking shortly after the fork. */
  function addDisturbance(): void {
    const episode = info.value;
    if (!episode) return;
    const vehicle = replay.selectedVehicle ?? episode.agentVehicle[0] ?? 0;
    const at = Math.min(episode.steps - 1, step.value + Math.round(FIRST_DISTURBANCE_DELAY_S / episode.dt)) * episode.dt;
    drafts.value = [...drafts.value, { kind: 'brake', vehicle, value: DISTURBANCE_VALUES.brake!.initial, duration: '2', at: at.toFixed(1) }];
  }

  function setKind(index: number, kind: DisturbanceDraft['kind']): void {
    drafts.value = drafts.value.map((draft, k) => (k === index ? { ...draft, kind, value: DISTURBANCE_VALUES[kind]?.initial ?? '' } : draft));
  }

  function removeDisturbance(index: number): void {
    drafts.value = drafts.value.filter((_, k) => k !== index);
  }

  /** Starts the fork and shows it live in the Simulate view; a refusal stays in the form. */
  async function start(): Promise<JobInfo | null> {
    const input = config();
    if (!input || !canStart.value) return null;
    submitting.value = true;
    formError.value = null;
    try {
      const job = await useApi().startJob(input);
      showLiveJob(job);
      open.value = false;
      view.tab = 'simulate';
      return job;
    } catch (error) {
      applyFailure(error);
      return null;
    } finally {
      submitting.value = false;
    }
  }

  const liveFork = computed<LiveFork | null>(() => {
    const job = live.job;
    if (live.source !== 'job' || !job || job.config.kind !== 'simulate' || !job.config.fork) return null;
    const spec = live.episode;
    const source = spec?.jobId === job.id && spec.source.kind === 'fork' ? spec.source : null;
    const { episodeId, step: at, record: stored } = job.config.fork;
    return { job, parentEpisodeId: episodeId, step: at, policy: job.config.policy, record: stored, runId: source?.runId ?? null, storedEpisodeId: source?.storedEpisodeId ?? null };
  });
  /** The live fork ended (not failed) and was stored: Replay can show it beside its parent. */
  const canReplayLive = computed(() => {
    const fork = liveFork.value;
    return fork !== null && isJobEnded(fork.job.status) && fork.job.status !== 'failed' && fork.runId !== null && fork.storedEpisodeId !== null;
  });

  function replayLiveBeside(): void {
    const fork = liveFork.value;
    if (!fork || fork.runId === null || fork.storedEpisodeId === null) return;
    view.openReplay({ runId: fork.runId, episodeId: fork.storedEpisodeId, compareEpisodeId: fork.parentEpisodeId, step: fork.step });
  }

  return {
    open,
    policyKind,
    runId,
    checkpoint,
    runCheckpoints,
    constantK,
    drafts,
    record,
    submitting,
    validating,
    info,
    step,
    atEnd,
    runChoices,
    same,
    policy,
    errors,
    forkErrors,
    formError,
    canStart,
    liveFork,
    canReplayLive,
    toggle,
    addDisturbance,
    setKind,
    removeDisturbance,
    start,
    replayLiveBeside,
  };
});
