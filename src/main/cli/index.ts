/**
 * The `headway` command line. Every command has --help; bad input prints one line naming the
 * field and what is allowed and exits with code 2; other failures exit with code 1.
 */
import { Command, CommanderError, Option } from 'commander';
import { SCENARIO_IDS } from '../../shared/scenarios.ts';
import { registerAssignCommand } from './assign.ts';
import { registerBackendsCommand } from './backends.ts';
import { registerBenchCommand } from './bench.ts';
import { UsageError } from './errors.ts';
import { registerPlanCommand } from './plan.ts';
import { registerRunCommands } from './runs.ts';
import { registerServeCommand } from './serve.ts';
import { registerSweepCommand } from './sweep.ts';
import { registerWorkerCommand } from './worker.ts';
import { describeSimulation, runSimulate } from './simulate.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function buildProgram(): Command {
  const program = new Command('headway')
    .description('Simulator and trainer for decentralized multi-agent RL in traffic control')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      // Commander's own parse errors are reported by main() as one-line usage errors (exit 2).
      writeErr: (text) => {
        if (!text.startsWith('error:')) process.stderr.write(text);
      },
    });

  program
    .command('simulate')
    .description('run one episode of a scenario and write its trajectory (CSV, JSONL or SUMO FCD XML)')
    .requiredOption('--scenario <id>', `scenario: ${SCENARIO_IDS.join(', ')}`)
    .option('--param <key=value>', 'set a scenario parameter (repeatable), e.g. length=230, preset=uncontrolled', collect, [])
    .option('--seed <n>', 'episode seed (non-negative integer)', '0')
    .option('--steps <n>', 'steps to run (default: the scenario horizon, or the length of --actions)')
    .addOption(new Option('--policy <policy>', 'idle (no control input), random, constant:K, or run:RUN_ID[@best|latest|CHECKPOINT_ID] (a trained policy; default idle)'))
    .option('--db <file>', 'database of run:RUN_ID policies (default: the app database)')
    .option('--actions <file.json>', 'replay external actions: a JSON array over steps of arrays over agents')
    .option('--disturb <spec>', 'disturb a vehicle (repeatable), e.g. vehicle=3,at=50s,accel=-4,for=2s; see below', collect, [])
    .requiredOption('--out <file>', 'output file: .csv, .jsonl or .xml (SUMO FCD)')
    .option('--json', 'print the summary as JSON (with each disturbance\'s string-stability readout and deviation series)')
    .addHelpText(
      'after',
      '\nScenario parameters (see README): cacc-*: leadHeadway, initialSpeed, safetyCost, horizon;' +
        '\n  ring: preset, length, vehicles, warmup, safetyCap, noise, horizon;' +
        '\n  figure-eight: preset, warmup, safetyCap, collisionPenalty, noise, horizon;' +
        '\n  network-routing: network (braess, grid-3x3, grid-5x5 or FILE_net.tntp), policy (agents, shortest-path, ue, so),' +
        '\n  stepHours, horizon; it writes per-link flows and costs per step (.csv or .jsonl).' +
        '\n  mabc: arrival1, arrival2, stayIdle, stayBusy, transmitCost, successReward, discount, horizon;' +
        '\n  demand-response: agents, forceOffSlip, forceOnSlip, costOff, costOn, targetOn, initialOn, discount, horizon.' +
        '\n  mabc and demand-response write their own columns (CSV, JSONL; no FCD XML, no disturbances).' +
        '\n\nDisturbances (--disturb FIELD=VALUE,...): vehicle=I (or leader=KIND for the CACC leader, vehicle 0),' +
        '\n  kind=brake|hold|stop|dip (brake when accel is given), at=T (start), for=T (duration; length=T too),' +
        '\n  brake: accel=A (m/s^2, negative); hold: speed=V (m/s, reached at the scenario\'s max deceleration);' +
        '\n  stop: no value (standstill at the max deceleration); dip (CACC leader only): depth=V (m/s, a raised cosine).' +
        '\n  Times are seconds with s (at=50s, whole 0.1 s steps) or steps without a unit (at=500).' +
        '\n  e.g. --disturb vehicle=3,at=50s,accel=-4,for=2s   --disturb leader=dip,at=30s,depth=3,for=5s' +
        '\n  The summary then reads out string stability: per follower the peak speed and gap deviation from its' +
        '\n  pre-disturbance mean (5 s), the ratio to its predecessor, amplified/damped, and the recovery time (0.1 m/s).' +
        '\n  CSV and JSONL gain a disturbance column (the kind applied in the step to each row); FCD XML has none.',
    )
    .action(async (options) => {
      const result = await runSimulate(options);
      // Deviation series are typed arrays: written as JSON arrays (NaN, e.g. the CACC leader's gap, as null).
      if (options.json) process.stdout.write(`${JSON.stringify(result, (_key, value: unknown) => (value instanceof Float64Array ? Array.from(value) : value))}\n`);
      else process.stdout.write(describeSimulation(result));
    });

  registerAssignCommand(program);
  registerBackendsCommand(program);
  registerBenchCommand(program);
  registerPlanCommand(program);
  registerRunCommands(program);
  registerServeCommand(program);
  registerSweepCommand(program);
  registerWorkerCommand(program);
  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      process.stderr.write(`headway: ${message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`headway: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`headway: ${(error as Error).message}\n`);
    return 1;
  }
}
