/**
 * The Electron main process's side of the backend process: starts it on a plain Node
 * (nodeRuntime.ts), serves the api contract through it as if it were the in-process
 * ApiBackend (same `connect` and `handle`), and supervises it: a start that fails or a
 * backend that dies is reported with its reason, every request in flight is answered with
 * an error, and `start` again brings up a new one for the same windows.
 *
 * Free of Electron imports, so it is tested in plain Node (tests/unit/backend).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ApiResult } from '../../shared/api.ts';
import { decodeFrame } from '../../shared/frameCodec.ts';
import type { ApiService, ClientSink } from '../services/api.ts';
import type { BackendLaunch, EventTarget, FromBackend, ToBackend } from './protocol.ts';

export interface BackendProcessOptions {
  /** The Node executable. */
  node: string;
  /** The backend's script (out/main/backend.js). */
  entry: string;
  launch: BackendLaunch;
  env?: NodeJS.ProcessEnv;
  /** How long a start may take before it counts as failed (default 60 s: a cold disk, a slow machine). */
  startTimeoutMs?: number;
}

/** The backend could not start, or stopped: `message` says why (its own error, or its exit and last log lines). */
export class BackendFailure extends Error {
  override name = 'BackendFailure';
}

/** The last few lines of the backend's stderr, for failure messages. */
const LOG_TAIL_CHARS = 2000;

export class BackendProcess implements ApiService {
  private child: ChildProcess | null = null;
  private readonly clients = new Map<ClientSink, number>();
  private nextClientId = 1;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (result: ApiResult<unknown>) => void>();
  private readonly exitListeners = new Set<(failure: BackendFailure) => void>();
  private logTail = '';
  private stopping = false;
  /** The running backend's Node version and ABI, once started. */
  ready: { node: string; modules: string } | null = null;
  private starting: Promise<unknown> | null = null;

  constructor(private readonly options: BackendProcessOptions) {}

  /** The backend's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the backend process and waits until it serves requests (requests meanwhile wait for it). Rejects with a BackendFailure. */
  start(): Promise<{ node: string; modules: string }> {
    if (this.child) throw new Error('the backend process is already running');
    const starting = this.spawn();
    this.starting = starting;
    return starting;
  }

  private spawn(): Promise<{ node: string; modules: string }> {
    this.stopping = false;
    this.logTail = '';
    const child = spawn(this.options.node, [this.options.entry, JSON.stringify(this.options.launch)], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
      env: this.options.env ?? process.env,
      windowsHide: true,
    });
    this.child = child;
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.logTail = (this.logTail + chunk.toString()).slice(-LOG_TAIL_CHARS);
    });
    return new Promise((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => {
        fail(new BackendFailure(`the backend process did not start within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s`));
        child.kill();
      }, this.options.startTimeoutMs ?? 60_000);
      const fail = (failure: BackendFailure): void => {
        clearTimeout(timer);
        if (!started) {
          started = true;
          reject(failure);
        }
      };
      child.on('error', (error) => fail(new BackendFailure(`cannot run ${this.options.node}: ${error.message}`)));
      child.on('message', (message: FromBackend) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          started = true;
          this.ready = { node: message.node, modules: message.modules };
          resolve(this.ready);
        } else if (message.type === 'fatal') {
          fail(new BackendFailure(message.message));
        } else {
          this.receive(message);
        }
      });
      child.on('exit', (code, signal) => {
        const failure = new BackendFailure(this.exitReason(code, signal));
        fail(failure);
        this.onExit(child, failure);
      });
    });
  }

  connect(client: ClientSink): () => void {
    this.clients.set(client, this.nextClientId++);
    return () => this.clients.delete(client);
  }

  async handle(method: unknown, payload: unknown, client: ClientSink | null): Promise<ApiResult<unknown>> {
    await this.starting?.catch(() => undefined);
    const child = this.child;
    if (!child?.connected || this.ready === null) {
      return { ok: false, error: { code: 'internal', message: 'the Headway backend is not running' } };
    }
    const id = this.nextRequestId++;
    const clientId = client === null ? 0 : (this.clients.get(client) ?? 0);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ type: 'request', id, clientId, method, payload });
    });
  }

  /** Called with the reason when the backend stops without being asked to. */
  onUnexpectedExit(listener: (failure: BackendFailure) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Asks the backend to stop its jobs and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) this.send({ type: 'shutdown' });
    else child.kill();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private send(message: ToBackend): void {
    this.child?.send(message);
  }

  private receive(message: FromBackend): void {
    switch (message.type) {
      case 'result': {
        const resolve = this.pending.get(message.id);
        this.pending.delete(message.id);
        resolve?.(message.result);
        break;
      }
      case 'event':
        this.deliver(message.to, (client) => client.send(message.event));
        break;
      case 'frame': {
        const bytes = Buffer.from(message.frame, 'base64');
        const frame = decodeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
        this.deliver(message.to, (client) => client.send({ type: 'frame', frame }));
        break;
      }
    }
  }

  private deliver(to: EventTarget, deliver: (client: ClientSink) => void): void {
    for (const [client, id] of this.clients) if (to === null || to === id) deliver(client);
  }

  private exitReason(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    const log = this.logTail.trim();
    return `the backend process ${how}${log ? `; its last output:\n${log}` : ''}`;
  }

  private onExit(child: ChildProcess, failure: BackendFailure): void {
    if (this.child !== child) return;
    this.child = null;
    const wasReady = this.ready !== null;
    this.ready = null;
    for (const resolve of this.pending.values()) resolve({ ok: false, error: { code: 'internal', message: failure.message } });
    this.pending.clear();
    if (wasReady && !this.stopping) for (const listener of this.exitListeners) listener(failure);
  }
}
