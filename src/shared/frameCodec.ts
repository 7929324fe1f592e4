/**
 * Binary wire format of a live Frame, for the WebSocket transport (IPC sends Frames as
 * structured clones). Full float64 precision, NaN kept (the inspector shows raw values);
 * a frame of 1,000 vehicles that are all agents is ~80 kB and decodes without parsing numbers.
 *
 * Layout (little endian):
 *   u32 magic 'HWF1' | u32 header bytes | header JSON (UTF-8) | zero pad to 8 |
 *   the FRAME_ARRAYS in order, each padded to 8 bytes.
 * The header holds the scalar fields and every array's element count.
 */
import { FRAME_ARRAYS, type Frame } from './api.ts';

const MAGIC = 0x31465748; // 'HWF1' read as little-endian u32

type Scalars = Omit<Frame, (typeof FRAME_ARRAYS)[number][0]>;
interface Header extends Scalars {
  lengths: number[];
}

const pad8 = (n: number): number => (n + 7) & ~7;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeFrame(frame: Frame): ArrayBuffer {
  const lengths = FRAME_ARRAYS.map(([name]) => frame[name].length);
  const header: Header = {
    jobId: frame.jobId,
    episode: frame.episode,
    step: frame.step,
    time: frame.time,
    collided: frame.collided,
    done: frame.done,
    episodeReturn: frame.episodeReturn,
    stepsPerSecond: frame.stepsPerSecond,
    lengths,
  };
  const headerBytes = encoder.encode(JSON.stringify(header));
  let size = pad8(8 + headerBytes.length);
  FRAME_ARRAYS.forEach(([, type], k) => (size += pad8(lengths[k] * (type === 'f64' ? 8 : 1))));
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  new Uint8Array(buffer, 8, headerBytes.length).set(headerBytes);
  let offset = pad8(8 + headerBytes.length);
  FRAME_ARRAYS.forEach(([name, type], k) => {
    const source = frame[name];
    if (type === 'f64') new Float64Array(buffer, offset, lengths[k]).set(source);
    else new Uint8Array(buffer, offset, lengths[k]).set(source);
    offset += pad8(lengths[k] * (type === 'f64' ? 8 : 1));
  });
  return buffer;
}

export function isFrameBuffer(buffer: ArrayBuffer): boolean {
  return buffer.byteLength >= 8 && new DataView(buffer).getUint32(0, true) === MAGIC;
}

/** Decodes a frame; the arrays are views into `buffer` (no copies). */
export function decodeFrame(buffer: ArrayBuffer): Frame {
  if (!isFrameBuffer(buffer)) throw new Error('not a Headway frame');
  const view = new DataView(buffer);
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(decoder.decode(new Uint8Array(buffer, 8, headerLength))) as Header;
  const { lengths, ...scalars } = header;
  if (!Array.isArray(lengths) || lengths.length !== FRAME_ARRAYS.length) throw new Error('bad frame header');
  let offset = pad8(8 + headerLength);
  const arrays: Record<string, Float64Array | Uint8Array> = {};
  FRAME_ARRAYS.forEach(([name, type], k) => {
    const bytes = lengths[k] * (type === 'f64' ? 8 : 1);
    if (offset + bytes > buffer.byteLength) throw new Error('truncated frame');
    arrays[name] = type === 'f64' ? new Float64Array(buffer, offset, lengths[k]) : new Uint8Array(buffer, offset, lengths[k]);
    offset += pad8(bytes);
  });
  return { ...scalars, ...arrays } as unknown as Frame;
}
