import { createPinia, setActivePinia } from 'pinia';
import { nextTick } from 'vue';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiRequestError, type ApiEvent, type EpisodeSpec, type EpisodeStepBlock, type EpisodeTraces, type HeadwayApi, type JobConfigInput, type JobInfo, type RunOverview } from '../../../src/shared/api.ts';
import { encodeFloat32 } from '../../../src/shared/base64.ts';
import type { CheckpointInfo, EpisodeInfo, RunDetail } from '../../../src/shared/runs.ts';
import { provideApi } from '../../../src/renderer/api/index.ts';
import { episodeOrigin, layoutOf } from '../../../src/renderer/replay/episode.ts';
import { checkDisturbances, episodeLabel, forkConfig, forkLabel, policyLabel, samePolicy, type DisturbanceDraft } from '../../../src/renderer/replay/fork.ts';
import { useForkStore } from '../../../src/renderer/stores/fork.ts';
import { useLiveStore } from '../../../src/renderer/stores/live.ts';
import { useReplayStore } from '../../../src/renderer/stores/replay.ts';
import { useViewStore } from '../../../src/renderer/stores/view.ts';
import { storedEpisode } from './storedEpisode.ts';

const STEPS = 3001;

function episode(overrides: Partial<EpisodeInfo> = {}): EpisodeInfo {
  return storedEpisode({ id: 4, runId: 2, horizon: 3000, steps: STEPS, return: -12.5, collisions: 0, ...overrides });
}

function checkpoint(id: number, iteration: number): CheckpointInfo {
  return { id, runId: 2, iteration, envSteps: 200 * iteration, kind: 'periodic', evalReturn: null, bytes: 1, created: '', meta: {} };
}

const draft = (overrides: Partial<DisturbanceDraft> = {}): DisturbanceDraft => ({ kind: 'brake', vehicle: 1, value: '-3', duration: '2', at: '85', ...overrides });

describe('fork helpers', () => {
  it('takes "the same policy" from the episode: its checkpoint, else its iteration\'s, else the latest; a fork\'s own from its fork step', () => {
    expect(samePolicy(episode({ checkpointId: 9 }), [checkpoint(5, 1)], 800)).toBe('run:2@9');
    expect(samePolicy(episode(), [checkpoint(3, 2), checkpoint(5, 1)], 800)).toBe('run:2@5');
    expect(samePolicy(episode(), [checkpoint(3, 2)], 800)).toBe('run:2@latest');
    const fork = episode({ fork: { parentEpisodeId: 4, step: 800, policy: 'idle' } });
    expect(samePolicy(fork, [checkpoint(5, 1)], 900)).toBe('idle');
    expect(samePolicy(fork, [checkpoint(5, 1)], 100)).toBe('run:2@5');
  });

  it('labels policies, forks and episodes for the lists', () => {
    expect(policyLabel('idle')).toBe('idle (no control input)');
    expect(policyLabel('human')).toBe('human (human-driver model)');
    expect(policyLabel('run:2@5')).toBe('run #2 @ checkpoint 5');
    expect(policyLabel('run:2')).toBe('run #2 @ best');
    expect(policyLabel('constant:-0.5')).toBe('constant:-0.5');
    expect(forkLabel({ parentEpisodeId: 4, step: 800, policy: 'idle' })).toBe('fork of #4 at step 800 · idle (no control input)');
    expect(forkLabel({ parentEpisodeId: null, step: 800, policy: 'random' })).toBe('fork of a deleted episode at step 800 · random');
    expect(episodeOrigin(episode())).toBe('eval iteration 1');
    expect(episodeOrigin(episode({ fork: { parentEpisodeId: 4, step: 800, policy: 'run:2@5' } }))).toBe('fork of #4 at step 800 · run #2 @ checkpoint 5');
    expect(episodeLabel(episode())).toBe('#4 · eval · iteration 1 · seed 1001 · 3001 steps · return -12.5');
    expect(episodeLabel(episode({ id: 7, fork: { parentEpisodeId: 4, step: 800, policy: 'idle' }, return: null }))).toBe(
      '#7 · fork of #4 at step 800 · idle (no control input) · 3001 steps · recording…',
    );
  });

  it('checks disturbance rows with the api schema, names the field at fault, and refuses one before the fork', () => {
    const ok = checkDisturbances([draft(), draft({ kind: 'stop', value: '', at: '80' })], 800, 0.1);
    expect(ok.errors).toEqual({});
    expect(ok.disturbances).toEqual([
      { kind: 'brake', vehicle: 1, accel: -3, duration: 2, at: 85 },
      { kind: 'stop', vehicle: 1, duration: 2, at: 80 },
    ]);
    const bad = checkDisturbances([draft({ value: 'x' }), draft({ duration: '0' }), draft({ at: '79.9' }), draft({ kind: 'hold', value: '', at: '' })], 800, 0.1);
    expect(bad.disturbances).toEqual([]);
    expect(bad.errors).toEqual({
      'disturbances.0.accel': 'accel must be a number',
      'disturbances.1.duration': 'duration must be a number of seconds from 0.1 to 600',
      'disturbances.2.at': 'at must be at or after the fork, 80.0 s',
      'disturbances.3.speed': 'speed must be a number',
      'disturbances.3.at': 'at must be a time in s',
    });
    // 79.96 s rounds to step 800, as the simulator schedules it.
    expect(checkDisturbances([draft({ at: '79.96' })], 800, 0.1).errors).toEqual({});
  });

  it("starts a fork with the episode's scenario, params and seed, one episode, from the step", () => {
    const config = forkConfig(episode(), 800, { policy: 'idle', disturbances: [], record: true, speed: 1 });
    expect(config).toEqual({
      kind: 'simulate',
      scenario: 'ring',
      params: { length: 230 },
      policy: 'idle',
      disturbances: [],
      seed: 1001,
      repeat: false,
      speed: 1,
      fork: { episodeId: 4, step: 800, record: true },
    });
    expect(forkConfig(episode({ scenario: 'no-such-scenario' }), 800, { policy: 'idle', disturbances: [], record: true, speed: 1 })).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------
// The store against a fake api: the episode open in Replay, startJob answered or refused

const run = { id: 2, name: 'ring IPPO', scenario: 'ring', algo: 'ippo' } as RunDetail;

function fakeApi(parent: EpisodeInfo, answer: (config: JobConfigInput) => JobInfo | ApiRequestError) {
  const started: JobConfigInput[] = [];
  /** The run's stored episodes; a test adds the fork it stored. */
  const episodes = [parent];
  const listeners = new Set<(event: ApiEvent) => void>();
  const layout = layoutOf(parent);
  const overview = (): RunOverview => ({ run, checkpoints: [checkpoint(5, 1)], episodes: [...episodes], series: [], activeJobId: null });
  const api = {
    transport: 'websocket',
    listRuns: async () => [run],
    getRun: async () => overview(),
    readEpisodeSteps: async (episodeId: number, from: number, to: number): Promise<EpisodeStepBlock> => ({
      episodeId,
      from,
      steps: Math.min(to, STEPS) - from,
      floatsPerStep: layout.floatsPerStep,
      records: encodeFloat32(new Float32Array((Math.min(to, STEPS) - from) * layout.floatsPerStep)),
    }),
    readEpisodeTraces: async (episodeId: number, stride = 1): Promise<EpisodeTraces> => {
      const frames = Math.ceil(STEPS / stride);
      const empty = encodeFloat32(new Float32Array(frames * parent.nVehicles));
      const one = encodeFloat32(new Float32Array(frames));
      return { episodeId, steps: STEPS, stride, frames, nVehicles: parent.nVehicles, position: empty, speed: empty, gap: empty, accel: empty, reward: one, collided: one, nState: 0, state: '' };
    },
    validateJob: async () => [],
    startJob: async (config: JobConfigInput) => {
      started.push(config);
      const result = answer(config);
      if (result instanceof ApiRequestError) throw result;
      return result;
    },
    onEvent: (listener: (event: ApiEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as HeadwayApi;
  return { api, started, episodes };
}

function forkJob(config: JobConfigInput, status: JobInfo['status'] = 'running', error: string | null = null): JobInfo {
  return { id: 'sim-1-abc', kind: 'simulate', title: 'Ring · idle', status, config, episode: 0, step: 800, speed: 1, created: '', ended: null, error, progress: null, displayPaused: false } as JobInfo;
}

function forkSpec(storedEpisodeId: number | null): EpisodeSpec {
  return { jobId: 'sim-1-abc', episode: 0, scenario: 'ring', nVehicles: 2, source: { kind: 'fork', runId: 2, parentEpisodeId: 4, step: 800, storedEpisodeId } } as EpisodeSpec;
}

describe('fork store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  async function openAt(step: number, answer: (config: JobConfigInput) => JobInfo | ApiRequestError) {
    const fake = fakeApi(episode(), answer);
    provideApi(fake.api);
    const replay = useReplayStore();
    await replay.open(2, 4);
    await replay.seek(step);
    const view = useViewStore();
    view.tab = 'replay';
    const fork = useForkStore();
    fork.toggle();
    return { ...fake, replay, fork, live: useLiveStore(), view };
  }

  it("starts the fork with the same policy by default, shows it live in the Simulate view, and says what it forks", async () => {
    const { fork, started, live, view } = await openAt(800, (config) => forkJob(config));
    expect(fork.policy).toBe('run:2@5');
    fork.policyKind = 'idle';
    expect(fork.canStart).toBe(true);
    const job = await fork.start();
    expect(started).toEqual([expect.objectContaining({ scenario: 'ring', params: { length: 230 }, seed: 1001, policy: 'idle', repeat: false, fork: { episodeId: 4, step: 800, record: true } })]);
    expect(job?.id).toBe('sim-1-abc');
    expect(live.activeJobId).toBe('sim-1-abc');
    expect(view.tab).toBe('simulate');
    expect(fork.open).toBe(false);
    expect(fork.liveFork).toMatchObject({ parentEpisodeId: 4, step: 800, policy: 'idle', record: true, storedEpisodeId: null });
    live.handleEvent({ type: 'episode', episode: forkSpec(9) });
    expect(fork.liveFork).toMatchObject({ runId: 2, storedEpisodeId: 9 });
    expect(fork.canReplayLive).toBe(false);
    live.handleEvent({ type: 'job', job: forkJob(started[0], 'finished') });
    expect(fork.canReplayLive).toBe(true);
    fork.replayLiveBeside();
    expect(view.tab).toBe('replay');
    expect(view.replayTarget).toEqual({ runId: 2, episodeId: 9, compareEpisodeId: 4, step: 800 });
  });

  it("opens a fork stored since the run was read beside its parent, at the fork step", async () => {
    const { replay, episodes } = await openAt(800, (config) => forkJob(config));
    episodes.push(episode({ id: 9, fork: { parentEpisodeId: 4, step: 800, policy: 'idle' } }));
    await replay.openBeside(2, 9, 4, 800);
    expect(replay.error).toBeNull();
    expect(replay.primary?.info.id).toBe(9);
    expect(replay.compare?.info.id).toBe(4);
    expect(replay.step).toBe(800);
    expect(replay.overview?.episodes.map((e) => e.id)).toEqual([4, 9]);
  });

  it('shows a refusal next to its fields, and a disturbance before the fork before asking the backend', async () => {
    const refusal = new ApiRequestError({
      code: 'invalid-config',
      message: 'invalid config',
      fields: [
        { field: 'policy', message: 'run 99 does not exist' },
        { field: 'fork.step', message: 'step 800 is past the end of episode 4' },
      ],
    });
    const { fork, started, live, view } = await openAt(800, () => refusal);
    fork.addDisturbance();
    expect(fork.drafts).toEqual([{ kind: 'brake', vehicle: 1, value: '-3', duration: '2', at: '82.0' }]);
    fork.drafts[0].at = '10';
    await nextTick();
    expect(fork.errors).toEqual({ 'disturbances.0.at': 'at must be at or after the fork, 80.0 s' });
    expect(fork.canStart).toBe(false);
    fork.drafts[0].at = '81';
    await nextTick();
    expect(fork.canStart).toBe(true);
    expect(await fork.start()).toBeNull();
    expect(started[0]).toMatchObject({ disturbances: [{ kind: 'brake', vehicle: 1, accel: -3, duration: 2, at: 81 }] });
    expect(fork.errors).toEqual({ policy: 'run 99 does not exist', 'fork.step': 'step 800 is past the end of episode 4' });
    expect(fork.forkErrors).toEqual(['step 800 is past the end of episode 4']);
    expect(fork.formError).toBeNull();
    expect(live.activeJobId).toBeNull();
    expect(view.tab).toBe('replay');
    expect(fork.open).toBe(true);
  });

  it('opens a run on its own newest episode, not on a fork of it', async () => {
    const { replay, episodes } = await openAt(800, (config) => forkJob(config));
    episodes.unshift(episode({ id: 9, fork: { parentEpisodeId: 4, step: 800, policy: 'idle' } }));
    await replay.selectRun(2);
    expect(replay.primary?.info.id).toBe(4);
    expect(replay.overview?.episodes.map((e) => e.id)).toEqual([9, 4]);
  });

  it("offers no fork from the episode's last state: it ended there", async () => {
    const { fork, replay } = await openAt(STEPS - 1, (config) => forkJob(config));
    expect(fork.atEnd).toBe(true);
    expect(fork.canStart).toBe(false);
    expect(await fork.start()).toBeNull();
    await replay.stepBy(-1);
    expect(fork.canStart).toBe(true);
  });

  it('shows a fork whose job failed with its message, and no way to replay it', async () => {
    const { fork, started, live } = await openAt(800, (config) => forkJob(config));
    fork.policyKind = 'random';
    await fork.start();
    live.handleEvent({ type: 'job', job: forkJob(started[0], 'failed', 'episode 4 has no stored actions: it cannot be forked') });
    expect(fork.liveFork?.job.error).toBe('episode 4 has no stored actions: it cannot be forked');
    expect(fork.canReplayLive).toBe(false);
  });
});
