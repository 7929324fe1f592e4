/**
 * `headway export RUN_ID --episode EP --video FILE.webm|FILE.mp4 [--fps N] [--size WxH]
 * [--from S --to S] [--beside EP2]`: the Replay view's video export (with --beside, two
 * episodes side by side under one timeline), run in headless Chromium. It serves the built app
 * in-process (browser mode on a free port, this database), opens its export page
 * (`?export=...`, src/renderer/video/exportPage.ts), prints the page's progress, reads the
 * finished file back in base64 chunks and writes it atomically: a failed or interrupted
 * export leaves nothing behind.
 */
import { SingleBar } from 'cli-progress';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { EpisodeInfo } from '../../shared/runs.ts';
import { containerOfFile, exportQuery, parseVideoFps, parseVideoSize, VIDEO_FPS, VIDEO_SIZE, VideoSettingsError, type ExportPageState, type VideoExportRequest } from '../../shared/videoExport.ts';
import { chromiumMissingMessage, chromiumPath, launchChromium } from '../chromium.ts';
import { startServer } from '../server/index.ts';
import { ensureRendererBuilt } from '../server/rendererBuild.ts';
import { APP_VERSION } from '../version.ts';
import { parseIntegerOption, UsageError } from './errors.ts';
import { AtomicTextFile } from './output.ts';

export interface VideoOptions {
  fps?: string;
  size?: string;
  from?: string;
  to?: string;
  db?: string;
}

/** Base64 characters read per page.evaluate (3 MiB of the file). */
const CHUNK_BYTES = 3 * 1024 * 1024;
const POLL_MS = 200;

/** Checks every option against the episode before anything starts; the request the page runs. */
export function videoRequest(runId: number, episode: EpisodeInfo, path: string, options: VideoOptions, beside: EpisodeInfo | null = null): VideoExportRequest {
  const container = containerOfFile(path);
  if (!container) throw new UsageError(`--video ${path}: expected a .mp4 or .webm file`);
  const folder = dirname(resolve(path));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`--video ${path}: folder ${folder} does not exist`);
  // Side by side, the timeline runs to the end of the longer episode.
  const last = Math.max(episode.steps, beside?.steps ?? 0) - 1;
  const fromStep = options.from === undefined ? 0 : parseIntegerOption('--from', options.from, 0, Math.max(0, last - 1));
  const toStep = options.to === undefined ? last : parseIntegerOption('--to', options.to, fromStep + 1, last);
  try {
    const fps = parseVideoFps(options.fps ?? String(VIDEO_FPS.default));
    const size = parseVideoSize(options.size ?? `${VIDEO_SIZE.default.width}x${VIDEO_SIZE.default.height}`);
    return { runId, episodeId: episode.id, fps, ...size, container, fromStep, toStep, ...(beside ? { beside: { runId: beside.runId, episodeId: beside.id } } : {}) };
  } catch (error) {
    if (error instanceof VideoSettingsError) throw new UsageError(error.message);
    throw error;
  }
}

type PageProgress = Pick<ExportPageState, 'state' | 'done' | 'total' | 'error' | 'codec' | 'bytes' | 'durationS'>;

async function waitForExport(page: Page, bar: SingleBar, interrupted: () => boolean): Promise<PageProgress> {
  let started = false;
  for (;;) {
    if (interrupted()) throw new Error('interrupted; nothing written');
    const state = await page.evaluate((): PageProgress | null => {
      // Runs in the page (serialised by Playwright), where the export page set this global.
      const s = (globalThis as { headwayExport?: ExportPageState }).headwayExport;
      return s ? { state: s.state, done: s.done, total: s.total, error: s.error, codec: s.codec, bytes: s.bytes, durationS: s.durationS } : null;
    });
    if (state && state.total > 0) {
      if (!started) bar.start(state.total, 0);
      started = true;
      bar.update(state.done);
    }
    if (state && state.state !== 'running') return state;
    await page.waitForTimeout(POLL_MS);
  }
}

/** Renders the episode's video in headless Chromium and writes it to `path`; prints progress and a summary. */
export async function exportVideo(request: VideoExportRequest, path: string, db: string | undefined): Promise<void> {
  if (!existsSync(chromiumPath())) throw new Error(chromiumMissingMessage());
  // The server's api opens the run store at defaultDatabasePath(), which honours HEADWAY_DB.
  if (db !== undefined) process.env.HEADWAY_DB = resolve(db);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await ensureRendererBuilt(log, false, true);
  let interrupted = false;
  const onSignal = () => (interrupted = true);
  process.on('SIGINT', onSignal);
  const server = await startServer({ port: 0, appVersion: APP_VERSION });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  const bar = new SingleBar({ format: 'video [{bar}] {value}/{total} frames | {percentage}% | ETA {eta}s', stream: process.stderr, hideCursor: true }, undefined);
  let file: AtomicTextFile | null = null;
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}&${exportQuery(request).slice(1)}`);
    const state = await waitForExport(page, bar, () => interrupted);
    bar.stop();
    if (state.state === 'failed') throw new Error(`video export failed: ${state.error ?? pageErrors[0] ?? 'unknown error'}`);
    file = new AtomicTextFile(path, '--video');
    for (let offset = 0; offset < state.bytes; offset += CHUNK_BYTES) {
      const chunk = await page.evaluate(([at, length]) => (globalThis as { headwayExport?: ExportPageState }).headwayExport!.read(at, length), [offset, CHUNK_BYTES] as const);
      file.writeBytes(Buffer.from(chunk, 'base64'));
    }
    file.commit();
    file = null;
    process.stdout.write(`wrote ${path}: ${state.codec}, ${request.width}x${request.height}, ${request.fps} fps, ${state.total} frames, ${state.durationS.toFixed(2)} s, ${state.bytes} bytes\n`);
  } finally {
    bar.stop();
    file?.abort();
    process.off('SIGINT', onSignal);
    await browser.close();
    await server.close();
  }
}
