/**
 * The Electron main process: one window on the renderer and the api over IPC, served by the
 * backend process (src/main/backend: the run store, jobs and training in a plain Node child,
 * so no native module built for Node ever loads into Electron). Thin: this file wires
 * windows, security, IPC and the backend's supervision dialogs.
 *
 * Security (Electron's checklist): context isolation, sandboxed renderer, no Node in the
 * renderer, a strict Content-Security-Policy, every IPC payload validated here (sender,
 * size) and in the backend (the contract's schema), navigation, new windows and webviews
 * blocked, permissions denied.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session, type WebContents } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ApiEvent } from '../../shared/api.ts';
import { contentSecurityPolicy } from '../../shared/csp.ts';
import type { ClientSink } from '../services/api.ts';
import { backendFailureAdvice, findBackendNode } from '../backend/nodeRuntime.ts';
import { BackendFailure, BackendProcess } from '../backend/process.ts';
import { createIpcHandler, rendererUrlCheck } from './ipc.ts';
import { buildMenu } from './menu.ts';
import { hardenSession, hardenWebContents } from './security.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, '../preload/index.cjs');
const RENDERER_INDEX = join(here, '../renderer/index.html');
const BACKEND_ENTRY = join(here, 'backend.js');
/** Set by `electron-vite dev`: the renderer comes from Vite's dev server. */
const DEV_URL = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

const node = findBackendNode({ env: process.env, platform: process.platform, resourcesPath: app.isPackaged ? process.resourcesPath : undefined });
const backend =
  'path' in node
    ? new BackendProcess({ node: node.path, entry: BACKEND_ENTRY, launch: { appVersion: app.getVersion(), electron: process.versions.electron } })
    : null;
const handleInvoke = backend && createIpcHandler(backend, rendererUrlCheck(RENDERER_INDEX, DEV_URL));
const sinks = new Map<number, ClientSink>();

function sinkFor(contents: WebContents, service: BackendProcess): ClientSink {
  let sink = sinks.get(contents.id);
  if (!sink) {
    const client: ClientSink = {
      send(event: ApiEvent) {
        if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event);
      },
    };
    const disconnect = service.connect(client);
    contents.once('destroyed', () => {
      disconnect();
      sinks.delete(contents.id);
    });
    sinks.set(contents.id, client);
    sink = client;
  }
  return sink;
}

/** Why the backend is not running, and what fixes it. */
function failureDetail(reason: string): string {
  return `${reason}\n\n${backendFailureAdvice(reason, { node: 'path' in node ? node : null, appRoot: app.getAppPath(), packaged: app.isPackaged })}`;
}

/** Shows why the backend is not running and what fixes it; true when the user asks to try again. */
function askRetry(title: string, reason: string): boolean {
  const choice = dialog.showMessageBoxSync({
    type: 'error',
    title: 'Headway',
    message: title,
    detail: failureDetail(reason),
    buttons: ['Try again', 'Quit'],
    defaultId: 0,
    cancelId: 1,
    noLink: true,
  });
  return choice === 0;
}

/** Starts the backend, asking to retry while it fails; false when the user quits instead. */
async function startBackend(service: BackendProcess): Promise<boolean> {
  for (;;) {
    try {
      await service.start();
      return true;
    } catch (error) {
      const reason = error instanceof BackendFailure ? error.message : String(error);
      if (!askRetry('Headway could not start its backend', reason)) return false;
    }
  }
}

function createWindow(service: BackendProcess): void {
  const window = new BrowserWindow({
    width: 1480,
    height: 920,
    minWidth: 1080,
    minHeight: 660,
    title: 'Headway',
    backgroundColor: '#0e1217',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  sinkFor(window.webContents, service);
  window.once('ready-to-show', () => window.show());
  if (DEV_URL) void window.loadURL(DEV_URL);
  else void window.loadFile(RENDERER_INDEX);
}

let quitting = false;

void app.whenReady().then(async () => {
  if (!backend || !handleInvoke) {
    dialog.showErrorBox('Headway could not start its backend', failureDetail('missing' in node ? node.missing : 'no Node.js'));
    app.exit(1);
    return;
  }
  hardenSession(session.defaultSession, contentSecurityPolicy({ dev: DEV_URL !== undefined, header: true }));
  Menu.setApplicationMenu(buildMenu(!app.isPackaged));
  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, payload: unknown) =>
    handleInvoke(event.senderFrame?.url, method, payload, sinkFor(event.sender, backend)),
  );
  // The window opens while the backend starts; its first requests wait for it.
  const started = startBackend(backend);
  createWindow(backend);
  if (!(await started)) return app.exit(1);
  backend.onUnexpectedExit((failure) => {
    if (quitting) return;
    const detail = `${failure.message}\n\nJobs that were running have stopped; the runs they trained are in the history and resume from their last checkpoint.`;
    if (!askRetry('The Headway backend stopped', detail)) return app.quit();
    void startBackend(backend).then((ok) => {
      if (!ok) return app.quit();
      for (const window of BrowserWindow.getAllWindows()) window.webContents.reload();
    });
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(backend);
  });
});

app.on('before-quit', (event) => {
  if (quitting || !backend) return;
  // Stop the backend's jobs before the app goes.
  event.preventDefault();
  quitting = true;
  void backend.stop().finally(() => app.quit());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
