/**
 * The export page: the app opened with `?export=RUN:EP&...` (src/shared/videoExport.ts)
 * renders that episode's video instead of the UI, in whatever browser opened it, and
 * publishes its progress and, once done, the file as `window.headwayExport`
 * (ExportPageState). `headway export --video` drives it in headless Chromium; it is a
 * documented entry of every build, not a test hook. It uses the app's defaults: the orbit
 * camera and the 0–30 m/s speed scale.
 */
import { encodeBase64 } from '../../shared/base64.ts';
import { parseExportQuery, type ExportPageState } from '../../shared/videoExport.ts';
import { connectApi } from '../api/index.ts';
import { exportEpisodeVideo } from './exporter.ts';

declare global {
  interface Window {
    /** The export page's state (src/renderer/video/exportPage.ts); only on that page. */
    headwayExport?: ExportPageState;
  }
}

const DEFAULT_SPEED_SCALE = 30;

export const isExportPage = (search: string): boolean => new URLSearchParams(search).has('export');

export async function runExportPage(search: string): Promise<void> {
  let bytes = new Uint8Array(0);
  const state: ExportPageState = {
    state: 'running',
    done: 0,
    total: 0,
    error: null,
    codec: null,
    container: null,
    bytes: 0,
    durationS: 0,
    read: (offset, length) => encodeBase64(bytes.subarray(offset, offset + length)),
  };
  window.headwayExport = state;
  const status = document.createElement('p');
  status.style.cssText = 'font: 14px sans-serif; color: #d9e1ea; padding: 16px';
  document.body.append(status);
  try {
    const request = parseExportQuery(search)!;
    status.textContent = `Exporting episode ${request.episodeId} of run ${request.runId}${request.beside ? ` beside episode ${request.beside.episodeId}` : ''} ...`;
    const api = await connectApi((reason) => {
      if (state.state === 'running') Object.assign(state, { state: 'failed', error: `lost the connection to Headway: ${reason}` });
    });
    const episodeOf = async (runId: number, episodeId: number) => {
      const overview = await api.getRun(runId);
      const info = overview.episodes.find((e) => e.id === episodeId);
      if (!info) throw new Error(`run ${runId} has no episode ${episodeId}`);
      return { run: overview.run, info };
    };
    const episodes = [await episodeOf(request.runId, request.episodeId)];
    if (request.beside) episodes.push(await episodeOf(request.beside.runId, request.beside.episodeId));
    const video = await exportEpisodeVideo(
      api,
      episodes,
      {
        fps: request.fps,
        width: request.width,
        height: request.height,
        container: request.container,
        fromStep: request.fromStep ?? 0,
        toStep: request.toStep ?? Math.max(...episodes.map((e) => e.info.steps)) - 1,
        camera: 'orbit',
        speedScale: DEFAULT_SPEED_SCALE,
      },
      (done, total) => Object.assign(state, { done, total }),
    );
    bytes = video.bytes;
    Object.assign(state, { codec: video.codec, container: video.container, bytes: bytes.length, durationS: video.durationS, state: 'done' });
    status.textContent = `Done: ${video.frames} frames (${video.codec}).`;
  } catch (failure) {
    const message = failure instanceof Error ? failure.message : String(failure);
    Object.assign(state, { state: 'failed', error: message });
    status.textContent = `Export failed: ${message}`;
  }
}
