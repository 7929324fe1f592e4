/**
 * The frame of the bench scripts' line charts (the learning report's, the DADC figures): a dark
 * 900 x 520 SVG with its title lines, both axes with five ticks each, and the x axis' label.
 * The caller adds its lines and bands through x and y, then closes the SVG.
 */
export const CHART_SIZE = { width: 900, height: 520 };

export interface ChartFrame {
  /** The SVG so far (open: the caller pushes its shapes and '</svg>'). */
  parts: string[];
  x(value: number): number;
  y(value: number): number;
}

export function chartFrame(options: {
  margin: { left: number; right: number; top: number; bottom: number };
  /** The title (16 px) and any lines under it (grey), 18 px apart. */
  title: readonly string[];
  xLabel: string;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Room kept above and below the values, as a share of their range (ticks stay on the values). */
  yPad?: number;
}): ChartFrame {
  const { width, height } = CHART_SIZE;
  const { margin, xMax, yMin, yMax } = options;
  const pad = (yMax - yMin) * (options.yPad ?? 0);
  const x = (v: number) => margin.left + (v / xMax) * (width - margin.left - margin.right);
  const y = (v: number) => height - margin.bottom - ((v - yMin + pad) / (yMax - yMin + 2 * pad || 1)) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#14171c"/>`,
    ...options.title.map((line, k) =>
      k === 0 ? `<text x="${margin.left}" y="24" fill="#e8eaed" font-size="16">${line}</text>` : `<text x="${margin.left}" y="${24 + 18 * k}" fill="#9aa0a6">${line}</text>`,
    ),
    `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="#5f6368"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="#5f6368"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const xv = (xMax * k) / 4;
    const yv = yMin + ((yMax - yMin) * k) / 4;
    parts.push(`<text x="${x(xv)}" y="${height - margin.bottom + 20}" fill="#9aa0a6" text-anchor="middle">${(xMax > 100 ? Math.round(xv) : Number(xv.toPrecision(3))).toLocaleString('en-US')}</text>`);
    parts.push(`<text x="${margin.left - 8}" y="${y(yv) + 4}" fill="#9aa0a6" text-anchor="end">${yv.toPrecision(3)}</text>`);
  }
  parts.push(`<text x="${(margin.left + width - margin.right) / 2}" y="${height - 15}" fill="#9aa0a6" text-anchor="middle">${options.xLabel}</text>`);
  return { parts, x, y };
}
