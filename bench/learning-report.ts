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
 *       rebuilds one report from earlier runs' results.json (no training)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LEARNER_IDS, learnerTrainsOn, resolveLearnerConfig, type LearnerId } from '../src/shared/learners.ts';
import { SCENARIO_IDS, type ScenarioId } from '../src/shared/scenarios.ts';
import { selectBackend } from '../src/main/rl/nn/backend.ts';
import { evaluatePolicy } from '../src/main/rl/core/evaluation.ts';
import { createLearner } from '../src/main/rl/learners/index.ts';
import { createUpdatePool } from '../src/main/rl/parallel/updatePool.ts';
import { RunStore, StoreError } from '../src/main/store/index.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { iterationFacts, readSweepResults, SweepReportError, type CurvePoint, type ModelErrors, type RunResult } from './sweepResults.ts';

const EVAL_EPISODES = 4;
const COLORS: Record<LearnerId, string> = { ippo: '#8ab4f8', mappo: '#f6c26b', cppo: '#c58af9', dppo: '#81c995', dpo: '#f28b82', dmpo: '#4dd0e1', ltde: '#ff8a65', dadc: '#aed581', dsac: '#ffb74d', ic3net: '#fdd663', 'dmpo-sac': '#f48fb1' };

async function trainOne(learner: LearnerId, scenario: ScenarioId, seed: number, envSteps: number, evalEvery: number): Promise<RunResult> {
  const trainer = await createUpdatePool({ threads: 2 });
  const started = performance.now();
  try {
    const agent = createLearner({ learner, scenario, scenarioParams: {}, config: resolveLearnerConfig(learner, scenario, 'default'), seed }, trainer);
    let trainingSeconds = 0;
    let modelErrors: ModelErrors | undefined;
    const evaluate = (): CurvePoint => {
      const { meanReturn, metrics } = evaluatePolicy(agent, EVAL_EPISODES);
      return { envSteps: agent.envSteps, evalReturn: meanReturn, collisionRate: metrics.collision, seconds: trainingSeconds };
    };
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

/** Where the seeds' mean curve first reaches `target` on the axis (after the start); undefined when it never does. */
function reached(runs: RunResult[], target: number, axis: Axis): number | undefined {
  return seedBand(runs, axis).find((p) => p.at > 0 && p.mean >= target)?.at;
}

function chartSvg(scenario: ScenarioId, byLearner: Map<LearnerId, RunResult[]>, axis: Axis): string {
  const width = 900;
  const height = 520;
  const margin = { left: 90, right: 160, top: 40, bottom: 60 };
  const bands = [...byLearner].map(([learner, runs]) => ({ learner, band: seedBand(runs, axis) }));
  const all = bands.flatMap((b) => b.band);
  const xMax = Math.max(...all.map((p) => p.at), 1);
  const yMin = Math.min(...all.map((p) => p.min));
  const yMax = Math.max(...all.map((p) => p.max));
  const x = (v: number) => margin.left + (v / xMax) * (width - margin.left - margin.right);
  const y = (v: number) => height - margin.bottom - ((v - yMin) / (yMax - yMin || 1)) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#14171c"/>`,
    `<text x="${margin.left}" y="24" fill="#e8eaed" font-size="16">${scenario}: evaluation return vs ${axis.label.split(' (')[0]} (mean, min-max over seeds)</text>`,
    `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="#5f6368"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="#5f6368"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const xv = (xMax * k) / 4;
    const yv = yMin + ((yMax - yMin) * k) / 4;
    parts.push(`<text x="${x(xv)}" y="${height - margin.bottom + 20}" fill="#9aa0a6" text-anchor="middle">${(xMax > 100 ? Math.round(xv) : Number(xv.toPrecision(3))).toLocaleString('en-US')}</text>`);
    parts.push(`<text x="${margin.left - 8}" y="${y(yv) + 4}" fill="#9aa0a6" text-anchor="end">${yv.toPrecision(3)}</text>`);
  }
  parts.push(`<text x="${(margin.left + width - margin.right) / 2}" y="${height - 15}" fill="#9aa0a6" text-anchor="middle">${axis.label}</text>`);
  bands.forEach(({ learner, band }, k) => {
    const color = COLORS[learner];
    const upper = band.map((p) => `${x(p.at)},${y(p.max)}`);
    const lower = [...band].reverse().map((p) => `${x(p.at)},${y(p.min)}`);
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15"/>`);
    parts.push(`<polyline points="${band.map((p) => `${x(p.at)},${y(p.mean)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${width - margin.right + 20}" y="${margin.top + k * 22}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${width - margin.right + 40}" y="${margin.top + k * 22 + 6}" fill="#e8eaed">${learner}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Evaluations averaged at the end of a run: single deterministic evaluations swing. */
const LAST_EVALUATIONS = 3;

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
  const format = (value: number) => Math.round(value).toLocaleString('en-US');
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
    const lastEvaluations = runs.map((r) => mean(r.curve.slice(-LAST_EVALUATIONS).map((p) => p.evalReturn)));
    // Runs read from a sweep have no evaluation before training (their first is after an iteration).
    const untrained = runs.every((r) => r.curve[0].envSteps === 0) ? format(mean(runs.map((r) => r.curve[0].evalReturn))) : 'not recorded';
    const finalCollisions = runs.map((r) => r.curve[r.curve.length - 1].collisionRate);
    const collisionRate = finalCollisions.every((rate) => rate !== undefined) ? mean(finalCollisions as number[]).toFixed(2) : 'not recorded';
    const reach = references.map(({ final }) => {
      const steps = reached(runs, final, ENV_STEPS);
      if (steps === undefined) return 'not reached';
      const minutes = runs.every((r) => r.curve.every((p) => p.seconds !== undefined)) ? ` (${reached(runs, final, TRAINING_MINUTES)?.toFixed(1)})` : '';
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

/** Renders the SVG chart to a PNG in headless Chromium; false (SVG only) without Chromium. */
async function toPng(svgFile: string, pngFile: string): Promise<boolean> {
  if (chromiumMissing() !== null) return false;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 520 } });
    await page.goto(`file://${resolve(svgFile)}`);
    await page.screenshot({ path: pngFile });
    return true;
  } finally {
    await browser.close();
  }
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
    sections.push(reportTable(scenario, budget, byLearner), '');
    const timed = [...byLearner.values()].flat().every((r) => r.curve.every((p) => p.seconds !== undefined));
    const charts: [string, Axis][] = timed ? [['', ENV_STEPS], ['-time', TRAINING_MINUTES]] : [['', ENV_STEPS]];
    for (const [suffix, axis] of charts) {
      const name = `${scenario}${suffix}`;
      writeFileSync(join(out, `${name}.svg`), chartSvg(scenario, byLearner, axis));
      const png = await toPng(join(out, `${name}.svg`), join(out, `${name}.png`));
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
      const { results, setting } = readSweepResults(store, values.sweep!);
      process.stdout.write(`${await writeReport(values.out, results, setting)}\n`);
    } finally {
      store.close();
    }
    return;
  }
  if (values.combine !== undefined) {
    // Rebuild one report from earlier reports' results.json, without training.
    const dirs = values.combine.split(',');
    const results = dirs.flatMap((dir) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult[]);
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
