/**
 * The HUD and legend drawn into every video frame on a 2D canvas (the app's are HTML over
 * the WebGL canvas, which an encoder never sees): top left the scenario, run and episode,
 * the replay time, step and return so far, and a Collision badge; bottom left the speed
 * colour ramp with its scale and the vehicle kinds present. Colours and fonts are the app
 * theme's own (read from its CSS variables); sizes scale with the video's height so a 360p
 * and a 1080p export read alike.
 */
import { VehicleKindCode } from '../../shared/apiEvents.ts';
import { SPEED_RAMP, COLORS } from '../scene/colors.ts';
import type { SampledFrame } from './frames.ts';

export interface OverlayText {
  title: string;
  subtitle: string;
  /** Steps in the episode (for "step k / n") and its final return (null while recording). */
  steps: number;
  finalReturn: number | null;
  speedScale: number;
  vehicleKind: readonly number[];
}

interface Theme {
  panel: string;
  border: string;
  text: string;
  muted: string;
  danger: string;
  font: string;
  mono: string;
}

function theme(): Theme {
  const css = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    panel: 'rgba(16, 21, 28, 0.86)',
    border: read('--border', '#252e39'),
    text: read('--text', '#d9e1ea'),
    muted: read('--text-muted', '#8b98a8'),
    danger: read('--danger', '#ff5c5c'),
    font: read('--font', 'sans-serif'),
    mono: read('--mono', 'monospace'),
  };
}

/** The replay readout's number format (ReplayControls). */
export function formatReturn(value: number | null): string {
  if (value === null) return '–';
  return Math.abs(value) >= 1e4 ? value.toExponential(3) : value.toFixed(2);
}

function panel(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, t: Theme, s: number): void {
  ctx.fillStyle = t.panel;
  ctx.strokeStyle = t.border;
  ctx.lineWidth = Math.max(1, s);
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, 8 * s);
  ctx.fill();
  ctx.stroke();
}

export class VideoOverlay {
  private readonly theme = theme();
  private readonly kinds: { label: string; roof: string | null }[];

  constructor(private readonly text: OverlayText) {
    const present = new Set(text.vehicleKind);
    this.kinds = [
      present.has(VehicleKindCode.agent) ? { label: 'Controlled (agent)', roof: COLORS.agentRoof } : null,
      present.has(VehicleKindCode.human) ? { label: 'Human driver (IDM)', roof: null } : null,
      present.has(VehicleKindCode.leader) ? { label: 'Exogenous leader', roof: COLORS.leader } : null,
    ].filter((k) => k !== null);
  }

  /** Draws the HUD and the legend of `frame` over what `ctx` holds, in a panel `width` wide (one of two side by side: half the frame). */
  draw(ctx: CanvasRenderingContext2D, frame: SampledFrame, width = ctx.canvas.width): void {
    // Sizes follow the height, and shrink where a panel is narrow for them.
    const s = Math.min(ctx.canvas.height / 720, width / 960);
    this.drawHud(ctx, frame, s);
    this.drawLegend(ctx, s);
  }

  private drawHud(ctx: CanvasRenderingContext2D, frame: SampledFrame, s: number): void {
    const t = this.theme;
    const { text } = this;
    const lines = [
      `t ${frame.timeS.toFixed(1)} s · step ${frame.step} / ${text.steps - 1}`,
      `return ${formatReturn(frame.returnSoFar)}${text.finalReturn === null ? '' : ` of ${formatReturn(text.finalReturn)}`}`,
    ];
    const pad = 12 * s;
    ctx.font = `600 ${18 * s}px ${t.font}`;
    let width = ctx.measureText(text.title).width;
    ctx.font = `${14 * s}px ${t.font}`;
    width = Math.max(width, ctx.measureText(text.subtitle).width);
    ctx.font = `${15 * s}px ${t.mono}`;
    for (const line of lines) width = Math.max(width, ctx.measureText(line).width);
    const badge = frame.collided ? 26 * s : 0;
    const height = pad * 2 + 22 * s + 19 * s + lines.length * 21 * s + badge;
    const x = 14 * s;
    const y = 14 * s;
    panel(ctx, x, y, width + pad * 2, height, t, s);
    ctx.textBaseline = 'top';
    let at = y + pad;
    ctx.fillStyle = t.text;
    ctx.font = `600 ${18 * s}px ${t.font}`;
    ctx.fillText(text.title, x + pad, at);
    at += 22 * s;
    ctx.fillStyle = t.muted;
    ctx.font = `${14 * s}px ${t.font}`;
    ctx.fillText(text.subtitle, x + pad, at);
    at += 19 * s;
    ctx.fillStyle = t.text;
    ctx.font = `${15 * s}px ${t.mono}`;
    for (const line of lines) {
      ctx.fillText(line, x + pad, at + 2 * s);
      at += 21 * s;
    }
    if (frame.collided) {
      ctx.fillStyle = t.danger;
      ctx.font = `600 ${14 * s}px ${t.font}`;
      ctx.fillText('● Collision', x + pad, at + 6 * s);
    }
  }

  private drawLegend(ctx: CanvasRenderingContext2D, s: number): void {
    const t = this.theme;
    const pad = 12 * s;
    const rampWidth = 230 * s;
    const rows = this.kinds.length;
    const height = pad * 2 + 18 * s + 12 * s + 20 * s + rows * 20 * s;
    const x = 14 * s;
    const y = ctx.canvas.height - height - 14 * s;
    panel(ctx, x, y, rampWidth + pad * 2, height, t, s);
    let at = y + pad;
    ctx.textBaseline = 'top';
    ctx.fillStyle = t.muted;
    ctx.font = `600 ${12 * s}px ${t.font}`;
    ctx.fillText('SPEED (m/s)', x + pad, at);
    at += 18 * s;
    const gradient = ctx.createLinearGradient(x + pad, 0, x + pad + rampWidth, 0);
    for (const [stop, colour] of SPEED_RAMP) gradient.addColorStop(stop, colour);
    ctx.fillStyle = gradient;
    ctx.fillRect(x + pad, at, rampWidth, 10 * s);
    at += 12 * s;
    ctx.fillStyle = t.muted;
    ctx.font = `${12 * s}px ${t.mono}`;
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const label = String(Math.round(f * this.text.speedScale));
      ctx.textAlign = f === 0 ? 'left' : f === 1 ? 'right' : 'center';
      ctx.fillText(label, x + pad + f * rampWidth, at);
    }
    ctx.textAlign = 'left';
    at += 20 * s;
    ctx.font = `${13 * s}px ${t.font}`;
    for (const kind of this.kinds) {
      // A small car body, with its roof bar when the kind has one (as the 3D view draws them).
      ctx.fillStyle = '#8b98a8';
      ctx.fillRect(x + pad, at + 3 * s, 18 * s, 9 * s);
      if (kind.roof) {
        ctx.fillStyle = kind.roof;
        ctx.fillRect(x + pad + 5 * s, at + 5 * s, 8 * s, 5 * s);
      }
      ctx.fillStyle = t.text;
      ctx.fillText(kind.label, x + pad + 26 * s, at);
      at += 20 * s;
    }
  }
}
