/// <reference types="vite/client" />
import type { HeadwayBridge } from '../shared/api.ts';

declare global {
  interface Window {
    /** The Electron preload's api transport; absent in browser mode. */
    headway?: HeadwayBridge;
  }
}
