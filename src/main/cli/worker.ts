/**
 * `headway worker --queue redis://HOST:PORT`: a worker of sweeps across machines
 * (jobs/queueWorker.ts). Trains the runs it takes into its own database (--db) and sends each
 * back to its sweep's coordinator as a bundle. Logs one line per event on stderr; Ctrl-C
 * stops it cleanly (its runs stop after their iteration and go back to the queue), a second
 * Ctrl-C aborts.
 */
import type { Command } from 'commander';
import { SweepWorker } from '../jobs/queueWorker.ts';
import { connectQueue, parseQueueUrl, QueueError } from '../jobs/sweepQueue.ts';
import { asUsage, parseIntegerOption } from './errors.ts';
import { dbOption, withStore } from './runs.ts';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description("train the runs of sweeps queued on a Redis (headway sweep FILE --queue URL), sending each back to its coordinator")
    .requiredOption('--queue <url>', 'the Redis of the queue: redis://HOST:PORT (rediss:// for TLS)')
    .option('--concurrency <n>', 'runs trained at once', '1')
    .option('--lock-duration <ms>', 'how long a job stays this worker\'s without a heartbeat before another worker takes it over', '30000')
    .option('--heartbeat <ms>', 'how often a running job reports its progress and sends its newest checkpoint as the snapshot another worker resumes', '2000')
    .option('--idle-exit <s>', 'stop (exit 0) once nothing was trained and the queue held no job for this many seconds (for batch schedulers)')
    .addOption(dbOption())
    .action(async (options) => {
      const concurrency = parseIntegerOption('--concurrency', options.concurrency, 1, 256);
      const lockDurationMs = parseIntegerOption('--lock-duration', options.lockDuration, 1000, 3_600_000);
      const heartbeatMs = parseIntegerOption('--heartbeat', options.heartbeat, 100, 600_000);
      const idleExitMs = options.idleExit === undefined ? null : parseIntegerOption('--idle-exit', options.idleExit, 1, 7 * 24 * 3600) * 1000;
      const url = asUsage([QueueError], () => parseQueueUrl(options.queue));
      const redis = await asUsage([QueueError], () => connectQueue(url));
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      try {
        await withStore(options.db, async (store) => {
          const worker = new SweepWorker({ url, redis, store, concurrency, lockDurationMs, idleExitMs, heartbeatMs, log });
          log(`worker on ${new URL(url).host}, ${concurrency} at a time, training into ${store.file}`);
          let interrupts = 0;
          const stop = () => {
            if (++interrupts > 1) process.exit(130);
            log('stopping: running runs stop after their iteration and go back to the queue (Ctrl-C again to abort)');
            void worker.stop();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          try {
            await worker.closed();
          } finally {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
          log('worker stopped');
        });
      } finally {
        redis.disconnect();
      }
    });
}
