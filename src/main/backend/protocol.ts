/**
 * Messages between the desktop app's Electron main process and its backend process (a plain
 * Node child: the run store, the jobs, training). They travel over Node's IPC channel as
 * JSON, which any two Node versions read alike (V8's structured-clone format differs between
 * Electron's V8 and Node's). Live frames, the one high-rate message, go in the frame codec's
 * binary layout as base64 rather than as arrays of JSON numbers.
 */
import type { ApiEvent, ApiResult } from '../../shared/api.ts';

/** An api request of one window (clientId), answered by a `result` with the same id. */
export interface BackendRequest {
  type: 'request';
  id: number;
  clientId: number;
  method: unknown;
  payload: unknown;
}

export type ToBackend = BackendRequest | { type: 'shutdown' };

/** Where an event goes: one window (the one whose request caused it), or every window (null). */
export type EventTarget = number | null;

export type FromBackend =
  /** Started: the store module loads and requests are served. */
  | { type: 'ready'; node: string; modules: string }
  /** Cannot serve: sent once, before the process exits. */
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; result: ApiResult<unknown> }
  | { type: 'event'; to: EventTarget; event: Exclude<ApiEvent, { type: 'frame' }> }
  /** A live frame, encoded by src/shared/frameCodec.ts, in base64. */
  | { type: 'frame'; to: EventTarget; frame: string };

/** What the main process passes to the backend process on its command line (one JSON argument). */
export interface BackendLaunch {
  appVersion: string;
  /** The Electron version of the window, for the status bar. */
  electron: string;
}
