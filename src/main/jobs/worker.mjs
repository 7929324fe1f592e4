// Entry of a job worker thread when Headway runs from source (CLI, `headway serve`, tests):
// worker threads do not inherit the TypeScript loader the parent registered through tsx's
// API, so this plain-JS entry registers it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
