/** The Compare tab's pure logic: smoothing, interpolation and bands, grouping, the chart's SVG, the CSV export. */
import { describe, expect, it } from 'vitest';
import type { MetricColumns } from '../../../src/shared/api.ts';
import type { RunDetail } from '../../../src/shared/runs.ts';
import { formatTicks, layoutChart, linePath, bandPath, niceStep, readoutAt, renderChartSvg, renderFigureSvg, ticksOf } from '../../../src/renderer/compare/chart.ts';
import { compareCsv, csvField, CSV_COLUMNS } from '../../../src/renderer/compare/csv.ts';
import { aggregateGroup, commonGrid, curveFromColumns, emaSmooth, interpolateOnto, nearestIndex, type RunCurve } from '../../../src/renderer/compare/curves.ts';
import { exportFileName } from '../../../src/renderer/compare/download.ts';
import { groupFields, groupRuns, NOT_SET, runFieldValues } from '../../../src/renderer/compare/grouping.ts';
import { buildCompareModel, curveKey, defaultMetric, orderMetrics, type CompareOptions } from '../../../src/renderer/compare/model.ts';

const f64 = (values: number[]) => Float64Array.from(values);

function run(id: number, algo: string, seed: number, extra: Partial<RunDetail> = {}): RunDetail {
  return {
    id,
    name: `${algo} seed ${seed}`,
    scenario: 'cacc-catchup',
    algo,
    status: 'finished',
    iterations: 3,
    envSteps: 300,
    lastEvalReturn: null,
    created: '2025-01-01T00:00:00Z',
    params: { horizon: 600, preset: 'dmpo' },
    config: { learner: { lrActor: algo === 'dppo' ? 0.0003 : 0.001, kappa: 1, schedule: { warmup: 2 } }, threads: 1 },
    seed,
    preset: 'default',
    backend: 'cpu',
    appVersion: '0.1.0',
    tags: [],
    notes: '',
    parent: null,
    wallTimeS: 3,
    updated: '',
    ended: null,
    statusMessage: null,
    writer: null,
    ...extra,
  };
}

function columns(runId: number, name: string, values: (number | null)[], wallStep = 1): MetricColumns {
  return {
    runId,
    name,
    iteration: values.map((_, k) => k + 1),
    envSteps: values.map((_, k) => (k + 1) * 100),
    wallTimeS: values.map((_, k) => (k + 1) * wallStep),
    value: values,
  };
}

function curveMap(...list: MetricColumns[]): Map<string, RunCurve> {
  return new Map(list.map((c) => [curveKey(c.runId, c.name), curveFromColumns(c)]));
}

/** Well-formed XML as far as the serialiser can go wrong: balanced tags, quoted attributes, no raw < or & in text. (The browser test parses the real export.) */
function expectWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>/y;
  let at = 0;
  while (at < xml.length) {
    const next = xml.indexOf('<', at);
    const text = xml.slice(at, next === -1 ? xml.length : next);
    expect(text.replace(/&(amp|lt|gt|quot|apos);/g, '')).not.toMatch(/[<>&]/);
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(xml);
    expect(match, `a malformed tag at ${xml.slice(next, next + 40)}`).not.toBeNull();
    const [whole, closing, name, , selfClosing] = match!;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
    at = next + whole.length;
  }
  expect(stack).toEqual([]);
}

const OPTIONS: CompareOptions = { metrics: ['eval/return'], groupBy: null, xAxis: 'iteration', smoothing: 0, band: 'minmax', showRuns: false };

describe('smoothing', () => {
  it('is the identity at weight 0 and keeps gaps', () => {
    const out = emaSmooth(f64([1, NaN, 3]), 0);
    expect(out[0]).toBe(1);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(3);
  });

  it("is TensorBoard's debiased EMA: starts at the first value, skips NaN without resetting", () => {
    const w = 0.6;
    const out = emaSmooth(f64([10, NaN, 20, 30]), w);
    expect(out[0]).toBeCloseTo(10, 12);
    expect(out[1]).toBeNaN();
    // Two finite values so far: (w(1-w)10 + (1-w)20) / (1 - w^2).
    expect(out[2]).toBeCloseTo((w * (1 - w) * 10 + (1 - w) * 20) / (1 - w ** 2), 12);
    const last = (w * (w * (1 - w) * 10 + (1 - w) * 20) + (1 - w) * 30) / (1 - w ** 3);
    expect(out[3]).toBeCloseTo(last, 12);
  });

  it('caps the weight below 1 so the curve still moves', () => {
    const out = emaSmooth(f64([0, 100, 100]), 5);
    expect(out[2]).toBeGreaterThan(0);
  });
});

describe('interpolation and group bands', () => {
  it('builds a grid over the union of the x ranges, landing on shared x values', () => {
    expect([...commonGrid([f64([1, 2, 3]), f64([1, 2, 3])])]).toEqual([1, 2, 3]);
    expect([...commonGrid([f64([0, 10]), f64([5, 20])])]).toEqual([0, 20]);
    expect([...commonGrid([f64([4])])]).toEqual([4]);
    expect(commonGrid([]).length).toBe(0);
  });

  it('interpolates linearly, never bridges a gap and never extrapolates', () => {
    const x = f64([0, 10, 20, 30]);
    const y = f64([0, 10, NaN, 30]);
    const out = interpolateOnto(x, y, f64([-5, 0, 5, 10, 15, 30, 35]));
    expect(out[0]).toBeNaN();
    expect(out[1]).toBe(0);
    expect(out[2]).toBe(5);
    expect(out[3]).toBe(10);
    expect(out[4]).toBeNaN();
    expect(out[5]).toBe(30);
    expect(out[6]).toBeNaN();
  });

  it('aggregates the mean with a min–max or ±1 std band, counting only the runs with a value', () => {
    const a = { x: f64([1, 2, 3]), y: f64([0, 10, 20]) };
    const b = { x: f64([1, 2]), y: f64([4, 14]) };
    const minmax = aggregateGroup([a, b], 'minmax');
    expect([...minmax.x]).toEqual([1, 2, 3]);
    expect([...minmax.mean]).toEqual([2, 12, 20]);
    expect([...minmax.lo]).toEqual([0, 10, 20]);
    expect([...minmax.hi]).toEqual([4, 14, 20]);
    expect([...minmax.count]).toEqual([2, 2, 1]);
    const std = aggregateGroup([a, b], 'std');
    // Sample std of {0, 4} is 2√2.
    expect(std.hi[0] - std.mean[0]).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(std.lo[2]).toBe(20);
  });

  it('aligns runs logged at different wall times', () => {
    const fast = { x: f64([0, 1, 2]), y: f64([0, 1, 2]) };
    const slow = { x: f64([0, 2]), y: f64([0, 4]) };
    const out = aggregateGroup([fast, slow], 'minmax');
    expect([...out.x]).toEqual([0, 1, 2]);
    expect([...out.mean]).toEqual([0, 1.5, 3]);
  });

  it('finds the nearest x', () => {
    const x = f64([1, 2, 4, 8]);
    expect(nearestIndex(x, 0)).toBe(0);
    expect(nearestIndex(x, 2.9)).toBe(1);
    expect(nearestIndex(x, 3.1)).toBe(2);
    expect(nearestIndex(x, 100)).toBe(3);
    expect(nearestIndex(f64([]), 1)).toBe(-1);
  });
});

describe('grouping', () => {
  const runs = [run(1, 'dppo', 1), run(2, 'dppo', 2), run(3, 'ippo', 1, { preset: null, params: { horizon: 300 } })];

  it('flattens the learner config and the scenario params', () => {
    const values = runFieldValues(runs[0]);
    expect(values.get('algo')).toBe('dppo');
    expect(values.get('learner.lrActor')).toBe('0.0003');
    expect(values.get('learner.schedule.warmup')).toBe('2');
    expect(values.get('params.horizon')).toBe('600');
    expect(values.has('threads')).toBe(false);
  });

  it('offers every field, marking the ones that differ', () => {
    const fields = groupFields(runs);
    const byKey = new Map(fields.map((field) => [field.key, field]));
    expect(fields.slice(0, 4).map((field) => field.key)).toEqual(['algo', 'scenario', 'preset', 'seed']);
    expect(byKey.get('algo')!.varies).toBe(true);
    expect(byKey.get('scenario')!.varies).toBe(false);
    expect(byKey.get('params.horizon')!.varies).toBe(true);
    // Present in two runs only: the third lacks it, so it differs.
    expect(byKey.get('params.preset')!.varies).toBe(true);
    expect(byKey.get('learner.kappa')!.varies).toBe(false);
    expect(byKey.get('learner.lrActor')!.label).toBe('Learner · lrActor');
  });

  it('groups runs by value, numbers in numeric order, missing values as (not set)', () => {
    expect(groupRuns(runs, 'algo')).toEqual([
      { label: 'dppo', runIds: [1, 2] },
      { label: 'ippo', runIds: [3] },
    ]);
    expect(groupRuns(runs, 'params.horizon').map((group) => group.label)).toEqual(['300', '600']);
    expect(groupRuns(runs, 'preset').map((group) => group.label)).toEqual(['default', NOT_SET]);
    expect(groupRuns([run(1, 'a', 10), run(2, 'a', 9)], 'seed').map((group) => group.label)).toEqual(['9', '10']);
  });
});

describe('the chart model', () => {
  const runs = [run(1, 'dppo', 1), run(2, 'dppo', 2), run(3, 'ippo', 1)];
  const curves = curveMap(
    columns(1, 'eval/return', [1, 2, 3]),
    columns(2, 'eval/return', [3, 4, 5]),
    columns(3, 'eval/return', [0, null, 1]),
    columns(1, 'train/episodeReturn', [7, 8, 9]),
  );

  it('draws one line per run, with the raw curve faint under the smoothed one', () => {
    const plain = buildCompareModel(runs, curves, OPTIONS);
    expect(plain.charts[0].lines.map((line) => line.key)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(plain.charts[0].legend.map((entry) => entry.detail)).toEqual(['#1', '#2', '#3']);
    const smooth = buildCompareModel(runs, curves, { ...OPTIONS, smoothing: 0.5 });
    expect(smooth.charts[0].lines.filter((line) => !line.readout)).toHaveLength(3);
    expect(smooth.smoothed.get(curveKey(1, 'eval/return'))![1]).toBeCloseTo(5 / 3, 12);
  });

  it('groups into a mean line with a band for groups of several runs', () => {
    const model = buildCompareModel(runs, curves, { ...OPTIONS, groupBy: 'algo' });
    const chart = model.charts[0];
    expect(chart.legend.map((entry) => [entry.label, entry.detail])).toEqual([
      ['dppo', '2 runs'],
      ['ippo', '1 run'],
    ]);
    expect(chart.bands).toHaveLength(1);
    expect([...chart.bands[0].lo]).toEqual([1, 2, 3]);
    const mean = chart.lines.find((line) => line.key === 'group-0')!;
    expect([...mean.y]).toEqual([2, 3, 4]);
    expect(model.groupOfRun.get(3)).toBe('ippo');
    const withRuns = buildCompareModel(runs, curves, { ...OPTIONS, groupBy: 'algo', showRuns: true });
    // Members under means.
    expect(withRuns.charts[0].lines.map((line) => line.key)).toEqual(['member-1', 'member-2', 'member-3', 'group-0', 'group-1']);
  });

  it('counts runs without the metric and picks the default metric', () => {
    const model = buildCompareModel(runs, curves, { ...OPTIONS, metrics: ['train/episodeReturn'] });
    expect(model.charts[0].missingRuns).toBe(2);
    expect(defaultMetric(['kl', 'train/episodeReturn'])).toBe('train/episodeReturn');
    expect(defaultMetric(['kl', 'eval/return', 'train/episodeReturn'])).toBe('eval/return');
    expect(defaultMetric([])).toBeNull();
    expect(orderMetrics(['zeta', 'loss/agent1', 'kl', 'train/episodeReturn', 'loss/agent10', 'loss/agent2'])).toEqual([
      'train/episodeReturn',
      'kl',
      'zeta',
      'loss/agent1',
      'loss/agent2',
      'loss/agent10',
    ]);
  });
});

describe('the chart as SVG', () => {
  const runs = [run(1, 'dppo', 1), run(2, 'dppo', 2), run(3, 'ippo', 1)];
  const curves = curveMap(columns(1, 'eval/return', [1, 2, 3]), columns(2, 'eval/return', [3, 4, 5]), columns(3, 'eval/return', [0, null, 1]));
  const model = buildCompareModel(runs, curves, { ...OPTIONS, groupBy: 'algo' });

  it('picks round ticks and labels them on one scale', () => {
    expect(niceStep(0, 100, 5)).toBe(20);
    expect(niceStep(0, 0.7, 7)).toBeCloseTo(0.1, 12);
    expect(ticksOf(-0.3, 0.5, 0.2)).toEqual([-0.2, 0, 0.2, 0.4]);
    expect(formatTicks([0, 5000, 10000, 15000], 5000)).toEqual(['0', '5k', '10k', '15k']);
    expect(formatTicks([0, 500000, 1000000, 1500000], 500000)).toEqual(['0', '0.5M', '1.0M', '1.5M']);
    expect(formatTicks([-0.5, 0, 0.5], 0.5)).toEqual(['−0.5', '0', '0.5']);
    expect(formatTicks([0, 0.0002, 0.0004], 0.0002)).toEqual(['0', '2.0e-4', '4.0e-4']);
  });

  it('breaks lines at gaps and draws a lone point as a dot', () => {
    const layout = layoutChart(model.charts[0], 600, 300);
    const path = linePath(f64([1, 2, 3, 4]), f64([1, NaN, 2, 3]), layout);
    expect(path.match(/M/g)).toHaveLength(2);
    expect(path).toMatch(/^M[\d.]+ [\d.]+h0\.01M[\d.]+ [\d.]+L/);
    expect(bandPath(f64([1, 2, 3]), f64([0, 1, NaN]), f64([1, 2, NaN]), layout)).toMatch(/^M[^M]+Z$/);
  });

  it('frames the data with gridlines and puts the values inside the plot', () => {
    const layout = layoutChart(model.charts[0], 600, 300);
    expect(layout.y.d0).toBeLessThanOrEqual(0);
    expect(layout.y.d1).toBeGreaterThanOrEqual(5);
    expect(layout.yTicks[0].value).toBe(layout.y.d0);
    expect(layout.xTitle).toBe('Iteration');
    expect(layout.yTitle).toBe('eval/return');
    const rows = readoutAt(model.charts[0], layout, layout.plot.left + layout.plot.width);
    expect(rows.map((row) => [row.label, row.value, row.lo, row.hi])).toEqual([
      ['dppo', 4, 3, 5],
      ['ippo', 1, null, null],
    ]);
  });

  it('serialises a well-formed SVG with escaped text, for the screen and as a figure', () => {
    const named = buildCompareModel([run(1, 'a<b>&"c"', 1)], curveMap(columns(1, 'eval/return', [1, 2])), { ...OPTIONS, groupBy: 'algo' });
    const chartSvg = renderChartSvg(named.charts[0], layoutChart(named.charts[0], 500, 300), 'plot-0');
    const figure = renderFigureSvg([...model.charts, ...named.charts], { width: 900, chartHeight: 400, subtitle: 'grouped & smoothed' });
    for (const text of [chartSvg, figure.svg]) {
      expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expectWellFormed(text);
    }
    expect(figure.svg).toContain('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(figure.svg).toContain('grouped &amp; smoothed');
    expect(figure.height).toBeGreaterThan(2 * 400);
    // The legend: both groups of the first chart.
    expect(figure.svg).toContain('>dppo<tspan');
    expect(figure.svg).toContain('>ippo<tspan');
  });
});

describe('the CSV export', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });

  it('writes one row per run × metric × point with exact raw and smoothed values', () => {
    const runs = [run(1, 'dppo', 1, { name: 'dppo, seed 1' }), run(3, 'ippo', 1)];
    const curves = curveMap(columns(1, 'eval/return', [0.1 + 0.2, 2], 0.5), columns(3, 'eval/return', [null, 1]));
    const model = buildCompareModel(runs, curves, { ...OPTIONS, groupBy: 'algo', smoothing: 0.5 });
    const csv = compareCsv({ runs, metrics: ['eval/return'], curves, smoothed: model.smoothed, groupOfRun: model.groupOfRun });
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1)).toEqual([
      `1,"dppo, seed 1",dppo,eval/return,1,100,0.5,0.30000000000000004,0.30000000000000004`,
      `1,"dppo, seed 1",dppo,eval/return,2,200,1,2,${String((0.5 * 0.5 * (0.1 + 0.2) + 0.5 * 2) / 0.75)}`,
      '3,ippo seed 1,ippo,eval/return,1,100,1,,',
      '3,ippo seed 1,ippo,eval/return,2,200,2,1,1',
    ]);
  });

  it('names files by metric, grouping, smoothing and time', () => {
    const at = new Date(2025, 0, 2, 3, 4);
    expect(exportFileName(['eval/return'], 'algo', 0, at, 'csv')).toBe('headway-eval-return-by-algo-20250102-0304.csv');
    expect(exportFileName(['eval/return', 'kl', 'loss/actor'], null, 0.6, at, 'png')).toBe('headway-eval-return-kl-and-1-more-smooth0.6-20250102-0304.png');
  });
});
