/**
 * The backend side of the api contract (src/shared/api.ts), independent of the transport:
 * Electron IPC (src/main/app) and the WebSocket server (src/main/server) both validate
 * nothing themselves beyond their own framing and hand every request to `handle`, and
 * attach each connected UI as a client that receives the events. `handle` validates the
 * payload against the method's schema and calls the method's handler.
 */
import {
  API_VERSION,
  parseRequest,
  type ApiErrorCode,
  type ApiEvent,
  type ApiHandlers,
  type ApiResult,
  type HelloInfo,
} from '../../shared/api.ts';
import { StoreError } from '../store/index.ts';
import { RunHistory } from './history.ts';
import { ConfigError, JobError, type JobRunner } from './jobs.ts';

/** Run store failures the UI can act on, as api error codes (the rest are 'internal'). */
const STORE_ERROR_CODES: Partial<Record<StoreError['code'], ApiErrorCode>> = {
  'not-found': 'not-found',
  conflict: 'busy',
  busy: 'busy',
  invalid: 'invalid-request',
};

/** A connected UI: where its events go. */
export interface ClientSink {
  send(event: ApiEvent): void;
}

/** What a transport serves: the backend here in-process (ApiBackend), or in the desktop app's backend process (BackendProcess). */
export interface ApiService {
  /** Starts sending events to a client; returns the function that stops it. */
  connect(client: ClientSink): () => void;
  /** Validates and serves one request. Never throws: failures are ApiResult errors. */
  handle(method: unknown, payload: unknown, client: ClientSink | null): Promise<ApiResult<unknown>>;
}

export class ApiBackend implements ApiService {
  private readonly clients = new Set<ClientSink>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly runner: JobRunner,
    private readonly info: Omit<HelloInfo, 'apiVersion'>,
    /** The run store the history methods read: by default the one training jobs write (HEADWAY_DB, else the app's). */
    readonly history: RunHistory = new RunHistory(undefined, (runId) => runner.activeJobOfRun(runId)),
  ) {
    this.unsubscribe = runner.subscribe((event) => {
      for (const client of this.clients) client.send(event);
    });
  }

  /** One handler per api method, typed by the contract's declaration (a missing one does not compile). */
  private readonly handlers: ApiHandlers<ClientSink | null> = {
    hello: () => ({ apiVersion: API_VERSION, ...this.info }),
    validateJob: ({ config }) => ({ errors: this.runner.validate(config) }),
    startJob: ({ config }) => this.runner.start(config),
    controlJob: ({ jobId, command }) => this.runner.control(jobId, command),
    listJobs: () => this.runner.list(),
    snapshot: (_payload, client) => {
      const jobs = this.runner.list();
      if (client) {
        for (const job of jobs) {
          const { episode, frame, disturbances } = this.runner.live(job.id);
          if (episode) client.send({ type: 'episode', episode });
          if (frame) client.send({ type: 'frame', frame });
          if (disturbances) client.send(disturbances);
        }
      }
      return jobs;
    },
    listRuns: (query) => this.history.listRuns(query),
    listSweeps: () => this.history.listSweeps(),
    getRun: ({ runId }) => this.history.getRun(runId),
    updateRun: (edit) => this.history.updateRun(edit),
    deleteRun: ({ runId }) => this.history.deleteRun(runId),
    runMetrics: ({ runIds, names }) => this.history.runMetrics(runIds, names),
    readEpisodeSteps: ({ episodeId, from, to }) => this.history.readEpisodeSteps(episodeId, from, to),
    readEpisodeTraces: ({ episodeId, stride }) => this.history.readEpisodeTraces(episodeId, stride),
  };

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
      const handler = this.handlers[request.method] as (payload: unknown, client: ClientSink | null) => unknown;
      return { ok: true, value: handler(request.payload, client) };
    } catch (error) {
      if (error instanceof ConfigError) return { ok: false, error: { code: 'invalid-config', message: error.message, fields: error.fields } };
      if (error instanceof JobError) return { ok: false, error: { code: error.code, message: error.message } };
      if (error instanceof StoreError) return { ok: false, error: { code: STORE_ERROR_CODES[error.code] ?? 'internal', message: error.message } };
      return { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
    }
  }

  dispose(): void {
    this.history.close();
    this.unsubscribe();
    this.clients.clear();
  }
}
