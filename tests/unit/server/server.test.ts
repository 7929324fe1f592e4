import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ApiResult, JobInfo } from '../../../src/shared/api.ts';
import { decodeFrame } from '../../../src/shared/frameCodec.ts';
import { startServer, type RunningServer } from '../../../src/main/server/index.ts';
import { tempDir } from '../cli/cli.helpers.ts';

let server: RunningServer;
let cookie = '';

beforeAll(async () => {
  const dir = tempDir('headway-renderer-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Headway</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  server = await startServer({ port: 0, rendererDir: dir, token: 'test-token-123', appVersion: '9.9.9' });
});

afterAll(async () => {
  await server?.close();
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('headway serve: the page', () => {
  it('listens on 127.0.0.1 and prints a link with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=test-token-123`);
  });

  it('refuses requests without the session token', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong-token-123')).status).toBe(401);
    expect((await get('/assets/app.js')).status).toBe(401);
  });

  it('trades the token for an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const res = await get('/?token=test-token-123&stress');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/?stress=');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    cookie = setCookie.split(';')[0];
  });

  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const page = await get('/', { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Headway</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const script = await get('/assets/app.js', { cookie });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toContain('text/javascript');
  });

  it('refuses other hosts (DNS rebinding), other methods and paths outside the renderer', async () => {
    expect((await get('/', { cookie, host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get('/', { cookie }, 'POST')).status).toBe(405);
    expect((await get('/..%2f..%2f..%2fetc%2fpasswd', { cookie })).status).toBe(403);
    expect((await get('/missing.js', { cookie })).status).toBe(404);
  });
});

describe('headway serve: the api WebSocket', () => {
  const origin = () => `http://127.0.0.1:${server.port}`;

  it('needs the session and the server own origin', async () => {
    await expect(connect({ origin: origin() })).rejects.toThrow('HTTP 401');
    await expect(connect({ cookie, origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
  });

  it('serves the contract: requests, field errors, events and binary frames', async () => {
    const ws = await connect({ cookie, origin: origin() });
    const replies = new Map<number, ApiResult<unknown>>();
    const frames: number[] = [];
    const jobEvents: string[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const bytes = new Uint8Array(data);
        frames.push(decodeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).step);
        return;
      }
      const message = JSON.parse(data.toString()) as { id?: number; result?: ApiResult<unknown>; event?: { type: string; job?: JobInfo } };
      if (message.result && typeof message.id === 'number') replies.set(message.id, message.result);
      if (message.event?.type === 'job') jobEvents.push(message.event.job!.status);
    });
    const call = async (id: number, method: string, payload: unknown) => {
      ws.send(JSON.stringify({ id, method, payload }));
      const deadline = Date.now() + 10_000;
      while (!replies.has(id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      return replies.get(id)!;
    };
    expect(await call(1, 'hello', {})).toMatchObject({ ok: true, value: { apiVersion: 1, appVersion: '9.9.9', transport: 'websocket' } });
    expect(await call(2, 'validateJob', { config: { kind: 'simulate', scenario: 'ring', params: { length: 10 } } })).toMatchObject({
      ok: true,
      value: { errors: [{ field: 'params.length' }] },
    });
    ws.send('not json');
    ws.send(JSON.stringify({ id: 3, method: 'startJob', payload: { config: { kind: 'simulate', scenario: 'ring', params: { horizon: 30 }, speed: 'max' } } }));
    const deadline = Date.now() + 15_000;
    while (!jobEvents.includes('finished') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(replies.get(3)).toMatchObject({ ok: true, value: { kind: 'simulate', status: 'starting' } });
    expect(jobEvents).toContain('finished');
    expect(frames.at(-1)).toBe(30);
    ws.close();
  });
});
