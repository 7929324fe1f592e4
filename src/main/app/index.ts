/**
 * The Electron main process: one window on the renderer, the api over IPC, jobs in worker
 * threads. Thin: the work is in src/main/services (the api backend, the job runner) and
 * src/main/jobs (the workers); this file wires windows, security and IPC.
 *
 * Security (Electron's checklist): context isolation, sandboxed renderer, no Node in the
 * renderer, a strict Content-Security-Policy, every IPC payload validated here (sender,
 * size, then the contract's schema), navigation, new windows and webviews blocked,
 * permissions denied.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, Menu, session, type WebContents } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ApiEvent } from '../../shared/api.ts';
import { contentSecurityPolicy } from '../../shared/csp.ts';
import { JobRunner } from '../services/jobs.ts';
import { ApiBackend, type ClientSink } from '../services/api.ts';
import { createIpcHandler, rendererUrlCheck } from './ipc.ts';
import { buildMenu } from './menu.ts';
import { hardenSession, hardenWebContents } from './security.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, '../preload/index.cjs');
const RENDERER_INDEX = join(here, '../renderer/index.html');
const JOB_WORKER = join(here, 'job-worker.js');
/** Set by `electron-vite dev`: the renderer comes from Vite's dev server. */
const DEV_URL = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

const runner = new JobRunner({ workerEntry: JOB_WORKER });
const backend = new ApiBackend(runner, {
  appVersion: app.getVersion(),
  transport: 'ipc',
  host: `Electron ${process.versions.electron}, Node ${process.versions.node}`,
});
const handleInvoke = createIpcHandler(backend, rendererUrlCheck(RENDERER_INDEX, DEV_URL));
const sinks = new Map<number, ClientSink>();

function sinkFor(contents: WebContents): ClientSink {
  let sink = sinks.get(contents.id);
  if (!sink) {
    const client: ClientSink = {
      send(event: ApiEvent) {
        if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event);
      },
    };
    const disconnect = backend.connect(client);
    contents.once('destroyed', () => {
      disconnect();
      sinks.delete(contents.id);
    });
    sinks.set(contents.id, client);
    sink = client;
  }
  return sink;
}

ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, payload: unknown) =>
  handleInvoke(event.senderFrame?.url, method, payload, sinkFor(event.sender)),
);

function createWindow(): void {
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
  sinkFor(window.webContents);
  window.once('ready-to-show', () => window.show());
  if (DEV_URL) void window.loadURL(DEV_URL);
  else void window.loadFile(RENDERER_INDEX);
}

void app.whenReady().then(() => {
  hardenSession(session.defaultSession, contentSecurityPolicy({ dev: DEV_URL !== undefined, header: true }));
  Menu.setApplicationMenu(buildMenu(!app.isPackaged));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting) return;
  // Stop the jobs' workers before the process goes.
  event.preventDefault();
  quitting = true;
  void runner.shutdown().finally(() => app.quit());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
