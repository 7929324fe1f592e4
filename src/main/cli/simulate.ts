/**
 * `headway simulate`: runs one episode of a scenario under a fixed policy (or replayed
 * external actions), optionally with disturbances (--disturb, see disturb.ts), and writes
 * its trajectory as CSV, JSONL or SUMO FCD XML. With disturbances it records every speed
 * and gap of the episode and reads out each disturbance's string stability. The scenarios
 * without vehicles (mabc, demand-response) write their own table columns (CSV, JSONL; no
 * FCD, no disturbances) and report the team return, plain and discounted.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isScenarioId, ParamError, SCENARIO_IDS, type ScenarioId } from '../../shared/scenarios.ts';
import type { StringStabilityReadout } from '../../shared/stringStability.ts';
import type { Disturbance } from '../sim/disturbances.ts';
import { DT, type ActionSpace, type BatchedEnv } from '../sim/env.ts';
import { createEnv } from '../sim/index.ts';
import { EpisodeStats, type EpisodeMetrics } from '../sim/metrics.ts';
import { StringRecorder } from '../sim/stringRecorder.ts';
import { RoutingEnv } from '../sim/routing.ts';
import { createRoutingWriter, type RoutingTrajectoryFormat } from '../sim/routingTrajectory.ts';
import { TabularEnv } from '../sim/tabular.ts';
import { createTabularWriter } from '../sim/tabularTrajectory.ts';
import { createTrajectoryWriter, type TrajectoryFormat, type TrajectoryWriter } from '../sim/trajectoryFormats.ts';
import { applyDisturbances, describeReadout } from './disturb.ts';
import { parseIntegerOption, parseKeyValues, UsageError } from './errors.ts';
import { AtomicTextFile } from './output.ts';
import { parsePolicy } from '../../shared/api.ts';
import { checkPolicy, makePolicy, type Policy } from '../jobs/policies.ts';
import { restoreRunPolicy, type RunPolicy } from '../jobs/runPolicy.ts';
import { defaultDatabasePath } from '../store/index.ts';

export interface SimulateOptions {
  scenario: string;
  param: string[];
  seed: string;
  steps?: string;
  /** Default idle. */
  policy?: string;
  /** Database of run:RUN_ID policies. */
  db?: string;
  actions?: string;
  /** --disturb texts (disturb.ts). */
  disturb?: string[];
  out: string;
}

export interface DisturbanceReadout {
  disturbance: Disturbance;
  /** Null when the episode ended (a collision) before the disturbance started. */
  stringStability: StringStabilityReadout | null;
}

export interface SimulateResult {
  scenario: ScenarioId;
  seed: number;
  agents: number;
  out: string;
  metrics: EpisodeMetrics;
  disturbances: DisturbanceReadout[];
  /** Scenarios without vehicles: the team reward R_t summed over steps, plain and discounted. */
  team?: { return: number; discountedReturn: number; discount: number };
}

const FORMAT_BY_EXTENSION: Record<string, TrajectoryFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.xml': 'xml' };

export async function runSimulate(options: SimulateOptions): Promise<SimulateResult> {
  if (!isScenarioId(options.scenario)) {
    throw new UsageError(`--scenario ${JSON.stringify(options.scenario)} is not allowed; expected one of ${SCENARIO_IDS.join(', ')}`);
  }
  const scenario = options.scenario;
  const format = FORMAT_BY_EXTENSION[extname(options.out).toLowerCase()];
  if (!format) throw new UsageError(`--out ${options.out}: unknown format; expected a file ending in .csv, .jsonl or .xml`);
  if (scenario === 'network-routing' && format === 'xml') {
    throw new UsageError(`--out ${options.out}: network-routing writes .csv or .jsonl (per-link flows and costs); SUMO FCD needs vehicles on roads`);
  }
  const seed = parseIntegerOption('--seed', options.seed, 0);
  let env: BatchedEnv;
  try {
    env = createEnv(scenario, parseKeyValues('--param', options.param), 1);
  } catch (error) {
    if (error instanceof ParamError) throw new UsageError(`--param ${error.message}`);
    throw error;
  }
  env.training = false;
  const { nAgents, horizon } = env.spec;
  const tabular = env instanceof TabularEnv ? env : null;
  if (tabular && format === 'xml') throw new UsageError(`--out ${options.out}: ${scenario} has no road, so no SUMO FCD; write a .csv or .jsonl file`);

  const external = options.actions === undefined ? undefined : loadActions(options.actions, nAgents, env.spec.action);
  if (external && options.policy !== undefined) throw new UsageError('--actions and --policy cannot be combined; --actions replaces the policy');
  const defaultSteps = external ? Math.min(external.length, horizon) : horizon;
  const steps = options.steps === undefined ? defaultSteps : parseIntegerOption('--steps', options.steps, 1, horizon);
  if (external && steps > external.length) {
    throw new UsageError(`--steps ${steps} exceeds the ${external.length} steps of actions in ${options.actions}`);
  }
  const disturbances = applyDisturbances(options.disturb ?? [], env, steps);
  const trained = !external && options.policy?.startsWith('run:') ? await trainedPolicy(options.policy, options.db, env) : null;
  const policy: Policy = external
    ? (t, out) => out.set(external[t])
    : (trained?.policy ?? policyFromOption(options.policy ?? 'idle', env, seed));

  const file = new AtomicTextFile(options.out);
  try {
    env.reset(seed);
    const writer: TrajectoryWriter =
      env instanceof RoutingEnv
        ? createRoutingWriter(format as RoutingTrajectoryFormat, env)
        : tabular && format !== 'xml'
          ? createTabularWriter(format, tabular)
          : createTrajectoryWriter(format, env);
    const team = tabular ? { return: 0, discountedReturn: 0, discount: tabular.discount } : undefined;
    const stats = new EpisodeStats(env);
    const actions = new Float64Array(nAgents);
    const recorder = disturbances.length > 0 ? new StringRecorder(env, steps + 1) : null;
    file.write(writer.begin());
    file.write(writer.step(0));
    recorder?.record();
    for (let t = 0; t < steps && !env.allDone(); t++) {
      policy(t, actions);
      env.step(actions);
      stats.add();
      if (team) {
        team.return += env.rawReward[0];
        team.discountedReturn += team.discount ** t * env.rawReward[0];
      }
      file.write(writer.step(t + 1));
      recorder?.record();
    }
    file.write(writer.end());
    file.commit();
    const readouts = disturbances.map((disturbance) => ({ disturbance, stringStability: recorder!.readout(disturbance) }));
    return { scenario, seed, agents: nAgents, out: options.out, metrics: stats.result(), disturbances: readouts, ...(team && { team }) };
  } catch (error) {
    file.abort();
    throw error;
  } finally {
    await trained?.close();
  }
}

/** The summary `headway simulate` prints. */
export function describeSimulation(result: SimulateResult): string {
  const m = result.metrics;
  if (result.team) {
    const { team } = result;
    return `scenario ${result.scenario}, seed ${result.seed}: ${m.steps} steps, ${result.agents} agents\nteam return ${team.return.toFixed(4)}, discounted return ${team.discountedReturn.toFixed(4)} (gamma ${team.discount})\nwrote ${result.out}\n`;
  }
  const returned = result.agents > 0 ? `return ${m.return.toFixed(3)}` : 'no agents';
  const lines = m.routing
    ? [
        `scenario ${result.scenario}, seed ${result.seed}: ${m.steps} steps (hops)`,
        Number.isNaN(m.routing.steadyTstt)
          ? `${returned}; no steady-state TSTT: it is the mean over the second half of the horizon, which --steps stopped before`
          : `${returned}, steady-state TSTT ${m.routing.steadyTstt.toFixed(3)}: ${m.routing.tsttOverUe.toFixed(4)} x user equilibrium, ${m.routing.tsttOverSo.toFixed(4)} x system optimum`,
      ]
    : [
        `scenario ${result.scenario}, seed ${result.seed}: ${m.steps} steps (${(m.steps * DT).toFixed(1)} s)`,
        `${returned}, mean speed ${m.meanSpeed.toFixed(3)} m/s, speed spread ${m.speedSpread.toFixed(3)} m/s, min gap ${m.minGap.toFixed(3)} m, collision ${m.collision ? 'yes' : 'no'}`,
      ];
  if (m.headwayRmse !== undefined) lines.push(`headway RMSE ${m.headwayRmse.toFixed(3)} m, speed RMSE ${m.speedRmse!.toFixed(3)} m/s`);
  for (const { disturbance, stringStability: readout } of result.disturbances) {
    if (readout) lines.push(...describeReadout(disturbance, readout));
    else lines.push(`string stability: the episode ended before the ${disturbance.kind} on vehicle ${disturbance.vehicle} started`);
  }
  lines.push(`wrote ${result.out}`);
  return `${lines.join('\n')}\n`;
}

/** --policy run:RUN_ID[@best|latest|CHECKPOINT_ID]: a trained run's deterministic policy (default its best checkpoint). */
async function trainedPolicy(text: string, db: string | undefined, env: BatchedEnv): Promise<RunPolicy> {
  const spec = parsePolicy(text);
  if (spec?.kind !== 'run') throw new UsageError(`--policy ${JSON.stringify(text)} is not allowed; expected run:RUN_ID, run:RUN_ID@best, run:RUN_ID@latest or run:RUN_ID@CHECKPOINT_ID`);
  return restoreRunPolicy(spec, env, db ?? defaultDatabasePath()).catch((error: Error) => {
    throw new UsageError(`--policy ${text}: ${error.message}`);
  });
}

/** The --policy text as a policy: the same draws as the app's live simulations. */
function policyFromOption(text: string, env: BatchedEnv, seed: number): Policy {
  const space = env.spec.action;
  const spec = parsePolicy(text);
  if (spec === null || spec.kind === 'run') throw new UsageError(`--policy ${JSON.stringify(text)} is not allowed; expected idle, human, random, constant:K or run:RUN_ID[@CHECKPOINT]`);
  if (spec.kind === 'constant' && !isAllowedAction(spec.value, space)) throw new UsageError(`--policy ${text}: K must be ${describeSpace(space)}`);
  const problem = checkPolicy(spec, env.spec);
  if (problem) throw new UsageError(`--${problem.message}`);
  return makePolicy(spec, env, seed);
}

function isAllowedAction(value: number, space: ActionSpace): boolean {
  if (space.kind === 'discrete') return Number.isInteger(value) && value >= 0 && value < space.n;
  return Number.isFinite(value);
}

function describeSpace(space: ActionSpace): string {
  return space.kind === 'discrete'
    ? `an action index from 0 to ${space.n - 1}`
    : `an acceleration in m/s^2 (finite; the scenario clips it to [${space.low}, ${space.high}])`;
}

/** Reads `--actions`: a JSON array over steps of arrays over agents. */
function loadActions(path: string, nAgents: number, space: ActionSpace): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`--actions ${path}: cannot read it (${reason})`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new UsageError(`--actions ${path}: expected a non-empty JSON array over steps of arrays over ${nAgents} agents`);
  }
  parsed.forEach((row: unknown, t) => {
    if (!Array.isArray(row) || row.length !== nAgents) {
      throw new UsageError(`--actions ${path}: step ${t} must be an array of ${nAgents} actions (one per agent)`);
    }
    row.forEach((value: unknown, i) => {
      if (typeof value !== 'number' || !isAllowedAction(value, space)) {
        throw new UsageError(`--actions ${path}: step ${t}, agent ${i} is ${JSON.stringify(value)}; expected ${describeSpace(space)}`);
      }
    });
  });
  return parsed as number[][];
}
