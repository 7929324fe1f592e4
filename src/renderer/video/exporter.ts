/**
 * Video export of a stored episode: frame k of the video is the replay at time
 * t = t0 + k / fps, drawn by a SceneView of its own at the video's size (never the view on
 * screen, never a screen capture), with the HUD and legend drawn over it on a 2D canvas,
 * encoded with WebCodecs and muxed by mediabunny into a file held in memory. Frames are
 * encoded as fast as the encoder takes them, each stamped with its exact time, so the file
 * is frame-exact whatever the machine's speed. Cancel (an AbortSignal) discards the output:
 * no partial file ever reaches the user.
 */
import { BufferTarget, CanvasSource, Output, QUALITY_HIGH } from 'mediabunny';
import type { HeadwayApi } from '../../shared/api.ts';
import type { EpisodeInfo, RunDetail } from '../../shared/runs.ts';
import { SCENARIOS } from '../../shared/scenarios.ts';
import { videoFrameCount, type VideoContainer } from '../../shared/videoExport.ts';
import type { CameraMode } from '../scene/cameraModes.ts';
import { SceneView, type SceneFrame } from '../scene/SceneView.ts';
import { sceneEpisodeOf } from '../replay/episode.ts';
import { episodeOrigin } from '../replay/fork.ts';
import { EpisodeFrames } from './frames.ts';
import { chooseFormat, outputFormat } from './formats.ts';
import { VideoOverlay } from './overlay.ts';

export interface VideoExportSettings {
  fps: number;
  width: number;
  height: number;
  container: VideoContainer;
  /** First and last step exported (inclusive). */
  fromStep: number;
  toStep: number;
  camera: CameraMode;
  speedScale: number;
}

export interface ExportedVideo {
  bytes: Uint8Array<ArrayBuffer>;
  mimeType: string;
  extension: string;
  container: VideoContainer;
  codec: string;
  frames: number;
  durationS: number;
}

/** Thrown when the export was cancelled. */
export class ExportCancelled extends Error {
  override name = 'ExportCancelled';
  constructor() {
    super('video export cancelled');
  }
}

/** A key frame every two seconds: a player can seek in the file without decoding it all. */
const KEY_FRAME_INTERVAL_S = 2;

/** Renders and encodes the export; `onProgress(done, total)` after every frame. */
export async function exportEpisodeVideo(
  api: HeadwayApi,
  run: RunDetail,
  info: EpisodeInfo,
  settings: VideoExportSettings,
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<ExportedVideo> {
  const sceneEpisode = sceneEpisodeOf(info);
  if (sceneEpisode === null) throw new Error(`episode ${info.id}: unknown scenario ${info.scenario}`);
  const { fps, width, height } = settings;
  const fromStep = Math.max(0, Math.min(info.steps - 1, settings.fromStep));
  const toStep = Math.max(fromStep, Math.min(info.steps - 1, settings.toStep));
  if (toStep === fromStep) throw new Error('the exported range must span at least two steps');
  const total = videoFrameCount(fromStep, toStep, info.dt, fps);
  const format = await chooseFormat(settings.container, { width, height }, fps);
  const frames = await EpisodeFrames.open(api, info);

  // The scene draws into a canvas of its own at exactly the video's size; the compositor adds the overlay.
  const sceneCanvas = document.createElement('canvas');
  const scene = new SceneView(sceneCanvas, document.createElement('div'), { size: { width, height } });
  const composite = document.createElement('canvas');
  composite.width = width;
  composite.height = height;
  const ctx = composite.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  const output = new Output({ format: outputFormat(format.container), target: new BufferTarget() });
  try {
    scene.setEpisode(sceneEpisode);
    scene.setSpeedScale(settings.speedScale);
    scene.setCameraMode(settings.camera);
    const overlay = new VideoOverlay({
      title: SCENARIOS[sceneEpisode.scenario].title,
      subtitle: `${run.name} · episode #${info.id} · ${episodeOrigin(info)} · seed ${info.seed}`,
      steps: info.steps,
      finalReturn: info.return,
      speedScale: settings.speedScale,
      vehicleKind: info.vehicleKind,
    });
    const source = new CanvasSource(composite, { codec: format.codec, quality: QUALITY_HIGH, keyFrameInterval: KEY_FRAME_INTERVAL_S });
    output.addVideoTrack(source, { frameRate: fps });
    await output.start();
    const flags = new Uint8Array(info.nVehicles);
    const t0 = fromStep * info.dt;
    for (let k = 0; k < total; k++) {
      if (signal?.aborted) throw new ExportCancelled();
      const frame = await frames.at(t0 + k / fps);
      const sceneFrame: SceneFrame = { position: frame.position, speed: frame.speed, flags };
      scene.pushFrame(sceneFrame, true);
      scene.renderNow();
      ctx.drawImage(sceneCanvas, 0, 0);
      overlay.draw(ctx, frame);
      await source.add(k / fps, 1 / fps);
      onProgress(k + 1, total);
    }
    if (signal?.aborted) throw new ExportCancelled();
    await output.finalize();
    const buffer = output.target.buffer;
    if (!buffer) throw new Error('the encoder produced no file');
    return {
      bytes: new Uint8Array(buffer),
      mimeType: await output.getMimeType(),
      extension: output.format.fileExtension,
      container: format.container,
      codec: format.codec,
      frames: total,
      durationS: total / fps,
    };
  } catch (failure) {
    if (output.state === 'started' || output.state === 'pending') await output.cancel();
    throw failure;
  } finally {
    scene.dispose();
  }
}

/** "headway-run-3-episode-12.webm". */
export const videoFileName = (runId: number, episodeId: number, extension: string): string => `headway-run-${runId}-episode-${episodeId}${extension}`;
