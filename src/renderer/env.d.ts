/// <reference types="vite/client" />
import type { HeadwayBridge } from '../shared/api.ts';

declare global {
  interface Window {
    /** The Electron preload's api transport; absent in browser mode. */
    headway?: HeadwayBridge;
  }
}

declare global {
  /** Whether the build installs the read-only test hooks (src/renderer/testHooks.ts): HEADWAY_TEST_HOOKS=1 at build time, see electron.vite.config.ts. */
  const __HEADWAY_TEST_HOOKS__: boolean;
}
