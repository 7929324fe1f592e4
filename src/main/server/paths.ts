/** Where the repository's parts are, seen from this source tree (src/main/server). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built renderer (electron-vite build, or `headway serve` on first use). */
export const RENDERER_OUT = join(REPO_ROOT, 'out', 'renderer');
/** Sources whose changes make the built renderer stale. */
export const RENDERER_SOURCES = [join(REPO_ROOT, 'src', 'renderer'), join(REPO_ROOT, 'src', 'shared'), join(REPO_ROOT, 'electron.vite.config.ts')];
