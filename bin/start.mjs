#!/usr/bin/env node
// `npm start`: the desktop app where Electron is installed, else browser mode (prints the link).
import { register } from 'tsx/esm/api';

register();
const { launch } = await import('../src/main/cli/start.ts');
process.exitCode = await launch();
