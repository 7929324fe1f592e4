/**
 * Sweeps in the Runs tab: the recorded sweeps with their progress (for the sweep filter and
 * the banner of the sweep filtered on), and "Compare this sweep": its runs on one scenario
 * opened in Compare, grouped by learner with mean ± std bands over the seeds. A sweep over
 * several scenarios opens one scenario at a time, since returns of different scenarios do
 * not share a scale.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { MAX_COMPARE_RUNS } from '../../shared/api.ts';
import { RUN_STATUSES, type RunStatus } from '../../shared/runs.ts';
import type { SweepSummary } from '../../shared/sweep.ts';
import { useApi } from '../api/index.ts';
import { errorMessage, useRunsStore } from './runs.ts';
import { useViewStore } from './view.ts';

/** How often the banner of a sweep still in progress (runs training, cells not started) reads its progress again (ms). */
export const SWEEP_REFRESH_MS = 3000;

/** Most runs one sweep may have; listRuns' own limit. */
const MAX_SWEEP_RUNS = 1000;

/** One part of a sweep's progress: the cells whose run has a status, or no run yet. */
export interface SweepProgressPart {
  status: RunStatus | 'notStarted';
  count: number;
  label: string;
}

/** A sweep's cells by the status of their run, in a fixed order, empty parts left out. */
export function sweepProgress(sweep: SweepSummary): SweepProgressPart[] {
  const statuses: (RunStatus | 'notStarted')[] = ['finished', ...RUN_STATUSES.filter((status) => status !== 'finished'), 'notStarted'];
  return statuses
    .map((status) => ({ status, count: sweep.runs[status], label: status === 'notStarted' ? 'not started' : status }))
    .filter((part) => part.count > 0);
}

/** "3 of 8 finished · 1 running · 1 failed · 3 not started". */
export function sweepProgressText(sweep: SweepSummary): string {
  const [finished, ...rest] = [{ count: sweep.runs.finished, label: 'finished' }, ...sweepProgress(sweep).filter((part) => part.status !== 'finished')];
  return [`${finished.count} of ${sweep.cells} ${finished.label}`, ...rest.map((part) => `${part.count} ${part.label}`)].join(' · ');
}

export const useSweepsStore = defineStore('sweeps', () => {
  const sweeps = ref<SweepSummary[]>([]);
  const error = ref<string | null>(null);
  /** The scenario whose runs are being read for Compare. */
  const opening = ref<string | null>(null);
  let ticket = 0;

  /** The sweep the Runs tab is filtered on, once the list knows it. */
  const selected = computed(() => {
    const id = useRunsStore().sweep;
    return id === null ? null : (sweeps.value.find((sweep) => sweep.id === id) ?? null);
  });

  /** (Re)loads the sweeps with their progress; answers to older requests are dropped. */
  async function load(): Promise<void> {
    const mine = ++ticket;
    try {
      const list = await useApi().listSweeps();
      if (mine !== ticket) return;
      sweeps.value = list;
      error.value = null;
    } catch (reason) {
      if (mine === ticket) error.value = `Could not load the sweeps: ${errorMessage(reason)}`;
    }
  }

  /** Opens the sweep's runs on `scenario` in Compare, grouped by learner with mean ± std bands over the seeds. */
  async function compare(sweep: SweepSummary, scenario: string): Promise<void> {
    opening.value = scenario;
    error.value = null;
    try {
      const runs = await useApi().listRuns({ sweep: sweep.id, scenario, limit: MAX_SWEEP_RUNS });
      if (runs.length === 0) {
        error.value = `Sweep "${sweep.name}" has no runs on ${scenario} yet.`;
      } else if (runs.length > MAX_COMPARE_RUNS) {
        error.value = `Sweep "${sweep.name}" has ${runs.length} runs on ${scenario}; Compare shows at most ${MAX_COMPARE_RUNS}: tick the runs to compare in the list instead.`;
      } else {
        // Oldest first: the grid's order (learners, then seeds), as the sweep started them.
        useViewStore().openCompare(runs.map((run) => run.id).reverse(), { groupBy: 'algo', band: 'std' });
      }
    } catch (reason) {
      error.value = `Could not read the runs of sweep "${sweep.name}": ${errorMessage(reason)}`;
    } finally {
      opening.value = null;
    }
  }

  return { sweeps, error, opening, selected, load, compare };
});
