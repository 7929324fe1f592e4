/**
 * `headway serve [--port N]`: the app in a browser. Builds the renderer on first use (or
 * when its sources changed), serves it and the api on 127.0.0.1 with a per-session token,
 * prints the link, and runs until Ctrl-C.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_PORT, startServer, type RunningServer } from '../server/index.ts';
import { ensureRendererBuilt } from '../server/rendererBuild.ts';
import { APP_VERSION } from '../version.ts';
import { parseIntegerOption } from './errors.ts';

export interface ServeCommandOptions {
  port?: string;
  dev?: boolean;
  rebuild?: boolean;
  /** Database training jobs write their runs to (default: the app database, or $HEADWAY_DB). */
  db?: string;
}

/** Starts browser mode and prints its link; resolves with the running server. */
export async function startServe(options: ServeCommandOptions, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RunningServer> {
  // Training job workers open the run store at defaultDatabasePath(), which honours HEADWAY_DB.
  if (options.db !== undefined) process.env.HEADWAY_DB = resolve(options.db);
  const explicitPort = options.port !== undefined;
  const port = explicitPort ? parseIntegerOption('--port', options.port!, 0, 65535) : DEFAULT_PORT;
  if (!options.dev) await ensureRendererBuilt(log, options.rebuild === true);
  const start = (p: number) => startServer({ port: p, dev: options.dev === true, appVersion: APP_VERSION });
  let server: RunningServer;
  try {
    server = await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (explicitPort) throw new Error(`port ${port} is in use; choose another with --port N (0 picks a free one)`);
    server = await start(0);
  }
  process.stdout.write(
    `Headway is running in browser mode${options.dev ? ' (dev: UI from source, hot reload)' : ''}. Open:\n\n  ${server.url}\n\n` +
      `It listens on 127.0.0.1 only; the link carries this session's token. Ctrl-C stops.\n`,
  );
  return server;
}

/** Runs browser mode until SIGINT/SIGTERM. */
export async function runServe(options: ServeCommandOptions): Promise<void> {
  const server = await startServe(options);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write('stopping ...\n');
      void server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Registers `headway serve` on the program. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('the app in a browser: serves the UI and its api on 127.0.0.1 with a per-session token')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PORT}, or a free one if that is taken; 0 picks a free one)`)
    .option('--dev', 'serve the UI from source through Vite with hot reload (development)')
    .option('--rebuild', 'rebuild the UI before serving')
    .option('--db <file>', 'database that runs trained from the app are stored in (default: the app database)')
    .action((options: ServeCommandOptions) => runServe(options));
}
