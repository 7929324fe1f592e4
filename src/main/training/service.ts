/**
 * The backend side of the api contract (src/shared/api.ts), independent of the transport:
 * Electron IPC (src/main/app) and the WebSocket server (src/main/server) both validate
 * nothing themselves beyond their own framing and hand every request to `handle`, and
 * attach each connected UI as a client that receives the events.
 */
import {
  API_VERSION,
  parseRequest,
  type ApiEvent,
  type ApiResult,
  type HelloInfo,
} from '../../shared/api.ts';
import { ConfigError, JobError, type JobRunner } from './jobs.ts';

/** A connected UI: where its events go. */
export interface ClientSink {
  send(event: ApiEvent): void;
}

export class ApiBackend {
  private readonly clients = new Set<ClientSink>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly runner: JobRunner,
    private readonly info: Omit<HelloInfo, 'apiVersion'>,
  ) {
    this.unsubscribe = runner.subscribe((event) => {
      for (const client of this.clients) client.send(event);
    });
  }

  /** Starts sending events to a client; returns the function that stops it. */
  connect(client: ClientSink): () => void {
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  /** Validates and serves one request. Never throws: failures are ApiResult errors. */
  async handle(method: unknown, payload: unknown, client: ClientSink | null): Promise<ApiResult<unknown>> {
    const parsed = parseRequest(method, payload);
    if (!parsed.ok) return parsed;
    const { request } = parsed;
    try {
      switch (request.method) {
        case 'hello':
          return { ok: true, value: { apiVersion: API_VERSION, ...this.info } satisfies HelloInfo };
        case 'validateJob':
          return { ok: true, value: { errors: this.runner.validate(request.payload.config) } };
        case 'startJob':
          return { ok: true, value: this.runner.start(request.payload.config) };
        case 'controlJob':
          return { ok: true, value: this.runner.control(request.payload.jobId, request.payload.command) };
        case 'listJobs':
          return { ok: true, value: this.runner.list() };
        case 'snapshot': {
          const jobs = this.runner.list();
          if (client) {
            for (const job of jobs) {
              const { episode, frame } = this.runner.live(job.id);
              if (episode) client.send({ type: 'episode', episode });
              if (frame) client.send({ type: 'frame', frame });
            }
          }
          return { ok: true, value: jobs };
        }
      }
    } catch (error) {
      if (error instanceof ConfigError) return { ok: false, error: { code: 'invalid-config', message: error.message, fields: error.fields } };
      if (error instanceof JobError) return { ok: false, error: { code: error.code, message: error.message } };
      return { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.clients.clear();
  }
}
