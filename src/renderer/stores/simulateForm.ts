/**
 * The Simulate form: scenario, preset and parameters from the scenario catalogue, policy,
 * seed. Validation is the backend's (the same resolveParams as `headway simulate --param`),
 * asked on every change and shown next to each field.
 *
 * The policy is idle, human (ring and figure eight), random, constant:K or a stored run of the scenario at one of its
 * checkpoints (run:RUN_ID@best|latest|CHECKPOINT_ID), listed from the run history.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { parsePolicy, type JobInfo, type SimulateConfigInput, type Speed } from '../../shared/api.ts';
import type { RunDetail } from '../../shared/runs.ts';
import { SCENARIOS, type ParamSpec, type ParamValue, type ScenarioId } from '../../shared/scenarios.ts';
import { useApi } from '../api/index.ts';
import { useJobValidation } from '../composables/useJobValidation.ts';
import { useRunCheckpoints } from '../composables/useRunCheckpoints.ts';
import { showLiveJob } from '../live/showJob.ts';
import { useLiveStore } from './live.ts';
import type { CheckpointPick } from './runs.ts';

export type PolicyKind = 'idle' | 'human' | 'random' | 'constant' | 'run';

export interface ParamFieldView {
  spec: ParamSpec;
  /** What the user typed or chose; undefined when left at the default. */
  value: string | boolean | undefined;
  /** The default in effect (the preset's, else the catalogue's). */
  effectiveDefault: ParamValue;
  error: string | null;
}

/** Loops start at rest: with no agents' input nothing would move, so the form starts them human-driven. */
function initialValues(id: ScenarioId): Record<string, string | boolean> {
  return id === 'ring' || id === 'figure-eight' ? { preset: 'uncontrolled' } : {};
}

/** Fields whose errors the form shows next to an input; others show at the top of the form. */
const FIELD_KEYS = ['scenario', 'policy', 'seed', 'params'];

export const useSimulateFormStore = defineStore('simulateForm', () => {
  const scenario = ref<ScenarioId>('ring');
  /** Explicitly set parameters (the preset included), as typed. The form opens on the uncontrolled ring: its stop-and-go wave is what users look at first. */
  const values = ref<Record<string, string | boolean>>(initialValues('ring'));
  const policyKind = ref<PolicyKind>('idle');
  const policyValue = ref('0');
  const seed = ref('0');
  const repeat = ref(false);
  const submitting = ref(false);
  /** Stored runs of the scenario, newest first, and the chosen one's checkpoints. */
  const storedRuns = shallowRef<RunDetail[]>([]);
  const runsError = ref<string | null>(null);
  const policyRun = ref<number | null>(null);
  const policyCheckpoint = ref<CheckpointPick>('best');
  const { checkpoints, load: loadCheckpoints } = useRunCheckpoints((runId, reason) => (runsError.value = `Could not read run ${runId}: ${reason}`));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let runsTicket = 0;

  const info = computed(() => SCENARIOS[scenario.value]);
  const presets = computed(() => Object.keys(info.value.presets));
  const preset = computed(() => {
    const chosen = values.value.preset;
    return typeof chosen === 'string' ? chosen : 'dmpo';
  });

  const fields = computed<ParamFieldView[]>(() => {
    const presetDefaults = info.value.presets[preset.value] ?? {};
    return info.value.params
      .filter((spec) => spec.name !== 'preset')
      .map((spec) => ({
        spec,
        value: values.value[spec.name],
        effectiveDefault: spec.name in presetDefaults ? presetDefaults[spec.name] : spec.default,
        error: errors.value[`params.${spec.name}`] ?? null,
      }));
  });

  const policy = computed(() => {
    if (policyKind.value === 'constant') return `constant:${policyValue.value.trim()}`;
    if (policyKind.value === 'run') return policyRun.value === null ? 'run:' : `run:${policyRun.value}@${policyCheckpoint.value}`;
    return policyKind.value;
  });
  const chosenRun = computed(() => storedRuns.value.find((run) => run.id === policyRun.value) ?? null);

  /**
   * Why the simulation on screen failed to restore this policy (the job worker checks the run:
   * that it exists, was trained on this scenario, with as many agents seeing as much), shown
   * next to the field like a validation error while the form asks for the same again.
   */
  const policyFailure = computed(() => {
    const job = useLiveStore().job;
    if (!job || job.status !== 'failed' || job.config.kind !== 'simulate' || !job.error?.startsWith(`policy ${job.config.policy}:`)) return null;
    const asked = config();
    const same = job.config.scenario === asked.scenario && job.config.policy === asked.policy && JSON.stringify(job.config.params) === JSON.stringify(asked.params);
    return same ? job.error : null;
  });

  /** Lists the scenario's stored runs (again: runs trained since show up); answers to older requests are dropped. */
  async function loadRuns(): Promise<void> {
    const mine = ++runsTicket;
    const id = scenario.value;
    try {
      const runs = await useApi().listRuns({ scenario: id });
      if (mine !== runsTicket) return;
      storedRuns.value = runs;
      runsError.value = null;
    } catch (error) {
      if (mine === runsTicket) runsError.value = `Could not list the stored runs: ${error instanceof Error ? error.message : String(error)}`;
    }
  }


  /** Chooses a policy: `run:ID` picks that stored run at its best checkpoint. */
  function setPolicy(choice: string): void {
    const run = /^run:(\d+)$/.exec(choice);
    if (run) {
      policyKind.value = 'run';
      policyRun.value = Number(run[1]);
      policyCheckpoint.value = 'best';
      void loadCheckpoints(policyRun.value);
    } else {
      policyKind.value = choice as PolicyKind;
      policyRun.value = null;
    }
  }

  /** Sets every scenario parameter to the chosen run's (the policy acts on what it was trained on). */
  function applyRunParams(): void {
    const run = chosenRun.value;
    if (!run) return;
    const next: Record<string, string | boolean> = {};
    for (const [name, value] of Object.entries(run.params)) if (value !== null) next[name] = typeof value === 'boolean' ? value : String(value);
    values.value = next;
  }

  /** The job config as the form stands (may be invalid: the backend says where). */
  function config(speed: Speed = 1): SimulateConfigInput {
    const params: Record<string, ParamValue> = {};
    for (const [name, value] of Object.entries(values.value)) {
      if (typeof value === 'string' && value.trim() === '') continue;
      params[name] = typeof value === 'string' ? value.trim() : value;
    }
    const seedText = seed.value.trim();
    const seedNumber = Number(seedText);
    return {
      kind: 'simulate',
      scenario: scenario.value,
      params,
      policy: policy.value,
      // Text that is not a number goes as is: the backend names the field.
      seed: (seedText === '' ? 0 : Number.isFinite(seedNumber) ? seedNumber : seedText) as number,
      repeat: repeat.value,
      speed,
    };
  }

  const { errors, formError, validating, valid, validate, applyFailure } = useJobValidation(() => config(), FIELD_KEYS, ['params']);

  function scheduleValidation(): void {
    clearTimeout(timer);
    // Syntax the backend would refuse anyway is flagged at once; the rest after a short pause.
    if (policyKind.value === 'constant' && parsePolicy(policy.value) === null) {
      errors.value = { ...errors.value, policy: 'K must be a number' };
    }
    timer = setTimeout(() => void validate(), 120);
  }

  watch([scenario, values, policy, seed, repeat], scheduleValidation, { deep: true });

  function setScenario(id: ScenarioId): void {
    if (id === scenario.value) return;
    scenario.value = id;
    values.value = initialValues(id);
    errors.value = {};
    formError.value = null;
    if (policyKind.value === 'constant') policyValue.value = '0';
    // A run belongs to the scenario it was trained on; CACC's platoon has no human-driver model.
    if (policyKind.value === 'run' || (policyKind.value === 'human' && !hasHumanModel(id))) setPolicy('idle');
    storedRuns.value = [];
    void loadRuns();
  }

  function setParam(name: string, value: string | boolean | undefined): void {
    const next = { ...values.value };
    if (value === undefined) delete next[name];
    else next[name] = value;
    values.value = next;
  }

  function setPreset(name: string): void {
    // A preset changes defaults; explicitly set values stay.
    setParam('preset', name === 'dmpo' ? undefined : name);
  }

  function resetParams(): void {
    values.value = preset.value === 'dmpo' ? {} : { preset: preset.value };
  }

  /** Starts the simulation (stopping the one on screen); field errors land next to their fields. */
  async function start(speed: Speed = 1): Promise<JobInfo | null> {
    submitting.value = true;
    formError.value = null;
    try {
      const info = await useApi().startJob(config(speed));
      showLiveJob(info);
      errors.value = {};
      return info;
    } catch (error) {
      applyFailure(error);
      return null;
    } finally {
      submitting.value = false;
    }
  }

  return {
    scenario,
    values,
    policyKind,
    policyValue,
    policyRun,
    policyCheckpoint,
    storedRuns,
    runsError,
    checkpoints,
    chosenRun,
    policyFailure,
    seed,
    repeat,
    errors,
    formError,
    submitting,
    validating,
    info,
    presets,
    preset,
    fields,
    policy,
    valid,
    config,
    validate,
    setScenario,
    setPolicy,
    loadRuns,
    applyRunParams,
    setParam,
    setPreset,
    resetParams,
    start,
  };
});

/** Scenarios whose automated vehicles can drive by the human-driver model (the `human` policy): the closed roads. */
export const hasHumanModel = (id: ScenarioId): boolean => id === 'ring' || id === 'figure-eight';
