/**
 * Every failure of the run store surfaces as a StoreError: a code callers can branch on and a
 * one-line message, naming the database file, that the CLI and the app show as is.
 */
export type StoreErrorCode =
  /** The disk (or the database's size limit) is full; the failed change was rolled back. */
  | 'disk-full'
  /** The file, its folder or the file system is read-only. */
  | 'read-only'
  /** Another connection held the write lock for longer than the busy timeout. */
  | 'busy'
  /** SQLite found the file damaged. */
  | 'corrupt'
  /** Not a Headway database (not SQLite, or another application's SQLite file); left untouched. */
  | 'foreign'
  /** Written by a newer Headway whose schema this version does not know; left untouched. */
  | 'newer-schema'
  | 'not-found'
  /** The file to write exists and replacing it was not asked for. */
  | 'exists'
  /** The run is being written by another live process. */
  | 'conflict'
  /** The caller passed something the store cannot record (wrong array length, bad range). */
  | 'invalid'
  /** Any other I/O or SQLite failure. */
  | 'io';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** A value the caller passed that the store cannot record; becomes a StoreError 'invalid'. */
export class InvalidRecordError extends Error {
  override name = 'InvalidRecordError';
}

/** The first line of SQLite's or Node's own message, for the tail of ours. */
function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/**
 * Maps a failure from better-sqlite3 or the file system, met while doing `doing` (e.g.
 * "record iteration 12 of run 3"), to a StoreError. StoreErrors pass through unchanged.
 */
export function toStoreError(error: unknown, file: string, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  if (error instanceof InvalidRecordError) return new StoreError('invalid', file, `cannot ${doing}: ${error.message}`, { cause: error });
  // better-sqlite3's SqliteError carries SQLite's extended code (SQLITE_FULL, SQLITE_READONLY_DBMOVED...), fs errors errno names.
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  const fail = (kind: StoreErrorCode, message: string) => new StoreError(kind, file, message, { cause: error });
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    return fail('disk-full', `cannot ${doing}: the disk holding ${file} is full (nothing was half-written; free space and retry)`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return fail('read-only', `cannot ${doing}: ${file} or its folder is read-only (${reason(error)})`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return fail('busy', `cannot ${doing}: ${file} is locked by another process; try again when it has finished`);
  }
  if (code.startsWith('SQLITE_NOTADB')) {
    return fail('foreign', `${file} is not a Headway database (not a SQLite file); it was left untouched`);
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return fail('corrupt', `cannot ${doing}: ${file} is damaged (${reason(error)}); restore it from a backup`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return fail('io', `cannot open ${file}: the file or its folder cannot be opened (${reason(error)})`);
  }
  return fail('io', `cannot ${doing} in ${file}: ${reason(error)}`);
}
