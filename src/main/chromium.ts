/**
 * Headless Chromium for `headway export --video` and the browser tests: Debian's package
 * (`apt-get install chromium`) or the one $HEADWAY_CHROMIUM names, with WebGL through
 * SwiftShader so the 3D view draws the same on machines without a GPU. playwright-core is
 * loaded only here, when a browser is wanted, so the rest of the CLI never needs it.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const chromiumPath = (): string => process.env.HEADWAY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  // A page working in the background (an export, a test's other tab) keeps its full pace.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
] as const;

/** What to say when there is no Chromium: one line with the fix. */
export const chromiumMissingMessage = (path = chromiumPath()): string =>
  `no Chromium at ${path}: install it (apt-get install chromium) or set HEADWAY_CHROMIUM to its executable`;

export async function launchChromium(): Promise<Browser> {
  const path = chromiumPath();
  if (!existsSync(path)) throw new Error(chromiumMissingMessage(path));
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, args: [...CHROMIUM_ARGS] });
}
