/**
 * A learner's checkpoint as one byte blob: a JSON header (plain values, and the name, type
 * and length of every array) followed by the arrays' bytes, each aligned to 8 bytes,
 * little-endian as every platform Headway runs on. Self-describing, so a checkpoint written
 * by one version names what it holds when another version refuses it.
 */
import type { TypedArray } from '../../sim/snapshot.ts';

const MAGIC = 0x48574350; // "HWCP"
const FORMAT_VERSION = 1;

const ARRAY_TYPES = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
} as const;
type ArrayTypeName = keyof typeof ARRAY_TYPES;

export interface LearnerState {
  /** JSON-serialisable values (counters, settings, small per-agent lists). */
  meta: Record<string, unknown>;
  arrays: Record<string, TypedArray>;
}

interface Header {
  version: number;
  meta: Record<string, unknown>;
  arrays: { name: string; type: ArrayTypeName; length: number; offset: number }[];
}

const align8 = (x: number) => Math.ceil(x / 8) * 8;

export function encodeState(state: LearnerState): Uint8Array {
  let offset = 0;
  const arrays = Object.entries(state.arrays).map(([name, array]) => {
    const entry = { name, type: array.constructor.name as ArrayTypeName, length: array.length, offset };
    if (!(entry.type in ARRAY_TYPES)) throw new Error(`checkpoint array ${name} has unsupported type ${entry.type}`);
    offset = align8(offset + array.byteLength);
    return entry;
  });
  const header = new TextEncoder().encode(JSON.stringify({ version: FORMAT_VERSION, meta: state.meta, arrays } satisfies Header));
  const dataStart = align8(8 + header.length);
  const bytes = new Uint8Array(dataStart + offset);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  bytes.set(header, 8);
  for (const entry of arrays) {
    const array = state.arrays[entry.name];
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), dataStart + entry.offset);
  }
  return bytes;
}

export function decodeState(bytes: Uint8Array): LearnerState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error('not a Headway learner checkpoint');
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Header;
  if (header.version !== FORMAT_VERSION) throw new Error(`checkpoint format ${header.version} is not supported (this version reads ${FORMAT_VERSION})`);
  const dataStart = align8(8 + headerLength);
  const arrays: Record<string, TypedArray> = {};
  for (const entry of header.arrays) {
    const Type = ARRAY_TYPES[entry.type];
    const start = dataStart + entry.offset;
    // Copy into a fresh, aligned buffer: the blob's own offset may not suit the element size.
    arrays[entry.name] = new Type(bytes.slice(start, start + entry.length * Type.BYTES_PER_ELEMENT).buffer);
  }
  return { meta: header.meta, arrays };
}
