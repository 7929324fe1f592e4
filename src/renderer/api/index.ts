/**
 * The api the renderer uses: the contract's typed client over Electron IPC (the preload's
 * `window.headway`) or, in browser mode, over the WebSocket of `headway serve`.
 * Stores get it from here; tests install a fake with provideApi.
 */
import { createApiClient, type HeadwayApi } from '../../shared/api.ts';
import { connectWebSocket } from './websocket.ts';

let current: HeadwayApi | null = null;

export function provideApi(api: HeadwayApi | null): void {
  current = api;
}

export function useApi(): HeadwayApi {
  if (current === null) throw new Error('the api is not connected yet');
  return current;
}

export function hasApi(): boolean {
  return current !== null;
}

/** Connects over IPC inside Electron, else over the page's own WebSocket. */
export async function connectApi(onClose: (reason: string) => void): Promise<HeadwayApi> {
  if (window.headway) return createApiClient(window.headway, 'ipc');
  const transport = await connectWebSocket(onClose);
  return createApiClient(transport, 'websocket');
}
