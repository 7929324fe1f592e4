/**
 * Simulator throughput: vehicle-steps per second per scenario on one core, for a single
 * environment (E = 1) and a batch (E = 64). Finished copies are reset individually so every
 * measured step is a real one; CACC runs its full-control action (no collision freezes the
 * platoon), ring and figure eight random accelerations. network-routing, which moves mass
 * over links instead of vehicles, reports link-steps per second on the 5x5 grid and on
 * Sioux Falls (the test fixture) under random link logits.
 */
import { fileURLToPath } from 'node:url';
import { SCENARIO_IDS, type ScenarioId } from '../src/shared/scenarios.ts';
import { createEnv } from '../src/main/sim/index.ts';
import { RngStreams } from '../src/main/sim/rng.ts';
import { RoutingEnv } from '../src/main/sim/routing.ts';

const SIOUX_FALLS = fileURLToPath(new URL('../tests/fixtures/tntp/SiouxFalls_net.tntp', import.meta.url));

export interface SimBenchFigure {
  scenario: ScenarioId;
  preset: string;
  envs: number;
  vehicles: number;
  vehicleStepsPerSecond: number;
  /** network-routing: links of the network and link-steps per second. */
  links?: number;
  linkStepsPerSecond?: number;
}

const ACTION_BANK_STEPS = 64;

export function measureSimulator(scenario: ScenarioId, params: Record<string, unknown>, envs: number, seconds: number): SimBenchFigure {
  const env = createEnv(scenario, params, envs);
  const { nAgents, nVehicles, action } = env.spec;
  const rng = new RngStreams(1);
  rng.seed(0, 1);
  const bank = new Float64Array(ACTION_BANK_STEPS * envs * nAgents);
  for (let k = 0; k < bank.length; k++) {
    bank[k] = action.kind === 'discrete' ? action.n - 1 : action.low + (action.high - action.low) * rng.uniform(0);
  }
  const stride = envs * nAgents;
  const views = Array.from({ length: ACTION_BANK_STEPS }, (_, t) => bank.subarray(t * stride, (t + 1) * stride));
  let seed = 1;
  env.reset(seed);
  const run = (steps: number) => {
    for (let t = 0; t < steps; t++) {
      env.step(views[t % ACTION_BANK_STEPS]);
      for (let e = 0; e < envs; e++) if ((env.terminated[e] | env.truncated[e]) === 1) env.resetEnv(e, ++seed);
    }
  };
  run(200); // warm up the JIT
  let steps = 0;
  let chunk = Math.max(1, Math.round(2000 / envs));
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    run(chunk);
    steps += chunk;
    elapsed = performance.now() - start;
    if (elapsed < 50) chunk *= 2;
  }
  const figure: SimBenchFigure = {
    scenario,
    preset: String(params.preset ?? 'dmpo'),
    envs,
    vehicles: nVehicles,
    vehicleStepsPerSecond: Math.round((steps * envs * nVehicles) / (elapsed / 1000)),
  };
  if (env instanceof RoutingEnv) {
    figure.links = env.network.linkCount;
    figure.linkStepsPerSecond = Math.round((steps * envs * env.network.linkCount) / (elapsed / 1000));
  }
  return figure;
}

export function simulatorBench(seconds = 1.5): Record<string, SimBenchFigure> {
  const result: Record<string, SimBenchFigure> = {};
  const cases: [ScenarioId, Record<string, unknown>, string][] = SCENARIO_IDS.filter((id) => id !== 'network-routing').map((id) => [id, {}, id]);
  cases.push(['ring', { preset: 'uncontrolled' }, 'ring:uncontrolled'], ['figure-eight', { preset: 'uncontrolled' }, 'figure-eight:uncontrolled']);
  cases.push(['network-routing', { network: 'grid-5x5' }, 'network-routing:grid-5x5'], ['network-routing', { network: SIOUX_FALLS }, 'network-routing:sioux-falls']);
  for (const [scenario, params, key] of cases) {
    for (const envs of [1, 64]) {
      result[envs === 64 ? key : `${key}@E1`] = measureSimulator(scenario, params, envs, seconds);
    }
  }
  return result;
}
