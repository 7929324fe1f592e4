/**
 * DADC's learning curves drawn as the DADC paper's Figure 2 draws them: the median and the
 * band between the first and third quartile over seeds, against env steps, with the planner's
 * optimum and the issue's 2% line; the final policies' median by the planner's control variate
 * is the marker at the end. Reads the JSON that bench/dadc.ts prints, writes <name>.svg and
 * (with Chromium) <name>.png beside it. Run with
 *   npx tsx bench/dadc-figure.ts docs/learning-report/dadc/mabc.json docs/learning-report/dadc/demand-response.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { svgToPng } from './chromium.ts';
import { CHART_SIZE, chartFrame } from './svgChart.ts';

interface DadcCurvePoint {
  envSteps: number;
  q1: number;
  median: number;
  q3: number;
}

/** The fields of bench/dadc.ts' JSON the figure reads. */
interface DadcResult {
  scenario: string;
  seeds: number;
  optimum: number;
  evalEpisodes: number;
  plannerMedian?: number;
  curve: DadcCurvePoint[];
}

const MARGIN = { left: 80, right: 40, top: 50, bottom: 60 };
const COLOR = '#aed581';

function figureSvg(result: DadcResult): string {
  const { curve, optimum } = result;
  // 2% of the optimum below it, whatever its sign.
  const line = optimum - 0.02 * Math.abs(optimum);
  const xMax = curve[curve.length - 1].envSteps;
  const values = [...curve.flatMap((p) => [p.q1, p.q3]), optimum, line, ...(result.plannerMedian === undefined ? [] : [result.plannerMedian])];
  const { parts, x, y } = chartFrame({
    margin: MARGIN,
    title: [
      `${result.scenario}: DADC (default), discounted team return, median and quartiles over ${result.seeds} seeds`,
      `greedy coordinator, ${result.evalEpisodes.toLocaleString('en-US')} evaluation episodes a point; the marker: the final policies' median by the planner's control variate`,
    ],
    xLabel: 'environment steps',
    xMax,
    yMin: Math.min(...values),
    yMax: Math.max(...values),
    yPad: 0.04,
  });
  const right = CHART_SIZE.width - MARGIN.right;
  // Labels at the left, the optimum's above its line and the 2% line's below its own, so that close lines keep them apart.
  for (const [value, label, dash, dy] of [
    [optimum, `optimum ${optimum.toFixed(4)} (planner)`, '', -6],
    [line, '2% below the optimum', ' stroke-dasharray="6 4"', 16],
  ] as const) {
    parts.push(`<line x1="${MARGIN.left}" y1="${y(value)}" x2="${right}" y2="${y(value)}" stroke="#e8eaed" stroke-opacity="0.7"${dash}/>`);
    parts.push(`<text x="${MARGIN.left + 8}" y="${y(value) + dy}" fill="#e8eaed">${label}</text>`);
  }
  const upper = curve.map((p) => `${x(p.envSteps)},${y(p.q3)}`);
  const lower = [...curve].reverse().map((p) => `${x(p.envSteps)},${y(p.q1)}`);
  parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${COLOR}" fill-opacity="0.25"/>`);
  parts.push(`<polyline points="${curve.map((p) => `${x(p.envSteps)},${y(p.median)}`).join(' ')}" fill="none" stroke="${COLOR}" stroke-width="2"/>`);
  if (result.plannerMedian !== undefined) {
    parts.push(`<circle cx="${x(xMax)}" cy="${y(result.plannerMedian)}" r="5" fill="#f28b82"/>`);
    parts.push(`<text x="${x(xMax) - 10}" y="${y(result.plannerMedian) + 18}" fill="#f28b82" text-anchor="end">final ${result.plannerMedian.toFixed(4)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

for (const file of process.argv.slice(2)) {
  const result = JSON.parse(readFileSync(file, 'utf8')) as DadcResult;
  const stem = file.replace(/\.json$/, '');
  writeFileSync(`${stem}.svg`, figureSvg(result));
  const png = await svgToPng(`${stem}.svg`, `${stem}.png`, CHART_SIZE);
  process.stdout.write(`${stem}.svg${png ? ` and ${stem}.png` : ' (no Chromium: no PNG)'}\n`);
}
