/** How the 3D view looks: camera, the speed colour scale, what is overlaid. */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export type CameraMode = 'orbit' | 'top' | 'follow';
export const CAMERA_MODES: readonly { id: CameraMode; label: string; hint: string }[] = [
  { id: 'orbit', label: 'Orbit', hint: 'Drag to orbit, right-drag to pan, wheel to zoom' },
  { id: 'top', label: 'Top', hint: 'Top view: drag to pan, wheel to zoom' },
  { id: 'follow', label: 'Follow', hint: 'Chase the selected vehicle' },
];
/** Top of the speed colour scale (m/s). */
export const SPEED_SCALES = [10, 20, 30, 40] as const;

export type AppTab = 'simulate' | 'train';

export const useViewStore = defineStore('view', () => {
  /** The session type on screen. */
  const tab = ref<AppTab>('simulate');
  const camera = ref<CameraMode>('orbit');
  const speedScale = ref<number>(30);
  const showEdges = ref(true);
  /** Frames per second the 3D view draws, measured. */
  const fps = ref(0);
  return { tab, camera, speedScale, showEdges, fps };
});
