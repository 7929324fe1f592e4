/**
 * `headway plan`: the optimal decentralised value of the DADC paper's environments by
 * planning (value iteration over the coordinator's belief; sim/planner/), the line DADC's
 * learning curves are compared against.
 */
import type { Command } from 'commander';
import { ParamError, resolveParams, TABULAR_SCENARIO_IDS } from '../../shared/scenarios.ts';
import { planDemandResponse } from '../sim/planner/demandResponsePlanner.ts';
import { planMabc } from '../sim/planner/mabcPlanner.ts';
import { parseKeyValues, UsageError } from './errors.ts';

export interface PlanResult {
  scenario: (typeof TABULAR_SCENARIO_IDS)[number];
  /** The optimal expected discounted team return from the scenario's initial distribution. */
  value: number;
  discount: number;
  /** Belief nodes (mabc) or counts (demand-response) of the coordinator's MDP. */
  nodes: number;
  sweeps: number;
  /** demand-response: the step of the prescription grid. */
  gridStep?: number;
  seconds: number;
}

export function runPlan(options: { scenario: string; param: string[]; gridStep: string }): PlanResult {
  const scenario = TABULAR_SCENARIO_IDS.find((id) => id === options.scenario);
  if (!scenario) throw new UsageError(`--scenario ${JSON.stringify(options.scenario)} is not allowed; expected one of ${TABULAR_SCENARIO_IDS.join(', ')} (the scenarios with a planner)`);
  const gridStep = Number(options.gridStep);
  if (!(gridStep > 0 && gridStep <= 1) || Math.abs(Math.round(2 / gridStep) * gridStep - 2) > 1e-9) {
    throw new UsageError(`--grid-step ${JSON.stringify(options.gridStep)} is not allowed; expected a step in (0, 1] that divides 2, e.g. 1, 0.5, 0.1, 0.05`);
  }
  const started = performance.now();
  try {
    if (scenario === 'mabc') {
      const params = resolveParams('mabc', parseKeyValues('--param', options.param));
      const plan = planMabc(params, params.discount);
      return { scenario, value: plan.value, discount: params.discount, nodes: plan.mdp.nodes, sweeps: plan.solution.sweeps, seconds: (performance.now() - started) / 1000 };
    }
    const params = resolveParams('demand-response', parseKeyValues('--param', options.param));
    const plan = planDemandResponse(params, params.discount, { gridStep });
    return { scenario, value: plan.value, discount: params.discount, nodes: params.agents + 1, sweeps: plan.solution.sweeps, gridStep, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    if (error instanceof ParamError) throw new UsageError(`--param ${error.message}`);
    throw error;
  }
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('the optimal decentralised value of mabc or demand-response by planning (value iteration over the coordinator belief)')
    .requiredOption('--scenario <id>', `scenario: ${TABULAR_SCENARIO_IDS.join(', ')}`)
    .option('--param <key=value>', 'set a scenario parameter (repeatable), e.g. transmitCost=0.5', (value: string, previous: string[]) => [...previous, value], [])
    .option('--grid-step <u>', 'demand-response: step of the grid of forcing probabilities searched per state (1: deterministic prescriptions only)', '0.1')
    .option('--json', 'print the result as JSON')
    .action((options: { scenario: string; param: string[]; gridStep: string; json?: boolean }) => {
      const result = runPlan(options);
      if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        const grid = result.gridStep === undefined ? '' : `, prescription grid step ${result.gridStep}`;
        process.stdout.write(
          `${result.scenario}: optimal discounted team return ${result.value.toFixed(6)} (gamma ${result.discount}; ${result.nodes} coordinator states, ${result.sweeps} sweeps${grid}; ${result.seconds.toFixed(1)} s)\n`,
        );
      }
    });
}
