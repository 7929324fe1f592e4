/**
 * The api contract between the UI and the backend. One contract, implemented twice: over
 * Electron IPC (src/main/app + src/preload) and over a WebSocket (src/main/server, browser
 * mode). The renderer talks only to `HeadwayApi`, built by `createApiClient` over either
 * transport, so every UI feature works the same in the desktop app and in a browser.
 *
 * Every method is declared once, in `API` below: its request schema (zod), its response
 * type and how the typed client passes its arguments. From that one table come the request
 * validation (`parseRequest`), the response types (`ApiResponses`), the client (`HeadwayApi`,
 * `createApiClient`) and the backend's handler map (`ApiHandlers`, src/main/services/api.ts);
 * the table is checked against the zod-free list of names in apiMethods.ts, all the preload
 * bundles.
 *
 * Shape of the conversation
 * - Requests: `invoke(method, payload)` -> `ApiResult`. Every payload is validated in the
 *   backend against its schema before anything runs; failures come back as data
 *   (`{ ok: false, error }`), never as thrown errors across the transport.
 * - Events: the backend pushes `ApiEvent`s to every connected UI (apiEvents.ts).
 *
 * The rest of the contract, by concern: jobs and their configs (apiJobs.ts), live events and
 * frames (apiEvents.ts), the run history (apiHistory.ts); all of it is exported from here.
 */
import { z } from 'zod';
import type { ApiEvent } from './apiEvents.ts';
import { runEditSchema, runQuerySchema, MAX_COMPARE_METRICS, MAX_COMPARE_RUNS, MAX_STEP_BLOCK } from './apiHistory.ts';
import type { EpisodeStepBlock, EpisodeTraces, MetricColumns, RunEdit, RunOverview, RunQuery } from './apiHistory.ts';
import { issuesToFieldErrors, jobCommandSchema, jobIdSchema, runIdSchema } from './apiJobs.ts';
import type { FieldError, JobCommandInput, JobConfigInput, JobInfo } from './apiJobs.ts';
import { API_METHODS, type ApiMethod } from './apiMethods.ts';
import type { RunDetail } from './runs.ts';
import type { SweepSummary } from './sweep.ts';

export * from './apiEvents.ts';
export * from './apiHistory.ts';
export * from './apiJobs.ts';
export * from './apiMethods.ts';

export const API_VERSION = 1;

/** WebSocket path of the browser-mode api. */
export const WS_PATH = '/api';
/** Largest request payload either transport accepts, in bytes of JSON. */
export const MAX_REQUEST_BYTES = 256 * 1024;

export type Transport = 'ipc' | 'websocket';

export interface HelloInfo {
  apiVersion: number;
  appVersion: string;
  transport: Transport;
  /** Where the backend runs, for the status bar ("Electron 38", "Node 20 on 127.0.0.1:8877"). */
  host: string;
}

// ---------------------------------------------------------------------------------------
// The methods, each declared once

/** One method: what it accepts, what it answers, and how the typed client calls it. */
interface MethodSpec<Request extends z.ZodType, Response, Args extends unknown[], Result> {
  /** The payload schema: the backend validates with it before dispatching. */
  request: Request;
  /** The client method's arguments -> the request payload. */
  call: (...args: Args) => z.input<Request>;
  /** The response -> what the client method returns (by default the response itself). */
  result: (response: Response) => Result;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethodSpec = MethodSpec<z.ZodType, any, any[], any>;

/** Declares a method answering `Response`: `method<JobInfo>()({ request, call, result? })`. */
function method<Response>() {
  return <Request extends z.ZodType, Args extends unknown[], Result = Response>(spec: {
    request: Request;
    call: (...args: Args) => z.input<Request>;
    result?: (response: Response) => Result;
  }): MethodSpec<Request, Response, Args, NoInfer<Result>> => ({
    request: spec.request,
    call: spec.call,
    result: spec.result ?? ((response) => response as unknown as Result),
  });
}

const empty = z.strictObject({});
const episodeIdSchema = z.number().int().positive({ error: 'episodeId must be an episode id' });

export const API = {
  hello: method<HelloInfo>()({ request: empty, call: () => ({}) }),
  /** Full validation of a job config without starting it: field errors, empty when valid. */
  validateJob: method<{ errors: FieldError[] }>()({
    request: z.strictObject({ config: z.unknown() }),
    call: (config: unknown) => ({ config }),
    result: (response) => response.errors,
  }),
  /** Starts a job; its config is validated like validateJob (field errors in error.fields). */
  startJob: method<JobInfo>()({ request: z.strictObject({ config: z.unknown() }), call: (config: JobConfigInput) => ({ config }) }),
  controlJob: method<JobInfo>()({
    request: z.strictObject({ jobId: jobIdSchema, command: jobCommandSchema }),
    call: (jobId: string, command: JobCommandInput) => ({ jobId, command }),
  }),
  listJobs: method<JobInfo[]>()({ request: empty, call: () => ({}) }),
  /** Jobs, and (as events to the caller only) each live job's episode and latest frame. */
  snapshot: method<JobInfo[]>()({ request: empty, call: () => ({}) }),
  listRuns: method<RunDetail[]>()({ request: runQuerySchema, call: (query: RunQuery = {}) => query }),
  /** Every sweep with its progress (cells, runs by status), the latest updated first. */
  listSweeps: method<SweepSummary[]>()({ request: empty, call: () => ({}) }),
  getRun: method<RunOverview>()({ request: z.strictObject({ runId: runIdSchema }), call: (runId: number) => ({ runId }) }),
  updateRun: method<RunDetail>()({ request: runEditSchema, call: (edit: RunEdit) => edit }),
  /** Deletes a run with everything stored for it; refused (busy) while a job trains it. */
  deleteRun: method<{ runId: number }>()({
    request: z.strictObject({ runId: runIdSchema }),
    call: (runId: number) => ({ runId }),
    result: (): void => undefined,
  }),
  runMetrics: method<MetricColumns[]>()({
    request: z.strictObject({
      runIds: z.array(runIdSchema).min(1).max(MAX_COMPARE_RUNS, { error: `at most ${MAX_COMPARE_RUNS} runs at once` }),
      names: z.array(z.string().min(1).max(200)).min(1).max(MAX_COMPARE_METRICS, { error: `at most ${MAX_COMPARE_METRICS} metrics at once` }),
    }),
    call: (runIds: number[], names: string[]) => ({ runIds, names }),
  }),
  readEpisodeSteps: method<EpisodeStepBlock>()({
    request: z
      .strictObject({
        episodeId: episodeIdSchema,
        from: z.number().int().min(0, { error: 'from must be a step number (0 or more)' }),
        to: z.number().int().min(0, { error: 'to must be a step number (0 or more)' }),
      })
      .refine((range) => range.to >= range.from && range.to - range.from <= MAX_STEP_BLOCK, {
        error: `the range needs from <= to and at most ${MAX_STEP_BLOCK} steps`,
        path: ['to'],
      }),
    call: (episodeId: number, from: number, to: number) => ({ episodeId, from, to }),
  }),
  readEpisodeTraces: method<EpisodeTraces>()({
    request: z.strictObject({ episodeId: episodeIdSchema, stride: z.number().int().min(1).max(1000).default(1) }),
    call: (episodeId: number, stride: number = 1) => ({ episodeId, stride }),
  }),
} as const satisfies Record<ApiMethod, AnyMethodSpec>;

type Spec<M extends ApiMethod> = (typeof API)[M];

/** What each method answers on the wire. */
export type ApiResponses = { [M in ApiMethod]: Parameters<Spec<M>['result']>[0] };
export type ApiRequestPayload<M extends ApiMethod> = z.input<Spec<M>['request']>;
export type ApiParsedPayload<M extends ApiMethod> = z.output<Spec<M>['request']>;

/** The backend's implementation of every method (a missing one does not compile), given the parsed payload. */
export type ApiHandlers<Context> = { [M in ApiMethod]: (payload: ApiParsedPayload<M>, context: Context) => ApiResponses[M] };

export const API_ERROR_CODES = ['invalid-request', 'invalid-config', 'not-found', 'busy', 'unauthorized', 'internal'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  code: ApiErrorCode;
  message: string;
  /** invalid-config / invalid-request: the fields at fault. */
  fields?: FieldError[];
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export type ParsedRequest = { [M in ApiMethod]: { method: M; payload: ApiParsedPayload<M> } }[ApiMethod];

/** Validates a request from a UI: the method must exist and its payload match the schema. */
export function parseRequest(method: unknown, payload: unknown): { ok: true; request: ParsedRequest } | { ok: false; error: ApiError } {
  if (typeof method !== 'string' || !Object.hasOwn(API, method)) {
    return { ok: false, error: { code: 'invalid-request', message: `unknown method ${JSON.stringify(method)}; expected one of ${API_METHODS.join(', ')}` } };
  }
  const schema: z.ZodType = API[method as ApiMethod].request;
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    const fields = issuesToFieldErrors(parsed.error.issues);
    return {
      ok: false,
      error: { code: 'invalid-request', message: `${method}: ${fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ')}`, fields },
    };
  }
  return { ok: true, request: { method, payload: parsed.data } as ParsedRequest };
}

// ---------------------------------------------------------------------------------------
// Transports and the typed client

/** What a transport carries: the Electron preload exposes exactly this as `window.headway`. */
export interface ApiTransport {
  invoke(method: ApiMethod, payload: unknown): Promise<ApiResult<unknown>>;
  /** Subscribes to backend events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
export type HeadwayBridge = ApiTransport;

/** A failed request, as the client raises it. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(readonly error: ApiError) {
    super(error.message);
  }
  get code(): ApiErrorCode {
    return this.error.code;
  }
  get fields(): FieldError[] {
    return this.error.fields ?? [];
  }
}

/** The api as the UI uses it, identical over IPC and WebSocket: one method per entry of `API`. */
export type HeadwayApi = {
  readonly transport: Transport;
  onEvent(listener: (event: ApiEvent) => void): () => void;
} & { [M in ApiMethod]: (...args: Parameters<Spec<M>['call']>) => Promise<ReturnType<Spec<M>['result']>> };

export function createApiClient(transport: ApiTransport, kind: Transport): HeadwayApi {
  const client = (method: ApiMethod) => {
    const spec: AnyMethodSpec = API[method];
    return async (...args: unknown[]): Promise<unknown> => {
      const result = await transport.invoke(method, spec.call(...args));
      if (!result.ok) throw new ApiRequestError(result.error);
      return spec.result(result.value);
    };
  };
  const methods = Object.fromEntries(API_METHODS.map((method) => [method, client(method)]));
  return { ...methods, transport: kind, onEvent: (listener: (event: ApiEvent) => void) => transport.onEvent(listener) } as HeadwayApi;
}
