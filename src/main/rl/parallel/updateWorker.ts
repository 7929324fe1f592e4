/** An update worker: owns its own tfjs backend and runs the group jobs the trainer sends. */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../nn/backend.ts';
import { updateActorGroups, updateCriticGroups } from '../core/optimiser.ts';
import { groupBuffers, type WorkerConfig, type WorkerReply, type WorkerRequest, type WorkerStartup } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('updateWorker runs only as a worker thread');

const config = workerData as WorkerConfig;
try {
  const startup: WorkerStartup = { ok: true, backend: await selectBackend(config.backend, { checkCache: config.checkCache }) };
  port.postMessage(startup);
} catch (error) {
  const startup: WorkerStartup = { ok: false, error: error instanceof Error ? error.message : String(error) };
  port.postMessage(startup);
}

port.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const stats = request.kind === 'actor' ? await updateActorGroups(request.job) : await updateCriticGroups(request.job);
    reply = { id: request.id, groups: request.job.groups, stats };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, 'groups' in reply ? groupBuffers(reply.groups) : []);
});
