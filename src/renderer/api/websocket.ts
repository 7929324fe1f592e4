/**
 * The api transport of browser mode: JSON requests and events over the WebSocket of
 * `headway serve` (same origin; the session cookie authenticates it), frames as binary
 * messages (src/shared/frameCodec.ts).
 */
import { WS_PATH, type ApiEvent, type ApiMethod, type ApiResult, type ApiTransport } from '../../shared/api.ts';
import { decodeFrame } from '../../shared/frameCodec.ts';

export function connectWebSocket(onClose: (reason: string) => void): Promise<ApiTransport> {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}${WS_PATH}`);
  socket.binaryType = 'arraybuffer';
  const pending = new Map<number, (result: ApiResult<unknown>) => void>();
  const listeners = new Set<(event: ApiEvent) => void>();
  let nextId = 1;

  const emit = (event: ApiEvent) => {
    for (const listener of listeners) listener(event);
  };

  socket.addEventListener('message', (message: MessageEvent<string | ArrayBuffer>) => {
    if (message.data instanceof ArrayBuffer) {
      emit({ type: 'frame', frame: decodeFrame(message.data) });
      return;
    }
    const data = JSON.parse(message.data) as { id?: number | null; result?: ApiResult<unknown>; event?: ApiEvent };
    if (data.event) emit(data.event);
    else if (typeof data.id === 'number' && data.result) {
      pending.get(data.id)?.(data.result);
      pending.delete(data.id);
    }
  });

  const transport: ApiTransport = {
    invoke(method: ApiMethod, payload: unknown) {
      if (socket.readyState !== WebSocket.OPEN) {
        return Promise.resolve({ ok: false, error: { code: 'internal', message: 'not connected to the Headway server' } });
      }
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, payload }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(transport), { once: true });
    socket.addEventListener('close', (event) => {
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'internal', message: 'connection closed' } });
      pending.clear();
      const reason = event.reason || (event.code === 1006 ? 'the server went away (or refused the session)' : `closed (${event.code})`);
      onClose(reason);
      reject(new Error(reason));
    });
  });
}
