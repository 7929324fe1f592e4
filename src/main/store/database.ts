/**
 * Opening the run database: the checks that refuse a file that is not Headway's (or was
 * written by a newer schema) without modifying it, the connection settings (WAL, page size,
 * size limit), and the migrations that bring an older file up to date (schema.ts).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export interface OpenOptions {
  /** Open without writing anything (no migration, no interrupted-run marking). */
  readOnly?: boolean;
  /** How long a write waits for another process's write lock before failing 'busy' (default 5000). */
  busyTimeoutMs?: number;
  /** Refuse to grow the file beyond about this size: writes past it fail as 'disk-full'. */
  maxSizeBytes?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const PAGE_SIZE = 16384;

/**
 * Opens the database at the absolute `path` (creating it and its folder when missing,
 * read-write) and upgrades it. Throws the raw failure (the caller maps it to a StoreError);
 * a connection opened before the failure is closed.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  const readOnly = options.readOnly ?? false;
  let db: Database.Database | undefined;
  try {
    if (!readOnly) mkdirSync(dirname(path), { recursive: true });
    let version = existingSchemaVersion(path);
    // SQLite would open a write-protected file read-only without a word and fail at the first write.
    if (!readOnly && version !== null) accessSync(path, constants.W_OK);
    if (readOnly && version !== null && version !== SCHEMA_VERSION && isWritable(path)) {
      // A file of an older Headway (or with an interrupted write) is upgraded once, even for a
      // reader: this version reads only its own schema, and the upgrade is what the user expects of it.
      openDatabase(path, { ...options, readOnly: false }).close();
      version = existingSchemaVersion(path);
    }
    if (readOnly && version !== SCHEMA_VERSION) throw cannotReadOnly(path, version);
    db = new Database(path, { readonly: readOnly, fileMustExist: readOnly });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    db.pragma('foreign_keys = ON');
    if (version === 'needs-rollback') version = schemaVersionOf(db, path);
    if (!readOnly) {
      // 16 KiB pages: checkpoint and trajectory blobs write 2-3x faster than with 4 KiB (bench/store.ts).
      // The page size is fixed once WAL is on, so only a new file gets it.
      if (version === null) db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // After a burst (a large checkpoint), give the WAL file's space back at the next checkpoint.
      db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
      migrate(db, path);
    }
    if (options.maxSizeBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSizeBytes / pageSize))}`);
    }
    return db;
  } catch (error) {
    db?.close();
    throw error;
  }
}

/**
 * The schema version of an existing Headway database, null for a missing or empty file (ours
 * to set up), or 'needs-rollback' when a write to it was killed before SQLite switched it to
 * WAL: its hot journal must be rolled back, which only a read-write connection can do (as
 * any SQLite program does on open) before the file can be judged. Reads through a read-only
 * connection, so a refused file is not touched. Run bundles (bundles.ts) check theirs with it.
 */
export function existingSchemaVersion(path: string): number | null | 'needs-rollback' {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (size === 0) return null;
  refuseByHeader(path);
  const probe = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return schemaVersionOf(probe, path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_READONLY_ROLLBACK') return 'needs-rollback';
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * Refuses a file that is not SQLite, another application's, or a newer Headway's from its
 * header bytes alone (https://www.sqlite.org/fileformat.html#the_database_header): even a
 * read-only SQLite connection would leave -wal and -shm files beside a WAL-mode file. The
 * header is the truth only when no WAL holds newer pages and no hot journal older ones;
 * otherwise SQLite decides.
 */
function refuseByHeader(path: string): void {
  for (const companion of ['-wal', '-journal']) if (statSync(`${path}${companion}`, { throwIfNoEntry: false })?.size) return;
  const header = Buffer.alloc(100);
  const descriptor = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(descriptor, header, 0, header.length, 0);
  } finally {
    closeSync(descriptor);
  }
  if (length < header.length || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') {
    throw new StoreError('foreign', path, `${path} is not a Headway database (not a SQLite file); it was left untouched`);
  }
  checkApplication(path, header.readInt32BE(68), header.readInt32BE(60));
}

/** What decides whose a file is: its application id, its schema version, and how many tables, indexes and views it holds. */
interface Ownership {
  applicationId: number;
  version: number;
  objects: number;
}

/**
 * The three read by one statement, so from one snapshot: read one by one, they could straddle
 * another Headway process's commit of a new file's schema, and its tables without its
 * application id would look like another program's file.
 */
function ownershipOf(db: Database.Database): Ownership {
  return db
    .prepare('SELECT (SELECT application_id FROM pragma_application_id) AS applicationId, (SELECT user_version FROM pragma_user_version) AS version, (SELECT count(*) FROM sqlite_schema) AS objects')
    .get() as Ownership;
}

/** The connection's Headway schema version (null: an empty SQLite file); throws for a file that is not ours. */
function schemaVersionOf(db: Database.Database, path: string): number | null {
  const ownership = ownershipOf(db);
  checkOwnership(path, ownership);
  return ownership.applicationId === APPLICATION_ID ? ownership.version : null;
}

/** Throws for a newer Headway's schema or another application's id. */
function checkApplication(path: string, applicationId: number, version: number): void {
  if (applicationId === APPLICATION_ID && version > SCHEMA_VERSION) {
    throw new StoreError(
      'newer-schema',
      path,
      `${path} was written by a newer Headway (database schema ${version}; this version knows up to ${SCHEMA_VERSION}); update Headway to open it. The file was left untouched`,
    );
  }
  if (applicationId !== APPLICATION_ID && applicationId !== 0) throw foreignDatabase(path);
}

function checkOwnership(path: string, { applicationId, version, objects }: Ownership): void {
  checkApplication(path, applicationId, version);
  // An empty SQLite file (no application id, no tables) can be set up; one with tables is another program's.
  if (applicationId === 0 && objects > 0) throw foreignDatabase(path);
}

function foreignDatabase(path: string): StoreError {
  return new StoreError('foreign', path, `${path} is a SQLite database of another application, not Headway's; it was left untouched`);
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function cannotReadOnly(path: string, version: number | null | 'needs-rollback'): StoreError {
  if (version === null) return new StoreError('not-found', path, `${path} does not exist or is empty`);
  const why = version === 'needs-rollback' ? 'a write to it was interrupted and must be rolled back' : 'it uses an older schema';
  return new StoreError('read-only', path, `cannot open ${path} read-only: ${why}, and the file or its folder is write-protected; open it once read-write where it can be written`);
}

/**
 * Applies the missing migrations in one transaction, which also serialises concurrent first
 * opens. An up-to-date file is only read, so opening never waits for a training writer.
 */
function migrate(db: Database.Database, path: string): void {
  const current = ownershipOf(db);
  if (current.applicationId === APPLICATION_ID && current.version === SCHEMA_VERSION) return;
  db.transaction(() => {
    const ownership = ownershipOf(db);
    const version = ownership.applicationId === APPLICATION_ID ? ownership.version : 0;
    checkOwnership(path, { ...ownership, version });
    if (version === SCHEMA_VERSION) return;
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
