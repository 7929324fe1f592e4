/**
 * The IPC side of the api, free of Electron imports so it is unit-tested: checks who is
 * asking (only the app's own page) and the payload's size, then hands the request to the
 * api service (the backend process, src/main/backend), which validates it against the contract.
 */
import { pathToFileURL } from 'node:url';
import { MAX_REQUEST_BYTES, type ApiResult } from '../../shared/api.ts';
import type { ApiService, ClientSink } from '../services/api.ts';

/** Whether a frame URL is the app's renderer: its index.html file, or the dev server's origin. */
export function rendererUrlCheck(rendererIndex: string, devUrl?: string): (url: string) => boolean {
  const fileUrl = pathToFileURL(rendererIndex).href;
  const devOrigin = devUrl ? new URL(devUrl).origin : null;
  return (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (devOrigin !== null) return parsed.origin === devOrigin;
    return parsed.protocol === 'file:' && `${parsed.origin === 'null' ? 'file://' : parsed.origin}${parsed.pathname}` === fileUrl;
  };
}

export type IpcInvokeHandler = (senderUrl: string | undefined, method: unknown, payload: unknown, client: ClientSink) => Promise<ApiResult<unknown>>;

export function createIpcHandler(backend: ApiService, isTrustedSender: (url: string) => boolean): IpcInvokeHandler {
  return async (senderUrl, method, payload, client) => {
    if (senderUrl === undefined || !isTrustedSender(senderUrl)) {
      return { ok: false, error: { code: 'unauthorized', message: 'api requests are only accepted from the app window' } };
    }
    let size: number;
    try {
      size = JSON.stringify(payload ?? null)?.length ?? 0;
    } catch {
      return { ok: false, error: { code: 'invalid-request', message: 'the payload is not plain data' } };
    }
    if (size > MAX_REQUEST_BYTES) {
      return { ok: false, error: { code: 'invalid-request', message: `the payload is ${size} bytes; at most ${MAX_REQUEST_BYTES} are accepted` } };
    }
    return backend.handle(method, payload, client);
  };
}
