/**
 * Drawing a Compare chart as SVG text: axes with nice ticks, grid, spread bands and lines
 * (one path string each, built once per render), and, for exported figures, titles and a
 * legend. The same text is shown in the app and saved as the SVG (and PNG) export, so what
 * users see is what they get. Styling is in presentation attributes only (no CSS), so the
 * file stands alone and passes the app's content security policy.
 */
import { nearestIndex, X_AXES } from './curves.ts';
import type { ChartModel, PlotLine } from './model.ts';

export const CHART_THEME = {
  background: '#0e1217',
  plot: '#0f141a',
  grid: '#1f2731',
  axis: '#334050',
  tick: '#8b98a8',
  title: '#d9e1ea',
  font: "Inter, 'Segoe UI', system-ui, -apple-system, 'Helvetica Neue', 'DejaVu Sans', Arial, sans-serif",
  bandOpacity: 0.18,
} as const;

/** Width of a character of 11 px tick text, for laying out labels without measuring them. */
const CHAR_WIDTH = 6.4;

export interface Scale {
  d0: number;
  d1: number;
  r0: number;
  r1: number;
}

export const toPixel = (scale: Scale, value: number): number => scale.r0 + ((value - scale.d0) * (scale.r1 - scale.r0)) / (scale.d1 - scale.d0);
export const fromPixel = (scale: Scale, pixel: number): number => scale.d0 + ((pixel - scale.r0) * (scale.d1 - scale.d0)) / (scale.r1 - scale.r0);

export interface Tick {
  value: number;
  label: string;
}

export interface ChartLayout {
  width: number;
  height: number;
  plot: { left: number; top: number; width: number; height: number };
  x: Scale;
  y: Scale;
  xTicks: Tick[];
  yTicks: Tick[];
  xTitle: string;
  yTitle: string;
}

/** A round step (1, 2 or 5 times a power of ten) giving about `count` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** Multiples of `step` within [lo, hi] (with a little tolerance for rounding). */
export function ticksOf(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/**
 * Tick labels with one scale for the whole axis: k, M or G once the largest tick reaches
 * 10,000, a million or a billion (env steps, big returns); as many decimals as the step
 * needs; exponents for tiny values (KL, losses near 0).
 */
export function formatTicks(ticks: readonly number[], step: number): string[] {
  const largest = Math.max(0, ...ticks.map(Math.abs));
  if (largest > 0 && largest < 1e-3) return ticks.map((t) => (t === 0 ? '0' : t.toExponential(1)));
  const [unit, suffix] = largest >= 1e9 ? [1e9, 'G'] : largest >= 1e6 ? [1e6, 'M'] : largest >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9));
  return ticks.map((t) => (t === 0 ? '0' : `${(t / unit).toFixed(decimals)}${suffix}`).replace('-', '−'));
}

/** A value for readouts: 4 significant digits, exponents for very small or large magnitudes. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const text = abs !== 0 && (abs < 1e-3 || abs >= 1e7) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
  return text.replace('-', '−');
}

function extent(values: Iterable<number>, into: [number, number]): void {
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < into[0]) into[0] = v;
    if (v > into[1]) into[1] = v;
  }
}

/** The x range of the points that have values, and the y range of every line and band. */
function dataDomains(chart: ChartModel): { x: [number, number]; y: [number, number] } {
  const x: [number, number] = [Infinity, -Infinity];
  const y: [number, number] = [Infinity, -Infinity];
  for (const line of chart.lines) {
    for (let k = 0; k < line.x.length; k++) {
      if (!Number.isFinite(line.y[k])) continue;
      extent([line.x[k]], x);
      extent([line.y[k]], y);
    }
  }
  for (const band of chart.bands) {
    extent(band.lo, y);
    extent(band.hi, y);
  }
  return { x, y };
}

/** Scales and ticks of a chart drawn at width × height. */
export function layoutChart(chart: ChartModel, width: number, height: number): ChartLayout {
  const domains = dataDomains(chart);
  let [x0, x1] = domains.x;
  let [y0, y1] = domains.y;
  if (x0 > x1) [x0, x1] = [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 > y1) [y0, y1] = [0, 1];
  if (y0 === y1) {
    const pad = Math.abs(y0) * 0.1 || 1;
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const plotHeight = Math.max(40, height - 14 - 46);
  // The y domain widens to whole steps, so the top and bottom gridlines frame the data.
  const yStep = niceStep(y0, y1, Math.max(2, Math.round(plotHeight / 48)));
  y0 = Math.floor(y0 / yStep - 1e-9) * yStep;
  y1 = Math.ceil(y1 / yStep + 1e-9) * yStep;
  const yValues = ticksOf(y0, y1, yStep);
  const yLabels = formatTicks(yValues, yStep);
  const left = 26 + Math.max(...yLabels.map((label) => label.length)) * CHAR_WIDTH + 8;
  const plot = { left, top: 14, width: Math.max(40, width - left - 18), height: plotHeight };
  const xStep = niceStep(x0, x1, Math.max(2, Math.round(plot.width / 110)));
  const xValues = ticksOf(x0, x1, xStep);
  const xLabels = formatTicks(xValues, xStep);
  return {
    width,
    height,
    plot,
    x: { d0: x0, d1: x1, r0: plot.left, r1: plot.left + plot.width },
    y: { d0: y0, d1: y1, r0: plot.top + plot.height, r1: plot.top },
    xTicks: xValues.map((value, k) => ({ value, label: xLabels[k] })),
    yTicks: yValues.map((value, k) => ({ value, label: yLabels[k] })),
    xTitle: X_AXES.find((axis) => axis.id === chart.xAxis)!.title,
    yTitle: chart.metric,
  };
}

const round = (v: number): number => Math.round(v * 10) / 10;

/** SVG path of a line; a NaN ends a segment (a gap), a lone point is drawn as a dot (round caps). */
export function linePath(x: Float64Array, y: Float64Array, layout: ChartLayout): string {
  const parts: string[] = [];
  let open = false;
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(y[k])) {
      open = false;
      continue;
    }
    const px = round(toPixel(layout.x, x[k]));
    const py = round(toPixel(layout.y, y[k]));
    const lone = !open && !(k + 1 < x.length && Number.isFinite(y[k + 1]));
    parts.push(open ? `L${px} ${py}` : lone ? `M${px} ${py}h0.01` : `M${px} ${py}`);
    open = true;
  }
  return parts.join('');
}

/** SVG path of a band: each run of finite points closed along its upper then lower edge. */
export function bandPath(x: Float64Array, lo: Float64Array, hi: Float64Array, layout: ChartLayout): string {
  const parts: string[] = [];
  let k = 0;
  while (k < x.length) {
    if (!Number.isFinite(lo[k]) || !Number.isFinite(hi[k])) {
      k++;
      continue;
    }
    let end = k;
    while (end + 1 < x.length && Number.isFinite(lo[end + 1]) && Number.isFinite(hi[end + 1])) end++;
    const upper: string[] = [];
    const lower: string[] = [];
    for (let i = k; i <= end; i++) upper.push(`${round(toPixel(layout.x, x[i]))} ${round(toPixel(layout.y, hi[i]))}`);
    for (let i = end; i >= k; i--) lower.push(`${round(toPixel(layout.x, x[i]))} ${round(toPixel(layout.y, lo[i]))}`);
    parts.push(`M${upper.join('L')}L${lower.join('L')}Z`);
    k = end + 1;
  }
  return parts.join('');
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const attr = (value: string | number): string => `"${typeof value === 'number' ? round(value) : escapeXml(value)}"`;

/** Grid, axes, bands and lines of one chart, in the layout's coordinates. `id` must be unique in the document (clip path). */
export function chartBody(chart: ChartModel, layout: ChartLayout, id: string): string {
  const { plot } = layout;
  const out: string[] = [];
  out.push(`<rect x=${attr(plot.left)} y=${attr(plot.top)} width=${attr(plot.width)} height=${attr(plot.height)} fill=${attr(CHART_THEME.plot)}/>`);
  out.push(`<g stroke=${attr(CHART_THEME.grid)} stroke-width="1">`);
  for (const tick of layout.yTicks) {
    const y = Math.round(toPixel(layout.y, tick.value)) + 0.5;
    out.push(`<line x1=${attr(plot.left)} x2=${attr(plot.left + plot.width)} y1="${y}" y2="${y}"/>`);
  }
  for (const tick of layout.xTicks) {
    const x = Math.round(toPixel(layout.x, tick.value)) + 0.5;
    out.push(`<line x1="${x}" x2="${x}" y1=${attr(plot.top)} y2=${attr(plot.top + plot.height)}/>`);
  }
  out.push('</g>');
  const bottom = plot.top + plot.height;
  out.push(`<g fill=${attr(CHART_THEME.tick)} font-size="11">`);
  for (const tick of layout.yTicks) {
    out.push(`<text x=${attr(plot.left - 8)} y=${attr(toPixel(layout.y, tick.value) + 4)} text-anchor="end">${escapeXml(tick.label)}</text>`);
  }
  for (const tick of layout.xTicks) {
    out.push(`<text x=${attr(toPixel(layout.x, tick.value))} y=${attr(bottom + 17)} text-anchor="middle">${escapeXml(tick.label)}</text>`);
  }
  out.push(`<text x=${attr(plot.left + plot.width / 2)} y=${attr(bottom + 38)} text-anchor="middle" font-size="12">${escapeXml(layout.xTitle)}</text>`);
  const yTitleX = 14;
  const yTitleY = plot.top + plot.height / 2;
  out.push(`<text x="${yTitleX}" y=${attr(yTitleY)} text-anchor="middle" font-size="12" transform="rotate(-90 ${yTitleX} ${round(yTitleY)})">${escapeXml(layout.yTitle)}</text>`);
  out.push('</g>');
  out.push(`<path d="M${plot.left + 0.5} ${plot.top}V${bottom + 0.5}H${plot.left + plot.width}" fill="none" stroke=${attr(CHART_THEME.axis)}/>`);
  out.push(`<clipPath id=${attr(id)}><rect x=${attr(plot.left)} y=${attr(plot.top - 2)} width=${attr(plot.width + 2)} height=${attr(plot.height + 4)}/></clipPath>`);
  out.push(`<g clip-path="url(#${escapeXml(id)})">`);
  for (const band of chart.bands) {
    out.push(`<path d="${bandPath(band.x, band.lo, band.hi, layout)}" fill=${attr(band.color)} fill-opacity="${CHART_THEME.bandOpacity}" stroke="none"/>`);
  }
  for (const line of chart.lines) {
    const d = linePath(line.x, line.y, layout);
    if (d === '') continue;
    const opacity = line.opacity < 1 ? ` stroke-opacity="${line.opacity}"` : '';
    out.push(`<path d="${d}" fill="none" stroke=${attr(line.color)} stroke-width="${line.width}"${opacity} stroke-linejoin="round" stroke-linecap="round"/>`);
  }
  out.push('</g>');
  return out.join('');
}

function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family=${attr(CHART_THEME.font)}>${body}</svg>`
  );
}

/** One chart as an SVG document (the app's on-screen chart). */
export function renderChartSvg(chart: ChartModel, layout: ChartLayout, id: string): string {
  return svgDocument(layout.width, layout.height, chartBody(chart, layout, id));
}

const LEGEND_ROW = 20;
const LEGEND_LABEL_CHARS = 48;

function clip(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

/** Legend entries in columns of equal width under a chart; returns the SVG and its height. */
function legendBlock(chart: ChartModel, left: number, top: number, width: number): { svg: string; height: number } {
  if (chart.legend.length === 0) return { svg: '', height: 0 };
  const texts = chart.legend.map((entry) => `${clip(entry.label, LEGEND_LABEL_CHARS)}  ${entry.detail}`);
  const columnWidth = Math.min(width, 30 + Math.max(...texts.map((text) => text.length)) * CHAR_WIDTH + 20);
  const columns = Math.max(1, Math.floor(width / columnWidth));
  const out: string[] = [`<g font-size="11">`];
  chart.legend.forEach((entry, k) => {
    const x = left + (k % columns) * columnWidth;
    const y = top + Math.floor(k / columns) * LEGEND_ROW;
    out.push(`<line x1=${attr(x)} x2=${attr(x + 20)} y1=${attr(y + 7)} y2=${attr(y + 7)} stroke=${attr(entry.color)} stroke-width="3" stroke-linecap="round"/>`);
    out.push(
      `<text x=${attr(x + 28)} y=${attr(y + 11)} fill=${attr(CHART_THEME.title)}>${escapeXml(clip(entry.label, LEGEND_LABEL_CHARS))}` +
        `<tspan fill=${attr(CHART_THEME.tick)} dx="8">${escapeXml(entry.detail)}</tspan></text>`,
    );
  });
  out.push('</g>');
  return { svg: out.join(''), height: Math.ceil(chart.legend.length / columns) * LEGEND_ROW };
}

export interface FigureOptions {
  width: number;
  /** Height of each chart's plot with its axes (titles and legends come on top). */
  chartHeight: number;
  /** Shown under each chart title: the grouping, smoothing and band. */
  subtitle: string;
}

/** The exported figure: each chart with its title, subtitle and legend, stacked. */
export function renderFigureSvg(charts: readonly ChartModel[], options: FigureOptions): { svg: string; width: number; height: number } {
  const out: string[] = [];
  let top = 0;
  charts.forEach((chart, k) => {
    const titleTop = top + 26;
    out.push(`<text x="20" y="${titleTop}" fill=${attr(CHART_THEME.title)} font-size="15" font-weight="600">${escapeXml(chart.metric)}</text>`);
    out.push(`<text x="20" y="${titleTop + 18}" fill=${attr(CHART_THEME.tick)} font-size="11.5">${escapeXml(options.subtitle)}</text>`);
    const layout = layoutChart(chart, options.width, options.chartHeight);
    out.push(`<g transform="translate(0 ${titleTop + 26})">${chartBody(chart, layout, `figure-plot-${k}`)}</g>`);
    const legend = legendBlock(chart, layout.plot.left, titleTop + 26 + options.chartHeight + 4, options.width - layout.plot.left - 18);
    out.push(legend.svg);
    top = titleTop + 26 + options.chartHeight + 4 + legend.height + 16;
  });
  const height = Math.ceil(top);
  const svg = svgDocument(options.width, height, `<rect width="100%" height="100%" fill=${attr(CHART_THEME.background)}/>${out.join('')}`);
  return { svg, width: options.width, height };
}

export interface ReadoutRow {
  key: string;
  label: string;
  color: string;
  /** The point nearest to the cursor's x: its x, value and spread, and where it is drawn. */
  x: number;
  value: number;
  lo: number | null;
  hi: number | null;
  px: number;
  py: number;
}

/** What the hover readout lists at pixel column `px`: each main line's point nearest in x. */
export function readoutAt(chart: ChartModel, layout: ChartLayout, px: number): ReadoutRow[] {
  const at = fromPixel(layout.x, px);
  const rows: ReadoutRow[] = [];
  for (const line of chart.lines) {
    if (!line.readout) continue;
    const k = nearestIndex(line.x, at);
    if (k < 0) continue;
    rows.push(readoutRow(line, k, layout));
  }
  return rows;
}

function readoutRow(line: PlotLine, k: number, layout: ChartLayout): ReadoutRow {
  const value = line.y[k];
  const band = line.band;
  return {
    key: line.key,
    label: line.label,
    color: line.color,
    x: line.x[k],
    value,
    lo: band && Number.isFinite(band.lo[k]) ? band.lo[k] : null,
    hi: band && Number.isFinite(band.hi[k]) ? band.hi[k] : null,
    px: toPixel(layout.x, line.x[k]),
    py: Number.isFinite(value) ? toPixel(layout.y, value) : Number.NaN,
  };
}
