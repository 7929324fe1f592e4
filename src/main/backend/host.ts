/**
 * The desktop app's backend process: plain Node, started and supervised by the Electron main
 * process (src/main/backend/process.ts), serving the api contract over Node's IPC channel.
 * The run store's SQLite module (better-sqlite3, a V8-ABI addon) is built for the Node that
 * ran `npm install`, so it loads here and never into Electron, whose Node has another ABI.
 *
 * Built as out/main/backend.js; its job workers are out/main/job-worker.js beside it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiEvent } from '../../shared/api.ts';
import { encodeFrame } from '../../shared/frameCodec.ts';
import { ApiBackend, type ClientSink } from '../services/api.ts';
import { JobRunner } from '../services/jobs.ts';
import type { BackendLaunch, EventTarget, FromBackend, ToBackend } from './protocol.ts';

/** Frames written to the channel but not yet taken by the main process; past this, frames are skipped (other events always go). */
const FRAME_BACKLOG = 4;

const send = (message: FromBackend, sent?: () => void): void => {
  if (process.connected) process.send!(message, undefined, {}, sent);
};

/** Loads the SQLite module and opens a database in memory: an ABI mismatch fails here, before 'ready'. */
async function checkStoreModule(): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  new Database(':memory:').close();
}

let framesInFlight = 0;
function eventSink(to: EventTarget): ClientSink {
  return {
    send(event: ApiEvent) {
      if (event.type !== 'frame') return send({ type: 'event', to, event });
      if (framesInFlight >= FRAME_BACKLOG) return;
      framesInFlight++;
      send({ type: 'frame', to, frame: Buffer.from(encodeFrame(event.frame)).toString('base64') }, () => framesInFlight--);
    },
  };
}

async function main(): Promise<void> {
  if (!process.send) {
    process.stderr.write('headway backend: this process is started by the desktop app (it needs its IPC channel)\n');
    process.exit(2);
  }
  const launch = JSON.parse(process.argv[2] ?? '{}') as Partial<BackendLaunch>;
  try {
    await checkStoreModule();
  } catch (error) {
    send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
    return;
  }
  const runner = new JobRunner({ workerEntry: join(dirname(fileURLToPath(import.meta.url)), 'job-worker.js') });
  const backend = new ApiBackend(runner, {
    appVersion: launch.appVersion ?? '0.0.0',
    transport: 'ipc',
    host: `Electron ${launch.electron ?? '?'}, backend on Node ${process.versions.node}`,
  });
  backend.connect(eventSink(null));

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void runner.shutdown().finally(() => {
      backend.dispose();
      process.exit(0);
    });
  };
  process.on('message', (message: ToBackend) => {
    if (message.type === 'shutdown') return stop();
    if (message.type !== 'request') return;
    void backend.handle(message.method, message.payload, eventSink(message.clientId)).then((result) => send({ type: 'result', id: message.id, result }));
  });
  // The main process went away (quit or crashed): stop the jobs rather than run on orphaned.
  process.on('disconnect', stop);
  send({ type: 'ready', node: process.versions.node, modules: process.versions.modules });
}

void main();
