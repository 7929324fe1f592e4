/**
 * The 3D view's frame-rate and frame-cost measurement (what the stress test and the UI
 * benchmarks read), and the WebGL implementation it runs on.
 */

export interface RenderStats {
  /** Frames drawn per second over the last second. */
  fps: number;
  /** Mean and 95th percentile of the interval between drawn frames over the last 120 (ms). */
  meanFrameMs: number;
  p95FrameMs: number;
  drawn: number;
  /** Mean main-thread time per drawn frame spent updating the scene: placing every vehicle, overlays, cameras (ms). */
  cpuMs: number;
  /** Mean time of the WebGL draw call per frame (ms); with a software rasterizer it includes waiting for it. */
  drawMs: number;
  vehicles: number;
  drawCalls: number;
  /** The WebGL renderer string, and whether it is a software rasterizer. */
  glRenderer: string;
  software: boolean;
}

const mean = (values: readonly number[]): number => (values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0);

function pushWindow(values: number[], value: number, size = 120): void {
  values.push(value);
  if (values.length > size) values.shift();
}

/** The WebGL implementation, from a throwaway context. */
export function describeGl(): { renderer: string; software: boolean } {
  const probe = document.createElement('canvas').getContext('webgl2');
  if (!probe) return { renderer: 'unknown', software: false };
  const info = probe.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(probe.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : probe.RENDERER));
  probe.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer, software: /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer) };
}

/** Timings of the animation loop's ticks and of the frames it drew. */
export class FrameTimes {
  private lastTick = 0;
  private readonly intervals: number[] = [];
  private readonly drawTimes: number[] = [];
  private drawn = 0;
  private readonly cpuTimes: number[] = [];
  private readonly drawCallTimes: number[] = [];

  /** Every tick of the animation loop, drawn or not. */
  tick(time: number): void {
    if (this.lastTick > 0) {
      this.intervals.push(time - this.lastTick);
      if (this.intervals.length > 240) this.intervals.splice(0, this.intervals.length - 240);
    }
    this.lastTick = time;
  }

  /** A drawn frame: the tick started at `start`, the draw call ran from `drawStart` to `drawEnd`. */
  frame(start: number, drawStart: number, drawEnd: number): void {
    this.drawn++;
    pushWindow(this.cpuTimes, drawStart - start);
    pushWindow(this.drawCallTimes, drawEnd - drawStart);
    this.drawTimes.push(start);
    if (this.drawTimes.length > 180) this.drawTimes.splice(0, this.drawTimes.length - 180);
  }

  stats(scene: Pick<RenderStats, 'vehicles' | 'drawCalls' | 'glRenderer' | 'software'>): RenderStats {
    const recent = this.intervals.slice(-120);
    const sorted = [...recent].sort((a, b) => a - b);
    const now = performance.now();
    return {
      fps: this.drawTimes.filter((t) => now - t <= 1000).length,
      meanFrameMs: mean(recent),
      p95FrameMs: sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] : 0,
      drawn: this.drawn,
      cpuMs: mean(this.cpuTimes),
      drawMs: mean(this.drawCallTimes),
      ...scene,
    };
  }
}
