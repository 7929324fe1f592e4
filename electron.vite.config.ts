/**
 * Build of the desktop app (`electron-vite build` -> out/main, out/preload, out/renderer) and
 * of the renderer alone for browser mode (`headway serve` builds `rendererConfig` with Vite on
 * first use, into the same out/renderer).
 *
 * HEADWAY_TEST_HOOKS=1 at build time builds the renderer with its read-only test hooks
 * (src/renderer/testHooks.ts, for tests/e2e and the UI benchmarks) and marks the build with
 * a `test-hooks` file, so that `headway serve` rebuilds when the wish changes; any other
 * build has no hooks.
 */
import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import type { Plugin, UserConfig } from 'vite';
import { contentSecurityPolicy } from './src/shared/csp.ts';

const root = import.meta.dirname;

/** Writes the page's Content-Security-Policy meta (src/shared/csp.ts); Vite's dev server needs the relaxed one. */
function cspMeta(): Plugin {
  return {
    name: 'headway:csp',
    transformIndexHtml: {
      order: 'pre',
      handler: (html, context) => {
        return html.replace('%HEADWAY_CSP%', contentSecurityPolicy({ dev: context.server !== undefined }));
      },
    },
  };
}

const testHooks = process.env.HEADWAY_TEST_HOOKS === '1';

/** Marks a build with test hooks: out/renderer/test-hooks (src/main/server/rendererBuild.ts reads it). */
function testHooksMark(): Plugin {
  return {
    name: 'headway:test-hooks',
    apply: 'build',
    generateBundle() {
      if (testHooks) this.emitFile({ type: 'asset', fileName: 'test-hooks', source: 'built with HEADWAY_TEST_HOOKS=1\n' });
    },
  };
}

export const rendererConfig: UserConfig = {
  root: resolve(root, 'src/renderer'),
  base: './',
  plugins: [vue(), cspMeta(), testHooksMark()],
  define: { __HEADWAY_TEST_HOOKS__: JSON.stringify(testHooks) },
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    target: 'chrome120',
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments rollup cannot place; harmless noise on every first `headway serve`.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: { fs: { allow: [root] } },
};

export default defineConfig({
  main: {
    build: {
      // The Electron main process; the backend process it starts on plain Node
      // (src/main/backend); the job worker threads the backend starts; and the update worker
      // threads a training job starts (rl/parallel/updatePool.ts finds update-worker.js beside it).
      lib: {
        entry: {
          index: resolve(root, 'src/main/app/index.ts'),
          backend: resolve(root, 'src/main/backend/host.ts'),
          'job-worker': resolve(root, 'src/main/jobs/worker.ts'),
          'update-worker': resolve(root, 'src/main/rl/parallel/updateWorker.ts'),
        },
      },
    },
  },
  preload: {
    // Sandboxed preloads must be one CommonJS file.
    build: { lib: { entry: resolve(root, 'src/preload/index.ts'), formats: ['cjs'] }, externalizeDeps: false },
  },
  renderer: rendererConfig,
});
