/**
 * Validation of a job form against the backend (the authoritative check, shared with the
 * CLI), a composable of the Simulate, Train and Runs (evaluate) form stores: field errors
 * keyed by field path for the inputs, the rest as one form error, and stale answers dropped
 * when the form changed meanwhile.
 */
import { computed, ref } from 'vue';
import { ApiRequestError, type FieldError } from '../../shared/api.ts';
import { useApi } from '../api/index.ts';

/**
 * `fieldKeys`: roots of the field paths an input shows ('params' covers 'params.length');
 * `groups`: roots whose bare name (no sub-field) belongs at the top of the form.
 */
export function useJobValidation(config: () => unknown, fieldKeys: readonly string[], groups: readonly string[]) {
  const errors = ref<Record<string, string>>({});
  const formError = ref<string | null>(null);
  const validating = ref(false);
  let ticket = 0;

  function applyErrors(list: readonly FieldError[]): void {
    const next: Record<string, string> = {};
    const general: string[] = [];
    for (const error of list) {
      const root = error.field.split('.')[0];
      if (fieldKeys.includes(root) && !groups.includes(error.field)) next[error.field] = error.message;
      else general.push(error.field ? `${error.field}: ${error.message}` : error.message);
    }
    errors.value = next;
    formError.value = general.length > 0 ? general.join('; ') : null;
  }

  /** Shows a failed start: field errors next to their fields, anything else at the top. */
  function applyFailure(error: unknown): void {
    if (error instanceof ApiRequestError && error.fields.length > 0) applyErrors(error.fields);
    else formError.value = error instanceof Error ? error.message : String(error);
  }

  const valid = computed(() => Object.keys(errors.value).length === 0 && formError.value === null);

  /** Asks the backend to validate the form as it stands. */
  async function validate(): Promise<boolean> {
    const mine = ++ticket;
    validating.value = true;
    try {
      const list = await useApi().validateJob(config());
      if (mine === ticket) applyErrors(list);
      return list.length === 0;
    } catch (error) {
      if (mine === ticket) formError.value = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      if (mine === ticket) validating.value = false;
    }
  }

  return { errors, formError, validating, valid, validate, applyFailure };
}
