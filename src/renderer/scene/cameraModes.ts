/** The 3D views' camera modes, shared by the live and replay views (one choice for both, kept in the view store). */
export type CameraMode = 'orbit' | 'top' | 'follow';

export const CAMERA_MODES: readonly { id: CameraMode; label: string; hint: string }[] = [
  { id: 'orbit', label: 'Orbit', hint: 'Drag to orbit, right-drag to pan, wheel to zoom' },
  { id: 'top', label: 'Top', hint: 'Top view: drag to pan, wheel to zoom' },
  { id: 'follow', label: 'Follow', hint: 'Chase the selected vehicle' },
];

/** A point as [x, y, z]. */
export type Vec3 = readonly [number, number, number];

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * How far from its target a perspective camera looking along -`back` (unit vectors `right`,
 * `up` and `back` of its frame) must be for every point (relative to the target) to be in
 * view, with a margin (1.06: 6% of room). A point p is in view at distance d when
 * |p·right| <= tan(hfov/2)(d - p·back) and likewise for up, so the fit is the largest of
 * p·back + |p·right|/tan(hfov/2) and p·back + |p·up|/tan(vfov/2) over the points: both the
 * height and the width of the viewport bound it, whatever its aspect ratio.
 */
export function fitDistance(points: readonly Vec3[], frame: { right: Vec3; up: Vec3; back: Vec3 }, vfovDeg: number, aspect: number, margin = 1.06): number {
  const tanV = Math.tan((vfovDeg * Math.PI) / 360) / margin;
  const tanH = tanV * aspect;
  let distance = 0;
  for (const p of points) {
    const along = dot(p, frame.back);
    distance = Math.max(distance, along + Math.abs(dot(p, frame.right)) / tanH, along + Math.abs(dot(p, frame.up)) / tanV);
  }
  return distance;
}
