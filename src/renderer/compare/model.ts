/**
 * What the Compare charts draw, from the selected runs, their curves and the options: one
 * chart per metric; per run a line (ungrouped), or per group a mean line over a spread band
 * (grouped); colours and legend entries. Smoothing applies to each run before grouping, so
 * a group's mean and band are those of its smoothed runs.
 */
import { TRAIN_METRICS } from '../../shared/api.ts';
import type { RunDetail } from '../../shared/runs.ts';
import { aggregateGroup, emaSmooth, xOf, type BandKind, type RunCurve, type XAxis } from './curves.ts';
import { groupRuns, type RunGroup } from './grouping.ts';

export interface CompareOptions {
  metrics: readonly string[];
  /** A GroupField key, or null for one line per run. */
  groupBy: string | null;
  xAxis: XAxis;
  /** EMA weight 0 ... MAX_SMOOTHING. */
  smoothing: number;
  band: BandKind;
  /** Grouped: draw each run thin under its group's mean. */
  showRuns: boolean;
}

export interface PlotLine {
  key: string;
  label: string;
  color: string;
  x: Float64Array;
  y: Float64Array;
  width: number;
  opacity: number;
  /** Listed in the hover readout (the main lines; not faint raw or member lines). */
  readout: boolean;
  /** A group's spread around this mean line. */
  band?: PlotBand;
}

export interface PlotBand {
  key: string;
  color: string;
  x: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
}

export interface LegendEntry {
  key: string;
  label: string;
  /** "#12" for a run, "3 runs" for a group. */
  detail: string;
  color: string;
}

export interface ChartModel {
  metric: string;
  xAxis: XAxis;
  /** Drawn first to last: bands under lines. */
  bands: PlotBand[];
  lines: PlotLine[];
  legend: LegendEntry[];
  /** Selected runs that have no point of this metric. */
  missingRuns: number;
}

export interface CompareModel {
  charts: ChartModel[];
  /** Null when ungrouped. */
  groups: RunGroup[] | null;
  /** Group label of each run (grouped only). */
  groupOfRun: Map<number, string>;
  /** Smoothed values by curveKey(runId, metric). */
  smoothed: Map<string, Float64Array>;
}

export const curveKey = (runId: number, metric: string): string => `${runId}\n${metric}`;

/** Ten well separated hues readable on the dark theme; beyond them, hues by the golden angle. */
const PALETTE = ['#4f9dff', '#ff7a45', '#3fcf8e', '#ff4fd8', '#fbbf24', '#a78bfa', '#5eead4', '#ff5c5c', '#c3e35b', '#f0a3c8'];

export function seriesColor(index: number): string {
  if (index < PALETTE.length) return PALETTE[index];
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue}, 70%, 64%)`;
}

export function buildCompareModel(runs: readonly RunDetail[], curves: ReadonlyMap<string, RunCurve>, options: CompareOptions): CompareModel {
  const smoothed = new Map<string, Float64Array>();
  for (const run of runs) {
    for (const metric of options.metrics) {
      const curve = curves.get(curveKey(run.id, metric));
      if (curve) smoothed.set(curveKey(run.id, metric), emaSmooth(curve.value, options.smoothing));
    }
  }
  const groups = options.groupBy === null ? null : groupRuns(runs, options.groupBy);
  const groupOfRun = new Map<number, string>();
  for (const group of groups ?? []) for (const id of group.runIds) groupOfRun.set(id, group.label);
  const byId = new Map(runs.map((run) => [run.id, run]));
  const charts = options.metrics.map((metric): ChartModel => {
    const chart: ChartModel = { metric, xAxis: options.xAxis, bands: [], lines: [], legend: [], missingRuns: 0 };
    const runCurve = (runId: number) => {
      const curve = curves.get(curveKey(runId, metric));
      return curve && curve.value.length > 0 ? { curve, y: smoothed.get(curveKey(runId, metric))! } : null;
    };
    chart.missingRuns = runs.filter((run) => runCurve(run.id) === null).length;
    if (groups === null) {
      runs.forEach((run, index) => {
        const color = seriesColor(index);
        chart.legend.push({ key: `run-${run.id}`, label: run.name, detail: `#${run.id}`, color });
        const found = runCurve(run.id);
        if (!found) return;
        const x = xOf(found.curve, options.xAxis);
        // As in TensorBoard, the raw curve stays visible, faint, under the smoothed one.
        if (options.smoothing > 0) chart.lines.push({ key: `raw-${run.id}`, label: run.name, color, x, y: found.curve.value, width: 1, opacity: 0.25, readout: false });
        chart.lines.push({ key: `run-${run.id}`, label: run.name, color, x, y: found.y, width: 1.6, opacity: 1, readout: true });
      });
      return chart;
    }
    // Every member line under every mean line.
    const members: PlotLine[] = [];
    const means: PlotLine[] = [];
    groups.forEach((group, index) => {
      const color = seriesColor(index);
      chart.legend.push({ key: `group-${index}`, label: group.label, detail: group.runIds.length === 1 ? '1 run' : `${group.runIds.length} runs`, color });
      const withData = group.runIds.flatMap((id) => {
        const found = runCurve(id);
        return found ? [{ run: byId.get(id)!, x: xOf(found.curve, options.xAxis), y: found.y }] : [];
      });
      if (withData.length === 0) return;
      const aggregate = aggregateGroup(withData, options.band);
      const band = withData.length > 1 ? { key: `band-${index}`, color, x: aggregate.x, lo: aggregate.lo, hi: aggregate.hi } : undefined;
      if (band) chart.bands.push(band);
      if (options.showRuns) {
        for (const member of withData) {
          members.push({ key: `member-${member.run.id}`, label: member.run.name, color, x: member.x, y: member.y, width: 1, opacity: 0.35, readout: false });
        }
      }
      means.push({ key: `group-${index}`, label: group.label, color, x: aggregate.x, y: aggregate.mean, width: 2, opacity: 1, readout: true, band });
    });
    chart.lines = [...members, ...means];
    return chart;
  });
  return { charts, groups, groupOfRun, smoothed };
}

const PER_AGENT = /\/agent\d+$/;
export const isPerAgentMetric = (name: string): boolean => PER_AGENT.test(name);

/** The series of the runs, training's own metrics first (in the Train tab's order), then the rest by name; per-agent series last. */
export function orderMetrics(names: Iterable<string>): string[] {
  const known: readonly string[] = Object.values(TRAIN_METRICS);
  const rank = (name: string) => (known.includes(name) ? known.indexOf(name) : isPerAgentMetric(name) ? known.length + 1 : known.length);
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
}

/** The metric a comparison opens on: the evaluation return, else the training return, else the first series. */
export function defaultMetric(names: readonly string[]): string | null {
  for (const preferred of [TRAIN_METRICS.evalReturn, TRAIN_METRICS.return]) if (names.includes(preferred)) return preferred;
  return orderMetrics(names)[0] ?? null;
}

/** What the last drawing of the charts took, for tests and the benchmark (performance.now() times, ms). */
export interface CompareStats {
  /** When the charts of the current data were last on screen, and when loading them began. */
  drawnAt: number;
  startedAt: number;
  /** The runMetrics request alone; smoothing, grouping and interpolation; layout and SVG text of the charts. */
  runMetricsMs: number;
  modelMs: number;
  svgMs: number;
  runs: number;
  points: number;
  lines: number;
}
