/**
 * The preload of the sandboxed renderer: exposes exactly the api transport of the contract
 * (src/shared/api.ts) as `window.headway`, nothing else of Electron or Node. Only the zod-free
 * list of method names and channels (src/shared/apiMethods.ts) is bundled here; every
 * payload is validated again in the main process.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ApiMethod } from '../shared/apiMethods.ts';
import type { ApiEvent, ApiResult, HeadwayBridge } from '../shared/api.ts';

const bridge: HeadwayBridge = {
  invoke(method: ApiMethod, payload: unknown): Promise<ApiResult<unknown>> {
    if (!API_METHODS.includes(method)) {
      return Promise.resolve({ ok: false, error: { code: 'invalid-request', message: `unknown method ${String(method)}` } });
    }
    return ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, payload) as Promise<ApiResult<unknown>>;
  },
  onEvent(listener: (event: ApiEvent) => void): () => void {
    const handler = (_event: IpcRendererEvent, payload: ApiEvent) => listener(payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.off(IPC_EVENT_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('headway', bridge);
