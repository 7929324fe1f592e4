/**
 * Saving Compare exports from the page: file names, downloads through a Blob and an anchor
 * (works the same in Electron and in a browser), and PNG rendered from the chart's own SVG
 * through a canvas.
 */

/** Lower-case words joined by dashes, safe in file names on every system. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

/**
 * "headway-eval-return-by-algo-smooth0.6-20250101-1230.csv": the metrics (the first two and
 * a count), the grouping, the smoothing when on, and the local time of the export.
 */
export function exportFileName(metrics: readonly string[], groupBy: string | null, smoothing: number, at: Date, extension: 'csv' | 'svg' | 'png'): string {
  const named = metrics.slice(0, 2).map(slug);
  if (metrics.length > 2) named.push(`and-${metrics.length - 2}-more`);
  const parts = ['headway', ...named];
  if (groupBy !== null) parts.push(`by-${slug(groupBy)}`);
  if (smoothing > 0) parts.push(`smooth${smoothing}`);
  const pad = (n: number) => String(n).padStart(2, '0');
  parts.push(`${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}`);
  return `${parts.join('-')}.${extension}`;
}

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = 'noopener';
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // Revoked after the click has been handled: the download has its own reference by then.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The PNG of an SVG document of width × height, drawn at `scale` device pixels per unit (sharp on high-DPI screens and in documents). */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this browser cannot draw on a canvas');
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the PNG could not be encoded'))), 'image/png');
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}
