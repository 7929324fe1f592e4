/**
 * Seeded random streams, one per environment copy, over one typed array: no allocation per
 * draw, bit-identical on every machine (32-bit integer arithmetic only; doubles built from
 * 53 random bits; Gaussians by the polar method with its second value cached).
 *
 * Generator: xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that nearby
 * seeds give unrelated streams.
 */
import { restoreArrays, type SnapshotArrays } from './snapshot.ts';

export class RngStreams {
  private readonly state: Uint32Array;
  private readonly spare: Float64Array;
  private readonly hasSpare: Uint8Array;

  constructor(readonly count: number) {
    this.state = new Uint32Array(4 * count);
    this.spare = new Float64Array(count);
    this.hasSpare = new Uint8Array(count);
  }

  /** Copies of the generator state, for checkpoints. */
  snapshot(): { state: Uint32Array; spare: Float64Array; hasSpare: Uint8Array } {
    return { state: this.state.slice(), spare: this.spare.slice(), hasSpare: this.hasSpare.slice() };
  }

  restore(snapshot: SnapshotArrays): void {
    restoreArrays({ state: this.state, spare: this.spare, hasSpare: this.hasSpare }, snapshot, (name) => `random stream state '${name}' does not fit ${this.count} streams`);
  }

  /** Seeds stream `stream` from a non-negative integer seed (up to 2^53). */
  seed(stream: number, seed: number): void {
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
    const o = 4 * stream;
    for (let k = 0; k < 4; k++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.state[o + k] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.state[o] | this.state[o + 1] | this.state[o + 2] | this.state[o + 3]) === 0) this.state[o] = 1;
    this.hasSpare[stream] = 0;
  }

  /** Next 32 random bits of a stream as an unsigned integer. */
  nextUint32(stream: number): number {
    const s = this.state;
    const o = 4 * stream;
    const s0 = s[o];
    const s1 = s[o + 1];
    const s2 = s[o + 2] ^ s0;
    const s3 = s[o + 3] ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[o + 1] = s1 ^ s2;
    s[o] = s0 ^ s3;
    s[o + 2] = s2 ^ t;
    s[o + 3] = rotl(s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(stream: number): number {
    const hi = this.nextUint32(stream) >>> 5;
    const lo = this.nextUint32(stream) >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  integer(stream: number, lo: number, hi: number): number {
    return lo + Math.floor(this.uniform(stream) * (hi - lo + 1));
  }

  /**
   * Standard normal draw: Marsaglia's polar method (no trigonometry; two normals per accepted
   * pair, the second cached), with 32-bit uniforms, which is plenty for a Gaussian's shape.
   */
  normal(stream: number): number {
    if (this.hasSpare[stream] === 1) {
      this.hasSpare[stream] = 0;
      return this.spare[stream];
    }
    let x: number;
    let y: number;
    let radiusSq: number;
    do {
      x = this.nextUint32(stream) * TWO_TO_MINUS_31 - 1;
      y = this.nextUint32(stream) * TWO_TO_MINUS_31 - 1;
      radiusSq = x * x + y * y;
    } while (radiusSq >= 1 || radiusSq === 0);
    const scale = Math.sqrt((-2 * Math.log(radiusSq)) / radiusSq);
    this.spare[stream] = y * scale;
    this.hasSpare[stream] = 1;
    return x * scale;
  }
}

const TWO_TO_MINUS_31 = 1 / 2147483648;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The seed of environment copy `env` when a batch is reset with `seed`: copy 0 uses the
 * seed itself, so a single environment and the first copy of a batch agree.
 */
export function envSeed(seed: number, env: number): number {
  return env === 0 ? seed : seed + env * 1_000_003;
}
