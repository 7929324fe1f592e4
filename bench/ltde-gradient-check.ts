/**
 * LTDE's estimated actor direction against the exact one (docs/ltde.md, "The estimated
 * gradient on the grid"): at a fixed policy, the learner collects and fits its critics as in
 * training, and each team's ascent direction (both estimators, on one batch) is compared with
 * the exact steady-state descent of bench/ltde-exact.ts by cosine over all teams' weights
 * together. Independent batches at the same policy give the estimate's noise (their mutual
 * cosine and the cosine of their mean); the exact direction with the onward cost dropped
 * (kappa 0: own link only) shows whether the estimate sees the next hop's cost.
 *
 *   npx tsx bench/ltde-gradient-check.ts [--network grid-5x5] [--seed 1] [--pre-steps 0]
 *       [--db runs.db --checkpoint ID] [--warm 2] [--batches 3] [--set criticSteps=3000 ...]
 *
 * --pre-steps: exact descent steps from the untrained actors first (20: about 1.04 x SO, where
 * the learner levels off); --db/--checkpoint: start from a training run's stored actors instead
 * (the policy where a run stalls; its critics are not taken, so that settings which change the
 * critics' inputs, such as kappa, start on the same footing); --warm: collect-and-fit rounds
 * before measuring, so that the warm-started critics are fitted to the policy as in training.
 */
import { parseArgs } from 'node:util';
import { Ltde } from '../src/main/rl/learners/ltde.ts';
import { decodeState } from '../src/main/rl/core/checkpoint.ts';
import { RunStore } from '../src/main/store/index.ts';
import { projectedStep } from '../src/main/rl/core/twoLayerNet.ts';
import { RoutingEnv } from '../src/main/sim/routing.ts';
import { resolveLearnerConfig } from '../src/shared/learners.ts';
import { EXACT_ACTOR_STEP, exactDirections, SteadyState } from './ltde-exact.ts';

const { values } = parseArgs({
  options: {
    network: { type: 'string', default: 'grid-5x5' },
    seed: { type: 'string', default: '1' },
    'pre-steps': { type: 'string', default: '0' },
    warm: { type: 'string', default: '2' },
    batches: { type: 'string', default: '3' },
    db: { type: 'string' },
    checkpoint: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
  },
});
/** A --set value: a number, true or false, else the string (an enum). */
const settingValue = (text: string) => (text === 'true' ? true : text === 'false' ? false : Number.isNaN(Number(text)) ? text : Number(text));
const settings = Object.fromEntries(values.set.map((pair) => [pair.slice(0, pair.indexOf('=')), settingValue(pair.slice(pair.indexOf('=') + 1))]));
const config = resolveLearnerConfig('ltde', 'network-routing', 'default', settings);
const env = new RoutingEnv({ network: values.network });
const so = env.reference('so').tstt;
const ltde = new Ltde({ learner: 'ltde', scenario: 'network-routing', scenarioParams: { network: values.network }, config, seed: Number(values.seed) });
const { teams } = ltde.policy;
const zeros = () => teams.map((team) => new Float64Array(team.actor.weights.length));

if ((values.db === undefined) !== (values.checkpoint === undefined)) throw new Error('--db and --checkpoint go together: the run database and the id of the checkpoint whose actors to start from');
if (values.db !== undefined) {
  const store = RunStore.open(values.db, { readOnly: true });
  const { arrays } = decodeState(store.loadCheckpoint(Number(values.checkpoint)).data);
  store.close();
  teams.forEach((team, k) => {
    const weights = arrays[`team${k}.actor`];
    if (weights?.length !== team.actor.weights.length) throw new Error(`checkpoint ${values.checkpoint}'s team ${k} actor does not fit this network and settings`);
    team.actor.weights.set(weights);
  });
}

const exact = zeros();
const ownLink = zeros();
const preSteps = Number(values['pre-steps']);
for (let step = 0; step < preSteps; step++) {
  exactDirections(ltde.policy, new SteadyState(env, config.kappa, config.gamma), config.temperature, so, exact);
  teams.forEach((team, t) => projectedStep(team.actor, exact[t], EXACT_ACTOR_STEP, config.radius));
}
exactDirections(ltde.policy, new SteadyState(env, config.kappa, config.gamma), config.temperature, so, exact);
exactDirections(ltde.policy, new SteadyState(env, config.kappa, config.gamma, 0), config.temperature, so, ownLink);

const dot = (a: Float64Array[], b: Float64Array[]) => a.reduce((sum, x, t) => sum + x.reduce((s, v, k) => s + v * b[t][k], 0), 0);
const cosine = (a: Float64Array[], b: Float64Array[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
const round = (x: number) => Number(x.toFixed(3));

for (let warm = 0; warm < Number(values.warm); warm++) {
  ltde.collect();
  ltde.fitCritics();
}
const estimators = ['sampled', 'expected'] as const;
const estimates: Record<(typeof estimators)[number], Float64Array[][]> = { sampled: [], expected: [] };
const seconds: number[] = [];
for (let batch = 0; batch < Number(values.batches); batch++) {
  const start = performance.now();
  ltde.collect();
  ltde.fitCritics();
  for (const estimator of estimators) estimates[estimator].push(teams.map((team) => ltde.actorDirection(team, estimator).slice()));
  seconds.push((performance.now() - start) / 1000);
}
const mean = (list: Float64Array[][]) => teams.map((_, t) => list[0][t].map((_, k) => list.reduce((sum, x) => sum + x[t][k], 0) / list.length));
const pairs = (list: Float64Array[][]) => list.flatMap((a, i) => list.slice(i + 1).map((b) => cosine(a, b)));
const average = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
console.log(
  JSON.stringify({
    network: values.network,
    seed: Number(values.seed),
    preSteps,
    tsttOverSo: round(ltde.steadyTstt() / so),
    settings,
    exactVsOwnLink: round(cosine(exact, ownLink)),
    ...Object.fromEntries(
      estimators.map((estimator) => {
        const list = estimates[estimator];
        return [
          estimator,
          {
            vsExact: list.map((x) => round(cosine(x, exact))),
            vsOwnLink: list.map((x) => round(cosine(x, ownLink))),
            betweenBatches: round(average(pairs(list))),
            meanVsExact: round(cosine(mean(list), exact)),
          },
        ];
      }),
    ),
    secondsPerBatch: seconds.map(round),
  }),
);
