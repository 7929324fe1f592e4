/** The 3D views' camera modes, shared by the live and replay views (one choice for both, kept in the view store). */
export type CameraMode = 'orbit' | 'top' | 'follow';

export const CAMERA_MODES: readonly { id: CameraMode; label: string; hint: string }[] = [
  { id: 'orbit', label: 'Orbit', hint: 'Drag to orbit, right-drag to pan, wheel to zoom' },
  { id: 'top', label: 'Top', hint: 'Top view: drag to pan, wheel to zoom' },
  { id: 'follow', label: 'Follow', hint: 'Chase the selected vehicle' },
];
