import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ApiRequestError,
  validateJobConfig,
  type EpisodeSpec,
  type Frame,
  type HeadwayApi,
  type JobCommandInput,
  type JobInfo,
  type LiveDisturbance,
  type RunOverview,
} from '../../../src/shared/api.ts';
import type { RunDetail } from '../../../src/shared/runs.ts';
import { provideApi } from '../../../src/renderer/api/index.ts';
import { FrameInterpolator } from '../../../src/renderer/scene/interpolation.ts';
import { VehicleHistory } from '../../../src/renderer/live/history.ts';
import { useDisturbStore } from '../../../src/renderer/stores/disturb.ts';
import { useLiveStore } from '../../../src/renderer/stores/live.ts';
import { useSimulateFormStore } from '../../../src/renderer/stores/simulateForm.ts';
import { useTrainStore } from '../../../src/renderer/stores/train.ts';

interface FakeApi extends HeadwayApi {
  commands: [string, JobCommandInput][];
  started: unknown[];
  /** What controlJob refuses a disturb command with, when set. */
  refuseDisturb: ApiRequestError | null;
}

/** A stored run of the history as listRuns answers it (the fields the Simulate form reads). */
function storedRun(id: number, scenario: string): RunDetail {
  return { id, name: `run ${id}`, scenario, algo: 'dppo', status: 'finished', iterations: 2, params: { preset: 'dmpo', length: 230, noise: true } } as unknown as RunDetail;
}
const STORED_RUNS = [storedRun(7, 'ring'), storedRun(8, 'cacc-catchup')];

function job(id: string, status: JobInfo['status'] = 'running'): JobInfo {
  return {
    id,
    kind: 'simulate',
    title: 't',
    status,
    config: { kind: 'simulate', scenario: 'ring', params: {}, policy: 'idle', disturbances: [], seed: 0, repeat: false, speed: 1, frameRate: 30, startPaused: false },
    episode: 0,
    step: 0,
    speed: 1,
    created: '',
    ended: null,
    error: null,
    progress: null,
    displayPaused: false,
  };
}

/** The live stores never read the history (the Simulate form lists runs only): a call is a test failure. */
const unused = (): Promise<never> => Promise.reject(new Error('the live stores must not call the history api'));

/** A backend stand-in that validates with the real shared validation. */
function fakeApi(): FakeApi {
  let counter = 0;
  const api: FakeApi = {
    transport: 'websocket',
    commands: [],
    started: [],
    refuseDisturb: null,
    hello: async () => ({ apiVersion: 1, appVersion: '0', transport: 'websocket', host: 'test' }),
    validateJob: async (config) => {
      const result = validateJobConfig(config);
      return result.ok ? [] : result.errors;
    },
    startJob: async (config) => {
      const result = validateJobConfig(config);
      if (!result.ok) throw new ApiRequestError({ code: 'invalid-config', message: 'bad', fields: result.errors });
      api.started.push(config);
      return job(`sim-${++counter}-aaaaaa`, 'starting');
    },
    controlJob: async (jobId, command) => {
      if (command.type === 'disturb' && api.refuseDisturb) throw api.refuseDisturb;
      api.commands.push([jobId, command]);
      return job(jobId);
    },
    listJobs: async () => [],
    snapshot: async () => [],
    listRuns: async (query) => STORED_RUNS.filter((run) => run.scenario === query?.scenario),
    getRun: async (runId) => ({ run: STORED_RUNS.find((run) => run.id === runId)!, checkpoints: [{ id: 31, runId, iteration: 2, kind: 'best' }], episodes: [] }) as unknown as RunOverview,
    listSweeps: unused,
    updateRun: unused,
    deleteRun: unused,
    runMetrics: unused,
    readEpisodeSteps: unused,
    readEpisodeTraces: unused,
    onEvent: () => () => {},
  };
  return api;
}

/** A 22-agent ring episode. */
function ringEpisode(jobId: string, episode = 0): EpisodeSpec {
  const n = 22;
  return {
    jobId,
    episode,
    seed: episode,
    scenario: 'ring',
    params: {},
    nAgents: n,
    nVehicles: n,
    obsDim: 2,
    obsNames: ['speed/30', 'position/length'],
    rewardTermNames: ['speed', 'accel'],
    action: { kind: 'continuous', low: -1, high: 1 },
    horizon: 3000,
    dt: 0.1,
    vehicleLength: 5,
    roadLength: 230,
    vehicleKind: new Array<number>(n).fill(1),
    agentVehicle: Array.from({ length: n }, (_, i) => i),
    edges: Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as [number, number]),
    actionParamDim: 2,
    source: { kind: 'evaluation', runId: 1, iteration: 3 },
    scene: null,
  };
}

function ringFrame(jobId: string, step: number, episode = 0): Frame {
  const n = 22;
  return {
    jobId,
    episode,
    step,
    time: step / 10,
    collided: false,
    done: false,
    episodeReturn: step,
    stepsPerSecond: 10,
    position: Float64Array.from({ length: n }, (_, v) => v * 10 + step),
    speed: Float64Array.from({ length: n }, (_, v) => v + step / 10),
    accel: new Float64Array(n),
    gap: Float64Array.from({ length: n }, () => 5),
    action: Float64Array.from({ length: n }, (_, v) => v / 100),
    flags: new Uint8Array(n),
    obs: Float64Array.from({ length: 2 * n }, (_, k) => k),
    reward: Float64Array.from({ length: n }, (_, v) => -v),
    rewardTerms: Float64Array.from({ length: 2 * n }, (_, k) => k / 2),
    value: Float64Array.from({ length: n }, (_, v) => 10 - v),
    actionParams: Float64Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? k / 100 : 0.5)),
    state: new Float64Array(0),
    communication: new Float64Array(0),
  };
}

let api: FakeApi;
beforeEach(() => {
  setActivePinia(createPinia());
  api = fakeApi();
  provideApi(api);
});

describe('the Train form store', () => {
  it('trains on the auto backend unless the user picks one; a bad pick is refused at its field', async () => {
    const train = useTrainStore();
    expect(train.config().backend).toBe('auto');
    train.backend = 'webgpu';
    expect(train.config()).toMatchObject({ kind: 'train', backend: 'webgpu' });
    expect(validateJobConfig(train.config())).toMatchObject({ ok: true, config: { backend: 'webgpu' } });
    (train as { backend: string }).backend = 'cuda';
    expect(await train.validate()).toBe(false);
    expect(train.errors.backend).toBe('backend must be one of auto, tensorflow, webgpu, wasm, cpu');
  });
});

describe('the Simulate form store', () => {
  it('opens on the uncontrolled ring and builds the job config from the catalogue fields', () => {
    const form = useSimulateFormStore();
    expect(form.scenario).toBe('ring');
    expect(form.preset).toBe('uncontrolled');
    expect(form.fields.map((f) => f.spec.name)).toEqual(['length', 'vehicles', 'warmup', 'safetyCap', 'noise', 'horizon']);
    form.setParam('length', ' 230 ');
    form.setParam('warmup', '');
    form.seed = '4';
    form.policyKind = 'constant';
    form.policyValue = '0.5';
    expect(form.config(2)).toEqual({
      kind: 'simulate',
      scenario: 'ring',
      params: { preset: 'uncontrolled', length: '230' },
      policy: 'constant:0.5',
      seed: 4,
      repeat: false,
      speed: 2,
    });
  });

  it('shows the backend validation next to each field', async () => {
    const form = useSimulateFormStore();
    form.setParam('length', '10');
    form.seed = 'x';
    expect(await form.validate()).toBe(false);
    expect(form.errors['params.length']).toContain('expected a number from 50 to 5000');
    expect(form.fields.find((f) => f.spec.name === 'length')!.error).toContain('length="10"');
    expect(form.errors.seed).toBe('seed must be a whole number from 0 to 4294967295');
    expect(form.valid).toBe(false);
    form.setParam('length', '250');
    form.seed = '1';
    expect(await form.validate()).toBe(true);
    expect(form.errors).toEqual({});
    expect(form.valid).toBe(true);
  });

  it('changing the scenario resets its parameters; presets keep explicit values', () => {
    const form = useSimulateFormStore();
    form.setParam('noise', '0.5');
    form.setPreset('flow-1av');
    expect(form.values).toEqual({ noise: '0.5', preset: 'flow-1av' });
    expect(form.fields.find((f) => f.spec.name === 'warmup')!.effectiveDefault).toBe(750);
    form.setPreset('dmpo');
    expect(form.values).toEqual({ noise: '0.5' });
    form.setScenario('cacc-catchup');
    expect(form.values).toEqual({});
    expect(form.presets).toEqual(['dmpo']);
  });

  it('starts the job, stops the one on screen and attaches the live view', async () => {
    const form = useSimulateFormStore();
    const live = useLiveStore();
    const first = await form.start();
    expect(first?.id).toBe('sim-1-aaaaaa');
    expect(live.activeJobId).toBe('sim-1-aaaaaa');
    live.handleEvent({ type: 'job', job: job('sim-1-aaaaaa', 'running') });
    await form.start(5);
    expect(api.commands).toEqual([['sim-1-aaaaaa', { type: 'stop' }]]);
    expect(live.activeJobId).toBe('sim-2-aaaaaa');
    expect((api.started[1] as { speed: number }).speed).toBe(5);
  });

  it('offers the stored runs of the scenario and their checkpoints as policies', async () => {
    const form = useSimulateFormStore();
    await form.loadRuns();
    expect(form.storedRuns.map((run) => run.id)).toEqual([7]);
    form.setPolicy('run:7');
    expect(form.policy).toBe('run:7@best');
    await Promise.resolve();
    expect(form.checkpoints.map((c) => c.id)).toEqual([31]);
    form.policyCheckpoint = '31';
    expect(form.config().policy).toBe('run:7@31');
    expect(validateJobConfig(form.config()).ok).toBe(true);
    // Its parameters as the form's (text, as typed); null-free.
    form.applyRunParams();
    expect(form.values).toEqual({ preset: 'dmpo', length: '230', noise: true });
    // The restore failed in the job worker: the message shows at the field while the form asks for the same.
    const live = useLiveStore();
    const failed = { ...job('sim-1-aaaaaa', 'failed'), config: { ...job('x').config, ...form.config(), params: form.config().params! } as JobInfo['config'], error: 'policy run:7@31: run 7 has 22 agents' };
    live.attach(failed);
    expect(form.policyFailure).toBe('policy run:7@31: run 7 has 22 agents');
    form.setParam('length', '240');
    expect(form.policyFailure).toBeNull();
    // A run belongs to its scenario.
    form.setScenario('cacc-catchup');
    expect(form.policy).toBe('idle');
    await Promise.resolve();
    expect(form.storedRuns.map((run) => run.id)).toEqual([8]);
  });

  it('puts start-time field errors next to the fields', async () => {
    const form = useSimulateFormStore();
    form.setParam('vehicles', '1');
    expect(await form.start()).toBeNull();
    expect(form.errors['params.vehicles']).toContain('vehicles="1"');
  });
});

describe('the live store', () => {
  it('follows the active job only and feeds frame listeners', () => {
    const live = useLiveStore();
    live.attach(job('sim-1-aaaaaa'));
    const seen: number[] = [];
    live.onFrame((frame) => seen.push(frame.step));
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-9-bbbbbb') });
    expect(live.episode).toBeNull();
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-1-aaaaaa') });
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', 0) });
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-9-bbbbbb', 5) });
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', 1) });
    // A stale frame of another episode is dropped.
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', 2, 7) });
    expect(seen).toEqual([0, 1]);
    expect(live.frame?.step).toBe(1);
    expect(live.meanSpeed).toBeCloseTo(10.6, 10);
  });

  it('inspects the selected agent: observation, action, reward terms, neighbourhoods', () => {
    const live = useLiveStore();
    live.attach(job('sim-1-aaaaaa'));
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-1-aaaaaa') });
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', 3) });
    expect(live.inspector).toBeNull();
    live.select(4);
    const view = live.inspector!;
    expect(view).toMatchObject({ vehicle: 4, agent: 4, kind: 'agent', speed: 4.3, gap: 5, reward: -4 });
    expect(view.obs).toEqual([
      { name: 'speed/30', value: 8, physical: { value: 240, unit: 'm/s', quantity: 'speed' } },
      { name: 'position/length', value: 9, physical: { value: 9 * 230, unit: 'm', quantity: 'position along the loop' } },
    ]);
    expect(view.rewardTerms).toEqual([
      { name: 'speed', value: 4 },
      { name: 'accel', value: 4.5 },
    ]);
    expect(view.action?.text).toContain('0.040 m/s²');
    expect(live.neighbourhoods).toMatchObject({ kappa: 2, policyAgents: [4, 3, 5], criticAgents: [4, 3, 5, 2, 6] });
    expect(live.neighbourhoods!.edges.filter((e) => e.kind === 'policy')).toHaveLength(2);
    expect(live.neighbourhoods!.edges.filter((e) => e.kind === 'critic')).toHaveLength(2);
    live.setKappa(3);
    expect(live.neighbourhoods!.criticVehicles).toEqual([4, 3, 5, 2, 6, 1, 7]);
    live.setKappa(99);
    expect(live.kappa).toBe(11);
    live.select(99);
    expect(live.selectedVehicle).toBeNull();
  });

  it('shows an IC3Net agent its gate and the message it received, with the neighbours that sent', () => {
    const live = useLiveStore();
    live.attach(job('train-1-aaaaaa'));
    const n = 22;
    live.handleEvent({ type: 'episode', episode: { ...ringEpisode('train-1-aaaaaa'), communicationDim: 4 } });
    // Per agent [sent, gate, sendProbability, messageNorm]: agents 3 sent, 5 stayed silent; agent 4 closes its gate.
    const communication = new Float64Array(4 * n);
    communication.set([1, 1, 0.9, 0.5], 3 * 4);
    communication.set([1, 0, 0.2, 1.25], 4 * 4);
    communication.set([0, 1, 0.7, 0.5], 5 * 4);
    live.handleEvent({ type: 'frame', frame: { ...ringFrame('train-1-aaaaaa', 3), communication } });
    live.select(4);
    expect(live.inspector!.communication).toEqual({ gateOpen: false, sendProbability: 0.2, sent: true, messageNorm: 1.25, senders: [3], silent: [5] });
    // A policy that does not communicate: no record, no section.
    live.handleEvent({ type: 'episode', episode: ringEpisode('train-1-aaaaaa', 1) });
    live.handleEvent({ type: 'frame', frame: ringFrame('train-1-aaaaaa', 1, 1) });
    live.select(4);
    expect(live.inspector!.communication).toBeNull();
  });

  it('keeps each vehicle recent speed and gap, reset per episode', () => {
    const live = useLiveStore();
    live.attach(job('sim-1-aaaaaa'));
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-1-aaaaaa') });
    for (let step = 0; step < 5; step++) live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', step) });
    expect(live.history.series(2, 'speed', 30).y).toEqual([2, 2.1, 2.2, 2.3, 2.4].map(Math.fround));
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-1-aaaaaa', 1) });
    expect(live.history.size).toBe(0);
  });

  it('sends playback commands for the active job', async () => {
    const live = useLiveStore();
    live.attach(job('sim-1-aaaaaa'));
    await live.pause();
    await live.step();
    await live.resume();
    await live.setSpeed('max');
    await live.stop();
    expect(api.commands.map(([, c]) => c.type)).toEqual(['pause', 'step', 'resume', 'speed', 'stop']);
    expect(api.commands.every(([id]) => id === 'sim-1-aaaaaa')).toBe(true);
  });

  it('can show renderer-made frames (the stress scene) and stops their source on leave', () => {
    const live = useLiveStore();
    let stopped = false;
    live.attachLocal({ ...ringEpisode('stress'), copies: 1 }, () => (stopped = true));
    live.pushLocalFrame(ringFrame('stress', 1));
    expect(live.frame?.step).toBe(1);
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-1-aaaaaa', 2) });
    expect(live.frame?.step).toBe(1);
    live.detachLocal();
    expect(stopped).toBe(true);
    expect(live.episode).toBeNull();
  });
});

describe('view helpers', () => {
  it('history windows by simulated time and replaces rewound samples', () => {
    const history = new VehicleHistory(4);
    history.reset(1);
    for (const t of [0, 1, 2, 3, 4, 5]) history.push(t, [t * 10], [t]);
    expect(history.series(0, 'speed', 100)).toEqual({ t: [2, 3, 4, 5], y: [20, 30, 40, 50] });
    expect(history.series(0, 'gap', 1.5).t).toEqual([4, 5]);
    history.push(3, [99], [0]);
    expect(history.series(0, 'speed', 100).y).toEqual([20, 99]);
  });

  it('interpolation moves smoothly and takes the short way round a loop', () => {
    const interpolator = new FrameInterpolator();
    interpolator.reset(2, 100);
    interpolator.push([98, 10], 0, true);
    interpolator.push([2, 20], 100);
    const out = new Float64Array(2);
    interpolator.sample(150, out);
    expect(out[0]).toBeCloseTo(100, 10);
    expect(out[1]).toBeCloseTo(15, 10);
    expect(interpolator.moving(150)).toBe(true);
    interpolator.sample(400, out);
    expect(out[0]).toBeCloseTo(102, 10);
    expect(interpolator.moving(400)).toBe(false);
  });
});

describe('event order', () => {
  it('keeps a job first episode that arrives before the job is attached', () => {
    const live = useLiveStore();
    live.handleEvent({ type: 'episode', episode: ringEpisode('sim-3-cccccc') });
    live.attach(job('sim-3-cccccc'));
    expect(live.episode?.jobId).toBe('sim-3-cccccc');
    live.handleEvent({ type: 'frame', frame: ringFrame('sim-3-cccccc', 0) });
    expect(live.frame?.step).toBe(0);
  });
});

describe('the disturb store', () => {
  function onRing(): { live: ReturnType<typeof useLiveStore>; disturb: ReturnType<typeof useDisturbStore> } {
    const live = useLiveStore();
    const disturb = useDisturbStore();
    live.attach(job('sim-1-aaaaaa'));
    live.handleEvent({ type: 'episode', episode: { ...ringEpisode('sim-1-aaaaaa'), source: { kind: 'simulation' } } });
    live.select(3);
    return { live, disturb };
  }

  it('checks the form with the api schema, errors by field, and sends the disturb command', async () => {
    const { disturb } = onRing();
    expect(disturb.canDisturb).toBe(true);
    expect(disturb.kinds.map((k) => k.id)).toEqual(['brake', 'hold', 'stop']);
    disturb.drafts.brake.duration = ' ';
    expect(await disturb.apply()).toBe(false);
    expect(disturb.errors).toEqual({ duration: 'duration must be a number of seconds from 0.1 to 600' });
    disturb.resetDraft();
    expect(await disturb.apply()).toBe(true);
    disturb.kind = 'stop';
    expect(await disturb.apply()).toBe(true);
    expect(api.commands.map(([, command]) => command)).toEqual([
      { type: 'disturb', disturbance: { kind: 'brake', vehicle: 3, duration: 2, accel: -4 } },
      { type: 'disturb', disturbance: { kind: 'stop', vehicle: 3, duration: 5 } },
    ]);
  });

  it('puts the backend refusals at their field, and a later failure to apply under the form', async () => {
    const { disturb } = onRing();
    disturb.drafts.brake.value = '2';
    api.refuseDisturb = new ApiRequestError({ code: 'invalid-config', message: 'bad', fields: [{ field: 'disturbance', message: 'accel=2 is not allowed; expected a negative acceleration' }] });
    expect(await disturb.apply()).toBe(false);
    expect(disturb.errors).toEqual({ accel: 'accel=2 is not allowed; expected a negative acceleration' });
    api.refuseDisturb = new ApiRequestError({ code: 'invalid-config', message: 'bad', fields: [{ field: 'disturbance', message: 'the simulation is not running' }] });
    expect(await disturb.apply()).toBe(false);
    expect(disturb.formError).toBe('the simulation is not running');
    disturb.handleEvent({ type: 'log', jobId: 'sim-1-aaaaaa', level: 'error', message: 'disturbance not applied: vehicle=30 is not allowed' });
    expect(disturb.formError).toBe('disturbance not applied: vehicle=30 is not allowed');
  });

  it('offers the dip on the CACC leader only', () => {
    const live = useLiveStore();
    const disturb = useDisturbStore();
    live.attach(job('sim-1-aaaaaa'));
    live.handleEvent({ type: 'episode', episode: { ...ringEpisode('sim-1-aaaaaa'), scenario: 'cacc-catchup', vehicleKind: [2, ...new Array<number>(21).fill(1)] } });
    live.select(0);
    expect(disturb.kinds.map((k) => k.id)).toEqual(['brake', 'hold', 'stop', 'dip']);
    disturb.kind = 'dip';
    live.select(1);
    expect(disturb.kinds.map((k) => k.id)).not.toContain('dip');
  });

  it("keeps the shown episode's readouts, the newest on screen", () => {
    const { live, disturb } = onRing();
    const entry = (start: number): LiveDisturbance => ({ disturbance: { kind: 'stop', vehicle: 3, duration: 5 }, start, readout: null });
    disturb.handleEvent({ type: 'disturbances', jobId: 'sim-1-aaaaaa', episode: 0, disturbances: [entry(10), entry(40)] });
    disturb.handleEvent({ type: 'disturbances', jobId: 'sim-9-bbbbbb', episode: 0, disturbances: [entry(99)] });
    expect(disturb.shown).toEqual({ index: 1, entry: entry(40) });
    disturb.shownIndex = 0;
    expect(disturb.shown?.entry.start).toBe(10);
    live.handleEvent({ type: 'episode', episode: { ...ringEpisode('sim-1-aaaaaa', 1), source: { kind: 'simulation' } } });
    expect(disturb.disturbances).toEqual([]);
    expect(disturb.shown).toBeNull();
  });
});
