import { describe, expect, it } from 'vitest';
import { containerOfFile, exportQuery, parseExportQuery, parseVideoFps, parseVideoSize, videoFrameCount } from '../../../src/shared/videoExport.ts';

describe('video export settings', () => {
  it('parses sizes and frame rates, refusing odd sides and out-of-range values with the field named', () => {
    expect(parseVideoSize('1280x720')).toEqual({ width: 1280, height: 720 });
    expect(() => parseVideoSize('641x360')).toThrow('--size "641x360" is not allowed; expected WIDTHxHEIGHT with even sides from 64 to 3840');
    expect(() => parseVideoSize('1280')).toThrow('--size');
    expect(parseVideoFps('30')).toBe(30);
    expect(() => parseVideoFps('0')).toThrow('--fps "0" is not allowed; expected an integer from 1 to 60');
    expect(() => parseVideoFps('29.97')).toThrow('--fps');
  });

  it('counts one frame per 1/fps s of the exported steps', () => {
    expect(videoFrameCount(0, 20, 0.1, 30)).toBe(60);
    expect(videoFrameCount(0, 600, 0.1, 24)).toBe(1440);
    expect(videoFrameCount(5, 6, 0.1, 1)).toBe(1);
  });

  it('round-trips the export page query and names containers by extension', () => {
    const request = { runId: 3, episodeId: 12, fps: 25, width: 640, height: 360, container: 'webm' as const, fromStep: 10, toStep: 40 };
    expect(parseExportQuery(exportQuery(request))).toEqual(request);
    const pair = { ...request, beside: { runId: 4, episodeId: 20 } };
    expect(parseExportQuery(exportQuery(pair))).toEqual(pair);
    expect(() => parseExportQuery('?export=3:12&beside=20')).toThrow('beside "20" is not allowed; expected RUN_ID:EPISODE_ID');
    expect(parseExportQuery('?token=x')).toBeNull();
    expect(() => parseExportQuery('?export=3')).toThrow('RUN_ID:EPISODE_ID');
    expect(containerOfFile('out/a.MP4')).toBe('mp4');
    expect(containerOfFile('a.webm')).toBe('webm');
    expect(containerOfFile('a.avi')).toBeNull();
  });
});
