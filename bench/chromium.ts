/**
 * Chromium for the browser benchmarks (ui, replay, comparison): Debian's package or
 * $HEADWAY_CHROMIUM, WebGL through SwiftShader as in the browser tests.
 */
import { existsSync } from 'node:fs';
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
