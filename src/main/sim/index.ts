/**
 * Creates the batched environment of any scenario from user-given parameters (validated
 * and resolved against the scenario catalogue in src/shared/scenarios.ts).
 */
import { resolveParams, type ScenarioId } from '../../shared/scenarios.ts';
import { CaccEnv } from './cacc.ts';
import { DemandResponseEnv } from './demandResponse.ts';
import type { BatchedEnv } from './env.ts';
import { FigureEightEnv } from './figureEight.ts';
import { MabcEnv } from './mabc.ts';
import { RingEnv } from './ring.ts';
import { RoutingEnv } from './routing.ts';

export function createEnv(scenario: ScenarioId, params: Readonly<Record<string, unknown>> = {}, numEnvs = 1): BatchedEnv {
  switch (scenario) {
    case 'cacc-catchup':
    case 'cacc-slowdown':
      return new CaccEnv(scenario, resolveParams(scenario, params), numEnvs);
    case 'ring':
      return new RingEnv(params, numEnvs);
    case 'figure-eight':
      return new FigureEightEnv(params, numEnvs);
    case 'network-routing':
      return new RoutingEnv(params, numEnvs);
    case 'mabc':
      return new MabcEnv(resolveParams(scenario, params), numEnvs);
    case 'demand-response':
      return new DemandResponseEnv(resolveParams(scenario, params), numEnvs);
  }
}

export { BatchedEnv, DT, VEHICLE_LENGTH, VehicleKind, type ActionSpace, type EnvSpec } from './env.ts';
export { AgentGraph, NeighbourhoodGather } from './graph.ts';
export { envSeed } from './rng.ts';
export { TabularEnv } from './tabular.ts';
