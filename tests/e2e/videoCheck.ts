/**
 * What the video tests check in an exported file: in Node, mediabunny's demuxer reads its
 * codec, size, duration and counts its frames (one encoded packet per frame); in Chromium, a
 * <video> element on a blank page (no app, no CSP) plays it from a data URL, reports its
 * duration and draws its first frame, whose pixel variance tells a picture from a blank one.
 */
import { ALL_FORMATS, BufferSource, EncodedPacketSink, Input } from 'mediabunny';
import type { Browser } from 'playwright-core';

export interface VideoFacts {
  codec: string | null;
  width: number;
  height: number;
  durationS: number;
  frames: number;
}

export async function demuxVideo(bytes: Uint8Array): Promise<VideoFacts> {
  const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new Error('the file has no video track');
    let frames = 0;
    for await (const packet of new EncodedPacketSink(track).packets()) if (packet.byteLength > 0) frames++;
    return { codec: track.codec, width: track.displayWidth, height: track.displayHeight, durationS: await input.computeDuration(), frames };
  } finally {
    input.dispose();
  }
}

export interface PlayedVideo {
  durationS: number;
  width: number;
  height: number;
  /** Variance of the first frame's luma (0: one flat colour). */
  firstFrameVariance: number;
}

/** Plays the file in Chromium's <video> element and measures its first frame. */
export async function playInChromium(browser: Browser, bytes: Uint8Array, mimeType: string, firstFramePng?: string): Promise<PlayedVideo> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  try {
    const url = `data:${mimeType};base64,${Buffer.from(bytes).toString('base64')}`;
    const played = await page.evaluate(async (src) => {
      const video = document.createElement('video');
      video.muted = true;
      video.src = src;
      document.body.append(video);
      await new Promise<void>((resolve, reject) => {
        video.onloadeddata = () => resolve();
        video.onerror = () => reject(new Error(`the video element cannot play it: ${video.error?.message ?? 'unknown error'}`));
      });
      // The first frame is drawable once the compositor has presented it, not at loadeddata.
      await new Promise<void>((resolve) => {
        video.requestVideoFrameCallback(() => resolve());
        void video.play();
      });
      video.pause();
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(video, 0, 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let sum = 0;
      let squares = 0;
      const n = data.length / 4;
      for (let i = 0; i < data.length; i += 4) {
        const luma = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
        sum += luma;
        squares += luma * luma;
      }
      const mean = sum / n;
      return { durationS: video.duration, width: video.videoWidth, height: video.videoHeight, firstFrameVariance: squares / n - mean * mean };
    }, url);
    // The first frame as the player shows it, for a person to look at.
    if (firstFramePng) await page.locator('video').screenshot({ path: firstFramePng });
    return played;
  } finally {
    await page.close();
  }
}
