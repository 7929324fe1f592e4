/**
 * The Runs tab: the experiment history as a filterable list (newest first), the details of
 * the selected run (config, checkpoints, stored episodes, its return curves), edits of its
 * name, tags and notes, and the jobs started on it from here (resume, evaluate a
 * checkpoint). The list and the details reload when a run-store job changes state, so a
 * run's status and its new episodes show without asking.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import {
  ApiRequestError,
  isJobEnded,
  MAX_COMPARE_RUNS,
  TRAIN_METRICS,
  type ApiEvent,
  type EvaluateConfigInput,
  type JobInfo,
  type MetricColumns,
  type RunEdit,
  type RunOverview,
  type RunQuery,
} from '../../shared/api.ts';
import type { RunDetail, RunStatus } from '../../shared/runs.ts';
import { useApi } from '../api/index.ts';
import { useJobValidation } from '../composables/useJobValidation.ts';
import { useLiveStore } from './live.ts';

/** Runs that can continue training: the user stopped them, or their process died or failed. */
export const RESUMABLE_STATUSES: readonly RunStatus[] = ['stopped', 'interrupted', 'failed'];
export const isResumable = (run: RunDetail): boolean => RESUMABLE_STATUSES.includes(run.status);

/** While a job trains the run on screen, its details reload at most this often. */
export const LIVE_DETAILS_INTERVAL_MS = 3000;

/** The series of the return curves in the details. */
export const RETURN_SERIES = [TRAIN_METRICS.evalReturn, TRAIN_METRICS.return] as const;

/** Run fields the details edit; an api error on `tags.3` shows next to the tags. */
export type EditField = 'name' | 'tags' | 'notes';

/** What the evaluation form picks: best, latest, or a checkpoint id as text. */
export type CheckpointPick = 'best' | 'latest' | `${number}`;

export const useRunsStore = defineStore('runs', () => {
  // Filters, as the inputs hold them.
  const search = ref('');
  const scenario = ref('');
  const algo = ref('');
  const tag = ref('');
  const statuses = ref<RunStatus[]>([]);
  /** The sweep whose runs are listed (stores/sweeps.ts shows its progress); null: every run. */
  const sweep = ref<number | null>(null);

  const runs = ref<RunDetail[]>([]);
  const loading = ref(false);
  const listError = ref<string | null>(null);
  /** Tags offered by the tag filter: those of the last unfiltered list, and any seen since. */
  const tagOptions = ref<string[]>([]);
  /** Runs ticked for Compare. */
  const checkedIds = ref<number[]>([]);

  const selectedId = ref<number | null>(null);
  const overview = ref<RunOverview | null>(null);
  const detailError = ref<string | null>(null);
  /** Return curves of the selected run (RETURN_SERIES); bumps `curveVersion` when replaced. */
  const curves = shallowRef<MetricColumns[]>([]);
  const curveVersion = ref(0);

  const nameDraft = ref('');
  const notesDraft = ref('');
  const editErrors = ref<Partial<Record<EditField, string>>>({});
  const saving = ref<EditField | null>(null);
  /** A failed resume or a failed load of something else about the run: one line above the details. */
  const actionError = ref<string | null>(null);

  /** The job last started from here on each run. */
  const startedJobs = ref<Record<number, string>>({});
  const starting = ref(false);

  const evalCheckpoint = ref<CheckpointPick>('best');
  const evalSeed = ref('0');
  const evalEpisodes = ref('1');

  const deleteTarget = ref<RunDetail | null>(null);
  const deleteError = ref<string | null>(null);
  const deleting = ref(false);

  /** Last status (and run) seen per run-store job: the list reloads on a change, not on every progress event. */
  const seenJobs = new Map<string, string>();
  let listTicket = 0;
  let detailTicket = 0;
  let detailsLoadedAt = 0;

  const selectedRun = computed(() => overview.value?.run ?? null);
  const filtered = computed(
    () => search.value.trim() !== '' || scenario.value !== '' || algo.value !== '' || tag.value !== '' || statuses.value.length > 0 || sweep.value !== null,
  );

  function query(): RunQuery {
    const q: RunQuery = {};
    if (search.value.trim() !== '') q.search = search.value.trim();
    if (scenario.value !== '') q.scenario = scenario.value;
    if (algo.value !== '') q.algo = algo.value;
    if (tag.value !== '') q.tag = tag.value;
    if (statuses.value.length > 0) q.status = [...statuses.value];
    if (sweep.value !== null) q.sweep = sweep.value;
    return q;
  }

  /** Loads the list for the filters as they stand; answers to older requests are dropped. */
  async function load(): Promise<void> {
    const mine = ++listTicket;
    const q = query();
    loading.value = true;
    try {
      const list = await useApi().listRuns(q);
      if (mine !== listTicket) return;
      runs.value = list;
      listError.value = null;
      // An unfiltered list knows every tag; a filtered one only adds the tags it shows.
      const tags = list.flatMap((run) => run.tags);
      tagOptions.value = sortedUnique(Object.keys(q).length === 0 ? tags : [...tagOptions.value, ...tags]);
    } catch (error) {
      if (mine === listTicket) listError.value = `Could not load the runs: ${errorMessage(error)}`;
    } finally {
      if (mine === listTicket) loading.value = false;
    }
  }

  function clearFilters(): void {
    search.value = '';
    scenario.value = '';
    algo.value = '';
    tag.value = '';
    statuses.value = [];
    sweep.value = null;
  }

  function toggleStatus(status: RunStatus): void {
    statuses.value = statuses.value.includes(status) ? statuses.value.filter((s) => s !== status) : [...statuses.value, status];
  }

  function select(runId: number | null): void {
    if (runId === selectedId.value) return;
    selectedId.value = runId;
    overview.value = null;
    curves.value = [];
    curveVersion.value++;
    detailError.value = null;
    actionError.value = null;
    editErrors.value = {};
    evalErrors.value = {};
    evalFormError.value = null;
    // A checkpoint id belongs to the run it was picked on.
    if (evalCheckpoint.value !== 'best' && evalCheckpoint.value !== 'latest') evalCheckpoint.value = 'best';
    if (runId !== null) void loadDetails();
  }

  /** (Re)loads the selected run's overview and return curves; drafts being edited are kept. */
  async function loadDetails(): Promise<void> {
    const runId = selectedId.value;
    if (runId === null) return;
    const mine = ++detailTicket;
    detailsLoadedAt = Date.now();
    const api = useApi();
    try {
      const [next, columns] = await Promise.all([api.getRun(runId), api.runMetrics([runId], [...RETURN_SERIES])]);
      if (mine !== detailTicket) return;
      const previous = overview.value?.run;
      if (!previous || previous.id !== runId || nameDraft.value === previous.name) nameDraft.value = next.run.name;
      if (!previous || previous.id !== runId || notesDraft.value === previous.notes) notesDraft.value = next.run.notes;
      overview.value = next;
      curves.value = columns;
      curveVersion.value++;
      detailError.value = null;
      replaceRow(next.run);
    } catch (error) {
      if (mine !== detailTicket) return;
      overview.value = null;
      detailError.value = error instanceof ApiRequestError && error.code === 'not-found' ? `Run ${runId} no longer exists.` : `Could not load run ${runId}: ${errorMessage(error)}`;
    }
  }

  /** Reloads the list and the details (the Reload button, coming back to the tab). */
  async function refresh(): Promise<void> {
    await Promise.all([load(), loadDetails()]);
  }

  function replaceRow(run: RunDetail): void {
    if (runs.value.some((r) => r.id === run.id)) runs.value = runs.value.map((r) => (r.id === run.id ? run : r));
  }

  /** Saves one edit of the selected run; api field errors land next to their field. */
  async function edit(field: EditField, change: Omit<RunEdit, 'runId'>): Promise<boolean> {
    const run = selectedRun.value;
    if (!run) return false;
    saving.value = field;
    try {
      const updated = await useApi().updateRun({ runId: run.id, ...change });
      editErrors.value = Object.fromEntries(Object.entries(editErrors.value).filter(([key]) => key !== field));
      if (overview.value?.run.id === updated.id) overview.value = { ...overview.value, run: updated };
      if (field === 'name') nameDraft.value = updated.name;
      if (field === 'notes') notesDraft.value = updated.notes;
      replaceRow(updated);
      if (field === 'tags') tagOptions.value = sortedUnique([...tagOptions.value, ...updated.tags]);
      return true;
    } catch (error) {
      const next = { ...editErrors.value };
      const fields = error instanceof ApiRequestError ? error.fields : [];
      if (fields.length === 0) next[field] = errorMessage(error);
      for (const problem of fields) {
        const root = problem.field.split('.')[0];
        next[root === 'name' || root === 'tags' || root === 'notes' ? root : field] = problem.message;
      }
      editErrors.value = next;
      return false;
    } finally {
      saving.value = null;
    }
  }

  async function rename(): Promise<boolean> {
    const run = selectedRun.value;
    if (!run || nameDraft.value === run.name) return true;
    return edit('name', { name: nameDraft.value });
  }

  /** Adds a tag as typed (the backend trims it and refuses an empty one). */
  async function addTag(text: string): Promise<boolean> {
    const run = selectedRun.value;
    if (!run) return false;
    if (run.tags.includes(text.trim()) && text.trim() !== '') return true;
    return edit('tags', { tags: [...run.tags, text] });
  }

  async function removeTag(name: string): Promise<boolean> {
    const run = selectedRun.value;
    if (!run) return false;
    return edit('tags', { tags: run.tags.filter((t) => t !== name) });
  }

  async function saveNotes(): Promise<boolean> {
    return edit('notes', { notes: notesDraft.value });
  }

  const notesDirty = computed(() => selectedRun.value !== null && notesDraft.value !== selectedRun.value.notes);

  // Jobs on the selected run.

  /** The job to show on the selected run: one working on it now, else the last one started here. */
  const selectedJob = computed<JobInfo | null>(() => {
    const runId = selectedId.value;
    if (runId === null) return null;
    const jobs = useLiveStore().jobs;
    const active = Object.values(jobs).find((job) => job.kind !== 'simulate' && job.progress?.runId === runId && !isJobEnded(job.status));
    if (active) return active;
    const mine = startedJobs.value[runId];
    return mine ? (jobs[mine] ?? null) : null;
  });
  const busy = computed(() => selectedJob.value !== null && !isJobEnded(selectedJob.value.status));
  const canResume = computed(() => selectedRun.value !== null && isResumable(selectedRun.value) && !busy.value);

  function track(job: JobInfo): void {
    const live = useLiveStore();
    live.jobs = { ...live.jobs, [job.id]: { ...job, ...(live.jobs[job.id] ?? {}) } };
    if (job.progress?.runId != null) startedJobs.value = { ...startedJobs.value, [job.progress.runId]: job.id };
  }

  /** Continues the selected run from its latest checkpoint to its budget. */
  async function resume(): Promise<JobInfo | null> {
    const run = selectedRun.value;
    if (!run || !canResume.value) return null;
    starting.value = true;
    actionError.value = null;
    try {
      const job = await useApi().startJob({ kind: 'resume', runId: run.id });
      track(job);
      return job;
    } catch (error) {
      actionError.value = `Could not resume run ${run.id}: ${errorMessage(error)}`;
      return null;
    } finally {
      starting.value = false;
    }
  }

  /** Training jobs stop after the iteration in flight (the run is kept, stopped and resumable); evaluations run to their end. */
  const canStopJob = computed(() => busy.value && selectedJob.value?.kind !== 'evaluate');

  async function stopJob(): Promise<void> {
    const job = selectedJob.value;
    if (!job || !canStopJob.value) return;
    try {
      await useApi().controlJob(job.id, { type: 'stop' });
    } catch (error) {
      actionError.value = `Could not stop job ${job.id}: ${errorMessage(error)}`;
    }
  }

  /** Text that is not a whole number goes as is: the backend names the field. */
  function whole(text: string, fallback: number): number {
    const trimmed = text.trim();
    const value = Number(trimmed);
    return (trimmed === '' ? fallback : Number.isFinite(value) ? value : trimmed) as number;
  }

  function evaluateConfig(): EvaluateConfigInput {
    const pick = evalCheckpoint.value;
    return {
      kind: 'evaluate',
      runId: selectedId.value ?? 0,
      checkpoint: pick === 'best' || pick === 'latest' ? pick : Number(pick),
      seed: whole(evalSeed.value, 0),
      episodes: whole(evalEpisodes.value, 1),
    };
  }

  const {
    errors: evalErrors,
    formError: evalFormError,
    valid: evalValid,
    validate: validateEvaluation,
    applyFailure: applyEvalFailure,
  } = useJobValidation(evaluateConfig, ['checkpoint', 'seed', 'episodes'], []);

  let validationTimer: ReturnType<typeof setTimeout> | undefined;
  watch([evalCheckpoint, evalSeed, evalEpisodes], () => {
    clearTimeout(validationTimer);
    if (selectedId.value !== null) validationTimer = setTimeout(() => void validateEvaluation(), 120);
  });

  /** Evaluates a checkpoint of the selected run with the chosen seed; the episodes are stored with the run. */
  async function evaluate(): Promise<JobInfo | null> {
    if (selectedRun.value === null || busy.value) return null;
    starting.value = true;
    evalFormError.value = null;
    try {
      const job = await useApi().startJob(evaluateConfig());
      evalErrors.value = {};
      track(job);
      return job;
    } catch (error) {
      applyEvalFailure(error);
      return null;
    } finally {
      starting.value = false;
    }
  }

  /**
   * Job events: when a run-store job starts, takes its run over or ends, the list reloads (a new
   * run, a new status) and so do the details of its run when it is the one on screen.
   */
  function handleEvent(event: ApiEvent): void {
    if (event.type !== 'job' || event.job.kind === 'simulate') return;
    const { job } = event;
    const runId = job.progress?.runId ?? null;
    // The backend arrives once the job has taken its run over (the run is 'running' in the store by then).
    const state = `${job.status}:${runId}:${job.progress?.backend ?? ''}`;
    const onScreen = runId !== null && runId === selectedId.value;
    if (seenJobs.get(job.id) === state) {
      // Progress of the run on screen: its curves, checkpoints and episodes grow now and then.
      if (onScreen && Date.now() - detailsLoadedAt >= LIVE_DETAILS_INTERVAL_MS) void loadDetails();
      return;
    }
    seenJobs.set(job.id, state);
    void load();
    if (onScreen) void loadDetails();
  }

  /** Picks up jobs that were running before this page loaded, so their runs show them. */
  async function loadJobs(): Promise<void> {
    try {
      const live = useLiveStore();
      const known = { ...live.jobs };
      for (const job of await useApi().listJobs()) known[job.id] ??= job;
      live.jobs = known;
    } catch (error) {
      listError.value = `Could not list the jobs: ${errorMessage(error)}`;
    }
  }

  // Compare.

  function toggleChecked(runId: number): void {
    checkedIds.value = checkedIds.value.includes(runId) ? checkedIds.value.filter((id) => id !== runId) : [...checkedIds.value, runId];
  }

  /** Ticks every listed run, or unticks them all when they all are. */
  function toggleAllChecked(): void {
    const listed = runs.value.map((run) => run.id);
    const all = listed.length > 0 && listed.every((id) => checkedIds.value.includes(id));
    checkedIds.value = all ? checkedIds.value.filter((id) => !listed.includes(id)) : [...new Set([...checkedIds.value, ...listed])].slice(0, MAX_COMPARE_RUNS);
  }

  // Delete.

  function askDelete(run: RunDetail): void {
    deleteTarget.value = run;
    deleteError.value = null;
  }

  function cancelDelete(): void {
    deleteTarget.value = null;
    deleteError.value = null;
  }

  /** Deletes the run named in the dialog; a refusal (a job uses it) stays in the dialog. */
  async function confirmDelete(): Promise<boolean> {
    const run = deleteTarget.value;
    if (!run) return false;
    deleting.value = true;
    try {
      await useApi().deleteRun(run.id);
      runs.value = runs.value.filter((r) => r.id !== run.id);
      checkedIds.value = checkedIds.value.filter((id) => id !== run.id);
      if (selectedId.value === run.id) select(null);
      deleteTarget.value = null;
      deleteError.value = null;
      return true;
    } catch (error) {
      deleteError.value = errorMessage(error);
      return false;
    } finally {
      deleting.value = false;
    }
  }

  return {
    search,
    scenario,
    algo,
    tag,
    statuses,
    sweep,
    runs,
    loading,
    listError,
    tagOptions,
    checkedIds,
    filtered,
    selectedId,
    overview,
    selectedRun,
    detailError,
    curves,
    curveVersion,
    nameDraft,
    notesDraft,
    notesDirty,
    editErrors,
    saving,
    actionError,
    starting,
    selectedJob,
    busy,
    canResume,
    canStopJob,
    evalCheckpoint,
    evalSeed,
    evalEpisodes,
    evalErrors,
    evalFormError,
    evalValid,
    deleteTarget,
    deleteError,
    deleting,
    query,
    load,
    clearFilters,
    toggleStatus,
    select,
    loadDetails,
    refresh,
    rename,
    addTag,
    removeTag,
    saveNotes,
    resume,
    stopJob,
    evaluateConfig,
    evaluate,
    handleEvent,
    loadJobs,
    toggleChecked,
    toggleAllChecked,
    askDelete,
    cancelDelete,
    confirmDelete,
  };
});

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => a.localeCompare(b));
}

/** What a failed request says, for a one-line error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
