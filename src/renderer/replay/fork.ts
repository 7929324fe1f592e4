/**
 * Forks of stored episodes, the renderer's side (the store is stores/fork.ts): which policy
 * "the same policy" is, how a fork and a policy read in lists, the scripted disturbances of
 * the fork form checked by the api's own schema, and the simulate config that starts a fork.
 * Plain functions over the shared types, so the unit tests need no store or api.
 */
import {
  issuesToFieldErrors,
  parsePolicy,
  scriptedDisturbanceSchema,
  type DisturbanceKindName,
  type ScriptedDisturbance,
  type SimulateConfigInput,
  type Speed,
} from '../../shared/api.ts';
import type { CheckpointInfo, EpisodeFork, EpisodeInfo } from '../../shared/runs.ts';
import { isScenarioId } from '../../shared/scenarios.ts';

/**
 * The policy that played `info` at `step`, in the policy language: a fork's own policy from
 * its fork step on; else the episode's run at the episode's checkpoint, or the run's
 * checkpoint of the episode's iteration (training's evaluation episodes name none), or the
 * run's latest when that checkpoint was not kept.
 */
export function samePolicy(info: EpisodeInfo, checkpoints: readonly CheckpointInfo[], step: number): string {
  if (info.fork && step >= info.fork.step) return info.fork.policy;
  const checkpoint = info.checkpointId ?? checkpoints.find((c) => c.runId === info.runId && c.iteration === info.iteration)?.id ?? 'latest';
  return `run:${info.runId}@${checkpoint}`;
}

/** A policy for lists: "idle (no control input)", "human (human-driver model)", "run #3 @ checkpoint 7". */
export function policyLabel(policy: string): string {
  const spec = parsePolicy(policy);
  if (spec === null) return policy;
  switch (spec.kind) {
    case 'idle':
      // Idle sends every agent action 0 (policies.ts): zero acceleration on the loops; 'human' is the human-driver model.
      return 'idle (no control input)';
    case 'human':
      return 'human (human-driver model)';
    case 'random':
      return 'random';
    case 'constant':
      return `constant:${spec.value}`;
    case 'run':
      return `run #${spec.runId} @ ${typeof spec.checkpoint === 'number' ? `checkpoint ${spec.checkpoint}` : spec.checkpoint}`;
  }
}

/** "fork of #12 at step 800 · idle (no control input)". */
export function forkLabel(fork: EpisodeFork): string {
  const parent = fork.parentEpisodeId === null ? 'a deleted episode' : `#${fork.parentEpisodeId}`;
  return `fork of ${parent} at step ${fork.step} · ${policyLabel(fork.policy)}`;
}

/** The episode list's line for a stored episode; forks say what they fork. */
export function episodeLabel(e: EpisodeInfo): string {
  const ret = e.return === null ? 'recording…' : `return ${e.return.toFixed(1)}`;
  const origin = e.fork ? forkLabel(e.fork) : `${e.kind} · iteration ${e.iteration} · seed ${e.seed}`;
  return `#${e.id} · ${origin} · ${e.steps} steps · ${ret}`;
}

/** The value each disturbance kind takes besides its timing (stop has none). */
export const DISTURBANCE_VALUES: Record<DisturbanceKindName, { key: 'accel' | 'speed' | 'depth'; label: string; initial: string } | null> = {
  brake: { key: 'accel', label: 'accel m/s²', initial: '-3' },
  hold: { key: 'speed', label: 'speed m/s', initial: '0' },
  stop: null,
  dip: { key: 'depth', label: 'depth m/s', initial: '3' },
};

/** One disturbance row of the fork form, as typed. */
export interface DisturbanceDraft {
  kind: DisturbanceKindName;
  vehicle: number;
  value: string;
  duration: string;
  at: string;
}

export interface CheckedDisturbances {
  disturbances: ScriptedDisturbance[];
  /** By field path, as the api names them: `disturbances.0.accel`. */
  errors: Record<string, string>;
}

/** Text that is not a number goes as is, so the schema's message names the field. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== '' && Number.isFinite(value) ? value : trimmed;
}

/**
 * Checks the rows with the api's scriptedDisturbanceSchema, and that each starts at or
 * after the fork (the state at the fork step is rebuilt from the parent's own schedule:
 * a disturbance scheduled before it would never act), rounded to whole steps as the
 * simulator schedules it.
 */
export function checkDisturbances(drafts: readonly DisturbanceDraft[], forkStep: number, dt: number): CheckedDisturbances {
  const disturbances: ScriptedDisturbance[] = [];
  const errors: Record<string, string> = {};
  drafts.forEach((draft, index) => {
    const value = DISTURBANCE_VALUES[draft.kind];
    const input = { kind: draft.kind, vehicle: draft.vehicle, duration: numberOrText(draft.duration), at: numberOrText(draft.at), ...(value ? { [value.key]: numberOrText(draft.value) } : {}) };
    const parsed = scriptedDisturbanceSchema.safeParse(input);
    if (!parsed.success) {
      for (const error of issuesToFieldErrors(parsed.error.issues)) errors[`disturbances.${index}.${error.field}`] ??= error.message;
      return;
    }
    if (Math.round(parsed.data.at / dt) < forkStep) {
      errors[`disturbances.${index}.at`] = `at must be at or after the fork, ${(forkStep * dt).toFixed(1)} s`;
      return;
    }
    disturbances.push(parsed.data);
  });
  return { disturbances, errors };
}

/**
 * The simulate job that continues `info` live from state `step`: the episode's scenario,
 * params and seed (the api requires them, to rebuild the state), one episode only.
 * Null for an episode of a scenario this build does not know.
 */
export function forkConfig(
  info: EpisodeInfo,
  step: number,
  choice: { policy: string; disturbances: readonly ScriptedDisturbance[]; record: boolean; speed: Speed },
): SimulateConfigInput | null {
  if (!isScenarioId(info.scenario)) return null;
  return {
    kind: 'simulate',
    scenario: info.scenario,
    params: { ...info.params },
    policy: choice.policy,
    disturbances: [...choice.disturbances],
    seed: info.seed,
    repeat: false,
    speed: choice.speed,
    fork: { episodeId: info.id, step, record: choice.record },
  };
}
