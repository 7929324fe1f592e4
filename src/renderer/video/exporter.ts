/**
 * Video export of a stored episode, or of two side by side under one timeline (the Replay
 * view's Compare with, e.g. a fork beside its parent): frame k of the video is the replay
 * at time t = t0 + k / fps, each episode drawn by a SceneView of its own at its panel's
 * size (never the view on screen, never a screen capture), with its HUD and legend drawn
 * over it on a 2D canvas and its disturbed vehicles flagged from its stored disturbances,
 * encoded with WebCodecs and muxed by mediabunny into a file held in memory. Frames are
 * encoded as fast as the encoder takes them, each stamped with its exact time, so the file
 * is frame-exact whatever the machine's speed. Cancel (an AbortSignal) discards the output:
 * no partial file ever reaches the user.
 */
import { BufferTarget, CanvasSource, Output, QUALITY_HIGH } from 'mediabunny';
import type { HeadwayApi } from '../../shared/api.ts';
import { FrameFlag } from '../../shared/apiEvents.ts';
import { markDisturbed } from '../../shared/disturbance.ts';
import type { EpisodeInfo, RunDetail } from '../../shared/runs.ts';
import { SCENARIOS } from '../../shared/scenarios.ts';
import { videoFrameCount, type VideoContainer } from '../../shared/videoExport.ts';
import type { CameraMode } from '../scene/cameraModes.ts';
import { SceneView, type SceneFrame } from '../scene/SceneView.ts';
import { episodeOrigin, sceneEpisodeOf } from '../replay/episode.ts';
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

/** One episode of the video: its run and its stored description. */
export interface VideoEpisode {
  run: RunDetail;
  info: EpisodeInfo;
}

/** One episode's panel of the video: its frames, its scene at the panel's size, its HUD. */
interface Panel {
  info: EpisodeInfo;
  frames: EpisodeFrames;
  canvas: HTMLCanvasElement;
  scene: SceneView;
  overlay: VideoOverlay;
  flags: Uint8Array;
  x: number;
  width: number;
}

/** The HUD's second line: run, episode, and where it comes from. */
function subtitleOf({ run, info }: VideoEpisode): string {
  return `${run.name} · episode #${info.id} · ${episodeOrigin(info)} · seed ${info.seed}`;
}

/** Renders and encodes the export of one episode, or of two side by side; `onProgress(done, total)` after every frame. */
export async function exportEpisodeVideo(
  api: HeadwayApi,
  episodes: readonly VideoEpisode[],
  settings: VideoExportSettings,
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<ExportedVideo> {
  const { fps, width, height } = settings;
  const first = episodes[0].info;
  const sceneEpisodes = episodes.map(({ info }) => {
    const scene = sceneEpisodeOf(info);
    if (scene === null) {
      throw new Error(info.scene ? `episode ${info.id}: video export films the 3D road, and ${info.scenario} has none (it is drawn as a scene)` : `episode ${info.id}: unknown scenario ${info.scenario}`);
    }
    return scene;
  });
  const lastStep = Math.max(...episodes.map(({ info }) => info.steps - 1));
  const fromStep = Math.max(0, Math.min(lastStep, settings.fromStep));
  const toStep = Math.max(fromStep, Math.min(lastStep, settings.toStep));
  if (toStep === fromStep) throw new Error('the exported range must span at least two steps');
  const total = videoFrameCount(fromStep, toStep, first.dt, fps);
  const format = await chooseFormat(settings.container, { width, height }, fps);

  const composite = document.createElement('canvas');
  composite.width = width;
  composite.height = height;
  const ctx = composite.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  const output = new Output({ format: outputFormat(format.container), target: new BufferTarget() });
  const panels: Panel[] = [];
  try {
    // Panels split the width; each scene draws into a canvas of its own at exactly its panel's size.
    let x = 0;
    for (const [k, episode] of episodes.entries()) {
      const panelWidth = k === episodes.length - 1 ? width - x : Math.floor(width / episodes.length);
      const canvas = document.createElement('canvas');
      const scene = new SceneView(canvas, document.createElement('div'), { size: { width: panelWidth, height } });
      panels.push({
        info: episode.info,
        frames: await EpisodeFrames.open(api, episode.info),
        canvas,
        scene,
        overlay: new VideoOverlay({
          title: SCENARIOS[sceneEpisodes[k].scenario].title,
          subtitle: subtitleOf(episode),
          steps: episode.info.steps,
          finalReturn: episode.info.return,
          speedScale: settings.speedScale,
          vehicleKind: episode.info.vehicleKind,
        }),
        flags: new Uint8Array(episode.info.nVehicles),
        x,
        width: panelWidth,
      });
      scene.setEpisode(sceneEpisodes[k]);
      scene.setSpeedScale(settings.speedScale);
      scene.setCameraMode(settings.camera);
      x += panelWidth;
    }
    const source = new CanvasSource(composite, { codec: format.codec, quality: QUALITY_HIGH, keyFrameInterval: KEY_FRAME_INTERVAL_S });
    output.addVideoTrack(source, { frameRate: fps });
    await output.start();
    const t0 = fromStep * first.dt;
    for (let k = 0; k < total; k++) {
      if (signal?.aborted) throw new ExportCancelled();
      for (const panel of panels) await drawPanel(ctx, panel, t0 + k / fps);
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
    for (const panel of panels) panel.scene.dispose();
  }
}

/** Draws one episode's view at replay time `timeS` into its panel of the video frame. */
async function drawPanel(ctx: CanvasRenderingContext2D, panel: Panel, timeS: number): Promise<void> {
  const frame = await panel.frames.at(timeS);
  const { flags, info } = panel;
  markDisturbed(info.disturbances, frame.step, flags, FrameFlag.disturbed);
  const sceneFrame: SceneFrame = { position: frame.position, speed: frame.speed, flags };
  panel.scene.pushFrame(sceneFrame, true);
  panel.scene.renderNow();
  ctx.save();
  ctx.beginPath();
  ctx.rect(panel.x, 0, panel.width, ctx.canvas.height);
  ctx.clip();
  ctx.translate(panel.x, 0);
  ctx.drawImage(panel.canvas, 0, 0);
  panel.overlay.draw(ctx, frame, panel.width);
  if (panel.x > 0) {
    // The seam between the two episodes.
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 2, ctx.canvas.height);
  }
  ctx.restore();
}

/** "headway-run-3-episode-12.webm", "headway-run-3-episode-12-beside-14.webm". */
export const videoFileName = (runId: number, episodeId: number, extension: string, besideEpisodeId?: number): string =>
  `headway-run-${runId}-episode-${episodeId}${besideEpisodeId === undefined ? '' : `-beside-${besideEpisodeId}`}${extension}`;
