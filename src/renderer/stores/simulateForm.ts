/**
 * The Simulate form: scenario, preset and parameters from the scenario catalogue, policy,
 * seed. Validation is the backend's (the same resolveParams as `headway simulate --param`),
 * asked on every change and shown next to each field.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { parsePolicy, type JobConfigInput, type JobInfo, type Speed } from '../../shared/api.ts';
import { SCENARIOS, type ParamSpec, type ParamValue, type ScenarioId } from '../../shared/scenarios.ts';
import { useApi } from '../api/index.ts';
import { useJobValidation } from '../composables/useJobValidation.ts';
import { showLiveJob } from '../live/showJob.ts';

export type PolicyKind = 'idle' | 'random' | 'constant';

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
  let timer: ReturnType<typeof setTimeout> | undefined;

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

  const policy = computed(() => (policyKind.value === 'constant' ? `constant:${policyValue.value.trim()}` : policyKind.value));

  /** The job config as the form stands (may be invalid: the backend says where). */
  function config(speed: Speed = 1): JobConfigInput {
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

  watch([scenario, values, policyKind, policyValue, seed, repeat], scheduleValidation, { deep: true });

  function setScenario(id: ScenarioId): void {
    if (id === scenario.value) return;
    scenario.value = id;
    values.value = initialValues(id);
    errors.value = {};
    formError.value = null;
    if (policyKind.value === 'constant') policyValue.value = '0';
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
    setParam,
    setPreset,
    resetParams,
    start,
  };
});
