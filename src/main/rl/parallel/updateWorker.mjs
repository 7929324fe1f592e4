// Entry of an update worker thread. Worker threads do not inherit a TypeScript loader that
// the parent registered through tsx's API (bin/headway.mjs, vitest), so this plain-JS entry
// registers tsx before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./updateWorker.ts');
