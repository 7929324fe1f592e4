/**
 * What is on screen: the view (tab), how the 3D views look (camera, the speed colour scale,
 * what is overlaid), and the hand-offs between views (open a stored episode in Replay, a
 * set of runs in Compare).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { BandKind } from '../compare/curves.ts';
import type { CameraMode } from '../scene/cameraModes.ts';

/** Top of the speed colour scale (m/s). */
export const SPEED_SCALES = [10, 20, 30, 40] as const;

export type AppTab = 'simulate' | 'train' | 'runs' | 'replay' | 'compare';
export const APP_TABS: readonly { id: AppTab; label: string; hint: string }[] = [
  { id: 'simulate', label: 'Simulate', hint: 'Run a scenario live in 3D and inspect its agents' },
  { id: 'train', label: 'Train', hint: 'Train a learner and watch it live' },
  { id: 'runs', label: 'Runs', hint: 'The experiment history: search, edit, resume, evaluate, delete' },
  { id: 'replay', label: 'Replay', hint: 'Play a stored episode with rewind, time-space diagram and traces' },
  { id: 'compare', label: 'Compare', hint: 'Overlay the curves of several runs, grouped with spread bands' },
];

/** How Compare shows the runs handed over (a sweep: grouped by learner with mean +- std bands); Compare applies it once, when it opens. */
export interface CompareLayout {
  groupBy: string;
  band: BandKind;
}

/** A stored episode to open in Replay; with a second one side by side (a fork beside its parent) at a step. */
export interface ReplayTarget {
  runId: number;
  episodeId: number;
  compareEpisodeId?: number;
  step?: number;
}

export const useViewStore = defineStore('view', () => {
  /** The session type on screen. */
  const tab = ref<AppTab>('simulate');
  const camera = ref<CameraMode>('orbit');
  const speedScale = ref<number>(30);
  const showEdges = ref(true);
  /** Frames per second the 3D view draws, measured. */
  const fps = ref(0);
  /** The episode Replay shows (set by openReplay; Replay may also pick one itself). */
  const replayTarget = ref<ReplayTarget | null>(null);
  /** The runs Compare shows (set by openCompare; Compare may also change them itself). */
  const compareRunIds = ref<number[]>([]);
  /** The layout Compare applies when it next opens (set by openCompare with a layout). */
  const compareLayout = ref<CompareLayout | null>(null);

  function openReplay(target: ReplayTarget): void {
    replayTarget.value = { ...target };
    tab.value = 'replay';
  }

  function openCompare(runIds: readonly number[], layout: CompareLayout | null = null): void {
    compareRunIds.value = [...new Set(runIds)];
    compareLayout.value = layout;
    tab.value = 'compare';
  }

  return { tab, camera, speedScale, showEdges, fps, replayTarget, compareRunIds, compareLayout, openReplay, openCompare };
});
