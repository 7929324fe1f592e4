/**
 * Grouping runs by a field of their configuration: the learner, scenario, presets, seed,
 * and every scenario parameter (params.*) and learner hyperparameter (config.learner.*,
 * nested objects flattened with dots) that any of the runs has.
 */
import type { JsonValue, RunDetail } from '../../shared/runs.ts';

export interface GroupField {
  /** algo, scenario, preset, seed, params.<name> or learner.<name>. */
  key: string;
  label: string;
  /** Whether the runs differ in it (the fields worth grouping by). */
  varies: boolean;
}

/** The label of runs that do not have the field. */
export const NOT_SET = '(not set)';

const BASE_FIELDS: readonly { key: string; label: string; read: (run: RunDetail) => string }[] = [
  { key: 'algo', label: 'Learner', read: (run) => run.algo },
  { key: 'scenario', label: 'Scenario', read: (run) => run.scenario },
  { key: 'preset', label: 'Learner preset', read: (run) => run.preset ?? NOT_SET },
  { key: 'seed', label: 'Seed', read: (run) => String(run.seed) },
];

function valueText(value: JsonValue): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function flatten(prefix: string, value: JsonValue, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [name, inner] of Object.entries(value)) flatten(`${prefix}.${name}`, inner, out);
    return;
  }
  out.set(prefix, valueText(value));
}

/** Every groupable field of a run with its value as text. */
export function runFieldValues(run: RunDetail): Map<string, string> {
  const values = new Map<string, string>();
  for (const field of BASE_FIELDS) values.set(field.key, field.read(run));
  for (const [name, value] of Object.entries(run.params)) values.set(`params.${name}`, valueText(value));
  const learner = run.config.learner;
  if (learner !== undefined) flatten('learner', learner, values);
  return values;
}

function fieldLabel(key: string): string {
  const base = BASE_FIELDS.find((field) => field.key === key);
  if (base) return base.label;
  if (key.startsWith('params.')) return `Scenario · ${key.slice('params.'.length)}`;
  return `Learner · ${key.slice('learner.'.length)}`;
}

/**
 * The fields present in any of the runs: the base fields first, then scenario parameters and
 * learner hyperparameters by name.
 */
export function groupFields(runs: readonly RunDetail[]): GroupField[] {
  const seen = new Map<string, Set<string>>();
  const perRun = runs.map(runFieldValues);
  for (const values of perRun) for (const key of values.keys()) if (!seen.has(key)) seen.set(key, new Set());
  for (const [key, distinct] of seen) for (const values of perRun) distinct.add(values.get(key) ?? NOT_SET);
  const baseKeys = BASE_FIELDS.map((field) => field.key);
  const rest = [...seen.keys()].filter((key) => !baseKeys.includes(key)).sort((a, b) => a.localeCompare(b));
  return [...baseKeys, ...rest].map((key) => ({ key, label: fieldLabel(key), varies: (seen.get(key)?.size ?? 0) > 1 }));
}

export interface RunGroup {
  /** The field's value shared by the group's runs. */
  label: string;
  runIds: number[];
}

/** Numbers in numeric order, then text in natural order, runs without the field last. */
function compareValues(a: string, b: string): number {
  if ((a === NOT_SET) !== (b === NOT_SET)) return a === NOT_SET ? 1 : -1;
  const na = Number(a);
  const nb = Number(b);
  const numeric = (text: string, n: number) => text.trim() !== '' && Number.isFinite(n);
  if (numeric(a, na) && numeric(b, nb)) return na - nb;
  if (numeric(a, na) !== numeric(b, nb)) return numeric(a, na) ? -1 : 1;
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Runs grouped by the value of `key`, runs in their given order within a group. */
export function groupRuns(runs: readonly RunDetail[], key: string): RunGroup[] {
  const groups = new Map<string, number[]>();
  for (const run of runs) {
    const label = runFieldValues(run).get(key) ?? NOT_SET;
    const ids = groups.get(label);
    if (ids) ids.push(run.id);
    else groups.set(label, [run.id]);
  }
  return [...groups]
    .sort(([a], [b]) => compareValues(a, b))
    .map(([label, runIds]) => ({ label, runIds }));
}
