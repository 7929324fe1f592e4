import packageJson from '../../package.json' with { type: 'json' };

/** The Headway version recorded with every run. */
export const APP_VERSION: string = packageJson.version;
