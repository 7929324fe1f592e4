/**
 * Snapshots as named typed arrays: what the simulator, the learners and their models save
 * to continue exactly where they were. One way to nest them (prefixed names) and one check
 * on restoring them (every entry present, every length equal), so a checkpoint that does
 * not fit fails with a message naming the entry instead of running on with wrong state.
 * The byte codec of a whole checkpoint is rl/core/checkpoint.ts.
 */

export type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;

/** Named arrays of a snapshot (restoring reads any numeric array-like of the right length). */
export type SnapshotArrays = Readonly<Record<string, ArrayLike<number>>>;

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Adds every entry of `arrays` to `into` under `prefix` + its name. */
export function addPrefixed(into: Record<string, TypedArray>, prefix: string, arrays: Readonly<Record<string, TypedArray>>): void {
  for (const [name, array] of Object.entries(arrays)) into[`${prefix}${name}`] = array;
}

/** The entries of `arrays` whose names start with `prefix`, with the prefix taken off. */
export function underPrefix<T>(arrays: Readonly<Record<string, T>>, prefix: string): Record<string, T> {
  const found: Record<string, T> = {};
  for (const [name, array] of Object.entries(arrays)) if (name.startsWith(prefix)) found[name.slice(prefix.length)] = array;
  return found;
}

/**
 * Copies `source[name]` into each `targets[name]`; throws `misfit(name)` where an entry is
 * missing or its length differs. Checks every entry before writing any, so a refused
 * snapshot leaves the targets as they were.
 */
export function restoreArrays(targets: Readonly<Record<string, TypedArray>>, source: SnapshotArrays, misfit: (name: string) => string): void {
  for (const [name, target] of Object.entries(targets)) {
    const values = source[name];
    if (values === undefined || values.length !== target.length) throw new Error(misfit(name));
  }
  for (const [name, target] of Object.entries(targets)) target.set(source[name]);
}
