/**
 * Read-only hooks for the end-to-end tests (tests/e2e) and the UI benchmarks (bench/ui.ts,
 * bench/replay.ts, bench/compare.ts): `window.__headwayView` (the live 3D view),
 * `window.__headwayReplay` (the Replay view) and `window.__headwayCompare` (the Compare tab).
 *
 * They exist only in a renderer built with test hooks: HEADWAY_TEST_HOOKS=1 at build time
 * makes electron.vite.config.ts define __HEADWAY_TEST_HOOKS__ as true. Otherwise it is false,
 * every install function below returns at once and a production build drops their bodies
 * (tests/unit/renderer/testHooks.test.ts builds the renderer and checks it holds no hook).
 */
import type { CompareStats } from './compare/model.ts';
import type { RenderStats } from './scene/renderStats.ts';
import type { SceneView } from './scene/SceneView.ts';
import type { ReplayTimings, TrackRole, useReplayStore } from './stores/replay.ts';

/** Whether this build installs the hooks. */
export const TEST_HOOKS: boolean = __HEADWAY_TEST_HOOKS__;

export interface ViewHooks {
  projectVehicle(v: number): { x: number; y: number } | null;
  stats(): RenderStats;
  /** The vehicles the view marks disturbed now. */
  disturbed(): number[];
}

export interface ReplayHooks {
  episodeId(): number | null;
  compareEpisodeId(): number | null;
  /** The replay cursor. */
  step(): number;
  /** Step of the frame a viewport shows (-1: none yet). */
  shownStep(role: TrackRole): number;
  /** Vehicle positions of the frame a viewport shows. */
  positions(role: TrackRole): number[] | null;
  timings(): ReplayTimings;
  tracesReady(): boolean;
}

export interface CompareHooks {
  stats(): CompareStats | null;
}

declare global {
  interface Window {
    __headwayView?: ViewHooks;
    __headwayReplay?: ReplayHooks;
    __headwayCompare?: CompareHooks;
  }
}

const none = (): void => undefined;

/** The live 3D view's hooks, for as long as its scene lives; returns their removal. */
export function installViewHooks(scene: SceneView): () => void {
  if (!__HEADWAY_TEST_HOOKS__) return none;
  window.__headwayView = { projectVehicle: (v) => scene.projectVehicle(v), stats: () => scene.stats(), disturbed: () => scene.disturbedVehicles() };
  return () => delete window.__headwayView;
}

/** The Replay view's hooks, while it is mounted; returns their removal. */
export function installReplayHooks(replay: ReturnType<typeof useReplayStore>): () => void {
  if (!__HEADWAY_TEST_HOOKS__) return none;
  window.__headwayReplay = {
    episodeId: () => replay.primary?.info.id ?? null,
    compareEpisodeId: () => replay.compare?.info.id ?? null,
    step: () => replay.step,
    shownStep: (role) => (role === 'compare' ? replay.compare : replay.primary)?.shownStep ?? -1,
    positions: (role) => {
      const shown = replay.currentFrame(role);
      return shown ? Array.from(shown.frame.position) : null;
    },
    timings: () => ({ ...replay.timings }),
    tracesReady: () => replay.traces !== null,
  };
  return () => delete window.__headwayReplay;
}

/** The Compare tab's hooks (the stats of its last complete drawing), while it is mounted; returns their removal. */
export function installCompareHooks(stats: () => CompareStats | null): () => void {
  if (!__HEADWAY_TEST_HOOKS__) return none;
  window.__headwayCompare = { stats: () => stats() };
  return () => delete window.__headwayCompare;
}
