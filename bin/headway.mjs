#!/usr/bin/env node
// Runs the TypeScript CLI straight from source through tsx: no build step before first use.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
