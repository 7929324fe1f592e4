/**
 * What the coordinator of a sweep across machines (`headway sweep FILE --queue URL`) and its
 * workers (`headway worker --queue URL`) share on Redis, through BullMQ:
 *
 * - the queue `headway-runs` holds one job per run of a grid (RunJobData); any worker takes
 *   any job, trains it into its own database and answers with the run as a bundle;
 * - the queue `headway-sweeps` holds a sweep's parent job, the flow whose children those
 *   jobs are; it completes once every child has ended;
 * - plain keys hold the bundles, which are too large for job data: the snapshot of a run in
 *   training (its latest checkpoint), refreshed by the worker training it as its heartbeat
 *   and read by the worker that takes the job over when the first one died; and each attempt's
 *   result. The coordinator deletes both once the run is in its database.
 *
 * Every key of a sweep starts with its token, which names the coordinator's database and
 * sweep record, so two coordinators can share one Redis.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RunStatus } from '../../shared/runs.ts';
import type { SweepCell, SweepFile, SweepRecord } from '../../shared/sweep.ts';
import type { RunStore } from '../store/index.ts';
import { SCHEMA_VERSION } from '../store/schema.ts';
import { APP_VERSION } from '../version.ts';

export const RUNS_QUEUE = 'headway-runs';
export const SWEEPS_QUEUE = 'headway-sweeps';

/** Bumped when the job data or the keys change meaning: coordinator and worker must agree. */
export const QUEUE_PROTOCOL = 1;

/** How long bundles wait in Redis for a coordinator to collect them. */
const BUNDLE_TTL_S = 30 * 24 * 3600;

/** One run of a grid, as a job of the runs queue. */
export interface RunJobData {
  protocol: number;
  /** The coordinator's Headway version and history schema: a worker runs only the same. */
  headway: string;
  schema: number;
  sweep: SweepFile;
  cell: SweepCell;
  /** Update threads of the run (train's --threads). */
  threads: number;
  /** Key of the run's latest snapshot bundle; the coordinator sets it first where a local run of the cell continues. */
  snapshotKey: string;
  /** Each attempt's result bundle goes to a key under this prefix. */
  resultPrefix: string;
}

/** What a worker answers when the run has ended (finished or failed). */
export interface RunJobResult {
  resultKey: string;
  runId: number;
  status: RunStatus;
  lastEvalReturn: number | null;
  worker: string;
}

/** A worker's heartbeat on the job: where the run is. */
export interface RunJobProgress {
  worker: string;
  runId: number;
  iteration: number;
  fraction: number;
}

/** The queue cannot be used: a bad URL, no Redis there, another version of Headway. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
}

/** A checked `redis://` or `rediss://` URL. */
export function parseQueueUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QueueError(`--queue ${JSON.stringify(raw)} is not a URL; expected redis://HOST:PORT (or rediss:// for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new QueueError(`--queue ${JSON.stringify(raw)}: the scheme must be redis:// or rediss://, not ${url.protocol}//`);
  }
  return url.toString();
}

/** BullMQ's connection settings: its blocking commands need unlimited retries per request. */
export const bullConnection = (url: string) => ({ url, maxRetriesPerRequest: null });

/** Redis as BullMQ needs it: at least 6.2. */
const MIN_REDIS = [6, 2];

/**
 * Connects to the queue's Redis for the bundle keys, failing fast with one line where nothing
 * answers (a connection that drops later is retried by the client as usual).
 */
export async function connectQueue(url: string): Promise<Redis> {
  const where = new URL(url).host;
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 2, retryStrategy: () => null });
  // The client's own error event says why (ECONNREFUSED, ...); the failed call only that the connection closed.
  let cause: Error | null = null;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && (Number(version[1]) < MIN_REDIS[0]! || (Number(version[1]) === MIN_REDIS[0] && Number(version[2]) < MIN_REDIS[1]!))) {
      throw new QueueError(`Redis at ${where} is version ${version[1]}.${version[2]}; sweeps need Redis ${MIN_REDIS.join('.')} or newer`);
    }
  } catch (error) {
    redis.disconnect();
    if (error instanceof QueueError) throw error;
    throw new QueueError(`cannot reach Redis at ${where}: ${(cause ?? (error as Error)).message}`);
  }
  // From here on, a dropped connection is retried as BullMQ's are.
  redis.options.retryStrategy = (times: number) => Math.min(times * 200, 2000);
  return redis;
}

/** Names the coordinator's sweep on Redis: its machine, database file and sweep record. */
export function sweepToken(dbFile: string, record: SweepRecord): string {
  const identity = `${hostname()}\n${realpathSync(dbFile)}\n${record.id}\n${record.created}`;
  return `hw${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** Keys of a sweep: the cell -> job id map, and per cell the snapshot and the result prefix. */
export function sweepKeys(token: string) {
  return {
    jobs: `headway:${token}:jobs`,
    flows: `headway:${token}:flows`,
    snapshot: (cellIndex: number) => `headway:${token}:snapshot:${cellIndex}`,
    resultPrefix: (cellIndex: number) => `headway:${token}:result:${cellIndex}:`,
  };
}

/** Why a worker cannot run a job of this coordinator; null where it can. */
export function incompatibility(data: RunJobData): string | null {
  if (data.protocol === QUEUE_PROTOCOL && data.headway === APP_VERSION && data.schema === SCHEMA_VERSION) return null;
  return (
    `the sweep's coordinator runs Headway ${data.headway} (history schema ${data.schema}, queue protocol ${data.protocol}); ` +
    `this worker runs Headway ${APP_VERSION} (schema ${SCHEMA_VERSION}, protocol ${QUEUE_PROTOCOL}): run the same version on every machine`
  );
}

/** A temp file path for a bundle on its way in or out. */
function bundleTempFile(): string {
  return join(tmpdir(), `headway-bundle-${process.pid}-${randomBytes(6).toString('hex')}.db`);
}

/** Sends one run of `store` as a bundle to a key (replacing what was there); `snapshot`: the run may be training. */
export async function sendRunBundle(store: RunStore, redis: Redis, runId: number, key: string, snapshot: boolean): Promise<void> {
  const file = bundleTempFile();
  try {
    store.exportBundle([runId], file, { snapshot });
    await redis.set(key, readFileSync(file), 'EX', BUNDLE_TTL_S);
  } finally {
    rmSync(file, { force: true });
  }
}

/** Runs `work` on the bundle at `key`, written to a temp file (removed after); null where the key holds none. */
export async function withBundle<T>(redis: Redis, key: string, work: (file: string) => T | Promise<T>): Promise<T | null> {
  const bytes = await redis.getBuffer(key);
  if (bytes === null) return null;
  const file = bundleTempFile();
  writeFileSync(file, bytes);
  try {
    return await work(file);
  } finally {
    rmSync(file, { force: true });
  }
}
