/**
 * One open database as the parts of the run store share it: the file, the better-sqlite3
 * connection, and the error handling every public call goes through (each failure a
 * StoreError naming the file, errors.ts).
 */
import type Database from 'better-sqlite3';
import { StoreError, toStoreError } from './errors.ts';

export class Connection {
  constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    readonly db: Database.Database,
  ) {}

  /** Runs `work`, turning any failure into a StoreError for `doing` ("record iteration 12 of run 3"). */
  guard<T>(doing: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toStoreError(error, this.file, doing);
    }
  }

  runNotFound(runId: number): StoreError {
    return new StoreError('not-found', this.file, `run ${runId} does not exist in ${this.file}`);
  }

  /** Throws not-found for an UPDATE of the run that changed nothing. */
  requireChange(changes: number, runId: number): void {
    if (changes === 0) throw this.runNotFound(runId);
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** better-sqlite3 binds Buffers; this views the same bytes without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
