/**
 * Where the app's database lives: the folder Electron's app.getPath('userData') gives for
 * the app name "Headway", computed here without Electron so the CLI and the training
 * process find the same file as the app.
 */
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

export const DATABASE_FILE_NAME = 'headway.db';
const APP_FOLDER = 'Headway';
const BACKEND_CHECKS_FILE_NAME = 'backend-checks.json';

/** The HEADWAY_DB environment variable, when set, names the database instead. */
export function defaultDatabasePath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.HEADWAY_DB) return env.HEADWAY_DB;
  switch (platform) {
    case 'win32':
      return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), APP_FOLDER, DATABASE_FILE_NAME);
    case 'darwin':
      return posix.join(home, 'Library', 'Application Support', APP_FOLDER, DATABASE_FILE_NAME);
    default:
      return posix.join(env.XDG_CONFIG_HOME || posix.join(home, '.config'), APP_FOLDER, DATABASE_FILE_NAME);
  }
}

/**
 * The tensor backends' self-check results (see rl/nn/backendCheck.ts), cached per machine
 * and version in the folder of the database in use.
 */
export function backendChecksPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const paths = platform === 'win32' ? win32 : posix;
  return paths.join(paths.dirname(defaultDatabasePath(env, platform, home)), BACKEND_CHECKS_FILE_NAME);
}
