/**
 * Video export of a stored episode: the settings both the Replay view and
 * `headway export --video` use, their validation (one message for both), and the page's
 * export entry that the CLI drives in headless Chromium: the app opened with
 * `?export=RUN:EP&fps=..&size=WxH&format=mp4|webm[&from=S&to=S][&beside=RUN:EP]` renders
 * the video instead of the UI (with `beside`, a second episode side by side under the same
 * timeline: the Replay view's Compare with) and publishes its state and bytes as
 * `window.headwayExport`.
 */

export type VideoContainer = 'mp4' | 'webm';
export const VIDEO_CONTAINERS: readonly VideoContainer[] = ['mp4', 'webm'];

export const VIDEO_FPS = { min: 1, max: 60, default: 30 } as const;
export const VIDEO_SIZE = { min: 64, max: 3840, default: { width: 1280, height: 720 } } as const;

export interface VideoSize {
  width: number;
  height: number;
}

export interface VideoExportRequest {
  runId: number;
  episodeId: number;
  fps: number;
  width: number;
  height: number;
  container: VideoContainer;
  /** Steps of the episode exported, from..to inclusive (default: all of it). */
  fromStep?: number;
  toStep?: number;
  /** A second episode shown beside the first, under the same timeline (e.g. a fork beside its parent). */
  beside?: { runId: number; episodeId: number };
}

/** Bad export settings: the message names the field and what is allowed. */
export class VideoSettingsError extends Error {
  override name = 'VideoSettingsError';
}

export function parseVideoFps(raw: string, field = '--fps'): number {
  const fps = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(fps) || fps < VIDEO_FPS.min || fps > VIDEO_FPS.max) {
    throw new VideoSettingsError(`${field} ${JSON.stringify(raw)} is not allowed; expected an integer from ${VIDEO_FPS.min} to ${VIDEO_FPS.max}`);
  }
  return fps;
}

/** "1280x720": even sides (the H.264 and VP9 encoders' 4:2:0 chroma needs them) within the limits. */
export function parseVideoSize(raw: string, field = '--size'): VideoSize {
  const match = /^(\d+)x(\d+)$/.exec(raw.trim());
  const width = match ? Number(match[1]) : NaN;
  const height = match ? Number(match[2]) : NaN;
  const ok = (side: number) => side >= VIDEO_SIZE.min && side <= VIDEO_SIZE.max && side % 2 === 0;
  if (!ok(width) || !ok(height)) {
    throw new VideoSettingsError(`${field} ${JSON.stringify(raw)} is not allowed; expected WIDTHxHEIGHT with even sides from ${VIDEO_SIZE.min} to ${VIDEO_SIZE.max}, e.g. 1280x720`);
  }
  return { width, height };
}

/** The container a file name asks for, or null for another extension. */
export function containerOfFile(path: string): VideoContainer | null {
  const match = /\.(mp4|webm)$/i.exec(path);
  return match ? (match[1].toLowerCase() as VideoContainer) : null;
}

/** Frames of an export of steps from..to (inclusive) at dt s per step: one per 1/fps s of the replay, the last step's time excluded. */
export function videoFrameCount(fromStep: number, toStep: number, dt: number, fps: number): number {
  return Math.max(1, Math.round((toStep - fromStep) * dt * fps));
}

/** The export entry's query string. */
export function exportQuery(request: VideoExportRequest): string {
  const params = new URLSearchParams({
    export: `${request.runId}:${request.episodeId}`,
    fps: String(request.fps),
    size: `${request.width}x${request.height}`,
    format: request.container,
  });
  if (request.fromStep !== undefined) params.set('from', String(request.fromStep));
  if (request.toStep !== undefined) params.set('to', String(request.toStep));
  if (request.beside !== undefined) params.set('beside', `${request.beside.runId}:${request.beside.episodeId}`);
  return `?${params.toString()}`;
}

/** The export request of a page's query string; null when it has no `export`. Throws VideoSettingsError on bad settings. */
export function parseExportQuery(search: string): VideoExportRequest | null {
  const params = new URLSearchParams(search);
  const target = params.get('export');
  if (target === null) return null;
  const episodeOf = (name: string, raw: string) => {
    const match = /^(\d+):(\d+)$/.exec(raw);
    if (!match) throw new VideoSettingsError(`${name} ${JSON.stringify(raw)} is not allowed; expected RUN_ID:EPISODE_ID`);
    return { runId: Number(match[1]), episodeId: Number(match[2]) };
  };
  const { runId, episodeId } = episodeOf('export', target);
  const beside = params.get('beside');
  const size = parseVideoSize(params.get('size') ?? `${VIDEO_SIZE.default.width}x${VIDEO_SIZE.default.height}`, 'size');
  const format = params.get('format') ?? 'webm';
  if (!VIDEO_CONTAINERS.includes(format as VideoContainer)) throw new VideoSettingsError(`format ${JSON.stringify(format)} is not allowed; expected mp4 or webm`);
  const step = (name: string): number | undefined => {
    const raw = params.get(name);
    if (raw === null) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new VideoSettingsError(`${name} ${JSON.stringify(raw)} is not allowed; expected a step (integer >= 0)`);
    return value;
  };
  return {
    runId,
    episodeId,
    fps: parseVideoFps(params.get('fps') ?? String(VIDEO_FPS.default), 'fps'),
    ...size,
    container: format as VideoContainer,
    fromStep: step('from'),
    toStep: step('to'),
    ...(beside === null ? {} : { beside: episodeOf('beside', beside) }),
  };
}

/** What the export page publishes as `window.headwayExport` (read by `headway export --video` through Playwright). */
export interface ExportPageState {
  state: 'running' | 'done' | 'failed';
  /** Frames encoded so far, of `total`. */
  done: number;
  total: number;
  /** Why it failed: one line for the user. */
  error: string | null;
  /** When done: the file's codec (mediabunny's name: avc, av1, vp9), container, size in bytes and duration. */
  codec: string | null;
  container: VideoContainer | null;
  bytes: number;
  durationS: number;
  /** Base64 of bytes [offset, offset + length) of the file. */
  read(offset: number, length: number): string;
}
