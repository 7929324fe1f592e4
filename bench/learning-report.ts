/**
 * The learning report (not part of CI): trains learners on scenarios for a fixed budget of
 * environment steps with several seeds, and writes
 *   <out>/report.md       a table per scenario: final evaluation return (mean +- std over
 *                         seeds) and the env steps each learner needed to reach DPPO's final
 *                         return (the paper's sample-efficiency claim),
 *   <out>/results.json    every learning curve,
 *   <out>/<scenario>.svg and .png   return vs env steps, mean and min-max band over seeds.
 * PNGs are rendered by headless Chromium (bench/chromium.ts: Debian's /usr/bin/chromium or
 * $HEADWAY_CHROMIUM); without it the SVGs are still written.
 *
 *   npx tsx bench/learning-report.ts [--env-steps 100000] [--seeds 3 | --seeds 2,3] [--eval-every 5]
 *       [--learners ippo,dppo,ic3net,... (default: every learner)] [--scenarios cacc-catchup,...] [--out learning-report]
 *   npx tsx bench/learning-report.ts --db FILE --sweep ID|NAME [--out DIR]
 *       the same report from a sweep's finished runs in a run database (`headway sweep FILE
 *       --db FILE` trained them, N at a time; sweepResults.ts reads them), no training here
 *   npx tsx bench/learning-report.ts --combine DIR,DIR,... --out DIR
 *       rebuilds one report from earlier runs' results.json (no training); a run of a cell
 *       (learner, scenario, seed) that a later DIR holds too is replaced by the later one, so
 *       a rerun supersedes the run it repeats and folding a report twice changes nothing
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LEARNER_IDS, learnerTrainsOn, resolveLearnerConfig, type LearnerId } from '../src/shared/learners.ts';
import { SCENARIO_IDS, type ScenarioId } from '../src/shared/scenarios.ts';
import { selectBackend } from '../src/main/rl/nn/backend.ts';
import { evaluatePolicy } from '../src/main/rl/core/evaluation.ts';
import type { Learner } from '../src/main/rl/core/learner.ts';
import { createLearner } from '../src/main/rl/learners/index.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';
import { RunStore, StoreError } from '../src/main/store/index.ts';
import { svgToPng } from './chromium.ts';
import { CHART_SIZE, chartFrame } from './svgChart.ts';
import { iterationFacts, readSweepResults, SweepReportError, type CurvePoint, type ModelErrors, type RunOrigin, type RunResult } from './sweepResults.ts';

const EVAL_EPISODES = 4;
const COLORS: Record<LearnerId, string> = { ippo: '#8ab4f8', mappo: '#f6c26b', cppo: '#c58af9', dppo: '#81c995', dpo: '#f28b82', dmpo: '#4dd0e1', ltde: '#ff8a65', dadc: '#aed581', dsac: '#ffb74d', ic3net: '#fdd663', 'dmpo-sac': '#f48fb1' };

/** One run per cell (learner, scenario, seed): the last one listed, in the place of the first. */
function latestPerCell(results: readonly RunResult[]): RunResult[] {
  const cells = new Map<string, RunResult>();
  for (const result of results) cells.set(`${result.learner} ${result.scenario} ${result.seed}`, result);
  return [...cells.values()];
}

async function trainOne(learner: LearnerId, scenario: ScenarioId, seed: number, envSteps: number, evalEvery: number): Promise<RunResult> {
  const trainer = await createUpdatePool({ threads: 2 });
  const started = performance.now();
  try {
    const agent = createLearner({ learner, scenario, scenarioParams: {}, config: resolveLearnerConfig(learner, scenario, 'default'), seed }, trainer);
    let trainingSeconds = 0;
    let modelErrors: ModelErrors | undefined;
    const evaluate = (): CurvePoint => evaluationPoint(agent, EVAL_EPISODES, trainingSeconds);
    const curve: CurvePoint[] = [evaluate()];
    while (agent.envSteps < envSteps) {
      const { iteration, metrics } = await agent.iterate();
      const facts = iterationFacts(metrics);
      trainingSeconds += facts.seconds;
      modelErrors = facts.modelErrors ?? modelErrors;
      if (iteration % evalEvery === 0 || agent.envSteps >= envSteps) {
        const point = evaluate();
        curve.push(point);
        process.stderr.write(`  ${scenario} ${learner} seed ${seed}: ${point.envSteps} env steps, eval return ${point.evalReturn.toFixed(1)}, collisions ${point.collisionRate}\n`);
      }
    }
    agent.dispose();
    return { learner, scenario, seed, curve, finalReturn: curve[curve.length - 1].evalReturn, seconds: (performance.now() - started) / 1000, ...(modelErrors ? { modelErrors } : {}) };
  } finally {
    await trainer.close();
  }
}

/** The learner's evaluation on `episodes` deterministic episodes, as a point of its curve. */
function evaluationPoint(agent: Learner, episodes: number, seconds: number): CurvePoint {
  const { meanReturn, metrics } = evaluatePolicy(agent, episodes);
  return { envSteps: agent.envSteps, evalReturn: meanReturn, collisionRate: metrics.collision, seconds };
}

/**
 * Every curve that starts after training began (runs a sweep trained: their jobs evaluate
 * only after an iteration) with the untrained policy's evaluation put first: the learner
 * created as the run created it (the same seed, so the same initial weights), evaluated on
 * the run's episodes. The Done-when's 5% is of the improvement over this policy.
 */
async function withUntrained(results: readonly RunResult[], originOf: (result: RunResult) => RunOrigin): Promise<RunResult[]> {
  if (results.every((r) => r.curve[0].envSteps === 0)) return [...results];
  const pool = await createUpdatePool({ threads: 1 });
  try {
    return results.map((result) => {
      if (result.curve[0].envSteps === 0) return result;
      const { setup, evalEpisodes } = originOf(result);
      const agent = createLearner(setup, pool);
      try {
        const point = evaluationPoint(agent, evalEpisodes, 0);
        process.stderr.write(`  ${result.scenario} ${result.learner} seed ${result.seed}: untrained eval return ${point.evalReturn.toFixed(1)}\n`);
        return { ...result, curve: [point, ...result.curve] };
      } finally {
        agent.dispose();
      }
    });
  } finally {
    await pool.close();
  }
}

/** A combined report's run without its untrained evaluation: the learner as the report trains it (default preset, the report's episodes). */
function defaultOrigin(result: RunResult): RunOrigin {
  const config = resolveLearnerConfig(result.learner, result.scenario, 'default');
  return { setup: { learner: result.learner, scenario: result.scenario, scenarioParams: {}, config, seed: result.seed }, evalEpisodes: EVAL_EPISODES };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: readonly number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

/** A chart's horizontal axis: env steps, or training minutes (wall clock of rollouts and updates). */
interface Axis {
  label: string;
  at(point: CurvePoint): number;
}
const ENV_STEPS: Axis = { label: 'environment steps', at: (p) => p.envSteps };
const TRAINING_MINUTES: Axis = { label: 'training minutes (rollouts and updates; evaluations excluded)', at: (p) => (p.seconds ?? NaN) / 60 };

/** The seeds' curves on a shared grid of the axis (each seed's last value at or before each point). */
function seedBand(runs: RunResult[], axis: Axis = ENV_STEPS): { at: number; mean: number; min: number; max: number }[] {
  const grid = [...new Set(runs.flatMap((r) => r.curve.map(axis.at)))].sort((a, b) => a - b);
  return grid.map((at) => {
    const values = runs.map((r) => ([...r.curve].reverse().find((p) => axis.at(p) <= at) ?? r.curve[0]).evalReturn);
    return { at, mean: mean(values), min: Math.min(...values), max: Math.max(...values) };
  });
}

/** The env steps where the seeds' mean curve first reaches `target` (after the start); undefined when it never does. */
function reached(runs: RunResult[], target: number): number | undefined {
  return seedBand(runs).find((p) => p.at > 0 && p.mean >= target)?.at;
}

/**
 * The seeds' mean training minutes up to `envSteps` (each seed's time at its last evaluation
 * there). The time of the env-step crossing, not a crossing of the mean curve on the time
 * axis: seeds are evaluated at different times, and on slow-down an untrained policy that
 * collides early scores above a collision-free one, so the time-axis mean "reaches" a final
 * return at the first evaluation, while seeds not yet evaluated still count as untrained.
 */
function trainingMinutesAt(runs: readonly RunResult[], envSteps: number): number {
  return mean(runs.map((r) => ([...r.curve].reverse().find((p) => p.envSteps <= envSteps) ?? r.curve[0]).seconds ?? NaN)) / 60;
}

function chartSvg(scenario: ScenarioId, byLearner: Map<LearnerId, RunResult[]>, axis: Axis): string {
  const margin = { left: 90, right: 160, top: 40, bottom: 60 };
  const bands = [...byLearner].map(([learner, runs]) => ({ learner, band: seedBand(runs, axis) }));
  const all = bands.flatMap((b) => b.band);
  const { parts, x, y } = chartFrame({
    margin,
    title: [`${scenario}: evaluation return vs ${axis.label.split(' (')[0]} (mean, min-max over seeds)`],
    xLabel: axis.label,
    xMax: Math.max(...all.map((p) => p.at), 1),
    yMin: Math.min(...all.map((p) => p.min)),
    yMax: Math.max(...all.map((p) => p.max)),
  });
  const legendX = CHART_SIZE.width - margin.right;
  bands.forEach(({ learner, band }, k) => {
    const color = COLORS[learner];
    const upper = band.map((p) => `${x(p.at)},${y(p.max)}`);
    const lower = [...band].reverse().map((p) => `${x(p.at)},${y(p.min)}`);
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15"/>`);
    parts.push(`<polyline points="${band.map((p) => `${x(p.at)},${y(p.mean)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${legendX + 20}" y="${margin.top + k * 22}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${legendX + 40}" y="${margin.top + k * 22 + 6}" fill="#e8eaed">${learner}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Evaluations averaged at the end of a run: single deterministic evaluations swing. */
const LAST_EVALUATIONS = 3;

/** A return as the report prints it: rounded, thousands separated, never "-0". */
function format(value: number): string {
  return (Math.round(value) + 0).toLocaleString('en-US');
}

/** The learners whose final return the others' sample efficiency is measured against: DPPO (the PPO family's decentralised learner) and DSAC (the SAC base learner of DMPO on CACC). */
const REFERENCES = ['dppo', 'dsac'] as const satisfies readonly LearnerId[];

/** The env steps of a learner's last evaluation (the latest of its runs'). */
function learnerBudget(runs: readonly RunResult[]): number {
  return Math.max(...runs.map((r) => r.curve[r.curve.length - 1].envSteps));
}

/**
 * Whether a learner trained for a budget of its own, shorter than its scenario's (a cheaper
 * report run folded in). A sweep's run ends up to an evaluation interval after its last
 * evaluation, so a last evaluation within 10% of the scenario's budget is the same budget.
 */
function hasOwnBudget(runs: readonly RunResult[], budget: number): boolean {
  return learnerBudget(runs) < 0.9 * budget;
}

function reportTable(scenario: ScenarioId, budget: number, byLearner: Map<LearnerId, RunResult[]>): string {
  const references = REFERENCES.flatMap((id) => {
    const runs = byLearner.get(id);
    return runs ? [{ id, final: mean(runs.map((r) => r.finalReturn)) }] : [];
  });
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  const lines = [
    `### ${scenario}`,
    '',
    `${budget.toLocaleString('en-US')} env steps per run${[...byLearner.values()].some((runs) => hasOwnBudget(runs, budget)) ? ", unless the learner's name gives its own budget" : ''}.`,
    '',
    [
      '| learner | seeds | untrained eval return | final eval return (mean +- std) |',
      ` mean of the last ${LAST_EVALUATIONS} evaluations | final collision rate |`,
      references.map((r) => ` env steps (training minutes) to reach ${r.id.toUpperCase()}'s final return |`).join(''),
      ' final model error, state / reward | minutes per run |',
    ].join(''),
    `|---|---:|---:|---:|---:|---:|${references.map(() => '---:|').join('')}---:|---:|`,
  ];
  for (const [learner, runs] of byLearner) {
    const finals = runs.map((r) => r.finalReturn);
    const lastEvaluations = runs.map(lastEvaluationsMean);
    const untrained = runs.every((r) => r.curve[0].envSteps === 0) ? format(mean(runs.map((r) => r.curve[0].evalReturn))) : 'not recorded';
    const collisionRate = meanCollisionRate(runs, 'final');
    const reach = references.map(({ final }) => {
      const steps = reached(runs, final);
      if (steps === undefined) return 'not reached';
      const minutes = runs.every((r) => r.curve.every((p) => p.seconds !== undefined)) ? ` (${trainingMinutesAt(runs, steps).toFixed(1)})` : '';
      return `${steps.toLocaleString('en-US')}${minutes}`;
    });
    const errors = runs.map((r) => r.modelErrors).filter((e) => e !== undefined);
    const modelError = errors.length === runs.length ? `${percent(mean(errors.map((e) => e.state)))} / ${percent(mean(errors.map((e) => e.reward)))}` : '-';
    // A learner trained for less than the scenario's budget (a cheaper report run) says so, as its returns are not comparable at the end.
    const name = hasOwnBudget(runs, budget) ? `${learner} (${learnerBudget(runs).toLocaleString('en-US')} env steps)` : learner;
    const cells = [name, runs.length, untrained, `${format(mean(finals))} +- ${format(std(finals))}`, format(mean(lastEvaluations)), collisionRate, ...reach, modelError, (mean(runs.map((r) => r.seconds)) / 60).toFixed(1)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The PPO family: the DMPO paper's model-free learners on the ring and the figure eight. */
const PPO_FAMILY = ['ippo', 'mappo', 'cppo', 'dppo', 'dpo'] as const satisfies readonly LearnerId[];

/**
 * The DMPO paper's claims as issue 12 states them: the model-based learner's final return
 * within 5% of the reference's (5% of the reference's improvement over its untrained
 * policy), reaching the sample-efficiency reference's final return in at most half its env
 * steps, and slow-down learnt collision-free; each decided on 3 seeds.
 */
const CLAIMS: readonly { scenarios: readonly ScenarioId[]; learner: LearnerId; references: readonly LearnerId[]; speedAgainst: LearnerId | null; collisionFree: boolean }[] = [
  { scenarios: ['ring'], learner: 'dmpo', references: PPO_FAMILY, speedAgainst: 'dppo', collisionFree: false },
  { scenarios: ['figure-eight'], learner: 'dmpo', references: PPO_FAMILY, speedAgainst: null, collisionFree: false },
  { scenarios: ['cacc-catchup'], learner: 'dmpo-sac', references: ['dsac'], speedAgainst: 'dsac', collisionFree: false },
  { scenarios: ['cacc-slowdown'], learner: 'dmpo-sac', references: ['dsac'], speedAgainst: null, collisionFree: true },
];
const CLAIM_SEEDS = 3;
const CLAIM_TOLERANCE = 0.05;

/**
 * The final-return claim with each run's return read by `read`: the best reference by that
 * reading, the learner's shortfall as a share of that reference's improvement over its
 * untrained policy, and the verdict.
 */
function returnClaim(runs: readonly RunResult[], candidates: readonly (readonly [LearnerId, readonly RunResult[]])[], read: (run: RunResult) => number): string {
  const value = (rs: readonly RunResult[]) => mean(rs.map(read));
  const [reference, referenceRuns] = candidates.reduce((best, next) => (value(next[1]) > value(best[1]) ? next : best));
  const untrained = referenceRuns.every((r) => r.curve[0].envSteps === 0) ? mean(referenceRuns.map((r) => r.curve[0].evalReturn)) : undefined;
  const improvement = untrained === undefined ? undefined : value(referenceRuns) - untrained;
  // On slow-down an untrained policy that collides early ends its episodes early and can score above a collision-free one: no improvement to take 5% of.
  const shortfall = improvement === undefined || improvement <= 0 ? undefined : (value(referenceRuns) - value(runs)) / improvement;
  const direct = value(runs) >= value(referenceRuns) ? 'at or above it' : 'below it';
  const verdict =
    improvement === undefined
      ? "undecided: the reference's untrained return is not recorded"
      : shortfall === undefined
        ? `undecided: ${reference} ends below its untrained policy (final collision rate ${meanCollisionRate(referenceRuns, 'final')}, untrained ${meanCollisionRate(referenceRuns, 'untrained')}), so there is no improvement to take ${100 * CLAIM_TOLERANCE}% of; compared directly, ${direct}`
        : shortfall <= CLAIM_TOLERANCE
          ? 'holds'
          : 'fails';
  return (
    `${reference} ${format(value(referenceRuns))} (untrained ${untrained === undefined ? 'not recorded' : format(untrained)}), ` +
    `${runs[0].learner} ${format(value(runs))}: ${shortfall === undefined ? '' : `${(100 * shortfall).toFixed(1)}% of its improvement below it (negative: above); `}${verdict}${undecidedSeeds(referenceRuns)}`
  );
}

/** What a claim on fewer than CLAIM_SEEDS seeds of a learner adds to its line: empty once it has them all. */
function undecidedSeeds(runs: readonly RunResult[]): string {
  return runs.length >= CLAIM_SEEDS ? '' : ` on ${runs.length} of ${CLAIM_SEEDS} seeds of ${runs[0].learner} (not decided yet)`;
}

/** A run's return read by the mean of its last evaluations (after the start). */
function lastEvaluationsMean(run: RunResult): number {
  return mean(run.curve.filter((p) => p.envSteps > 0).slice(-LAST_EVALUATIONS).map((p) => p.evalReturn));
}

/** The claims on this scenario, read off its runs: each with its figures and whether it holds, or what is missing to decide it. */
function claimLines(scenario: ScenarioId, byLearner: Map<LearnerId, RunResult[]>): string[] {
  const claim = CLAIMS.find((c) => c.scenarios.includes(scenario));
  const runs = claim && byLearner.get(claim.learner);
  if (!claim || !runs) return [];
  const finalOf = (rs: RunResult[]) => mean(rs.map((r) => r.finalReturn));
  const lines = [`Claims (issue 12) for ${claim.learner}:`, ''];
  const candidates = claim.references.flatMap((id) => (byLearner.has(id) ? [[id, byLearner.get(id)!] as const] : []));
  if (candidates.length === 0) lines.push(`- Final return: no ${claim.references.join(' / ')} runs to compare with.`);
  else {
    lines.push(`- Final return within ${100 * CLAIM_TOLERANCE}% of the best reference's: ${returnClaim(runs, candidates, (r) => r.finalReturn)}${undecidedSeeds(runs)}.`);
    lines.push(`  - By the mean of each run's last ${LAST_EVALUATIONS} evaluations (one deterministic evaluation swings): ${returnClaim(runs, candidates, lastEvaluationsMean)}${undecidedSeeds(runs)}.`);
  }
  const speedRuns = claim.speedAgainst && byLearner.get(claim.speedAgainst);
  if (claim.speedAgainst && speedRuns) {
    const target = finalOf(speedRuns);
    const own = reached(speedRuns, target);
    const learner = reached(runs, target);
    const ratio = own !== undefined && learner !== undefined ? learner / own : undefined;
    lines.push(
      `- ${claim.speedAgainst.toUpperCase()}'s final return (${format(target)}) in at most half its env steps: ${claim.learner} ${learner === undefined ? 'never reaches it' : `at ${learner.toLocaleString('en-US')}`}, ` +
        `${claim.speedAgainst} at ${own?.toLocaleString('en-US') ?? 'never'}${ratio === undefined ? '' : ` (${ratio.toFixed(2)} of it)`}; ${learner === undefined ? 'fails' : ratio !== undefined && ratio <= 0.5 ? 'holds' : 'fails'}${undecidedSeeds(runs)}${undecidedSeeds(speedRuns)}.`,
    );
  }
  if (claim.collisionFree) {
    const rates = runs.map((r) => r.curve[r.curve.length - 1].collisionRate);
    const free = rates.every((rate) => rate === 0);
    lines.push(`- Collision-free in every final evaluation episode: collision rates ${rates.map((rate) => (rate === undefined ? 'not recorded' : rate.toFixed(2))).join(', ')} (seeds ${runs.map((r) => r.seed).join(', ')}); ${free ? 'holds' : 'fails'}${undecidedSeeds(runs)}.`);
  }
  return [...lines, ''];
}

/** The runs' mean collision rate at their untrained or final evaluation, as the report prints it. */
function meanCollisionRate(runs: readonly RunResult[], which: 'untrained' | 'final'): string {
  const rates = runs.map((r) => (which === 'untrained' ? r.curve[0] : r.curve[r.curve.length - 1]).collisionRate);
  return rates.every((rate) => rate !== undefined) ? mean(rates as number[]).toFixed(2) : 'not recorded';
}

/** Writes report.md, results.json and a chart per scenario for `results`, grouped by scenario then learner. */
async function writeReport(out: string, results: readonly RunResult[], setting: string): Promise<string> {
  mkdirSync(out, { recursive: true });
  const sections: string[] = ['# Learning report', '', setting, ''];
  const scenarios = SCENARIO_IDS.filter((scenario) => results.some((r) => r.scenario === scenario));
  for (const scenario of scenarios) {
    const byLearner = new Map<LearnerId, RunResult[]>();
    for (const learner of LEARNER_IDS) {
      const runs = results.filter((r) => r.scenario === scenario && r.learner === learner).sort((a, b) => a.seed - b.seed);
      if (runs.length > 0) byLearner.set(learner, runs);
    }
    const budget = Math.max(...[...byLearner.values()].flat().map((r) => r.curve[r.curve.length - 1].envSteps));
    sections.push(reportTable(scenario, budget, byLearner), '', ...claimLines(scenario, byLearner));
    const timed = [...byLearner.values()].flat().every((r) => r.curve.every((p) => p.seconds !== undefined));
    const charts: [string, Axis][] = timed ? [['', ENV_STEPS], ['-time', TRAINING_MINUTES]] : [['', ENV_STEPS]];
    for (const [suffix, axis] of charts) {
      const name = `${scenario}${suffix}`;
      writeFileSync(join(out, `${name}.svg`), chartSvg(scenario, byLearner, axis));
      const png = await svgToPng(join(out, `${name}.svg`), join(out, `${name}.png`), CHART_SIZE);
      sections.push(png ? `![${name}](${name}.png)` : `![${name}](${name}.svg)`, '');
    }
  }
  const report = sections.join('\n');
  writeFileSync(join(out, 'report.md'), report);
  writeFileSync(join(out, 'results.json'), JSON.stringify(results));
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'env-steps': { type: 'string', default: '100000' },
      seeds: { type: 'string', default: '3' },
      'eval-every': { type: 'string', default: '5' },
      learners: { type: 'string', default: LEARNER_IDS.join(',') },
      scenarios: { type: 'string', default: SCENARIO_IDS.join(',') },
      out: { type: 'string', default: 'learning-report' },
      combine: { type: 'string' },
      db: { type: 'string' },
      sweep: { type: 'string' },
    },
  });
  if ((values.db === undefined) !== (values.sweep === undefined)) throw new SweepReportError('--db FILE and --sweep ID|NAME go together: the report of a sweep in a run database');
  if (values.db !== undefined) {
    // The report of a sweep's runs, read from the database (read-only: the sweep may still be training).
    const store = RunStore.open(values.db, { readOnly: true });
    try {
      const { results, origins, setting } = readSweepResults(store, values.sweep!);
      const complete = await withUntrained(results, (result) => origins.get(result)!);
      process.stdout.write(`${await writeReport(values.out, complete, setting)}\n`);
    } finally {
      store.close();
    }
    return;
  }
  if (values.combine !== undefined) {
    // Rebuild one report from earlier reports' results.json, without training.
    const dirs = values.combine.split(',');
    const results = await withUntrained(latestPerCell(dirs.flatMap((dir) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult[])), defaultOrigin);
    const setting = `Combined from ${dirs.length} report runs: default presets, evaluation on ${EVAL_EPISODES} deterministic episodes; the budget is per scenario.`;
    process.stdout.write(`${await writeReport(values.out, results, setting)}\n`);
    return;
  }
  const learners = values.learners.split(',') as LearnerId[];
  const scenarios = values.scenarios.split(',') as ScenarioId[];
  const unknown = [...learners.filter((l) => !LEARNER_IDS.includes(l)), ...scenarios.filter((s) => !SCENARIO_IDS.includes(s))];
  if (unknown.length > 0) throw new Error(`unknown learner or scenario: ${unknown.join(', ')}`);
  const envSteps = Number(values['env-steps']);
  // A count N means seeds 1..N; a list (2,3, or 2, for one seed) runs just those seeds (to extend an earlier report).
  const seeds = values.seeds.includes(',') ? values.seeds.split(',').filter((seed) => seed !== '').map(Number) : Array.from({ length: Number(values.seeds) }, (_, k) => k + 1);
  const evalEvery = Number(values['eval-every']);
  const backend = await selectBackend('auto');
  const setting = `${envSteps.toLocaleString('en-US')} env steps per run, seeds ${seeds.join(', ')}, default presets, evaluation on ${EVAL_EPISODES} deterministic episodes every ${evalEvery} iterations; backend ${backend.description}.`;
  const results: RunResult[] = [];
  let report = '';
  for (const scenario of scenarios) {
    for (const learner of learners.filter((id) => learnerTrainsOn(id, scenario))) {
      for (const seed of seeds) {
        const result = await trainOne(learner, scenario, seed, envSteps, evalEvery);
        process.stderr.write(`${scenario} ${learner} seed ${seed}: final return ${result.finalReturn.toFixed(1)} in ${result.seconds.toFixed(0)} s\n`);
        results.push(result);
      }
    }
    // Rewritten after every scenario, so a long grid leaves its finished part behind.
    report = await writeReport(values.out, results, setting);
  }
  process.stdout.write(`${report}\n`);
}

try {
  await main();
} catch (error) {
  // Bad input (an unknown sweep, options that do not go together, a database the store refuses) is one line, not a stack trace.
  if (!(error instanceof SweepReportError || error instanceof StoreError)) throw error;
  process.stderr.write(`learning-report: ${error.message}\n`);
  process.exitCode = 2;
}
