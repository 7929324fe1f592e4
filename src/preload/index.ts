/**
 * The preload of the sandboxed renderer: exposes exactly the api transport of the contract
 * (src/shared/api.ts) as `window.headway`, nothing else of Electron or Node. Every payload is
 * validated again in the main process.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS_LIST, IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from './channels.ts';
import type { ApiEvent, ApiMethod, ApiResult, HeadwayBridge } from '../shared/api.ts';

const bridge: HeadwayBridge = {
  invoke(method: ApiMethod, payload: unknown): Promise<ApiResult<unknown>> {
    if (!API_METHODS_LIST.includes(method)) {
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
