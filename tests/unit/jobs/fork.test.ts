/**
 * Forks of stored episodes: the state at a step rebuilt exactly from the episode's seed, its
 * float64 actions and its disturbances (checked against every stored frame), played on
 * under another policy, recorded as a linked episode; and the errors of forks that cannot be.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isJobEnded, simulateConfigSchema, type JobInfo, type SimulateConfigInput } from '../../../src/shared/api.ts';
import type { Disturbance } from '../../../src/shared/disturbance.ts';
import type { TrajectoryFrame } from '../../../src/shared/runs.ts';
import { ForkError, loadForkSource, rebuildForkState } from '../../../src/main/jobs/fork.ts';
import { storedEpisodeSpec } from '../../../src/main/jobs/frames.ts';
import type { FromWorker } from '../../../src/main/jobs/protocol.ts';
import { prepareSimulation, SimulationLoop } from '../../../src/main/jobs/simulationLoop.ts';
import { ConfigError, JobRunner } from '../../../src/main/services/jobs.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { RngStreams } from '../../../src/main/sim/rng.ts';
import { StepFrame } from '../../../src/main/sim/stepFrame.ts';
import { RunStore } from '../../../src/main/store/index.ts';
import { tempDir } from '../cli/cli.helpers.ts';

/** The 230 m ring: automated vehicles with continuous accelerations. */
const RING = { length: 230 } as const;
const SEED = 17;
/** Where the parent's actions turn from random (not float32-exact) to a constant 0.5 m/s^2. */
const SWITCH = 800;

let databasePath: string;
let store: RunStore;
let runId: number;

beforeEach(() => {
  databasePath = join(tempDir(), 'history.db');
  store = RunStore.open(databasePath);
  runId = store.createRun({ scenario: 'ring', params: RING, algo: 'ippo', config: {}, seed: 1, appVersion: 'test' }).id;
});
afterEach(() => store.close());

/**
 * Plays and stores a parent episode the way evaluation does: random accelerations before
 * SWITCH, then constant:0.5, with the given disturbances. Returns its id.
 */
function storeParent(disturbances: Disturbance[] = []): number {
  const env = createEnv('ring', RING, 1);
  env.training = false;
  env.resetEnv(0, SEED);
  env.disturbances.set(disturbances);
  const writer = store.beginEpisode(runId, storedEpisodeSpec(env, 0, { iteration: 1, kind: 'eval', seed: SEED, actionParamDim: 2 }));
  const frame = new StepFrame(env.spec, 2);
  const rng = new RngStreams(1);
  rng.seed(0, 99);
  const actions = new Float64Array(env.spec.nAgents);
  for (;;) {
    const t = env.steps[0];
    for (let i = 0; i < actions.length; i++) actions[i] = t < SWITCH ? -1 + 2 * rng.uniform(0) : 0.5;
    const input = frame.fillState(env, 0);
    input.agentAction.set(actions);
    if (t === 0) input.reward.fill(NaN);
    else input.reward.set(env.rawReward.subarray(0, env.spec.nAgents));
    writer.append(input);
    if (env.allDone()) break;
    env.step(actions);
  }
  return writer.finish({}, disturbances).id;
}

function forkLoop(parent: number, step: number, input: Omit<SimulateConfigInput, 'kind' | 'scenario' | 'params' | 'seed'>, record = true) {
  const config = simulateConfigSchema.parse({ kind: 'simulate', scenario: 'ring', params: RING, seed: SEED, speed: 'max', startPaused: true, fork: { episodeId: parent, step, record }, ...input });
  const messages: FromWorker[] = [];
  const source = loadForkSource(store, config.fork!);
  const loop = new SimulationLoop('sim-1-fork', config, (m) => messages.push(m), () => 0, null, { source, store: record ? store : null });
  return { loop, messages, config };
}

/** Plays a fork to the end of its episode; returns the stored fork's id. */
function playFork(parent: number, step: number, policy: string, input: Omit<SimulateConfigInput, 'kind' | 'scenario' | 'params' | 'seed' | 'policy'> = {}): number {
  const { loop, messages } = forkLoop(parent, step, { policy, ...input });
  loop.start();
  const first = messages.find((m) => m.type === 'frame');
  expect(first?.type === 'frame' && first.frame.step).toBe(step);
  loop.command({ type: 'step', steps: 100_000 });
  expect(loop.currentStatus).toBe('finished');
  const stored = messages.flatMap((m) => (m.type === 'log' ? [m.message] : [])).find((m) => m.startsWith('stored the fork as episode'));
  expect(stored).toBeDefined();
  return Number(/episode (\d+)/.exec(stored!)![1]);
}

const STATE_FIELDS = ['position', 'speed', 'accel', 'gap'] as const;

/** The steps (of those both have) where any state array of the two episodes differs. */
function differingSteps(a: TrajectoryFrame[], b: TrajectoryFrame[]): number[] {
  const steps: number[] = [];
  for (let t = 0; t < Math.min(a.length, b.length); t++) {
    if (STATE_FIELDS.some((field) => a[t][field].some((x, v) => !Object.is(x, b[t][field][v])))) steps.push(t);
  }
  return steps;
}

const framesOf = (episode: number) => store.readSteps(episode, 0, 1e9);

describe('forks of stored episodes', () => {
  it('continues from the exact state: the same policy reproduces the parent bit for bit, another one departs from it', () => {
    const parent = storeParent();
    const same = playFork(parent, SWITCH, 'constant:0.5');
    expect(store.getEpisode(same)).toMatchObject({ fork: { parentEpisodeId: parent, step: SWITCH, policy: 'constant:0.5' }, kind: 'eval', seed: SEED, complete: true, steps: 3001 });
    expect(differingSteps(framesOf(parent), framesOf(same))).toEqual([]);
    expect(store.getEpisode(same).return).toBe(store.getEpisode(parent).return);

    const idle = playFork(parent, SWITCH, 'idle');
    const differ = differingSteps(framesOf(parent), framesOf(idle));
    expect(differ[0]).toBe(SWITCH + 1);
    expect(framesOf(idle)).toHaveLength(3001);
    // Its own actions exactly, the parent's before the fork.
    const { nAgents } = store.getEpisode(parent);
    const actions = store.readActions(idle, 0, 3001)!;
    expect(actions.subarray(0, SWITCH * nAgents)).toEqual(store.readActions(parent, 0, SWITCH));
    expect([...actions.subarray(SWITCH * nAgents)].every((a) => a === 0)).toBe(true);
    // A fork is not an evaluation: the run's last evaluation return is still the parent's.
    expect(store.listRuns()[0].lastEvalReturn).toBe(store.getEpisode(parent).return);
  });

  it('keeps the parent disturbances that started before the fork step, drops the later ones, and stores its own', () => {
    const brake = (vehicle: number, start: number): Disturbance => ({ kind: 'brake', vehicle, start, duration: 30, accel: -3 });
    const parent = storeParent([brake(3, 790), brake(9, 1500)]);
    const forked = playFork(parent, 805, 'constant:0.5', { disturbances: [{ kind: 'stop', vehicle: 12, duration: 2, at: 200 }] });
    const info = store.getEpisode(forked);
    expect(info.disturbances).toEqual([brake(3, 790), { kind: 'stop', vehicle: 12, start: 2000, duration: 20 }]);
    // Equal to the parent (which braked vehicle 3 across the fork too) until the parent's second brake.
    expect(differingSteps(framesOf(parent), framesOf(forked))[0]).toBe(1501);
  });

  it('records nothing unless asked, and a stopped fork is stored up to where it stopped', () => {
    const parent = storeParent();
    const unrecorded = forkLoop(parent, 100, { policy: 'idle' }, false);
    unrecorded.loop.start();
    unrecorded.loop.command({ type: 'step', steps: 50 });
    unrecorded.loop.command({ type: 'stop' });
    expect(store.listEpisodes(runId)).toHaveLength(1);

    const stopped = forkLoop(parent, 100, { policy: 'idle' });
    stopped.loop.start();
    const live = stopped.messages.find((m) => m.type === 'episode');
    expect(live?.type === 'episode' && live.episode.source).toEqual({ kind: 'fork', runId, parentEpisodeId: parent, step: 100, storedEpisodeId: parent + 1 });
    stopped.loop.command({ type: 'step', steps: 50 });
    stopped.loop.command({ type: 'stop' });
    expect(store.getEpisode(parent + 1)).toMatchObject({ complete: true, steps: 151 });
  });

  it('refuses what cannot be forked, naming the field', () => {
    const parent = storeParent();
    expect(() => loadForkSource(store, { episodeId: 999, step: 0, record: false })).toThrow(new ForkError('fork.episodeId', 'fork.episodeId: there is no episode 999 in this history'));
    expect(() => loadForkSource(store, { episodeId: parent, step: 3001, record: false })).toThrow(/fork.step 3001 is past the end of episode \d+: its states are 0 to 3000/);
    expect(() => loadForkSource(store, { episodeId: parent, step: 3000, record: false })).toThrow(/^fork.step 3000: episode \d+ ended there \(its horizon\), so nothing is left to play; choose a step from 0 to 2999$/);
    const source = loadForkSource(store, { episodeId: parent, step: 500, record: false });
    const config = (input: Partial<SimulateConfigInput>) => simulateConfigSchema.parse({ kind: 'simulate', scenario: 'ring', params: RING, seed: SEED, fork: { episodeId: parent, step: 500 }, ...input });
    const fields = (input: Partial<SimulateConfigInput>) => prepareSimulation(config(input), source).errors.map((e) => e.field);
    expect(fields({})).toEqual([]);
    expect(fields({ seed: 3 })).toEqual(['seed']);
    expect(fields({ params: { length: 260 } })).toEqual(['params']);
    expect(fields({ repeat: true, disturbances: [{ kind: 'stop', vehicle: 1, duration: 1, at: 10 }] })).toEqual(['repeat', 'disturbances.0.at']);

    // A rebuild that does not land on the stored states says so.
    const env = createEnv('ring', RING, 1);
    env.reset(SEED);
    const tampered = { ...source, actions: source.actions.map((a, t) => (t === 300 ? a + 1e-3 : a)) };
    expect(() => rebuildForkState(env, tampered)).toThrow(/episode \d+ cannot be rebuilt exactly: at step \d+ vehicle \d+'s (position|speed) is [\d.e-]+, the stored episode says/);

    // Episodes stored before exact actions were kept: continuous ones cannot be rebuilt.
    (store as unknown as { connection: { db: { exec(sql: string): void } } }).connection.db.exec('UPDATE episode_chunks SET actions = NULL');
    expect(() => loadForkSource(store, { episodeId: parent, step: 500, record: false })).toThrow(/stored by an older Headway without its exact actions/);
  });

  it('runs as an app job: the worker reads the parent from the history and stores the fork; a fork that cannot be is refused at the field', async () => {
    const parent = storeParent();
    const previous = process.env.HEADWAY_DB;
    process.env.HEADWAY_DB = databasePath;
    const runner = new JobRunner();
    const ended = async (job: JobInfo): Promise<JobInfo> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const info = runner.list().find((j) => j.id === job.id)!;
        if (isJobEnded(info.status) || Date.now() > deadline) return info;
        await new Promise((done) => setTimeout(done, 20));
      }
    };
    const forkJob = (step: number) => ({ kind: 'simulate', scenario: 'ring', params: RING, seed: SEED, policy: 'idle', speed: 'max', fork: { episodeId: parent, step, record: true } });
    try {
      const done = await ended(runner.start(forkJob(2900)));
      expect(done).toMatchObject({ status: 'finished', title: expect.stringContaining(`fork of episode ${parent} at step 2900`) });
      expect(store.listEpisodes(runId).map((e) => e.fork)).toEqual([null, { parentEpisodeId: parent, step: 2900, policy: 'idle' }]);
      // Refused before a worker starts, naming the field.
      expect(runner.validate(forkJob(5000))).toEqual([{ field: 'fork.step', message: `fork.step 5000 is past the end of episode ${parent}: its states are 0 to 3000` }]);
      expect(() => runner.start(forkJob(5000))).toThrow(ConfigError);
      expect(runner.validate({ ...forkJob(10), seed: 1 })).toEqual([{ field: 'seed', message: `seed 1: a fork of episode ${parent} has its seed, ${SEED}` }]);
      expect(store.listEpisodes(runId)).toHaveLength(2);
    } finally {
      await runner.shutdown();
      if (previous === undefined) delete process.env.HEADWAY_DB;
      else process.env.HEADWAY_DB = previous;
    }
  }, 30_000);
});
