/**
 * The Replay view's video export: settings (format, frame rate, resolution, step range),
 * the formats this browser can write, one export at a time with its progress, Cancel, and
 * the finished file offered as a download (the same helper as Compare's exports).
 */
import { computed, ref } from 'vue';
import type { EpisodeInfo, RunDetail } from '../../shared/runs.ts';
import { VIDEO_FPS, VIDEO_SIZE, videoFrameCount, type VideoContainer } from '../../shared/videoExport.ts';
import { useApi } from '../api/index.ts';
import { downloadBlob } from '../compare/download.ts';
import type { CameraMode } from '../scene/cameraModes.ts';
import { codecName, encodableFormats, type VideoFormat } from './formats.ts';
import { ExportCancelled, exportEpisodeVideo, videoFileName, type VideoEpisode } from './exporter.ts';

export const VIDEO_SIZES = ['640x360', '1280x720', '1920x1080'] as const;
export const VIDEO_FPS_CHOICES = [24, 25, 30, 60] as const;

export function useVideoExport() {
  const container = ref<VideoContainer>('mp4');
  const fps = ref<number>(VIDEO_FPS.default);
  const size = ref<string>(`${VIDEO_SIZE.default.width}x${VIDEO_SIZE.default.height}`);
  const fromStep = ref(0);
  const toStep = ref(0);
  const formats = ref<VideoFormat[] | null>(null);
  const progress = ref<{ done: number; total: number } | null>(null);
  const error = ref<string | null>(null);
  const result = ref<string | null>(null);
  let controller: AbortController | null = null;

  const running = computed(() => progress.value !== null);
  const dimensions = computed(() => {
    const [width, height] = size.value.split('x').map(Number);
    return { width, height };
  });

  /** Checks which formats the encoder takes at the chosen size; keeps the choice when still possible, else the first that is. */
  async function probe(): Promise<void> {
    const found = await encodableFormats(dimensions.value, fps.value);
    formats.value = found;
    if (!found.some((f) => f.container === container.value) && found.length > 0) container.value = found[0].container;
  }

  /** New episode: the whole of it is the range. */
  function reset(info: EpisodeInfo | null): void {
    fromStep.value = 0;
    toStep.value = Math.max(0, (info?.steps ?? 1) - 1);
    error.value = null;
    result.value = null;
  }

  const frameCount = (info: EpisodeInfo): number => videoFrameCount(fromStep.value, toStep.value, info.dt, fps.value);

  /** Exports the episode, with `beside` (the compared episode) side by side when given. */
  async function start(run: RunDetail, info: EpisodeInfo, view: { camera: CameraMode; speedScale: number }, beside: VideoEpisode | null = null): Promise<void> {
    if (running.value) return;
    controller = new AbortController();
    error.value = null;
    result.value = null;
    progress.value = { done: 0, total: frameCount(info) };
    try {
      const video = await exportEpisodeVideo(
        useApi(),
        beside ? [{ run, info }, beside] : [{ run, info }],
        { fps: fps.value, ...dimensions.value, container: container.value, fromStep: fromStep.value, toStep: toStep.value, camera: view.camera, speedScale: view.speedScale },
        (done, total) => (progress.value = { done, total }),
        controller.signal,
      );
      const name = videoFileName(run.id, info.id, video.extension, beside?.info.id);
      downloadBlob(new Blob([video.bytes], { type: video.mimeType }), name);
      result.value = `Saved ${name}: ${codecName(video.codec)}, ${video.frames} frames, ${video.durationS.toFixed(2)} s, ${(video.bytes.length / 1e6).toFixed(1)} MB`;
    } catch (failure) {
      if (!(failure instanceof ExportCancelled)) error.value = failure instanceof Error ? failure.message : String(failure);
    } finally {
      progress.value = null;
      controller = null;
    }
  }

  function cancel(): void {
    controller?.abort();
  }

  return { container, fps, size, fromStep, toStep, formats, progress, error, result, running, probe, reset, frameCount, start, cancel };
}
