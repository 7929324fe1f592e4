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

const SIZE = { width: 900, height: 520 };
const MARGIN = { left: 80, right: 40, top: 50, bottom: 60 };
const COLOR = '#aed581';

function figureSvg(result: DadcResult): string {
  const { width, height } = SIZE;
  const { curve, optimum } = result;
  // 2% of the optimum below it, whatever its sign.
  const line = optimum - 0.02 * Math.abs(optimum);
  const xMax = curve[curve.length - 1].envSteps;
  const values = [...curve.flatMap((p) => [p.q1, p.q3]), optimum, line, ...(result.plannerMedian === undefined ? [] : [result.plannerMedian])];
  const yMin = Math.min(...values);
  const yMax = Math.max(...values);
  const pad = (yMax - yMin) * 0.04;
  const x = (v: number) => MARGIN.left + (v / xMax) * (width - MARGIN.left - MARGIN.right);
  const y = (v: number) => height - MARGIN.bottom - ((v - yMin + pad) / (yMax - yMin + 2 * pad)) * (height - MARGIN.top - MARGIN.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#14171c"/>`,
    `<text x="${MARGIN.left}" y="24" fill="#e8eaed" font-size="16">${result.scenario}: DADC (default), discounted team return, median and quartiles over ${result.seeds} seeds</text>`,
    `<text x="${MARGIN.left}" y="42" fill="#9aa0a6">greedy coordinator, ${result.evalEpisodes.toLocaleString('en-US')} evaluation episodes a point; the marker: the final policies' median by the planner's control variate</text>`,
    `<line x1="${MARGIN.left}" y1="${height - MARGIN.bottom}" x2="${width - MARGIN.right}" y2="${height - MARGIN.bottom}" stroke="#5f6368"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${height - MARGIN.bottom}" stroke="#5f6368"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const xv = (xMax * k) / 4;
    const yv = yMin + ((yMax - yMin) * k) / 4;
    parts.push(`<text x="${x(xv)}" y="${height - MARGIN.bottom + 20}" fill="#9aa0a6" text-anchor="middle">${Math.round(xv).toLocaleString('en-US')}</text>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y(yv) + 4}" fill="#9aa0a6" text-anchor="end">${yv.toPrecision(3)}</text>`);
  }
  parts.push(`<text x="${(MARGIN.left + width - MARGIN.right) / 2}" y="${height - 15}" fill="#9aa0a6" text-anchor="middle">environment steps</text>`);
  // Labels at the left, the optimum's above its line and the 2% line's below its own, so that close lines keep them apart.
  for (const [value, label, dash, dy] of [
    [optimum, `optimum ${optimum.toFixed(4)} (planner)`, '', -6],
    [line, '2% below the optimum', ' stroke-dasharray="6 4"', 16],
  ] as const) {
    parts.push(`<line x1="${MARGIN.left}" y1="${y(value)}" x2="${width - MARGIN.right}" y2="${y(value)}" stroke="#e8eaed" stroke-opacity="0.7"${dash}/>`);
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
  const png = await svgToPng(`${stem}.svg`, `${stem}.png`, SIZE);
  process.stdout.write(`${stem}.svg${png ? ` and ${stem}.png` : ' (no Chromium: no PNG)'}\n`);
}
