/**
 * Which Node runs the desktop app's backend process, and what to tell the user when it cannot
 * start. The backend must run on a Node whose ABI matches the native modules `npm install`
 * built (better-sqlite3), so: the Node that ran `npm start` (the launcher passes it as
 * HEADWAY_NODE), else the Node shipped inside a packaged app (`npm run dist` copies the Node
 * that built its modules), else `node` on the PATH.
 */
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type NodeSource = 'HEADWAY_NODE' | 'bundled' | 'PATH';
export interface NodeChoice {
  path: string;
  source: NodeSource;
}

export interface NodeSearch {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Set in a packaged app: its resources folder (Electron's process.resourcesPath). */
  resourcesPath?: string;
}

/** The file name of Node's executable on a platform. */
export const nodeExecutableName = (platform: NodeJS.Platform): string => (platform === 'win32' ? 'node.exe' : 'node');

/** Where a packaged app carries its Node (electron-builder's extraResources, see electron-builder.config.mjs). */
export const bundledNodePath = (resourcesPath: string, platform: NodeJS.Platform): string => join(resourcesPath, 'node', nodeExecutableName(platform));

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();

export function findBackendNode({ env, platform, resourcesPath }: NodeSearch): NodeChoice | { missing: string } {
  if (env.HEADWAY_NODE) {
    if (isFile(env.HEADWAY_NODE)) return { path: env.HEADWAY_NODE, source: 'HEADWAY_NODE' };
    return { missing: `HEADWAY_NODE names ${env.HEADWAY_NODE}, which is not a file` };
  }
  if (resourcesPath !== undefined) {
    const bundled = bundledNodePath(resourcesPath, platform);
    if (isFile(bundled)) return { path: bundled, source: 'bundled' };
  }
  const name = nodeExecutableName(platform);
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, name))) return { path: join(dir, name), source: 'PATH' };
  }
  return { missing: 'no Node.js was found for the backend (not HEADWAY_NODE, not bundled with the app, not on the PATH)' };
}

export interface FailureContext {
  /** The Node that was tried, if one was found. */
  node: NodeChoice | null;
  /** The app's folder (the repository when run from source). */
  appRoot: string;
  packaged: boolean;
}

/** What the user can run to fix a backend that would not start, from its error message. */
export function backendFailureAdvice(message: string, { node, appRoot, packaged }: FailureContext): string {
  if (packaged) return 'The installed app is damaged or incomplete: reinstall Headway.';
  if (node === null) return 'Install Node.js 20.19 or newer (https://nodejs.org), or set HEADWAY_NODE to a Node executable, then start Headway again.';
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version|ERR_DLOPEN_FAILED|invalid ELF header|not a valid Win32 application/.test(message)) {
    return `The SQLite module was built for another Node than ${node.path}. Rebuild it for this one:\n\n  cd "${appRoot}" && npm rebuild better-sqlite3\n\n(run with that Node on the PATH), or set HEADWAY_NODE to the Node that ran npm install.`;
  }
  if (/Cannot find (module|package)/.test(message)) return `A dependency is missing. Install them:\n\n  cd "${appRoot}" && npm install`;
  return `See the terminal for the backend's log. Rebuilding usually helps:\n\n  cd "${appRoot}" && npm install && npm run build`;
}
