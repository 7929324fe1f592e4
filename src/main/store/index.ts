/** The run store's public surface: import from here, not from the files behind it. */
export { RunStore, type BundleCounts, type CheckpointInput, type ExportedBundle, type EpisodeFilter, type IterationRecord, type OpenOptions, type ResumedRun } from './runStore.ts';
export { EpisodeWriter } from './episodeWriter.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { defaultDatabasePath, DATABASE_FILE_NAME } from './paths.ts';
export { SCHEMA_VERSION } from './schema.ts';
