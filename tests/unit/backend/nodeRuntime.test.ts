import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendFailureAdvice, bundledNodePath, findBackendNode } from '../../../src/main/backend/nodeRuntime.ts';

const scratch = mkdtempSync(join(tmpdir(), 'headway-node-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fakeNode(dir: string, name = 'node'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('the Node of the backend process', () => {
  const onPath = fakeNode(join(scratch, 'bin'));
  const resources = join(scratch, 'resources');
  const bundled = fakeNode(join(resources, 'node'));
  const explicit = fakeNode(join(scratch, 'explicit'));
  const PATH = [join(scratch, 'empty'), join(scratch, 'bin')].join(delimiter);

  it('is HEADWAY_NODE (the Node that ran npm start), else the bundled one, else the first on the PATH', () => {
    expect(findBackendNode({ env: { HEADWAY_NODE: explicit, PATH }, platform: 'linux', resourcesPath: resources })).toEqual({ path: explicit, source: 'HEADWAY_NODE' });
    expect(findBackendNode({ env: { PATH }, platform: 'linux', resourcesPath: resources })).toEqual({ path: bundled, source: 'bundled' });
    expect(findBackendNode({ env: { PATH }, platform: 'linux' })).toEqual({ path: onPath, source: 'PATH' });
    expect(findBackendNode({ env: { PATH }, platform: 'linux', resourcesPath: join(scratch, 'no-resources') })).toEqual({ path: onPath, source: 'PATH' });
    expect(bundledNodePath('/r', 'win32')).toBe(join('/r', 'node', 'node.exe'));
  });

  it('says why there is none', () => {
    expect(findBackendNode({ env: { HEADWAY_NODE: join(scratch, 'gone') }, platform: 'linux' })).toEqual({ missing: `HEADWAY_NODE names ${join(scratch, 'gone')}, which is not a file` });
    expect(findBackendNode({ env: { PATH: join(scratch, 'empty') }, platform: 'linux' })).toMatchObject({ missing: expect.stringMatching(/no Node\.js was found/) });
  });

  it('advises the command that fixes a failed start', () => {
    const node = { path: '/usr/bin/node', source: 'PATH' } as const;
    const context = { node, appRoot: '/home/u/headway', packaged: false };
    const abi =
      "The module '/home/u/headway/node_modules/better-sqlite3/build/Release/better_sqlite3.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 115. This version of Node.js requires NODE_MODULE_VERSION 127.";
    expect(backendFailureAdvice(abi, context)).toMatch(/built for another Node than \/usr\/bin\/node[\s\S]*cd "\/home\/u\/headway" && npm rebuild better-sqlite3/);
    expect(backendFailureAdvice("Error: Cannot find package 'zod'", context)).toMatch(/npm install/);
    expect(backendFailureAdvice('the backend process exited with code 1', context)).toMatch(/npm install && npm run build/);
    expect(backendFailureAdvice(abi, { ...context, node: null })).toMatch(/Install Node\.js 20\.19 or newer.*HEADWAY_NODE/);
    expect(backendFailureAdvice(abi, { ...context, packaged: true })).toBe('The installed app is damaged or incomplete: reinstall Headway.');
  });
});
