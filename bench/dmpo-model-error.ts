/**
 * DMPO's local models: how wrong a branched rollout gets, step by step (the figure-eight
 * diagnosis, docs/dmpo-figure-eight.md). Not part of `npm run bench`: it fits models.
 *
 * Records real episodes of a scenario under a noisy cruising policy (every agent's action
 * 0.3 + N(0, 1), clipped to the action range: traffic that moves and brakes), fits the
 * models on them with the scenario's DMPO preset (model batch, learning rate, reward
 * coefficient), then rolls the fitted models open-loop from states of fresh episodes on the
 * real actions and reports, per rollout step t, the relative state error MSE(s_t)/Var(s)
 * (wrapped fields compared on the circle), its speed and position parts, the reward error
 * MSE(r_t)/Var(r), and the same state error of the "nothing changes" prediction s_t = s_0:
 * a model worse than that baseline adds noise, not information. On the figure eight the
 * state error is also split between agents near the crossing at step t (from 30 m before a
 * conflict zone's entry to a body length past its exit: where a vehicle may have to yield to
 * one its model cannot see) and the others.
 *
 *   npx tsx bench/dmpo-model-error.ts [--scenario figure-eight] [--fit-steps 1500]
 *       [--preset default] [--starts 400] [--rollout-steps 25]
 */
import { parseArgs } from 'node:util';
import { recordEpisodes, type RealEpisode } from '../src/main/rl/learners/dmpo/episodes.ts';
import { withTensorScope } from '../src/main/rl/learners/dmpo/gcn.ts';
import { LocalModels } from '../src/main/rl/learners/dmpo/localModel.ts';
import { selectBackend } from '../src/main/rl/nn/backend.ts';
import { createEnv, VEHICLE_LENGTH } from '../src/main/sim/index.ts';
import { RngStreams } from '../src/main/sim/rng.ts';
import { FIGURE_EIGHT_CONFLICT_ZONES, FIGURE_EIGHT_LENGTH } from '../src/shared/geometry.ts';
import { PRESET_IDS, resolveLearnerConfig, type LearnerPresetId } from '../src/shared/learners.ts';

const SCENARIOS = ['figure-eight', 'ring'] as const;
type ModelErrorScenario = (typeof SCENARIOS)[number];
/** Steps reported (1-based); the rest are computed too but not printed. */
const REPORTED_STEPS = [1, 2, 4, 8, 13, 25, 50, 100];
const SEED = 5;
/** Metres before a conflict zone's entry that count as near the crossing. */
const APPROACH = 30;

/** Whether route fraction `position` of the figure eight is near the crossing (see the header). */
function nearCrossing(position: number): boolean {
  const metres = (position - Math.floor(position)) * FIGURE_EIGHT_LENGTH;
  return FIGURE_EIGHT_CONFLICT_ZONES.some((zone) => metres >= zone.entry - APPROACH && metres <= zone.exit + VEHICLE_LENGTH);
}

export interface ModelErrorOptions {
  readonly scenario: ModelErrorScenario;
  readonly preset: LearnerPresetId;
  readonly fitSteps: number;
  readonly starts: number;
  readonly rolloutSteps: number;
}

export interface StepErrors {
  readonly step: number;
  readonly stateError: number;
  readonly speedError: number;
  readonly positionError: number;
  readonly rewardError: number;
  readonly unchangedStateError: number;
  /** Figure eight: the state error of agents near the crossing at this step, of the others, and the share of agents near it. */
  readonly crossing?: { readonly nearStateError: number; readonly elsewhereStateError: number; readonly nearShare: number };
}

export interface ModelErrorReport {
  readonly scenario: ModelErrorScenario;
  readonly preset: LearnerPresetId;
  readonly fitSteps: number;
  readonly validation: { readonly stateError: number; readonly rewardError: number };
  readonly fitSeconds: number;
  readonly byStep: StepErrors[];
}

/** Four episodes of every agent cruising with noise (0.3 + N(0, 1), clipped), from `seed`. */
function cruisingEpisodes(scenario: ModelErrorScenario, seed: number): { episodes: RealEpisode[]; spec: ReturnType<typeof createEnv>['spec'] } {
  const env = createEnv(scenario, { horizon: 1500 }, 4);
  const { action } = env.spec;
  if (action.kind !== 'continuous') throw new Error(`${scenario} has no continuous action`);
  const rng = new RngStreams(1);
  rng.seed(0, seed);
  const episodes = recordEpisodes(env, seed, (_observations, actions) => {
    for (let k = 0; k < actions.length; k++) actions[k] = Math.max(action.low, Math.min(action.high, 0.3 + rng.normal(0)));
  });
  return { episodes, spec: env.spec };
}

/** Population variance of every `stride`-th value from `offset`. */
function variance(values: ArrayLike<number>, offset: number, stride: number): number {
  let sum = 0;
  let count = 0;
  for (let k = offset; k < values.length; k += stride, count++) sum += values[k];
  const mean = sum / count;
  let squares = 0;
  for (let k = offset; k < values.length; k += stride) squares += (values[k] - mean) ** 2;
  return squares / count;
}

export async function dmpoModelError(options: ModelErrorOptions): Promise<ModelErrorReport> {
  const { scenario, preset, fitSteps, starts, rolloutSteps } = options;
  const config = resolveLearnerConfig('dmpo', scenario, preset);
  const { episodes, spec } = cruisingEpisodes(scenario, SEED);
  const fresh = cruisingEpisodes(scenario, SEED + 94).episodes;
  const models = LocalModels.forEnv(spec, { seed: SEED, learningRate: config.lrModel, windowsPerBatch: config.modelBatchWindows, rewardCoefficient: config.modelRewardCoef, modelErrorThreshold: 0 });
  for (const episode of episodes) models.addEpisode(episode);
  const fit = await models.train(fitSteps);

  const { nAgents: agents, obsDim } = spec;
  if (obsDim !== 2) throw new Error(`expected the dmpo observation [speed, position], got ${obsDim} values`);
  const stateSize = agents * obsDim;
  const rng = new RngStreams(1);
  rng.seed(0, SEED + 1);
  const picks = Array.from({ length: starts }, () => {
    const episode = fresh[rng.integer(0, 0, fresh.length - 1)];
    return { episode, start: rng.integer(0, 0, episode.length - rolloutSteps) };
  });
  const allObservations = fresh.flatMap((episode) => Array.from(episode.observations));
  const speedVariance = variance(allObservations, 0, 2);
  const positionVariance = variance(allObservations, 1, 2);
  const rewardVariance = variance(fresh.flatMap((episode) => Array.from(episode.rewards)), 0, 1);
  const stateVariance = (speedVariance + positionVariance) / 2;

  let states: Float32Array = new Float32Array(starts * stateSize);
  picks.forEach(({ episode, start }, b) => states.set(episode.observations.subarray(start * stateSize, (start + 1) * stateSize), b * stateSize));
  const actions = new Float32Array(starts * agents);
  const byStep: StepErrors[] = [];
  withTensorScope(() => {
    const weights = models.gcn.buildWeights(models.parameters, false);
    for (let t = 0; t < rolloutSteps; t++) {
      picks.forEach(({ episode, start }, b) => actions.set(episode.actions.subarray((start + t) * agents, (start + t + 1) * agents), b * agents));
      const prediction = models.gcn.predict(weights, states, actions, starts);
      states = prediction.nextObservations;
      let speedSquares = 0;
      let positionSquares = 0;
      let unchangedSquares = 0;
      let rewardSquares = 0;
      const near = { squares: 0, count: 0 };
      picks.forEach(({ episode, start }, b) => {
        for (let i = 0; i < agents; i++) {
          const truth = (start + t + 1) * stateSize + i * obsDim;
          const origin = start * stateSize + i * obsDim;
          const onCircle = (delta: number): number => delta - Math.round(delta);
          const speedSquare = (states[b * stateSize + i * obsDim] - episode.observations[truth]) ** 2;
          const positionSquare = onCircle(states[b * stateSize + i * obsDim + 1] - episode.observations[truth + 1]) ** 2;
          speedSquares += speedSquare;
          positionSquares += positionSquare;
          if (scenario === 'figure-eight' && nearCrossing(episode.observations[truth + 1])) {
            near.squares += speedSquare + positionSquare;
            near.count++;
          }
          unchangedSquares += (episode.observations[origin] - episode.observations[truth]) ** 2 + onCircle(episode.observations[origin + 1] - episode.observations[truth + 1]) ** 2;
          rewardSquares += (prediction.rewards[b * agents + i] - episode.rewards[(start + t) * agents + i]) ** 2;
        }
      });
      if (!REPORTED_STEPS.includes(t + 1) && t + 1 !== rolloutSteps) continue;
      const count = starts * agents;
      byStep.push({
        step: t + 1,
        stateError: round4((speedSquares + positionSquares) / (2 * count) / stateVariance),
        speedError: round4(speedSquares / count / speedVariance),
        positionError: round4(positionSquares / count / positionVariance),
        rewardError: round4(rewardSquares / count / rewardVariance),
        unchangedStateError: round4(unchangedSquares / (2 * count) / stateVariance),
        ...(scenario === 'figure-eight' && {
          crossing: {
            nearStateError: round4(near.squares / (2 * Math.max(1, near.count)) / stateVariance),
            elsewhereStateError: round4((speedSquares + positionSquares - near.squares) / (2 * Math.max(1, count - near.count)) / stateVariance),
            nearShare: round4(near.count / count),
          },
        }),
      });
    }
  });
  return { scenario, preset, fitSteps, validation: { stateError: round4(fit.stateError), rewardError: round4(fit.rewardError) }, fitSeconds: Math.round(fit.seconds), byStep };
}

function round4(value: number): number {
  return Number(value.toPrecision(4));
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'figure-eight' },
      preset: { type: 'string', default: 'default' },
      'fit-steps': { type: 'string', default: '1500' },
      starts: { type: 'string', default: '400' },
      'rollout-steps': { type: 'string', default: '25' },
    },
  });
  const scenario = values.scenario as ModelErrorScenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}, got ${values.scenario}`);
  const preset = values.preset as LearnerPresetId;
  if (!PRESET_IDS.includes(preset)) throw new Error(`--preset must be one of ${PRESET_IDS.join(', ')}, got ${values.preset}`);
  await selectBackend('auto');
  const report = await dmpoModelError({
    scenario,
    preset,
    fitSteps: positiveInteger('fit-steps', values['fit-steps']),
    starts: positiveInteger('starts', values.starts),
    rolloutSteps: positiveInteger('rollout-steps', values['rollout-steps']),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
