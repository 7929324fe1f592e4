#!/usr/bin/env node
// `npm run dist`: the installable desktop app for this platform, in dist/ (src/main/cli/dist.ts).
import { register } from 'tsx/esm/api';

register();
const { runDist } = await import('../src/main/cli/dist.ts');
process.exitCode = runDist(process.argv.slice(2));
