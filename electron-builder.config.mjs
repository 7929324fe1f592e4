/**
 * `npm run dist` (src/main/cli/dist.ts) packages the desktop app with electron-builder for
 * the host platform: an AppImage on Linux, a dmg on macOS, an NSIS installer on Windows, in
 * dist/.
 *
 * The app's backend runs on plain Node (src/main/backend), so the package carries that Node:
 * the one that ran `npm install` and built the native modules (better-sqlite3), staged by
 * `npm run dist` into out/node-runtime and shipped as resources/node. Hence:
 * - npmRebuild: false: the native modules stay built for that Node; none loads into Electron.
 * - asar: false: plain Node cannot read inside an asar archive, and the backend, its job and
 *   update workers and node_modules are read by it.
 */
import { readFileSync } from 'node:fs';

const installedElectron = JSON.parse(readFileSync(new URL('./node_modules/electron/package.json', import.meta.url), 'utf8')).version;

export default {
  appId: 'org.headway.desktop',
  productName: 'Headway',
  electronVersion: installedElectron,
  directories: { output: 'dist' },
  files: ['out/main/**/*', 'out/preload/**/*', 'out/renderer/**/*', 'package.json', '!node_modules/electron{,/**/*}'],
  asar: false,
  npmRebuild: false,
  nodeGypRebuild: false,
  // Staged by src/main/cli/dist.ts; the app finds it at resources/node (src/main/backend/nodeRuntime.ts).
  extraResources: [{ from: 'out/node-runtime', to: 'node' }],
  linux: { target: ['AppImage'], category: 'Science' },
  mac: { target: ['dmg'], category: 'public.app-category.education' },
  win: { target: ['nsis'] },
};
