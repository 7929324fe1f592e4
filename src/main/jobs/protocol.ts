/**
 * Messages between the JobRunner (main side) and a job's worker thread. The worker owns the
 * environment (and, for training, the learner); the main side only relays its events to
 * the UIs and forwards their commands.
 */
import type { EpisodeSpec, Frame, JobCommand, JobConfig, JobStatus, LiveDisturbance, MetricsScope, Speed } from '../../shared/api.ts';
import type { TrajectoryShape } from '../../shared/trajectoryLayout.ts';

/** workerData of a job's worker. */
export interface JobWorkerData {
  jobId: string;
  config: JobConfig;
}

export type ToWorker = { type: 'command'; command: JobCommand };

export type FromWorker =
  | { type: 'state'; status: Extract<JobStatus, 'running' | 'paused' | 'finished' | 'stopped'>; episode: number; step: number; speed: Speed }
  | { type: 'episode'; episode: EpisodeSpec }
  | { type: 'frame'; frame: Frame }
  | { type: 'metrics'; scope: MetricsScope; index: number; values: Record<string, number> }
  /** Ends the job: it failed. */
  | { type: 'error'; message: string }
  /** A line for the UI's log; the job goes on. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Simulations: the episode's disturbances and their readouts so far. */
  | { type: 'disturbances'; episode: number; disturbances: LiveDisturbance[] }
  /** Run-store jobs: the run record exists and the backend is chosen; iteration of iterations done (null: no iteration budget). */
  | { type: 'training'; runId: number; backend: string; iteration: number; iterations: number | null }
  /** Training: an iteration is done (its metrics follow as a 'metrics' message). */
  | { type: 'progress'; iteration: number; envSteps: number }
  /** Training: the stored evaluation episode of the iteration just done, for the live view (records transferred). */
  | { type: 'displayEpisode'; episode: EpisodeSpec; shape: TrajectoryShape; records: Float32Array }
  /** Training: waiting between iterations (the user paused the view with holdTraining), or going on again. */
  | { type: 'held'; held: boolean };
