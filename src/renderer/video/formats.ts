/**
 * Which video files this browser can write: MP4 when its WebCodecs encoder has H.264 (or
 * else AV1), WebM with VP9 (or else AV1). Debian's Chromium, for one, has no H.264 encoder
 * (and MP4 is then offered only if it has AV1). An MP4
 * asked for where no MP4 codec is available is refused with a message naming what is
 * (nothing is written); it is never silently written as something else.
 */
import { canEncodeVideo, Mp4OutputFormat, QUALITY_HIGH, WebMOutputFormat, type VideoCodec } from 'mediabunny';
import type { VideoContainer, VideoSize } from '../../shared/videoExport.ts';

export interface VideoFormat {
  container: VideoContainer;
  codec: VideoCodec;
  /** What the user reads: "MP4 (H.264)". */
  label: string;
}

const CANDIDATES: Record<VideoContainer, readonly VideoCodec[]> = { mp4: ['avc', 'av1'], webm: ['vp9', 'av1'] };
const CODEC_NAMES: Partial<Record<VideoCodec, string>> = { avc: 'H.264', av1: 'AV1', vp9: 'VP9' };

export const codecName = (codec: string): string => CODEC_NAMES[codec as VideoCodec] ?? codec;

/** The best codec of each container this browser can encode at `size` and `fps`, MP4 first. */
export async function encodableFormats(size: VideoSize, fps: number): Promise<VideoFormat[]> {
  const formats: VideoFormat[] = [];
  for (const container of ['mp4', 'webm'] as const) {
    for (const codec of CANDIDATES[container]) {
      if (await canEncodeVideo(codec, { ...size, frameRate: fps, quality: QUALITY_HIGH })) {
        formats.push({ container, codec, label: `${container === 'mp4' ? 'MP4' : 'WebM'} (${codecName(codec)})` });
        break;
      }
    }
  }
  return formats;
}

/** The format for `container`, or an error naming the ones this browser can write. */
export async function chooseFormat(container: VideoContainer, size: VideoSize, fps: number): Promise<VideoFormat> {
  const formats = await encodableFormats(size, fps);
  const format = formats.find((f) => f.container === container);
  if (format) return format;
  const supported = formats.length > 0 ? formats.map((f) => `.${f.container} (${codecName(f.codec)})`).join(', ') : 'none';
  const codecs = CANDIDATES[container].map(codecName).join(' or ');
  throw new Error(`this browser cannot encode ${container.toUpperCase()} (no ${codecs} encoder at ${size.width}x${size.height}); it can write: ${supported}`);
}

export function outputFormat(container: VideoContainer): Mp4OutputFormat | WebMOutputFormat {
  // In memory, the MP4's index goes in front, so players start before the whole file is read.
  return container === 'mp4' ? new Mp4OutputFormat({ fastStart: 'in-memory' }) : new WebMOutputFormat();
}
