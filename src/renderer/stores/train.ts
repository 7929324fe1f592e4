/**
 * The Train tab: the training form (scenario and its parameters, learner, learner preset,
 * key hyperparameters, seed, iterations), validated by the backend with the CLI's own
 * checks (resolveParams, resolveLearnerConfig) and shown next to each field; the training
 * job on screen and its per-iteration metrics.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { isJobEnded, type ApiEvent, type JobInfo, type TrainConfigInput } from '../../shared/api.ts';
import type { BackendChoice } from '../../shared/backends.ts';
import { presetValues } from '../../shared/learnerPresets.ts';
import { LEARNER_IDS, LEARNERS, learnerHyperparameters, learnerTrainsOn, PRESET_IDS, type LearnerId, type LearnerPresetId } from '../../shared/learners.ts';
import { SCENARIOS, type ParamValue, type ScenarioId } from '../../shared/scenarios.ts';
import { useApi } from '../api/index.ts';
import { useJobValidation } from '../composables/useJobValidation.ts';
import { useLiveStore } from './live.ts';
import type { ParamFieldView } from './simulateForm.ts';

/** The hyperparameters the form offers (those the learner reads); the rest keep the preset's values. */
export const KEY_SETTINGS = ['numEnvs', 'rolloutSteps', 'epochs', 'lrActor', 'lrCritic', 'gamma', 'gaeLambda', 'clipEpsilon', 'kappa', 'evalEvery'] as const;

/** Fields whose errors show next to an input; others show at the top of the form. */
const FIELD_KEYS = ['scenario', 'params', 'learner', 'preset', 'settings', 'seed', 'iterations', 'backend'];

export interface IterationSample {
  iteration: number;
  values: Record<string, number>;
}

export const useTrainStore = defineStore('train', () => {
  const scenario = ref<ScenarioId>('cacc-catchup');
  /** Scenario parameters as typed (the scenario preset included). */
  const params = ref<Record<string, string | boolean>>({});
  const learner = ref<LearnerId>('ippo');
  const preset = ref<LearnerPresetId>('default');
  /** Hyperparameters as typed. */
  const settings = ref<Record<string, string | boolean>>({});
  const seed = ref('0');
  const iterations = ref('20');
  const backend = ref<BackendChoice>('auto');
  const submitting = ref(false);
  const jobId = ref<string | null>(null);
  /** Metrics per iteration of the job on screen; replaced (not mutated) on each sample. */
  const samples = shallowRef<IterationSample[]>([]);
  const version = ref(0);
  let timer: ReturnType<typeof setTimeout> | undefined;

  const info = computed(() => SCENARIOS[scenario.value]);
  /** Scenario presets with agents to train. */
  const scenarioPresets = computed(() => Object.keys(info.value.presets).filter((name) => name !== 'uncontrolled'));
  const scenarioPreset = computed(() => (typeof params.value.preset === 'string' ? params.value.preset : 'dmpo'));

  const paramFields = computed<ParamFieldView[]>(() => {
    const defaults = info.value.presets[scenarioPreset.value] ?? {};
    return info.value.params
      .filter((spec) => spec.name !== 'preset')
      .map((spec) => ({
        spec,
        value: params.value[spec.name],
        effectiveDefault: spec.name in defaults ? defaults[spec.name] : spec.default,
        error: errors.value[`params.${spec.name}`] ?? null,
      }));
  });

  const settingFields = computed<ParamFieldView[]>(() => {
    const defaults = presetValues(learner.value, scenario.value, preset.value);
    return learnerHyperparameters(learner.value)
      .filter((spec) => (KEY_SETTINGS as readonly string[]).includes(spec.name))
      .map((spec) => ({
        spec,
        value: settings.value[spec.name],
        effectiveDefault: defaults[spec.name] ?? spec.default,
        error: errors.value[`settings.${spec.name}`] ?? null,
      }));
  });

  const learnerInfo = computed(() => LEARNERS[learner.value]);
  /** The learners that train on the chosen scenario. */
  const learnerChoices = computed(() => LEARNER_IDS.filter((id) => learnerTrainsOn(id, scenario.value)));

  function typed(values: Record<string, string | boolean>): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = {};
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === 'string' && value.trim() === '') continue;
      out[name] = typeof value === 'string' ? value.trim() : value;
    }
    return out;
  }

  /** Text that is not a number goes as is: the backend names the field. */
  function whole(text: string, fallback: number): number {
    const trimmed = text.trim();
    const value = Number(trimmed);
    return (trimmed === '' ? fallback : Number.isFinite(value) ? value : trimmed) as number;
  }

  function config(): TrainConfigInput {
    return {
      kind: 'train',
      scenario: scenario.value,
      params: typed(params.value),
      learner: learner.value,
      preset: preset.value,
      settings: typed(settings.value),
      seed: whole(seed.value, 0),
      iterations: whole(iterations.value, 20),
      backend: backend.value,
    };
  }

  const { errors, formError, valid, validate, applyFailure } = useJobValidation(() => config(), FIELD_KEYS, ['params', 'settings']);

  watch([scenario, params, learner, preset, settings, seed, iterations, backend], () => {
    clearTimeout(timer);
    timer = setTimeout(() => void validate(), 120);
  }, { deep: true });

  function setScenario(id: ScenarioId): void {
    if (id === scenario.value) return;
    scenario.value = id;
    params.value = {};
    errors.value = {};
    // A learner of other scenarios (LTDE, DADC) gives way to the first that trains here.
    if (!learnerTrainsOn(learner.value, id)) setLearner(learnerChoices.value[0]);
  }

  function setParam(name: string, value: string | boolean | undefined): void {
    const next = { ...params.value };
    if (value === undefined) delete next[name];
    else next[name] = value;
    params.value = next;
  }

  function setSetting(name: string, value: string | boolean | undefined): void {
    const next = { ...settings.value };
    if (value === undefined) delete next[name];
    else next[name] = value;
    settings.value = next;
  }

  function setLearner(id: LearnerId): void {
    learner.value = id;
    // Settings the new learner does not read would be refused.
    const reads = new Set<string>(learnerHyperparameters(id).map((spec) => spec.name));
    settings.value = Object.fromEntries(Object.entries(settings.value).filter(([name]) => reads.has(name)));
  }

  const job = computed<JobInfo | null>(() => (jobId.value ? (useLiveStore().jobs[jobId.value] ?? null) : null));
  const running = computed(() => job.value !== null && !isJobEnded(job.value.status));

  /** Starts a training job; field errors land next to their fields. */
  async function start(): Promise<JobInfo | null> {
    submitting.value = true;
    formError.value = null;
    try {
      const started = await useApi().startJob(config());
      watchJob(started);
      errors.value = {};
      return started;
    } catch (error) {
      applyFailure(error);
      return null;
    } finally {
      submitting.value = false;
    }
  }

  /** Shows a training job (a new one, or one already running when the page loads). */
  function watchJob(info: JobInfo): void {
    const live = useLiveStore();
    live.jobs = { ...live.jobs, [info.id]: { ...info, ...(live.jobs[info.id] ?? {}) } };
    if (jobId.value !== info.id) {
      jobId.value = info.id;
      samples.value = [];
      version.value++;
    }
    // The 3D view plays the job's evaluation episodes.
    if (!isJobEnded(info.status)) live.attach(live.jobs[info.id]);
  }

  async function stop(): Promise<void> {
    if (!jobId.value) return;
    try {
      await useApi().controlJob(jobId.value, { type: 'stop' });
    } catch (error) {
      formError.value = error instanceof Error ? error.message : String(error);
    }
  }

  function handleEvent(event: ApiEvent): void {
    if (event.type === 'metrics' && event.scope === 'iteration' && event.jobId === jobId.value) {
      samples.value = [...samples.value.filter((s) => s.iteration < event.index), { iteration: event.index, values: event.values }];
      version.value++;
    }
  }

  /** The samples of one metric, for SparkChart (iteration, value; NaN where absent). */
  function series(key: string): { t: number[]; y: number[] } {
    const list = samples.value;
    return { t: list.map((s) => s.iteration), y: list.map((s) => s.values[key] ?? NaN) };
  }

  const hasMetric = (key: string) => samples.value.some((s) => Number.isFinite(s.values[key]));

  return {
    scenario,
    params,
    learner,
    preset,
    settings,
    seed,
    iterations,
    backend,
    errors,
    formError,
    submitting,
    jobId,
    samples,
    version,
    info,
    scenarioPresets,
    scenarioPreset,
    paramFields,
    settingFields,
    learnerInfo,
    learnerChoices,
    valid,
    job,
    running,
    config,
    validate,
    setScenario,
    setParam,
    setSetting,
    setLearner,
    start,
    watchJob,
    stop,
    handleEvent,
    series,
    hasMetric,
    PRESET_IDS,
  };
});
