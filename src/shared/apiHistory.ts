/**
 * The api contract, part three: the experiment history (the run store) as the UI reads it:
 * the run query and edit schemas, a run's overview, metric columns for comparisons, and
 * stored episodes' frames and traces for replay. Imported through src/shared/api.ts.
 */
import { z } from 'zod';
import { runIdSchema } from './apiJobs.ts';
import { RUN_STATUSES, type CheckpointInfo, type EpisodeInfo, type RunDetail } from './runs.ts';

// ---------------------------------------------------------------------------------------
// Experiment history (the run store): runs, their metrics, stored episodes for replay

/** Narrows the run list; every given field must match. Runs come newest first. */
export const runQuerySchema = z.strictObject({
  /** Case-insensitive part of the name, or "#12" for run 12. */
  search: z.string().max(200).optional(),
  scenario: z.string().max(64).optional(),
  /** Learner id (ippo, mappo, ..., dmpo). */
  algo: z.string().max(64).optional(),
  tag: z.string().max(64).optional(),
  /** Runs of the sweep of this id (`headway sweep`). */
  sweep: z.number({ error: 'sweep must be a sweep id' }).int({ error: 'sweep must be a sweep id' }).positive({ error: 'sweep must be a sweep id' }).optional(),
  status: z.array(z.enum(RUN_STATUSES, { error: `status must be one of ${RUN_STATUSES.join(', ')}` })).max(RUN_STATUSES.length).optional(),
  limit: z.number().int().min(1).max(1000).default(500),
});
export type RunQuery = z.input<typeof runQuerySchema>;

const tagSchema = z.string().trim().min(1, { error: 'a tag cannot be empty' }).max(64, { error: 'a tag has at most 64 characters' });

export const runEditSchema = z.strictObject({
  runId: runIdSchema,
  name: z.string().trim().min(1, { error: 'name cannot be empty' }).max(200, { error: 'name has at most 200 characters' }).optional(),
  tags: z.array(tagSchema).max(50, { error: 'a run has at most 50 tags' }).optional(),
  notes: z.string().max(20_000, { error: 'notes have at most 20,000 characters' }).optional(),
});
export type RunEdit = z.input<typeof runEditSchema>;

/** Most runs and metric names one runMetrics request may ask for. */
export const MAX_COMPARE_RUNS = 200;
export const MAX_COMPARE_METRICS = 16;
/** Most frames one readEpisodeSteps request returns. */
export const MAX_STEP_BLOCK = 1024;

/** Everything the run details page shows about a run. */
export interface RunOverview {
  run: RunDetail;
  checkpoints: CheckpointInfo[];
  /** Stored episodes, newest iteration first. */
  episodes: EpisodeInfo[];
  /** Names of its metric series (per-agent ones included). */
  series: string[];
  /** The job of this app that trains or evaluates it now, if any. */
  activeJobId: string | null;
}

/**
 * One metric series of one run as columns (compact for comparisons of many runs). Values
 * that were NaN or infinite are null.
 */
export interface MetricColumns {
  runId: number;
  name: string;
  iteration: number[];
  envSteps: number[];
  wallTimeS: number[];
  value: (number | null)[];
}

/**
 * Frames [from, from + steps) of a stored episode as their raw records: base64 of the
 * little-endian float32 records in the layout of src/shared/trajectoryLayout.ts
 * (decodeStepBlock turns it into TrajectoryFrames).
 */
export interface EpisodeStepBlock {
  episodeId: number;
  from: number;
  steps: number;
  floatsPerStep: number;
  records: string;
}

/**
 * Whole-episode per-vehicle series for time-space diagrams and traces: every `stride`-th
 * frame, base64 float32 arrays laid out [frame][vehicle]. Frame k is step k * stride.
 */
export interface EpisodeTraces {
  episodeId: number;
  /** Frames stored in the episode, and how many of them are in the traces. */
  steps: number;
  stride: number;
  frames: number;
  nVehicles: number;
  position: string;
  speed: string;
  gap: string;
  accel: string;
  /** [frame] sum over agents of the raw reward of the step that led to the frame (0 at reset). */
  reward: string;
  /** [frame] 1 where a frame of the stride window [k * stride, (k + 1) * stride) is flagged as a collision. */
  collided: string;
  /** Values of the scene state per frame (src/shared/scene.ts; 0 for roads), and the series [frame][nState]: per-link flow over time for replay. */
  nState: number;
  state: string;
}
