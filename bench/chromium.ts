/**
 * Chromium for the browser benchmarks (ui, replay, comparison): Debian's package or
 * $HEADWAY_CHROMIUM, WebGL through SwiftShader as in the browser tests.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = process.env.HEADWAY_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser benchmarks are skipped, or null when Chromium is there. */
export function chromiumMissing(): { skipped: string } | null {
  return existsSync(EXECUTABLE) ? null : { skipped: `no Chromium at ${EXECUTABLE} (apt-get install chromium, or set HEADWAY_CHROMIUM)` };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: EXECUTABLE,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/** Renders an SVG file to a PNG of the given size; false (and no PNG) without Chromium. */
export async function svgToPng(svgFile: string, pngFile: string, size: { width: number; height: number }): Promise<boolean> {
  if (chromiumMissing() !== null) return false;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: size });
    await page.goto(`file://${resolve(svgFile)}`);
    await page.screenshot({ path: pngFile });
    return true;
  } finally {
    await browser.close();
  }
}
