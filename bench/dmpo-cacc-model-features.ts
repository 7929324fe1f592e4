/**
 * DMPO's local models during training on CACC catch-up, feature by feature: the setting of
 * the DMPO learning test (tests/learning/dmpo.test.ts: default preset, seed 1, 8 evaluation
 * episodes every second iteration), with, after each iteration's model fit, the validation
 * state error split by observation feature and the target statistics the loss weighs by
 * (docs/dmpo-figure-eight.md, "CACC"). Not part of `npm run bench`: it trains.
 *
 * Per iteration it prints the training return, the evaluation (even iterations), the model
 * errors (the Figure 3 measure MSE(s)/Var(s), pooled over features, and MSE(r)/Var(r)) and,
 * per feature f: share = MSE_f / sum_g Var_g (the parts of the reported state error),
 * rel = MSE_f / Var_f, sd(delta_f) = the standard deviation of its one-step change in the
 * FIFO (the standardised head's scale) and sd(s_f), both averaged over agents; and lossShare,
 * the part of the validation loss's state term in feature f under the loss weights in use.
 *
 *   npx tsx bench/dmpo-cacc-model-features.ts [--iterations 14] [--seed 1] [--threads 1]
 */
import { parseArgs } from 'node:util';
import { evaluatePolicy } from '../src/main/rl/core/evaluation.ts';
import { OnPolicyLearner, OnPolicyRun, type LearnerSetup } from '../src/main/rl/core/learner.ts';
import { Dmpo } from '../src/main/rl/learners/dmpo/dmpo.ts';
import { RngStreams } from '../src/main/sim/rng.ts';
import { selectBackend } from '../src/main/rl/nn/backend.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';
import { resolveLearnerConfig } from '../src/shared/learners.ts';

const EPISODES = 8;
const VALIDATION_WINDOWS = 512;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '14' }, seed: { type: 'string', default: '1' }, threads: { type: 'string', default: '2' } } });
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  await selectBackend('auto');
  const pool = await createUpdatePool({ threads: Number(values.threads) });
  const config = resolveLearnerConfig('dmpo', 'cacc-catchup', 'default');
  const setup = { learner: 'dmpo', scenario: 'cacc-catchup', scenarioParams: {}, config, seed } as LearnerSetup<'dmpo'>;
  const run = new OnPolicyRun(setup);
  const dmpo = new Dmpo(setup, run, pool);
  const learner = new OnPolicyLearner(setup, run, dmpo);
  const names = run.policy.spec.obsNames ?? [];
  const { obsDim, nAgents } = run.policy.spec;
  console.log(`initial evaluation ${evaluatePolicy(learner, EPISODES).meanReturn.toFixed(0)}`);
  const trainingReturns: number[] = [];
  const windowRng = new RngStreams(1);
  windowRng.seed(0, 77);
  for (let k = 1; k <= iterations; k++) {
    const started = performance.now();
    const { metrics } = await learner.iterate();
    if (!Number.isNaN(metrics['train/episodeReturn'])) trainingReturns.push(metrics['train/episodeReturn']);
    const evaluation = k % 2 === 0 ? evaluatePolicy(learner, EPISODES).meanReturn.toFixed(0) : '-';
    console.log(`iteration ${k}: ${((performance.now() - started) / 1000).toFixed(0)} s, training return ${metrics['train/episodeReturn']?.toFixed(0)}, evaluation ${evaluation}, state error ${metrics['model/stateError']?.toFixed(4)}, reward error ${metrics['model/rewardError']?.toFixed(4)}, model steps ${metrics['model/steps']}, model updates ${metrics['dmpo/modelUpdates']}`);
    if (metrics['model/stateError'] === undefined) continue;
    // A fresh validation draw of the fitted models, from a stream of its own (the models' own
    // stream would change the run: this one must be the learning test's).
    const { models } = dmpo;
    const validation = models.gcn.evaluate(models.parameters, models.episodes.sampleWindows(VALIDATION_WINDOWS, models.config.windowSteps, windowRng, 0), models.targets.lossWeights);
    const { std, lossWeights } = dmpo.models.targets;
    const varianceSum = validation.stateVarianceByFeature.reduce((a, b) => a + b, 0);
    const weighted = Array.from({ length: obsDim }, (_, f) => {
      let weight = 0;
      for (let i = 0; i < nAgents; i++) weight += lossWeights.state[i * obsDim + f] / nAgents;
      return weight * validation.stateMseByFeature[f];
    });
    const weightedSum = weighted.reduce((a, b) => a + b, 0);
    for (let f = 0; f < obsDim; f++) {
      let deltaStd = 0;
      for (let i = 0; i < nAgents; i++) deltaStd += std[i * (obsDim + 1) + f] / nAgents;
      const share = validation.stateMseByFeature[f] / varianceSum;
      const rel = validation.stateMseByFeature[f] / validation.stateVarianceByFeature[f];
      console.log(`  f${f} ${(names[f] ?? '').padEnd(52)} share ${share.toFixed(4)} rel ${rel.toFixed(4)} sd(delta) ${deltaStd.toExponential(2)} sd(s) ${Math.sqrt(validation.stateVarianceByFeature[f]).toExponential(2)} lossShare ${(weighted[f] / weightedSum).toFixed(3)}`);
    }
  }
  const late = trainingReturns.slice(-5);
  console.log(`late training return (last 5) ${(late.reduce((a, b) => a + b, 0) / late.length).toFixed(0)}`);
  learner.dispose();
  await pool.close();
}

await main();
