/**
 * The Compare tab: which runs (the view store's compareRunIds, which the Runs tab hands
 * over) and metrics are compared, how (grouping, x-axis, smoothing, band), and their
 * curves. Curves are typed arrays in a map replaced as a whole on each fetch (shallowRef),
 * so Vue tracks one reference, never a point. Each time the tab opens, the curves are read
 * again (runs may have trained since).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { MAX_COMPARE_METRICS, MAX_COMPARE_RUNS } from '../../shared/api.ts';
import type { RunDetail } from '../../shared/runs.ts';
import { useApi } from '../api/index.ts';
import { curveFromColumns, type BandKind, type RunCurve, type XAxis } from '../compare/curves.ts';
import { groupFields } from '../compare/grouping.ts';
import { buildCompareModel, curveKey, defaultMetric, orderMetrics, type CompareModel } from '../compare/model.ts';
import { useViewStore } from './view.ts';

/** How long the last opening took, for the test hooks and the benchmark (performance.now() times, ms). */
export interface CompareTimings {
  /** When the tab started loading the selection. */
  startedAt: number;
  /** Duration of the runMetrics request alone (request, transport, decoding). */
  runMetricsMs: number;
  /** Points received. */
  points: number;
}

export const useCompareStore = defineStore('compare', () => {
  const view = useViewStore();
  /** Every run of the history, for the picker (newest first). */
  const runs = shallowRef<RunDetail[]>([]);
  /** Details and series names of runs read with getRun (the selected ones). */
  const details = shallowRef(new Map<number, { run: RunDetail; series: string[] }>());
  const curves = shallowRef(new Map<string, RunCurve>());
  /** Metrics the user picked; empty: the default (evaluation return, else training return). */
  const chosenMetrics = ref<string[]>([]);
  const groupBy = ref<string | null>(null);
  const xAxis = ref<XAxis>('envSteps');
  const smoothing = ref(0);
  const band = ref<BandKind>('minmax');
  const showRuns = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const timings = shallowRef<CompareTimings | null>(null);
  /** Bumped by each request, so an older answer that arrives late is dropped. */
  let generation = 0;

  const selectedIds = computed(() => view.compareRunIds);
  const selectedRuns = computed(() => selectedIds.value.flatMap((id) => details.value.get(id)?.run ?? runs.value.find((run) => run.id === id) ?? []));
  const availableMetrics = computed(() => orderMetrics(selectedIds.value.flatMap((id) => details.value.get(id)?.series ?? [])));
  const metrics = computed(() => {
    if (chosenMetrics.value.length > 0) return chosenMetrics.value;
    const fallback = defaultMetric(availableMetrics.value);
    return fallback === null ? [] : [fallback];
  });
  const fields = computed(() => groupFields(selectedRuns.value));

  /** Time the last model took to compute (smoothing, grouping, interpolation), ms. */
  let modelMs = 0;
  const model = computed<CompareModel>(() => {
    const started = performance.now();
    const built = buildCompareModel(selectedRuns.value, curves.value, {
      metrics: metrics.value,
      groupBy: groupBy.value,
      xAxis: xAxis.value,
      smoothing: smoothing.value,
      band: band.value,
      showRuns: showRuns.value,
    });
    modelMs = performance.now() - started;
    return built;
  });

  function setSelection(ids: readonly number[]): void {
    view.compareRunIds = [...new Set(ids)].slice(0, MAX_COMPARE_RUNS);
  }

  function toggleRun(id: number): void {
    const ids = selectedIds.value;
    setSelection(ids.includes(id) ? ids.filter((other) => other !== id) : [...ids, id]);
  }

  function toggleMetric(name: string): void {
    const current = metrics.value;
    const next = current.includes(name) ? current.filter((other) => other !== name) : [...current, name].slice(-MAX_COMPARE_METRICS);
    chosenMetrics.value = next;
  }

  /** Opens the tab: the layout handed over with the runs (if any), the run list and the selection's curves, read afresh. */
  async function open(): Promise<void> {
    if (view.compareLayout !== null) {
      groupBy.value = view.compareLayout.groupBy;
      band.value = view.compareLayout.band;
      view.compareLayout = null;
    }
    details.value = new Map();
    curves.value = new Map();
    const startedAt = performance.now();
    const [list] = await Promise.all([useApi().listRuns({ limit: 1000 }).catch(fail), sync(startedAt)]);
    if (list) runs.value = list;
  }

  function fail(reason: unknown): undefined {
    error.value = reason instanceof Error ? reason.message : String(reason);
    return undefined;
  }

  /** Reads what the selection and metrics need and is not loaded yet: run details, then curves. */
  async function sync(startedAt = performance.now()): Promise<void> {
    const current = ++generation;
    const ids = [...selectedIds.value];
    loading.value = true;
    error.value = null;
    try {
      const api = useApi();
      const unknown = ids.filter((id) => !details.value.has(id));
      if (unknown.length > 0) {
        const overviews = await Promise.all(unknown.map((id) => api.getRun(id)));
        if (current !== generation) return;
        const next = new Map(details.value);
        for (const overview of overviews) next.set(overview.run.id, { run: overview.run, series: overview.series });
        details.value = next;
      }
      const names = metrics.value;
      const missing = ids.filter((id) => names.some((name) => !curves.value.has(curveKey(id, name)) && details.value.get(id)?.series.includes(name)));
      if (missing.length > 0 && names.length > 0) {
        const requestedAt = performance.now();
        const columns = await api.runMetrics(missing, [...names]);
        const runMetricsMs = performance.now() - requestedAt;
        if (current !== generation) return;
        const next = new Map(curves.value);
        let points = 0;
        for (const column of columns) {
          next.set(curveKey(column.runId, column.name), curveFromColumns(column));
          points += column.value.length;
        }
        curves.value = next;
        timings.value = { startedAt, runMetricsMs, points };
      }
    } catch (reason) {
      if (current === generation) fail(reason);
    } finally {
      if (current === generation) loading.value = false;
    }
  }

  // A run removed from the selection leaves nothing behind; a new run or metric is read.
  watch([selectedIds, metrics], () => void sync(), { deep: true });
  // A grouping field the selected runs no longer have falls back to none (not while they load).
  watch(fields, (list) => {
    if (list.length > 0 && groupBy.value !== null && !list.some((field) => field.key === groupBy.value)) groupBy.value = null;
  });

  return {
    runs,
    selectedIds,
    selectedRuns,
    availableMetrics,
    metrics,
    fields,
    groupBy,
    xAxis,
    smoothing,
    band,
    showRuns,
    loading,
    error,
    timings,
    curves,
    model,
    setSelection,
    toggleRun,
    toggleMetric,
    open,
    sync,
    modelMs: () => modelMs,
  };
});
