/**
 * Browser mode: serves the renderer and the same api as the desktop app, over a WebSocket,
 * on 127.0.0.1 only.
 *
 * Access needs the per-session token printed with the URL. The first page load carries it
 * as ?token=...; the server answers with an HttpOnly, SameSite=Strict session cookie and
 * redirects to the same page without the token, so it leaves the address bar. Every later
 * request (assets, the WebSocket upgrade) must carry that cookie (or the token). The Host
 * header must name the server itself (no DNS rebinding) and a WebSocket's Origin must be
 * the server's own origin (no cross-site WebSocket hijacking).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_REQUEST_BYTES, WS_PATH, type ApiEvent, type ApiResult } from '../../shared/api.ts';
import { contentSecurityPolicy } from '../../shared/csp.ts';
import { encodeFrame } from '../../shared/frameCodec.ts';
import { JobRunner } from '../services/jobs.ts';
import { ApiBackend, type ClientSink } from '../services/api.ts';
import { RENDERER_OUT } from './paths.ts';

export const DEFAULT_PORT = 8877;
export const HOST = '127.0.0.1';
/** A slow client skips frames while this much is queued to it (other events always go). */
const FRAME_BACKLOG_BYTES = 4 * 1024 * 1024;

export interface ServeOptions {
  /** 0 picks a free port. */
  port?: number;
  /** The session token; default: 32 random bytes. */
  token?: string;
  /** Directory of the built renderer (default out/renderer). */
  rendererDir?: string;
  /** Serve the renderer from source through Vite (hot reload) instead of the build. */
  dev?: boolean;
  runner?: JobRunner;
  appVersion?: string;
}

export interface RunningServer {
  /** The URL to open: origin, path and ?token=. */
  url: string;
  origin: string;
  port: number;
  token: string;
  runner: JobRunner;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return null;
}

const UNAUTHORIZED_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Headway</title><body style="font:15px system-ui;background:#0f1319;color:#d6dde8;padding:3em">' +
  '<h1 style="font-weight:600">Headway</h1><p>This page needs the session link that <code>headway serve</code> printed ' +
  '(it ends in <code>?token=...</code>). Open that link, or restart <code>headway serve</code> for a new one.</p>';

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const rendererDir = options.rendererDir ?? RENDERER_OUT;
  const runner = options.runner ?? new JobRunner();
  const ownsRunner = options.runner === undefined;
  const server: Server = createServer();
  let port = options.port ?? DEFAULT_PORT;
  const cookieName = () => `headway_session_${port}`;
  const allowedHosts = () => new Set([`${HOST}:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://${HOST}:${port}`, `http://localhost:${port}`]);

  // Created once the port is known (hello reports it).
  let backend: ApiBackend | null = null;

  // Vite in middleware mode when serving from source.
  let vite: import('vite').ViteDevServer | null = null;
  if (options.dev) {
    const [{ createServer: createViteServer }, { rendererConfig }] = await Promise.all([
      import('vite'),
      import('../../../electron.vite.config.ts'),
    ]);
    vite = await createViteServer({
      ...rendererConfig,
      configFile: false,
      appType: 'spa',
      server: { middlewareMode: true, hmr: { server } },
    });
  }

  const authorized = (req: IncomingMessage, url: URL): boolean =>
    sameToken(cookieValue(req, cookieName()), token) || sameToken(url.searchParams.get('token'), token);

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy({ dev: options.dev, header: true, connect: [`ws://${HOST}:${port}`, `ws://localhost:${port}`] }));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  server.on('request', (req, res) => {
    void handleHttp(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden: unknown Host');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (!authorized(req, url)) {
      res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' }).end(UNAUTHORIZED_PAGE);
      return;
    }
    if (url.searchParams.has('token')) {
      // Trade the token for a session cookie and take it out of the address bar.
      url.searchParams.delete('token');
      res.writeHead(302, {
        'Set-Cookie': `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        Location: `${url.pathname}${url.search}`,
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (vite) {
      vite.middlewares(req, res, () => res.writeHead(404).end('not found'));
      return;
    }
    await serveStatic(url.pathname, req, res);
  }

  async function serveStatic(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end('bad path');
      return;
    }
    if (relative.endsWith('/')) relative += 'index.html';
    const file = normalize(join(rendererDir, relative));
    if (!file.startsWith(normalize(rendererDir + sep)) || relative.includes('\0')) {
      res.writeHead(403).end('forbidden');
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const body = await readFile(file);
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'private, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  // The api WebSocket.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (url.pathname !== WS_PATH) {
      // Vite's hot-reload socket (dev) handles its own upgrades; nothing else is served.
      if (!vite) socket.destroy();
      return;
    }
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse('403 Forbidden');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuse('403 Forbidden');
    if (!authorized(req, url)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  function onConnection(ws: WebSocket): void {
    if (!backend) {
      ws.close(1013, 'starting');
      return;
    }
    const api = backend;
    const sink: ClientSink = {
      send(event: ApiEvent) {
        if (ws.readyState !== ws.OPEN) return;
        if (event.type === 'frame') {
          if (ws.bufferedAmount > FRAME_BACKLOG_BYTES) return;
          ws.send(encodeFrame(event.frame), { binary: true });
        } else {
          ws.send(JSON.stringify({ event }));
        }
      },
    };
    const disconnect = api.connect(sink);
    ws.on('close', disconnect);
    ws.on('error', disconnect);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void respond(api, ws, sink, data, isBinary);
    });
  }

  async function respond(api: ApiBackend, ws: WebSocket, sink: ClientSink, data: RawData, isBinary: boolean): Promise<void> {
    let id: unknown = null;
    let result: ApiResult<unknown>;
    try {
      if (isBinary) throw new Error('requests are JSON text messages');
      const message = JSON.parse(data.toString()) as { id?: unknown; method?: unknown; payload?: unknown };
      if (typeof message !== 'object' || message === null) throw new Error('a request is an object {id, method, payload}');
      id = message.id;
      if (!Number.isSafeInteger(id)) throw new Error('a request needs an integer id');
      result = await api.handle(message.method, message.payload, sink);
    } catch (error) {
      result = { ok: false, error: { code: 'invalid-request', message: error instanceof Error ? error.message : String(error) } };
    }
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: Number.isSafeInteger(id) ? id : null, result }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address && typeof address === 'object') port = address.port;
  backend = new ApiBackend(runner, {
    appVersion: options.appVersion ?? '0.0.0',
    transport: 'websocket',
    host: `Node ${process.versions.node} on ${HOST}:${port}`,
  });
  const api = backend;

  const origin = `http://${HOST}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    runner,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      api.dispose();
      await vite?.close();
      if (ownsRunner) await runner.shutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
