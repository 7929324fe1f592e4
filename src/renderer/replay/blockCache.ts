/**
 * Streams a stored episode's frames by step range: fixed-size blocks of raw float32 records
 * around the replay cursor, kept in a small LRU cache, with prefetch in the play direction.
 * A frame is shown from its block without copying the episode; a block is requested once
 * however many frames (or viewports) wait for it.
 */

export interface StepBlock {
  /** First step of the block and how many frames it holds. */
  from: number;
  steps: number;
  /** The frames' records, `floatsPerStep` floats each (src/shared/trajectoryLayout.ts). */
  records: Float32Array;
}

/** Reads frames [from, to) of the episode. */
export type BlockFetcher = (from: number, to: number) => Promise<Float32Array>;

export class StepBlockCache {
  /** Cached blocks by block index; Map order is least recently used first. */
  private readonly blocks = new Map<number, StepBlock>();
  private readonly pending = new Map<number, Promise<StepBlock>>();

  constructor(
    private readonly fetchBlock: BlockFetcher,
    /** Frames stored in the episode. */
    readonly steps: number,
    readonly blockSize = 256,
    /** Most blocks kept. */
    readonly capacity = 16,
  ) {}

  blockIndex(step: number): number {
    return Math.floor(step / this.blockSize);
  }

  get blockCount(): number {
    return Math.ceil(this.steps / this.blockSize);
  }

  /** Block indices cached now, least recently used first. */
  cachedBlocks(): number[] {
    return [...this.blocks.keys()];
  }

  /** The cached block holding `step` (and marks it recently used); null when it is not loaded. */
  lookup(step: number): StepBlock | null {
    const index = this.blockIndex(step);
    const block = this.blocks.get(index);
    if (!block) return null;
    this.blocks.delete(index);
    this.blocks.set(index, block);
    return block;
  }

  /** The block holding `step`, loading it if needed. */
  load(step: number): Promise<StepBlock> {
    return this.loadBlock(this.blockIndex(step));
  }

  /** Starts loading the `ahead` blocks after the one holding `step` in `direction` (+1 forward, -1 back). */
  prefetch(step: number, direction: 1 | -1, ahead = 2): void {
    const index = this.blockIndex(step);
    for (let k = 1; k <= ahead; k++) {
      const next = index + direction * k;
      if (next < 0 || next >= this.blockCount || this.blocks.has(next)) continue;
      // A failed prefetch is not an error anyone waits on: the block is requested again when shown.
      this.loadBlock(next).catch(() => undefined);
    }
  }

  private loadBlock(index: number): Promise<StepBlock> {
    const cached = this.blocks.get(index);
    if (cached) return Promise.resolve(cached);
    const inFlight = this.pending.get(index);
    if (inFlight) return inFlight;
    const from = index * this.blockSize;
    const to = Math.min(this.steps, from + this.blockSize);
    const request = this.fetchBlock(from, to).then(
      (records) => {
        this.pending.delete(index);
        const block: StepBlock = { from, steps: to - from, records };
        this.blocks.set(index, block);
        while (this.blocks.size > this.capacity) this.blocks.delete(this.blocks.keys().next().value!);
        return block;
      },
      (error: unknown) => {
        this.pending.delete(index);
        throw error;
      },
    );
    this.pending.set(index, request);
    return request;
  }
}
