/**
 * Disturbances of the live simulation on screen: the inspector's Disturb form (what to apply
 * to the selected vehicle, checked with the api's own disturbanceSchema and its messages,
 * errors by field), the job command that applies it, and the shown episode's disturbances
 * with their string-stability readouts (the backend's `disturbances` events, about four a
 * second while it runs).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import {
  ApiRequestError,
  DISTURBANCE_NOT_APPLIED,
  disturbanceSchema,
  isJobEnded,
  issuesToFieldErrors,
  VehicleKindCode,
  type ApiEvent,
  type DisturbanceKindName,
  type DisturbanceRequest,
  type FieldError,
  type LiveDisturbance,
} from '../../shared/api.ts';
import { useApi } from '../api/index.ts';
import { useLiveStore } from './live.ts';

/** The value a kind takes besides its duration (a stop has none). */
export type DisturbValueField = 'accel' | 'speed' | 'depth';

export interface DisturbKind {
  id: DisturbanceKindName;
  label: string;
  hint: string;
  value: { name: DisturbValueField; label: string; unit: string } | null;
  /** What the form starts with: the tests controllers are usually put through. */
  defaults: { value: string; duration: string };
}

export const DISTURB_KINDS: readonly DisturbKind[] = [
  { id: 'brake', label: 'Brake', hint: 'Brakes at a fixed deceleration', value: { name: 'accel', label: 'Acceleration', unit: 'm/s²' }, defaults: { value: '-4', duration: '2' } },
  { id: 'hold', label: 'Hold', hint: 'Holds a speed (reached at the scenario’s braking rate)', value: { name: 'speed', label: 'Speed', unit: 'm/s' }, defaults: { value: '5', duration: '10' } },
  { id: 'stop', label: 'Stop', hint: 'Brakes to a standstill and waits', value: null, defaults: { value: '', duration: '5' } },
  { id: 'dip', label: 'Leader dip', hint: 'A smooth dip of the exogenous leader’s speed profile', value: { name: 'depth', label: 'Depth', unit: 'm/s' }, defaults: { value: '3', duration: '10' } },
];

const KIND = Object.fromEntries(DISTURB_KINDS.map((kind) => [kind.id, kind])) as Record<DisturbanceKindName, DisturbKind>;

/** Text as typed -> a number for the schema: blank is no number (refused), not 0. */
const numberOf = (text: string): number => (text.trim() === '' ? NaN : Number(text));

export const useDisturbStore = defineStore('disturb', () => {
  const live = useLiveStore();
  const kind = ref<DisturbanceKindName>('brake');
  const drafts = ref(Object.fromEntries(DISTURB_KINDS.map((k) => [k.id, { ...k.defaults }])) as Record<DisturbanceKindName, { value: string; duration: string }>);
  /** Field errors by name (vehicle, duration, accel, speed, depth); `form` holds the rest. */
  const errors = ref<Record<string, string>>({});
  const formError = ref<string | null>(null);
  const sending = ref(false);
  /** The latest `disturbances` event of any job; `disturbances` keeps the shown episode's. */
  const latest = shallowRef<Extract<ApiEvent, { type: 'disturbances' }> | null>(null);
  /** The readout on screen (an index into `disturbances`); null: the newest. */
  const shownIndex = ref<number | null>(null);

  const canDisturb = computed(() => live.source === 'job' && live.job?.kind === 'simulate' && !isJobEnded(live.job.status) && live.episode !== null);
  /** A dip shapes the exogenous leader's profile: offered on the leader only. */
  const kinds = computed(() => {
    const v = live.selectedVehicle;
    const leader = v !== null && live.episode?.vehicleKind[v] === VehicleKindCode.leader;
    return DISTURB_KINDS.filter((k) => k.id !== 'dip' || leader);
  });
  const current = computed(() => KIND[kind.value]);

  const disturbances = computed<LiveDisturbance[]>(() => {
    const event = latest.value;
    const spec = live.episode;
    return event && spec && event.jobId === live.activeJobId && event.episode === spec.episode ? event.disturbances : [];
  });
  const shown = computed(() => {
    const list = disturbances.value;
    if (list.length === 0) return null;
    const index = shownIndex.value !== null && shownIndex.value < list.length ? shownIndex.value : list.length - 1;
    return { index, entry: list[index] };
  });

  watch(kinds, (offered) => {
    if (!offered.some((k) => k.id === kind.value)) kind.value = 'brake';
  });
  // An edit clears the errors at once (sync), so a check right after it reports on the edited form.
  watch(
    [kind, drafts, () => live.selectedVehicle],
    () => {
      errors.value = {};
      formError.value = null;
    },
    { deep: true, flush: 'sync' },
  );
  // A new episode starts without the disturbances applied by hand: show its newest readout again.
  watch(() => [live.activeJobId, live.episode?.episode], () => (shownIndex.value = null));

  /** The request as the form stands, checked with the api's schema. */
  function request(): { ok: true; value: DisturbanceRequest } | { ok: false; errors: FieldError[] } {
    const draft = drafts.value[kind.value];
    const value = current.value.value;
    const input = { kind: kind.value, vehicle: live.selectedVehicle ?? -1, duration: numberOf(draft.duration), ...(value ? { [value.name]: numberOf(draft.value) } : {}) };
    const parsed = disturbanceSchema.safeParse(input);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: issuesToFieldErrors(parsed.error.issues) };
  }

  /**
   * Field errors next to their inputs. The backend's checks (the scenario's ranges) name their
   * field at the start of the message ("accel=2 is not allowed; ..."); an invalid request's
   * field paths run through the command ("command.disturbance.accel").
   */
  function showErrors(list: readonly FieldError[]): void {
    const next: Record<string, string> = {};
    const general: string[] = [];
    const inputs = ['duration', current.value.value?.name];
    for (const error of list) {
      const path = error.field.replace(/^command\.disturbance\.?/, '');
      const named = path === 'disturbance' || path === '' ? /^(\w+)=/.exec(error.message)?.[1] : path;
      if (named !== undefined && inputs.includes(named)) next[named] = error.message;
      else general.push(error.message);
    }
    errors.value = next;
    formError.value = general.length > 0 ? general.join('; ') : null;
  }

  /** Applies the form's disturbance to the selected vehicle from the current step on. */
  async function apply(): Promise<boolean> {
    const id = live.activeJobId;
    const checked = request();
    if (!checked.ok) {
      showErrors(checked.errors);
      return false;
    }
    if (!id || !canDisturb.value) return false;
    sending.value = true;
    try {
      await useApi().controlJob(id, { type: 'disturb', disturbance: checked.value });
      errors.value = {};
      formError.value = null;
      shownIndex.value = null;
      return true;
    } catch (error) {
      if (error instanceof ApiRequestError && error.fields.length > 0) showErrors(error.fields);
      else formError.value = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      sending.value = false;
    }
  }

  function resetDraft(): void {
    drafts.value = { ...drafts.value, [kind.value]: { ...current.value.defaults } };
  }

  function handleEvent(event: ApiEvent): void {
    if (event.type === 'disturbances' && event.jobId === live.activeJobId) latest.value = event;
    // The simulation refused it when it came to apply it (the job went on meanwhile).
    else if (event.type === 'log' && event.level === 'error' && event.jobId === live.activeJobId && event.message.startsWith(DISTURBANCE_NOT_APPLIED)) formError.value = event.message;
  }

  return { kind, drafts, errors, formError, sending, canDisturb, kinds, current, disturbances, shown, shownIndex, apply, resetDraft, handleEvent };
});
