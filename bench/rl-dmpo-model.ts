/**
 * Speed of the DMPO local models on ring (22 agents, continuous actions) and cacc-catchup
 * (8 agents, discrete actions), at the reference code's sizes:
 * - model training: steps per second, each step 256 windows x 4 open-loop steps for all
 *   agents (forward, hand-written backward, Adam); also at the default preset's model
 *   batch (modelBatchWindows), where the fixed per-op cost dominates;
 * - branched rollouts: 2048 rollouts x 25 steps with a cheap stand-in policy (the figure is
 *   the models' cost, not a policy's); transitions per second count joint transitions
 *   (one step of one rollout, all agents), agent transitions multiply by the agent count.
 *
 * The data are random-action episodes. Timings on a shared machine are noisy: each figure is
 * the median of `repeats` runs, reported with the 1-minute load average before the runs.
 *
 * - one model-fit step per formulation (dmpoModelStepBench): per-agent (gcn.ts) against
 *   batched (gcnBatched.ts) on the same windows, per backend.
 *
 * - the authors' unit costs (dmpoAuthorsBench): the three figures the DMPO authors' PyTorch
 *   code gives on one CPU thread on cacc-catchup, each measured here on the same workload with
 *   the learner's own code, beside the authors' figure and the speed-up over it.
 *
 * Standalone: `npx tsx bench/rl-dmpo-model.ts` prints the figures as JSON; `--step` only the
 * model step per formulation on cpu and wasm, `--step --webgpu` the batched step on webgpu;
 * `--authors` only the authors' unit costs.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { selectBackend, type BackendChoice } from '../src/main/rl/nn/backend.ts';
import { formulationFor, UPDATE_FORMULATIONS, type UpdateFormulation } from '../src/main/rl/nn/formulation.ts';
import { recordEpisodes, type RealEpisode } from '../src/main/rl/learners/dmpo/episodes.ts';
import { BatchedGcn } from '../src/main/rl/learners/dmpo/gcnBatched.ts';
import { uniformLossWeights } from '../src/main/rl/learners/dmpo/gcnLoss.ts';
import { LocalModels } from '../src/main/rl/learners/dmpo/localModel.ts';
import { fillModelRollout } from '../src/main/rl/learners/dmpo/modelRollout.ts';
import { createOnPolicyLearner } from '../src/main/rl/learners/index.ts';
import { PpoFamily } from '../src/main/rl/learners/ppo.ts';
import { RolloutBuffer } from '../src/main/rl/core/rollout.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';
import { createEnv } from '../src/main/sim/index.ts';
import { RngStreams } from '../src/main/sim/rng.ts';
import { resolveLearnerConfig } from '../src/shared/learners.ts';

export interface DmpoModelBenchOptions {
  readonly repeats?: number;
  /** Training steps per timed run. */
  readonly trainingSteps?: number;
  readonly windowsPerBatch?: number;
  readonly rolloutTrajectories?: number;
  readonly rolloutSteps?: number;
  readonly backend?: BackendChoice;
  /** The models' fit formulation; default: formulationFor the backend. */
  readonly formulation?: UpdateFormulation;
}

export interface DmpoScenarioFigures {
  readonly agents: number;
  readonly windowsPerBatch: number;
  readonly windowSteps: number;
  readonly trainingStepsPerSecond: number;
  readonly rolloutTrajectories: number;
  readonly rolloutSteps: number;
  readonly rolloutTransitionsPerSecond: number;
  readonly rolloutAgentTransitionsPerSecond: number;
}

/** Model training at the default preset's model batch size. */
export interface DmpoPresetFigures {
  readonly windowsPerBatch: number;
  readonly trainingStepsPerSecond: number;
}

export interface DmpoModelBenchFigures {
  readonly backend: string;
  readonly formulation: UpdateFormulation;
  /** 1-minute load average before the runs: other work on the machine slows them. */
  readonly loadAverageBefore: number;
  readonly repeats: number;
  readonly scenarios: Readonly<Record<'ring' | 'cacc-catchup', DmpoScenarioFigures>>;
  readonly defaultPreset: Readonly<Record<'ring' | 'cacc-catchup', DmpoPresetFigures>>;
}

const SEED = 2024;

export async function dmpoModelBench(options: DmpoModelBenchOptions = {}): Promise<DmpoModelBenchFigures> {
  const repeats = options.repeats ?? 3;
  const backend = await selectBackend(options.backend ?? 'auto');
  const formulation = options.formulation ?? formulationFor(backend);
  const loadAverageBefore = loadavg()[0];
  const trainingSteps = options.trainingSteps ?? 20;
  const modelsOn = async (id: 'ring' | 'cacc-catchup', windowsPerBatch: number | undefined) => {
    const { env, episodes } = randomActionEpisodes(id);
    const models = LocalModels.forEnv(env.spec, {
      seed: SEED,
      ...(windowsPerBatch === undefined ? {} : { windowsPerBatch }),
      ...(options.rolloutTrajectories === undefined ? {} : { rolloutTrajectories: options.rolloutTrajectories }),
      ...(options.rolloutSteps === undefined ? {} : { rolloutSteps: options.rolloutSteps }),
      // Never stop early: every timed run does the same work.
      modelErrorThreshold: 0,
    }, formulation);
    for (const episode of episodes) models.addEpisode(episode);
    await models.train(2); // warm-up: JIT, wasm memory growth, shader compilation
    return { env, models };
  };
  const trainingStepsPerSecond = async (models: LocalModels): Promise<number> => {
    const seconds: number[] = [];
    for (let k = 0; k < repeats; k++) seconds.push((await models.train(trainingSteps)).seconds);
    return round3(trainingSteps / median(seconds));
  };
  const atDefaultPreset = async (id: 'ring' | 'cacc-catchup'): Promise<DmpoPresetFigures> => {
    const windowsPerBatch = Number(resolveLearnerConfig('dmpo', id, 'default').modelBatchWindows);
    return { windowsPerBatch, trainingStepsPerSecond: await trainingStepsPerSecond((await modelsOn(id, windowsPerBatch)).models) };
  };
  const scenario = async (id: 'ring' | 'cacc-catchup'): Promise<DmpoScenarioFigures> => {
    const { env, models } = await modelsOn(id, options.windowsPerBatch);
    const action = env.spec.action;
    const agents = env.spec.nAgents;
    const policy = (observations: Float32Array, batch: number): Float32Array =>
      Float32Array.from({ length: batch * agents }, (_, k) => (action.kind === 'discrete' ? k % action.n : observations[k * env.spec.obsDim] - 0.5));
    const stepsPerSecond = await trainingStepsPerSecond(models);
    models.branchedRollout(policy, { steps: 1 });
    const { rolloutTrajectories, rolloutSteps } = models.config;
    const rolloutSeconds = median(
      Array.from({ length: repeats }, () => {
        const start = performance.now();
        models.branchedRollout(policy);
        return (performance.now() - start) / 1000;
      }),
    );
    const transitionsPerSecond = (rolloutTrajectories * rolloutSteps) / rolloutSeconds;
    return {
      agents,
      windowsPerBatch: models.config.windowsPerBatch,
      windowSteps: models.config.windowSteps,
      trainingStepsPerSecond: stepsPerSecond,
      rolloutTrajectories,
      rolloutSteps,
      rolloutTransitionsPerSecond: Math.round(transitionsPerSecond),
      rolloutAgentTransitionsPerSecond: Math.round(transitionsPerSecond * agents),
    };
  };
  return {
    backend: backend.description,
    formulation,
    loadAverageBefore: round3(loadAverageBefore),
    repeats,
    scenarios: { ring: await scenario('ring'), 'cacc-catchup': await scenario('cacc-catchup') },
    defaultPreset: { ring: await atDefaultPreset('ring'), 'cacc-catchup': await atDefaultPreset('cacc-catchup') },
  };
}

/** Two random-action episodes of a scenario: data enough for timing (the ring's 3000-step episodes are cut to 1000). */
function randomActionEpisodes(id: 'ring' | 'cacc-catchup'): { env: ReturnType<typeof createEnv>; episodes: RealEpisode[] } {
  const env = createEnv(id, id === 'ring' ? { horizon: 1000 } : {}, 2);
  const rng = new RngStreams(1);
  rng.seed(0, SEED);
  const action = env.spec.action;
  const episodes = recordEpisodes(env, SEED, (_observations, actions) => {
    for (let k = 0; k < actions.length; k++) actions[k] = action.kind === 'discrete' ? rng.integer(0, 0, action.n - 1) : 2 * rng.uniform(0) - 1;
  });
  return { env, episodes };
}

export interface DmpoModelStepOptions {
  /** Backend and formulation pairs to measure; default: per-agent and batched on cpu and wasm. */
  readonly runs?: readonly { readonly backend: BackendChoice; readonly formulation: UpdateFormulation }[];
  /** Windows of the step (each windowSteps = 4 open-loop steps of all 22 agents). */
  readonly windows?: number;
  readonly repeats?: number;
}

export interface DmpoModelStepFigures {
  readonly backend: string;
  readonly formulation: UpdateFormulation;
  readonly agents: number;
  readonly windows: number;
  readonly windowSteps: number;
  /** Median seconds of one loss-and-gradients evaluation of all agents' models (after one warm-up). */
  readonly secondsPerStep: number;
}

/**
 * One model-fit step (loss and every agent's gradient, no Adam) on the ring's 22 agents, in
 * each backend and formulation asked for: the per-agent path reads synchronously, so on
 * webgpu only the batched one runs.
 */
export async function dmpoModelStepBench(options: DmpoModelStepOptions = {}): Promise<DmpoModelStepFigures[]> {
  const runs = options.runs ?? (['cpu', 'wasm'] as const).flatMap((backend) => UPDATE_FORMULATIONS.map((formulation) => ({ backend, formulation })));
  const windows = options.windows ?? 32;
  const repeats = options.repeats ?? 3;
  const { env, episodes } = randomActionEpisodes('ring');
  const models = LocalModels.forEnv(env.spec, { seed: SEED, bufferEpisodes: episodes.length });
  for (const episode of episodes) models.addEpisode(episode);
  const rng = new RngStreams(1);
  rng.seed(0, SEED);
  const batch = models.episodes.sampleWindows(windows, models.config.windowSteps, rng, 0);
  const { gcn, parameters } = models;
  const batched = new BatchedGcn(gcn);
  const figures: DmpoModelStepFigures[] = [];
  const lossWeights = uniformLossWeights(gcn, 10);
  for (const { backend, formulation } of runs) {
    const report = await selectBackend(backend);
    const step = async (): Promise<number> => {
      const start = performance.now();
      if (formulation === 'batched') await batched.lossAndGradients(parameters, batch, lossWeights);
      else gcn.lossAndGradients(parameters, batch, lossWeights);
      return (performance.now() - start) / 1000;
    };
    await step(); // warm-up: JIT, memory growth, shader compilation
    const seconds: number[] = [];
    for (let k = 0; k < repeats; k++) seconds.push(await step());
    figures.push({ backend: report.description, formulation, agents: gcn.agents, windows, windowSteps: batch.steps, secondsPerStep: round3(median(seconds)) });
  }
  return figures;
}

/** One unit cost measured here beside the DMPO authors' figure for the same workload. */
export interface AuthorsComparison {
  readonly workload: string;
  readonly seconds: number;
  readonly authors: { readonly seconds: number; readonly source: string };
  /** authors' seconds / Headway's seconds: above 1, Headway is faster. */
  readonly speedup: number;
}

export interface DmpoAuthorsFigures {
  readonly backend: string;
  readonly loadAverageBefore: number;
  readonly repeats: number;
  /** One model training step (loss, gradients, clipping, Adam) of 512 windows x 4 steps, all 8 agents, on the training thread; per window too. */
  readonly modelStep: AuthorsComparison & { readonly msPerWindow: number; readonly authorsMsPerWindow: number };
  /** 2,048 branched rollouts x 25 steps in the models under the current policy (its actions sampled, its inputs gathered). */
  readonly branchedRollouts: AuthorsComparison;
  /** The DPPO update (actors and critics, 10 epochs, full batch: the reference-code preset) on those 51,200 model transitions. */
  readonly policyUpdate: AuthorsComparison;
}

/**
 * The DMPO authors' unit costs (their PyTorch code, one CPU thread, cacc-catchup; issue 12)
 * against Headway's on the same workloads, with the reference-code preset's sizes.
 */
const AUTHORS = {
  modelStep: { windows: 512, seconds: 0.105 },
  branchedRollouts: { trajectories: 2048, steps: 25, seconds: 0.62 },
  policyUpdate: { transitions: 51_200, epochs: 10, seconds: 16.8 },
  source: "the DMPO authors' PyTorch code on one CPU thread, cacc-catchup (issue 12)",
} as const;

export async function dmpoAuthorsBench(options: { readonly repeats?: number; readonly backend?: BackendChoice } = {}): Promise<DmpoAuthorsFigures> {
  const repeats = options.repeats ?? 3;
  const backend = await selectBackend(options.backend ?? 'auto');
  const loadAverageBefore = loadavg()[0];
  const scenario = 'cacc-catchup';
  const config = resolveLearnerConfig('dmpo', scenario, 'reference-code', { nTraj: AUTHORS.branchedRollouts.trajectories, modelRolloutLength: AUTHORS.branchedRollouts.steps, epochs: AUTHORS.policyUpdate.epochs });
  const comparison = (workload: string, seconds: number, authorsSeconds: number): AuthorsComparison => ({
    workload,
    seconds: round3(seconds),
    authors: { seconds: authorsSeconds, source: AUTHORS.source },
    speedup: round3(authorsSeconds / seconds),
  });
  const timed = async (body: () => unknown): Promise<number> => {
    await body(); // warm-up: JIT, memory growth
    const seconds: number[] = [];
    for (let k = 0; k < repeats; k++) {
      const start = performance.now();
      await body();
      seconds.push((performance.now() - start) / 1000);
    }
    return median(seconds);
  };

  const { env, episodes } = randomActionEpisodes(scenario);
  const models = LocalModels.forEnv(env.spec, { seed: SEED, windowsPerBatch: AUTHORS.modelStep.windows, modelErrorThreshold: 0, validateEvery: 1_000_000 }, formulationFor(backend));
  for (const episode of episodes) models.addEpisode(episode);
  const pool = await createUpdatePool({ threads: 2 });
  const learner = createOnPolicyLearner({ learner: 'dmpo', scenario, scenarioParams: {}, config, seed: 1 }, pool);
  try {
    const stepSeconds = await timed(() => models.train(1));
    const { policy, envs } = learner.run;
    const buffer = new RolloutBuffer(policy.agents, config.modelRolloutLength, config.nTraj, policy.networks, policy.head);
    const rolloutSeconds = await timed(() => fillModelRollout(models, policy, envs.sampler, buffer));
    const ppo = new PpoFamily({ learner: 'dmpo', scenario, scenarioParams: {}, config, seed: 1 }, learner.run, pool);
    // Each update trains on a fresh rollout of the updated policy, as DMPO's inner loop does; only the update is timed; the first is a warm-up.
    const updateRuns: number[] = [];
    for (let k = 0; k <= repeats; k++) {
      fillModelRollout(models, policy, envs.sampler, buffer);
      const start = performance.now();
      await ppo.update(buffer);
      if (k > 0) updateRuns.push((performance.now() - start) / 1000);
    }
    const updateSeconds = median(updateRuns);
    const modelStep = comparison(`one model training step, ${AUTHORS.modelStep.windows} windows x 4 steps, ${env.spec.nAgents} agents`, stepSeconds, AUTHORS.modelStep.seconds);
    return {
      backend: backend.description,
      loadAverageBefore: round3(loadAverageBefore),
      repeats,
      modelStep: {
        ...modelStep,
        msPerWindow: round3((1000 * stepSeconds) / AUTHORS.modelStep.windows),
        authorsMsPerWindow: round3((1000 * AUTHORS.modelStep.seconds) / AUTHORS.modelStep.windows),
      },
      branchedRollouts: comparison(`${config.nTraj} branched rollouts x ${config.modelRolloutLength} steps under the policy`, rolloutSeconds, AUTHORS.branchedRollouts.seconds),
      policyUpdate: comparison(`DPPO update on ${config.nTraj * config.modelRolloutLength} model transitions x ${config.epochs} epochs, ${config.minibatches} minibatch(es)`, updateSeconds, AUTHORS.policyUpdate.seconds),
    };
  } finally {
    learner.dispose();
    await pool.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // --step: only the per-formulation model step (webgpu too with --webgpu: needs an adapter, e.g. VK_ICD_FILENAMES).
  const figures = process.argv.includes('--authors')
    ? await dmpoAuthorsBench()
    : process.argv.includes('--step')
    ? await dmpoModelStepBench(process.argv.includes('--webgpu') ? { runs: [{ backend: 'webgpu', formulation: 'batched' }], windows: 8, repeats: 2 } : {})
    : await dmpoModelBench();
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
