/**
 * Behaviour lock for the learners: every learner on every scenario (and the option variants
 * that take their own code paths) runs two iterations from a fixed seed on one thread and on
 * two update workers, then one evaluation episode; every metric (timings aside), the
 * evaluation and a digest of each checkpoint entry must equal tests/fixtures/golden/learners.json
 * exactly. Exact equality holds on one machine (the wasm kernels' float order is fixed there);
 * after an intended change of behaviour, rewrite the file with HEADWAY_RECORD_GOLDEN=1.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/main/rl/nn/backend.ts';
import { evaluatePolicy } from '../../../../src/main/rl/core/evaluation.ts';
import { createLearner } from '../../../../src/main/rl/learners/index.ts';
import { createUpdatePool, type UpdatePool } from '../../../../src/main/rl/parallel/updatePool.ts';
import { PPO_FAMILY, resolveLearnerConfig, type LearnerId, type LearnerPresetId } from '../../../../src/shared/learners.ts';
import { ROAD_SCENARIO_IDS, type ScenarioId } from '../../../../src/shared/scenarios.ts';

const GOLDEN = new URL('../../../fixtures/golden/learners.json', import.meta.url);
const RECORD = process.env.HEADWAY_RECORD_GOLDEN === '1';

const SMALL = { numEnvs: 2, rolloutSteps: 64, epochs: 2, criticEpochs: 2 };
const SMALL_DMPO = { ...SMALL, nTraj: 16, modelRolloutLength: 5, modelSteps: 20, modelStepsWarmup: 20, modelWarmupEpisodes: 1, innerIterations: 3, modelUsage: 0.5 };

interface Case {
  name: string;
  learner: LearnerId;
  scenario: ScenarioId;
  preset: LearnerPresetId;
  settings: Record<string, unknown>;
}

const BASE_CASES: Case[] = PPO_FAMILY.flatMap((learner) =>
  // The PPO family on the traffic scenarios; LTDE, DADC and the DADC paper's environments have tests of their own.
  ROAD_SCENARIO_IDS.map((scenario) => ({ name: `${learner}@${scenario}`, learner, scenario, preset: 'default' as const, settings: learner === 'dmpo' ? SMALL_DMPO : SMALL })),
);

/** Options with code paths of their own, on one thread. */
const VARIANT_CASES: Case[] = [
  { name: 'ippo@cacc-catchup ratio=joint', learner: 'ippo', scenario: 'cacc-catchup', preset: 'default', settings: { ...SMALL, ratio: 'joint' } },
  { name: 'dppo@ring ratio=joint', learner: 'dppo', scenario: 'ring', preset: 'default', settings: { ...SMALL, ratio: 'joint' } },
  { name: 'dppo@cacc-slowdown sum-advantage', learner: 'dppo', scenario: 'cacc-slowdown', preset: 'default', settings: { ...SMALL, neighbourAggregation: 'sum-advantage' } },
  { name: 'mappo@ring shareParameters', learner: 'mappo', scenario: 'ring', preset: 'default', settings: { ...SMALL, shareParameters: true } },
  { name: 'cppo@cacc-catchup per-agent-count clip', learner: 'cppo', scenario: 'cacc-catchup', preset: 'default', settings: { ...SMALL, clip: 'per-agent-count', clipAlpha: 1 } },
  { name: 'dpo@figure-eight no-sqrt', learner: 'dpo', scenario: 'figure-eight', preset: 'default', settings: { ...SMALL, dpoVariant: 'no-sqrt' } },
  { name: 'dpo@cacc-catchup no-kl', learner: 'dpo', scenario: 'cacc-catchup', preset: 'default', settings: { ...SMALL, dpoVariant: 'no-kl' } },
  { name: 'ippo@ring full batch, no KL stop', learner: 'ippo', scenario: 'ring', preset: 'default', settings: { ...SMALL, minibatches: 1, targetKl: 0, entropyCoef: 0.01 } },
  { name: 'dmpo@ring paper', learner: 'dmpo', scenario: 'ring', preset: 'paper', settings: { ...SMALL_DMPO, modelUsage: 1 } },
  { name: 'dmpo@cacc-catchup reference-code', learner: 'dmpo', scenario: 'cacc-catchup', preset: 'reference-code', settings: SMALL_DMPO },
];

/** JSON keeps every finite double exactly; non-finite values become strings. */
const encode = (value: number): number | string => (Number.isFinite(value) ? value : String(value));

function withoutTimings(metrics: Record<string, number>): Record<string, number | string> {
  return Object.fromEntries(
    Object.keys(metrics)
      .filter((key) => !key.startsWith('time/'))
      .sort()
      .map((key) => [key, encode(metrics[key])]),
  );
}

async function run(entry: Case, trainer: UpdatePool, evaluate: boolean): Promise<unknown> {
  const config = resolveLearnerConfig(entry.learner, entry.scenario, entry.preset, entry.settings);
  const learner = createLearner({ learner: entry.learner, scenario: entry.scenario, scenarioParams: { horizon: 50 }, config, seed: 11 }, trainer);
  try {
    const iterations = [];
    for (let k = 0; k < 2; k++) {
      const result = await learner.iterate();
      iterations.push({ iteration: result.iteration, envSteps: result.envSteps, metrics: withoutTimings(result.metrics) });
    }
    const state = learner.state();
    const checkpoint = Object.fromEntries(
      Object.keys(state.arrays)
        .sort()
        .map((key) => {
          const array = state.arrays[key];
          return [key, `${array.constructor.name}:${array.length}:${createHash('sha256').update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)).digest('hex').slice(0, 16)}`];
        }),
    );
    const evaluation = evaluate ? evaluatePolicy(learner, 1) : null;
    return {
      iterations,
      checkpoint,
      meta: JSON.parse(JSON.stringify(state.meta)) as unknown,
      evaluation: evaluation && { meanReturn: encode(evaluation.meanReturn), metrics: withoutTimings(evaluation.metrics) },
    };
  } finally {
    learner.dispose();
  }
}

const golden: Record<string, unknown> = existsSync(GOLDEN) && !RECORD ? (JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, unknown>) : {};
const recorded: Record<string, unknown> = {};

const trainers: Record<1 | 2, UpdatePool | undefined> = { 1: undefined, 2: undefined };
beforeAll(async () => {
  await selectBackend('auto');
  trainers[1] = await createUpdatePool({ threads: 1 });
  trainers[2] = await createUpdatePool({ threads: 2 });
});
afterAll(async () => {
  await Promise.all([trainers[1]?.close(), trainers[2]?.close()]);
  if (RECORD) writeFileSync(GOLDEN, `${JSON.stringify(recorded, null, 1)}\n`);
});

describe('learners behave exactly as recorded', () => {
  const cases = [
    ...BASE_CASES.flatMap((entry) => [
      { ...entry, threads: 1 as const },
      { ...entry, threads: 2 as const },
    ]),
    ...VARIANT_CASES.map((entry) => ({ ...entry, threads: 1 as const })),
  ];
  for (const entry of cases) {
    const key = `${entry.name} threads=${entry.threads}`;
    it(key, async () => {
      const result = await run(entry, trainers[entry.threads]!, entry.threads === 1);
      if (RECORD) {
        recorded[key] = result;
        return;
      }
      expect(golden[key], `no golden entry for ${key}: record with HEADWAY_RECORD_GOLDEN=1`).toBeDefined();
      expect(result).toEqual(golden[key]);
    });
  }
});
