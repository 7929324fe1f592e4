/**
 * Geometry and colours of the road-network view (network-routing): nodes placed from the
 * network's coordinates in the view's box (in pixels, so nodes and labels keep their size
 * whatever the view's), each link a segment offset to the right of
 * its direction (so the two directions of a two-way road lie side by side), coloured by
 * volume/capacity and as wide as its flow, with an arrowhead at its end.
 */
import type { NetworkScene } from '../../shared/scene.ts';

/** Space kept free around the network in the view (px): above and below for the view's title, legend and playback bar. */
const MARGIN_X = 40;
const MARGIN_Y = 88;
/** Offset of a link from the centre line between its nodes, and the gap kept free around a node (px). */
const LINK_OFFSET = 6;
const NODE_CLEARANCE = 16;
/** Width of a link at no flow, and added at the largest flow of the frame (px). */
const MIN_WIDTH = 1.5;
const FLOW_WIDTH = 9;

export interface NodePlace {
  x: number;
  y: number;
}

export interface LinkPath {
  link: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Node positions in a box of `boxWidth` x `boxHeight` px, centred, the network's aspect kept and y pointing up. */
export function placeNodes(scene: NetworkScene, boxWidth: number, boxHeight: number): NodePlace[] {
  const xs = scene.nodeX;
  const ys = scene.nodeY;
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const spanX = Math.max(...xs) - minX;
  const spanY = Math.max(...ys) - minY;
  const scale = Math.max(0, Math.min((boxWidth - 2 * MARGIN_X) / Math.max(spanX, 1e-9), (boxHeight - 2 * MARGIN_Y) / Math.max(spanY, 1e-9)));
  const width = spanX * scale;
  const height = spanY * scale;
  const left = (boxWidth - width) / 2;
  const bottom = (boxHeight + height) / 2;
  return xs.map((x, k) => ({ x: left + (x - minX) * scale, y: bottom - (ys[k] - minY) * scale }));
}

/** Each link's segment: shifted to the right of its direction, shortened to leave its nodes visible. */
export function linkPaths(scene: NetworkScene, nodes: readonly NodePlace[]): LinkPath[] {
  return scene.linkFrom.map((from, link) => {
    const a = nodes[from];
    const b = nodes[scene.linkTo[link]];
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const ux = (b.x - a.x) / length;
    const uy = (b.y - a.y) / length;
    // Right of the direction of travel on screen (y down): (-uy, ux).
    const ox = -uy * LINK_OFFSET;
    const oy = ux * LINK_OFFSET;
    const clearance = Math.min(NODE_CLEARANCE, length / 3);
    return { link, x1: a.x + ox + ux * clearance, y1: a.y + oy + uy * clearance, x2: b.x + ox - ux * clearance, y2: b.y + oy - uy * clearance };
  });
}

/** Stroke width of a link carrying `flow` vehicles per hour when the frame's largest flow is `largestFlow`. */
export function linkWidth(flow: number, largestFlow: number): number {
  return largestFlow > 0 ? MIN_WIDTH + (FLOW_WIDTH * Math.max(0, flow)) / largestFlow : MIN_WIDTH;
}

/** Volume/capacity stops of the colour scale: free (green), busy (amber), at capacity (red), twice over and beyond (purple). */
export const VC_STOPS: readonly (readonly [number, readonly [number, number, number]])[] = [
  [0, [63, 207, 142]],
  [0.5, [245, 165, 36]],
  [1, [255, 92, 92]],
  [2, [176, 92, 255]],
];

const EMPTY_LINK: readonly [number, number, number] = [70, 82, 96];

/** The colour of a volume/capacity ratio as [r, g, b] (grey for a link that carries nothing). */
export function vcRgb(ratio: number): readonly [number, number, number] {
  if (!(ratio > 0)) return EMPTY_LINK;
  const stops = VC_STOPS;
  let k = 1;
  while (k < stops.length - 1 && ratio > stops[k][0]) k++;
  const [x0, c0] = stops[k - 1];
  const [x1, c1] = stops[k];
  const t = Math.min(1, Math.max(0, (ratio - x0) / (x1 - x0)));
  const mix = (i: number) => Math.round(c0[i] + (c1[i] - c0[i]) * t);
  return [mix(0), mix(1), mix(2)];
}

export function vcColour(ratio: number): string {
  const [r, g, b] = vcRgb(ratio);
  return `rgb(${r}, ${g}, ${b})`;
}

/** The CSS gradient of the volume/capacity scale, 0 at the left and the last stop at the right. */
export function vcGradientCss(): string {
  const top = VC_STOPS[VC_STOPS.length - 1][0];
  return `linear-gradient(to right, ${VC_STOPS.map(([at, [r, g, b]]) => `rgb(${r}, ${g}, ${b}) ${(at / top) * 100}%`).join(', ')})`;
}

/** Node names as the TNTP files and the CLI's CSV number them (from 1). */
export const nodeName = (node: number): string => String(node + 1);

/** The arrowhead at a link's end, as SVG polygon points, sized to the link's width. */
export function arrowHead(path: LinkPath, width: number): string {
  const length = Math.hypot(path.x2 - path.x1, path.y2 - path.y1) || 1;
  const ux = (path.x2 - path.x1) / length;
  const uy = (path.y2 - path.y1) / length;
  const long = 7 + 0.9 * width;
  const half = 3.5 + 0.6 * width;
  const baseX = path.x2 - ux * long;
  const baseY = path.y2 - uy * long;
  const f = (x: number, y: number) => `${x.toFixed(1)},${y.toFixed(1)}`;
  return [f(path.x2, path.y2), f(baseX - uy * half, baseY + ux * half), f(baseX + uy * half, baseY - ux * half)].join(' ');
}

/** Where a link's arrow line stops, so that its wide stroke does not poke out past the arrowhead. */
export function shaftEnd(path: LinkPath, width: number): { x: number; y: number } {
  const length = Math.hypot(path.x2 - path.x1, path.y2 - path.y1) || 1;
  const back = Math.min(length, 7 + 0.9 * width) * 0.8;
  return { x: path.x2 - ((path.x2 - path.x1) / length) * back, y: path.y2 - ((path.y2 - path.y1) / length) * back };
}
