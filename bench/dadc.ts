/**
 * DADC against the planner's optimum (the DADC paper's Figure 2): trains `dadc` on a scenario
 * for several seeds, evaluates every `every` iterations (`eval-episodes` fresh episodes, the
 * coordinator on its greedy prescription), and prints one JSON object: the planner's optimum,
 * the median and quartiles of the discounted team return over seeds per evaluation point, and
 * each seed's final value on `final-episodes` episodes with its standard error, their median
 * and its gap to the optimum. On mabc one episode's discounted return spreads by about 1.1, so
 * 200 episodes judge a policy to +-0.08 (9% of the optimum): a 2% target needs the final
 * evaluation's 20,000 (+-0.008). Each final policy is also valued with the plan's values as a
 * control variate (`plannerEstimate`, `plannerMedian`: mabc +-0.0001 on 20,000 episodes,
 * demand response about +-0.0005 on 200), and on demand response its mean prescription after
 * the start (`stationary`) and its prescription at the first step (`start`) are printed beside it, and
 * every seed's coordinator std in its last iteration (`std`; `startStd` at episode starts with coordinatorStd state). Run with
 *   npx tsx bench/dadc.ts [--scenario mabc] [--seeds 5] [--first-seed 1] [--iterations 300] [--every 10] [--preset default]
 *     [--eval-episodes 1000] [--final-episodes 20000] [--set KEY=VALUE ...] [--train-horizon N]
 * It trains on one core for minutes to hours: a measurement, never a unit test.
 */
import { parseArgs } from 'node:util';
import { Dadc } from '../src/main/rl/learners/dadc/dadc.ts';
import { createEnv } from '../src/main/sim/index.ts';
import { DemandResponseRegret, planDemandResponse, type DemandResponsePlan } from '../src/main/sim/planner/demandResponsePlanner.ts';
import { jointPrescription, MabcRegret, observationIndex, planMabc, type MabcPlan } from '../src/main/sim/planner/mabcPlanner.ts';
import { TabularEnv } from '../src/main/sim/tabular.ts';
import { LEARNERS, PRESET_IDS, resolveLearnerConfig } from '../src/shared/learners.ts';
import { resolveParams } from '../src/shared/scenarios.ts';

/** The scenarios with a planner's optimum (DADC on the CACC platoon is compared with the PPO family instead: docs/dadc.md). */
const DADC_SCENARIOS = LEARNERS.dadc.scenarios!.filter((id) => id === 'mabc' || id === 'demand-response');

const EVAL_SEED = 1_000_000_007;
/** The final evaluation's episodes are other ones than the curve's. */
const FINAL_SEED = 2_000_000_011;

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
}

/** Steps of a demand-response episode before the count settles (the start's share ON, 2/3, comes down to about 0.3): the stationary prescription is averaged after them. */
const SETTLING_STEPS = 10;

/**
 * Demand response: the final policy's value on the final episodes by the plan's values as a
 * control variate (DemandResponseRegret), and its mean prescription after the first
 * SETTLING_STEPS steps, (idle, force OFF, force ON) of an OFF and of an ON load, to set beside
 * the optimum's (docs/dadc.md).
 */
type Prescribed = { offLoads: number[]; onLoads: number[] };

function demandResponseEstimate(dadc: Dadc, plan: DemandResponsePlan, episodes: number, seed: number): { value: number; standardError: number; stationary: Prescribed; start: Prescribed } {
  const params = resolveParams('demand-response');
  const env = createEnv('demand-response', {}, episodes).reset(seed);
  const { nAgents, horizon, action } = env.spec;
  const width = action.kind === 'discrete' ? action.n : 0;
  const policy = dadc.deployedPolicy(env, seed);
  const regret = new DemandResponseRegret(plan, params, params.discount, episodes);
  const actions = new Float64Array(episodes * nAgents);
  // The prescription's action probabilities for a load in local state s (0 OFF, 1 ON).
  const probabilities = [new Float64Array(width), new Float64Array(width)];
  const stationary = [new Array<number>(width).fill(0), new Array<number>(width).fill(0)];
  // The first step's prescription: the optimum forces about 30% of the ON loads OFF there (docs/dadc.md).
  const start = [new Array<number>(width).fill(0), new Array<number>(width).fill(0)];
  const count = () => Array.from({ length: episodes }, (_, e) => Math.round(env.obs[e * nAgents * 2 + 1] * nAgents));
  for (let t = 0; t < horizon; t++) {
    policy.decide(env, actions);
    const theta = policy.prescription(0);
    const counts = count();
    for (let e = 0; e < episodes; e++) {
      for (const s of [0, 1]) {
        dadc.space.actionLogits(theta, e, 0, [s], 0, probabilities[s], 0);
        softmaxInPlace(probabilities[s]);
        if (t >= SETTLING_STEPS) probabilities[s].forEach((p, a) => (stationary[s][a] += p / (episodes * (horizon - SETTLING_STEPS))));
        if (t === 0) probabilities[s].forEach((p, a) => (start[s][a] += p / episodes));
      }
      regret.step(e, counts[e], probabilities[0], probabilities[1]);
    }
    env.step(actions);
  }
  count().forEach((m, e) => regret.end(e, m));
  return { ...regret.estimate(), stationary: { offLoads: stationary[0], onLoads: stationary[1] }, start: { offLoads: start[0], onLoads: start[1] } };
}

function softmaxInPlace(logits: Float64Array): void {
  const largest = Math.max(...logits);
  let total = 0;
  for (let a = 0; a < logits.length; a++) total += logits[a] = Math.exp(logits[a] - largest);
  for (let a = 0; a < logits.length; a++) logits[a] /= total;
}

/**
 * mabc with opportunity prescriptions: the final policy's value on the final episodes by the
 * planner's values as a control variate (MabcRegret: the optimum minus the discounted regret of
 * the coordinator's choices), several times more precise than their Monte-Carlo mean. The
 * regret of each episode's last step is left out (weight gamma^99, below 1e-4 of the value):
 * after it the copies restart.
 */
function mabcEstimate(dadc: Dadc, plan: MabcPlan, episodes: number, seed: number): { value: number; standardError: number } | null {
  const params = resolveParams('mabc');
  const env = createEnv('mabc', {}, episodes).reset(seed);
  if (!(env instanceof TabularEnv) || env.opportunities === null || dadc.config.prescriptions !== 'opportunities') return null;
  const { opportunities } = env;
  const { obsDim, nAgents, horizon } = env.spec;
  const policy = dadc.deployedPolicy(env, seed);
  const regret = new MabcRegret(plan, params, params.discount, episodes);
  const actions = new Float64Array(episodes * nAgents);
  const chosen = new Int32Array(episodes);
  for (let t = 0; t < horizon - 1; t++) {
    policy.decide(env, actions);
    const theta = policy.prescription(0);
    for (let e = 0; e < episodes; e++) {
      const c = theta.subarray(e * opportunities.length, (e + 1) * opportunities.length).indexOf(1);
      chosen[e] = jointPrescription(opportunities[c][0], opportunities[c][1]);
    }
    env.step(actions);
    // Device 1's observation: [buffer, A^1, A^2, seen, S * seen] of the step just taken.
    for (let e = 0; e < episodes; e++) {
      const o = e * nAgents * obsDim;
      regret.step(e, chosen[e], observationIndex(env.obs[o + 1], env.obs[o + 2], env.obs[o + 4]));
    }
  }
  return regret.estimate();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'mabc' },
      seeds: { type: 'string', default: '5' },
      'first-seed': { type: 'string', default: '1' },
      iterations: { type: 'string', default: '300' },
      every: { type: 'string', default: '10' },
      preset: { type: 'string', default: 'default' },
      'eval-episodes': { type: 'string', default: '1000' },
      'final-episodes': { type: 'string', default: '20000' },
      set: { type: 'string', multiple: true, default: [] },
      'train-horizon': { type: 'string', default: '0' },
    },
  });
  const scenario = DADC_SCENARIOS.find((id) => id === values.scenario);
  if (!scenario) throw new Error(`--scenario must be one of ${DADC_SCENARIOS.join(', ')}`);
  const preset = PRESET_IDS.find((id) => id === values.preset);
  if (!preset) throw new Error(`--preset must be one of ${PRESET_IDS.join(', ')}`);
  const settings = Object.fromEntries(values.set.map((pair) => pair.split('=', 2)));
  const config = resolveLearnerConfig('dadc', scenario, preset, settings);
  const [seeds, firstSeed, iterations, every, evalEpisodes, finalEpisodes] = [values.seeds, values['first-seed'], values.iterations, values.every, values['eval-episodes'], values['final-episodes']].map(Number);
  for (const [name, value] of Object.entries({ seeds, 'first-seed': firstSeed, iterations, every, 'eval-episodes': evalEpisodes, 'final-episodes': finalEpisodes })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1, not ${String(value)}`);
  }
  // --train-horizon N: training episodes cut at N steps (more episode starts per window); every evaluation on the scenario's own episodes.
  const trainHorizon = Number(values['train-horizon']);
  if (!Number.isInteger(trainHorizon) || trainHorizon < 0) throw new Error(`--train-horizon must be a whole number >= 0 (0: the scenario's), not ${values['train-horizon']}`);
  const trainingParams = trainHorizon > 0 ? { horizon: trainHorizon } : {};
  const mabcParams = resolveParams('mabc');
  const mabcPlan = scenario === 'mabc' ? planMabc(mabcParams, mabcParams.discount) : null;
  const demandResponseParams = resolveParams('demand-response');
  const demandResponsePlan = scenario === 'demand-response' ? planDemandResponse(demandResponseParams, demandResponseParams.discount) : null;
  const best = (mabcPlan ?? demandResponsePlan)!.value;
  const curves: number[][] = [];
  const finals: { value: number; standardError: number; plannerEstimate?: number; plannerStandardError?: number; stationary?: Prescribed; start?: Prescribed; std: number; startStd?: number }[] = [];
  const started = performance.now();
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const dadc = new Dadc({ learner: 'dadc', scenario, scenarioParams: trainingParams, config, seed });
    const curve: number[] = [];
    let metrics: Record<string, number> = {};
    for (let k = 1; k <= iterations; k++) {
      ({ metrics } = await dadc.iterate());
      if (k % every === 0) curve.push(dadc.evaluate(evalEpisodes, EVAL_SEED, {}).meanDiscountedReturn);
    }
    curves.push(curve);
    const final = dadc.evaluate(finalEpisodes, FINAL_SEED, {});
    const responded = demandResponsePlan && demandResponseEstimate(dadc, demandResponsePlan, finalEpisodes, FINAL_SEED);
    const planned = mabcPlan ? mabcEstimate(dadc, mabcPlan, finalEpisodes, FINAL_SEED) : responded;
    finals.push({
      value: final.meanDiscountedReturn,
      standardError: final.discountedStandardError,
      ...(planned && { plannerEstimate: planned.value, plannerStandardError: planned.standardError }),
      ...(responded && { stationary: responded.stationary, start: responded.start }),
      // The Gaussian coordinator's std in the last iteration (with coordinatorStd state, also at episode starts).
      std: metrics['prescription/std'],
      ...(metrics['prescription/startStd'] !== undefined && { startStd: metrics['prescription/startStd'] }),
    });
    const plannedText = planned ? `, by the planner's control variate ${planned.value.toFixed(4)} +- ${planned.standardError.toFixed(4)}` : '';
    process.stderr.write(`seed ${seed}: final ${final.meanDiscountedReturn.toFixed(4)} +- ${final.discountedStandardError.toFixed(4)}${plannedText} (optimum ${best.toFixed(4)}), ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  const points = curves[0].map((_, p) => {
    const sorted = curves.map((c) => c[p]).sort((a, b) => a - b);
    return { iteration: (p + 1) * every, envSteps: (p + 1) * every * config.rolloutSteps * config.numEnvs, q1: quantile(sorted, 0.25), median: quantile(sorted, 0.5), q3: quantile(sorted, 0.75) };
  });
  const finalMedian = quantile(finals.map((f) => f.value).sort((a, b) => a - b), 0.5);
  const planned = finals.flatMap((f) => (f.plannerEstimate === undefined ? [] : [f.plannerEstimate]));
  const plannerMedian = planned.length === finals.length ? quantile(planned.sort((a, b) => a - b), 0.5) : null;
  process.stdout.write(
    `${JSON.stringify({ scenario, preset, config, trainingParams, seeds, optimum: best, finalEpisodes, finalMedian, gapPercent: (100 * (best - finalMedian)) / Math.abs(best), plannerMedian, finalBySeed: finals, evalEpisodes, curve: points })}\n`,
  );
}

await main();
