/**
 * Canvas 2D drawing of the replay's diagrams: the time-space diagram (a polyline per
 * vehicle coloured by speed, broken where a loop position wraps), per-vehicle series over
 * the episode, and heat maps of a value per platoon member over time. Each is drawn once
 * into a static layer; the replay cursor is drawn over a copy of it (CursorCanvas).
 */
import { speedColor } from '../scene/colors.ts';

/** Where a plot is drawn on its canvas (CSS pixels) and the data range it shows. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
  /** x: seconds; y: the value axis, y0 at the bottom. */
  t0: number;
  t1: number;
  y0: number;
  y1: number;
}

export const PLOT_PADDING = { left: 50, right: 20, top: 10, bottom: 24 } as const;

export function plotArea(width: number, height: number, t1: number, y0: number, y1: number): PlotArea {
  const p = PLOT_PADDING;
  return { left: p.left, top: p.top, width: Math.max(1, width - p.left - p.right), height: Math.max(1, height - p.top - p.bottom), t0: 0, t1, y0, y1 };
}

export const xOf = (area: PlotArea, t: number): number => area.left + ((t - area.t0) / (area.t1 - area.t0 || 1)) * area.width;
export const yOf = (area: PlotArea, value: number): number => area.top + (1 - (value - area.y0) / (area.y1 - area.y0 || 1)) * area.height;
/** The time under a canvas x coordinate, clamped to the plot. */
export const timeAt = (area: PlotArea, x: number): number => area.t0 + Math.min(1, Math.max(0, (x - area.left) / area.width)) * (area.t1 - area.t0);

/** Position along a loop of `roadLength` m in [0, roadLength); unchanged on an open road (null). */
export function wrapPosition(position: number, roadLength: number | null): number {
  if (roadLength === null) return position;
  const wrapped = position % roadLength;
  return wrapped < 0 ? wrapped + roadLength : wrapped;
}

/**
 * The unbroken pieces of one vehicle's time-space line, as inclusive frame ranges: on a loop
 * the line breaks where the position jumps by more than half the loop between frames (the
 * vehicle crossed the origin), so no line is drawn across the plot.
 */
export function polylineRuns(position: Float32Array, frames: number, nVehicles: number, vehicle: number, roadLength: number | null): [number, number][] {
  const runs: [number, number][] = [];
  if (frames === 0) return runs;
  let start = 0;
  let previous = wrapPosition(position[vehicle], roadLength);
  for (let k = 1; k < frames; k++) {
    const current = wrapPosition(position[k * nVehicles + vehicle], roadLength);
    if (roadLength !== null && Math.abs(current - previous) > roadLength / 2) {
      runs.push([start, k - 1]);
      start = k;
    }
    previous = current;
  }
  runs.push([start, frames - 1]);
  return runs;
}

/** Round tick values covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const AXIS = { grid: '#1e2630', frame: '#334050', label: '#8b98a8', font: '10.5px system-ui, sans-serif' } as const;

/** Grid lines, tick labels and axis titles of a plot. */
export function drawAxes(
  g: CanvasRenderingContext2D,
  area: PlotArea,
  yTitle: string,
  formatY: (v: number) => string = (v) => String(v),
  yTicks: readonly number[] = niceTicks(area.y0, area.y1, Math.max(2, Math.floor(area.height / 34))),
): void {
  g.save();
  g.font = AXIS.font;
  g.lineWidth = 1;
  g.strokeStyle = AXIS.grid;
  g.fillStyle = AXIS.label;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const v of yTicks) {
    const y = Math.round(yOf(area, v)) + 0.5;
    g.beginPath();
    g.moveTo(area.left, y);
    g.lineTo(area.left + area.width, y);
    g.stroke();
    g.fillText(formatY(v), area.left - 6, y);
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of niceTicks(area.t0, area.t1, Math.max(2, Math.floor(area.width / 80)))) {
    const x = Math.round(xOf(area, t)) + 0.5;
    g.beginPath();
    g.moveTo(x, area.top);
    g.lineTo(x, area.top + area.height);
    g.stroke();
    g.fillText(`${t} s`, x, area.top + area.height + 5);
  }
  g.strokeStyle = AXIS.frame;
  g.strokeRect(area.left + 0.5, area.top + 0.5, area.width - 1, area.height - 1);
  g.translate(11, area.top + area.height / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(yTitle, 0, 0);
  g.restore();
}

/** Number of speed colours the time-space diagram quantizes to: one path per colour. */
export const SPEED_BINS = 32;

/** CSS colours of the speed bins for a colour scale of 0..max m/s. */
export function speedBinColors(max: number): string[] {
  const rgb = [0, 0, 0];
  return Array.from({ length: SPEED_BINS }, (_, bin) => {
    speedColor(((bin + 0.5) / SPEED_BINS) * max, max, rgb);
    return `rgb(${Math.round(rgb[0] * 255)}, ${Math.round(rgb[1] * 255)}, ${Math.round(rgb[2] * 255)})`;
  });
}

export interface TimeSpaceSeries {
  frames: number;
  nVehicles: number;
  /** Seconds between frames. */
  frameTime: number;
  position: Float32Array;
  speed: Float32Array;
}

/** The vertical range of a time-space diagram: the loop, or the span of an open road's positions. */
export function positionRange(series: TimeSpaceSeries, roadLength: number | null): [number, number] {
  if (roadLength !== null) return [0, roadLength];
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of series.position) {
    if (!Number.isFinite(p)) continue;
    if (p < lo) lo = p;
    if (p > hi) hi = p;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  const margin = Math.max(1, (hi - lo) * 0.02);
  return [lo - margin, hi + margin];
}

/**
 * The time-space diagram: each vehicle's position over time, every segment coloured by the
 * vehicle's speed (quantized to SPEED_BINS colours so the whole diagram is SPEED_BINS
 * strokes), lines broken at the wrap of a loop; `emphasis` is drawn again on top in white.
 */
export function drawTimeSpace(
  g: CanvasRenderingContext2D,
  area: PlotArea,
  series: TimeSpaceSeries,
  roadLength: number | null,
  speedMax: number,
  emphasis: number | null,
): void {
  const { frames, nVehicles, frameTime, position, speed } = series;
  const colors = speedBinColors(speedMax);
  const paths = colors.map(() => new Path2D());
  const highlight = new Path2D();
  for (let v = 0; v < nVehicles; v++) {
    for (const [first, last] of polylineRuns(position, frames, nVehicles, v, roadLength)) {
      let x0 = xOf(area, first * frameTime);
      let y0 = yOf(area, wrapPosition(position[first * nVehicles + v], roadLength));
      if (v === emphasis) highlight.moveTo(x0, y0);
      for (let k = first + 1; k <= last; k++) {
        const x1 = xOf(area, k * frameTime);
        const y1 = yOf(area, wrapPosition(position[k * nVehicles + v], roadLength));
        const s = speed[k * nVehicles + v];
        const bin = Math.min(SPEED_BINS - 1, Math.max(0, Math.floor(((Number.isFinite(s) ? s : 0) / speedMax) * SPEED_BINS)));
        paths[bin].moveTo(x0, y0);
        paths[bin].lineTo(x1, y1);
        if (v === emphasis) highlight.lineTo(x1, y1);
        x0 = x1;
        y0 = y1;
      }
    }
  }
  g.save();
  g.beginPath();
  g.rect(area.left, area.top, area.width, area.height);
  g.clip();
  g.lineWidth = 1.4;
  g.lineCap = 'round';
  paths.forEach((path, bin) => {
    g.strokeStyle = colors[bin];
    g.stroke(path);
  });
  if (emphasis !== null) {
    g.lineWidth = 2.6;
    g.strokeStyle = 'rgba(14, 18, 23, 0.9)';
    g.stroke(highlight);
    g.lineWidth = 1.6;
    g.strokeStyle = '#ffffff';
    g.stroke(highlight);
  }
  g.restore();
}

/** Range of one vehicle's (or every vehicle's) values, finite ones only. */
export function valueRange(values: Float32Array, nVehicles: number, vehicle: number | null): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = vehicle ?? 0; k < values.length; k += vehicle === null ? 1 : nVehicles) {
    const value = values[k];
    if (!Number.isFinite(value)) continue;
    if (value < lo) lo = value;
    if (value > hi) hi = value;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi - lo < 1e-6) return [lo - 1, hi + 1];
  const margin = (hi - lo) * 0.06;
  return [lo - margin, hi + margin];
}

/** One vehicle's series over the episode ([frame][vehicle] values) as a polyline. */
export function drawVehicleSeries(
  g: CanvasRenderingContext2D,
  area: PlotArea,
  values: Float32Array,
  frames: number,
  nVehicles: number,
  vehicle: number,
  frameTime: number,
  style: { color: string; width: number },
): void {
  g.save();
  g.beginPath();
  g.rect(area.left, area.top, area.width, area.height);
  g.clip();
  g.strokeStyle = style.color;
  g.lineWidth = style.width;
  g.beginPath();
  let started = false;
  for (let k = 0; k < frames; k++) {
    const value = values[k * nVehicles + vehicle];
    if (!Number.isFinite(value)) {
      started = false;
      continue;
    }
    const x = xOf(area, k * frameTime);
    const y = yOf(area, value);
    if (started) g.lineTo(x, y);
    else g.moveTo(x, y);
    started = true;
  }
  g.stroke();
  g.restore();
}

const NEGATIVE = [62, 140, 240] as const;
const ZERO = [22, 28, 36] as const;
const POSITIVE = [229, 72, 77] as const;

/** Diverging colour of `value` on the scale -limit..limit (blue below, red above, the panel colour at 0), into out[at..at+3]. */
export function divergingColor(value: number, limit: number, out: Uint8ClampedArray, at: number): void {
  const x = Number.isFinite(value) && limit > 0 ? Math.max(-1, Math.min(1, value / limit)) : 0;
  const end = x < 0 ? NEGATIVE : POSITIVE;
  const f = Math.sqrt(Math.abs(x));
  out[at] = ZERO[0] + (end[0] - ZERO[0]) * f;
  out[at + 1] = ZERO[1] + (end[1] - ZERO[1]) * f;
  out[at + 2] = ZERO[2] + (end[2] - ZERO[2]) * f;
  out[at + 3] = 255;
}

/** Writes the RGBA colour of a value into out[at..at+3]. */
export type CellColour = (value: number, out: Uint8ClampedArray, at: number) => void;

/**
 * A heat map of rows[r][frame] (the first row at the top: a platoon's front, a network's
 * first link) as an image of frames x rows pixels scaled onto the plot, each cell coloured by `colour`.
 */
export function drawHeatmap(g: CanvasRenderingContext2D, area: PlotArea, rows: readonly Float32Array[], frames: number, colour: CellColour): void {
  if (rows.length === 0 || frames === 0) return;
  const image = new ImageData(frames, rows.length);
  rows.forEach((row, r) => {
    for (let k = 0; k < frames; k++) colour(row[k], image.data, 4 * (r * frames + k));
  });
  const layer = document.createElement('canvas');
  layer.width = frames;
  layer.height = rows.length;
  layer.getContext('2d')!.putImageData(image, 0, 0);
  g.save();
  g.imageSmoothingEnabled = false;
  g.drawImage(layer, area.left, area.top, area.width, area.height);
  g.restore();
}

/** Largest absolute finite value (the symmetric limit of a diverging scale); 1 when there is none. */
export function absoluteLimit(rows: readonly Float32Array[]): number {
  let limit = 0;
  for (const row of rows) for (const value of row) if (Number.isFinite(value) && Math.abs(value) > limit) limit = Math.abs(value);
  return limit > 0 ? limit : 1;
}

/**
 * A canvas whose content is a static layer (redrawn only when its data or size change) with
 * a replay cursor drawn over it: moving the cursor costs one image copy and one line.
 */
export class CursorCanvas {
  private readonly layer = document.createElement('canvas');
  width = 1;
  height = 1;
  private ratio = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Resizes to the element's CSS size; true when the size changed (the static layer must be redrawn). */
  fit(): boolean {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, this.canvas.clientWidth);
    const height = Math.max(1, this.canvas.clientHeight);
    if (width === this.width && height === this.height && ratio === this.ratio) return false;
    this.width = width;
    this.height = height;
    this.ratio = ratio;
    for (const element of [this.canvas, this.layer]) {
      element.width = Math.round(width * ratio);
      element.height = Math.round(height * ratio);
    }
    return true;
  }

  /** Redraws the static layer with `draw` (CSS pixel coordinates). */
  drawStatic(draw: (g: CanvasRenderingContext2D) => void): void {
    const g = this.layer.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.layer.width, this.layer.height);
    g.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    draw(g);
  }

  /** The static layer with a vertical cursor line at x (CSS pixels) from top to bottom. */
  drawCursor(x: number | null, top: number, bottom: number): void {
    const g = this.canvas.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    g.drawImage(this.layer, 0, 0);
    if (x === null) return;
    g.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    const at = Math.round(x) + 0.5;
    g.strokeStyle = 'rgba(14, 18, 23, 0.85)';
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(at, top);
    g.lineTo(at, bottom);
    g.stroke();
    g.strokeStyle = '#ffffff';
    g.lineWidth = 1;
    g.stroke();
  }
}
