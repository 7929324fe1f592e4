/**
 * Creates the batched environment of any scenario from user-given parameters (validated
 * and resolved against the scenario catalogue in src/shared/scenarios.ts).
 */
import { resolveParams, type ScenarioId } from '../../shared/scenarios.ts';
import { CaccEnv } from './cacc.ts';
import type { BatchedEnv } from './env.ts';
import { FigureEightEnv } from './figureEight.ts';
import { RingEnv } from './ring.ts';

export function createEnv(scenario: ScenarioId, params: Readonly<Record<string, unknown>> = {}, numEnvs = 1): BatchedEnv {
  const resolved = resolveParams(scenario, params);
  switch (scenario) {
    case 'cacc-catchup':
    case 'cacc-slowdown':
      return new CaccEnv(scenario, resolved, numEnvs);
    case 'ring':
      return new RingEnv(resolved, numEnvs);
    case 'figure-eight':
      return new FigureEightEnv(resolved, numEnvs);
  }
}

export { BatchedEnv, DT, VEHICLE_LENGTH, VehicleKind, type ActionSpace, type EnvSpec } from './env.ts';
export { AgentGraph, NeighbourhoodGather } from './graph.ts';
export { envSeed } from './rng.ts';
