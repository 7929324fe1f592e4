/**
 * The 3D view's frame rate (`headway bench --only ui`): serves the app, opens it in
 * Chromium (Debian's, or $HEADWAY_CHROMIUM), runs the 1,000-vehicle stress scene and times
 * requestAnimationFrame for 4 s. Headless Chromium renders WebGL in software (SwiftShader)
 * unless it finds a GPU, so these figures are a floor: the report says which renderer ran.
 */
import { chromiumMissing, launchChromium } from './chromium.ts';
import { startServer } from '../src/main/server/index.ts';
import { ensureRendererBuilt } from '../src/main/server/rendererBuild.ts';

export interface UiBenchFigure {
  vehicles: number;
  viewport: string;
  glRenderer: string;
  software: boolean;
  fps: number;
  meanFrameMs: number;
  p95FrameMs: number;
  /** Main-thread time per frame the view spends updating the scene (placing every vehicle, overlays). */
  sceneUpdateMsPerFrame: number;
  /** Time of the WebGL draw call per frame (with a software rasterizer it includes waiting for it). */
  drawCallMsPerFrame: number;
}

export async function uiBench(log: (line: string) => void = () => {}): Promise<{ stress1000: UiBenchFigure } | { skipped: string }> {
  const missing = chromiumMissing();
  if (missing) return missing;
  // The page's read-only hooks measure it (src/renderer/testHooks.ts): serve a build with them.
  process.env.HEADWAY_TEST_HOOKS = '1';
  await ensureRendererBuilt(log);
  const server = await startServer({ port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
    await page.goto(`${server.url}&stress`);
    await page.waitForFunction('window.__headwayView?.stats().vehicles === 1000', undefined, { timeout: 30_000 });
    await page.waitForTimeout(1500);
    // Page scripts as text: tsx would wrap functions with a helper the page does not have.
    const intervals = (await page.evaluate(`new Promise((resolve) => {
      const times = [];
      const started = performance.now();
      const frame = (now) => {
        times.push(now);
        if (now - started < 4000) requestAnimationFrame(frame);
        else resolve(times.slice(1).map((t, k) => t - times[k]));
      };
      requestAnimationFrame(frame);
    })`)) as number[];
    const stats = (await page.evaluate('window.__headwayView.stats()')) as { cpuMs: number; drawMs: number; glRenderer: string; software: boolean; vehicles: number };
    const sorted = [...intervals].sort((a, b) => a - b);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    return {
      stress1000: {
        vehicles: stats.vehicles,
        viewport: '1600x950',
        glRenderer: stats.glRenderer,
        software: stats.software,
        fps: Number((1000 / mean).toFixed(1)),
        meanFrameMs: Number(mean.toFixed(2)),
        p95FrameMs: Number(sorted[Math.floor(sorted.length * 0.95)].toFixed(2)),
        sceneUpdateMsPerFrame: Number(stats.cpuMs.toFixed(2)),
        drawCallMsPerFrame: Number(stats.drawMs.toFixed(2)),
      },
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
