/**
 * The `headway` command line. Every command has --help; bad input prints one line naming the
 * field and what is allowed and exits with code 2; other failures exit with code 1.
 */
import { Command, CommanderError, Option } from 'commander';
import { SCENARIO_IDS } from '../../shared/scenarios.ts';
import { registerBenchCommand } from './bench.ts';
import { UsageError } from './errors.ts';
import { registerRunCommands } from './runs.ts';
import { registerServeCommand } from './serve.ts';
import { runSimulate } from './simulate.ts';

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
    .requiredOption('--out <file>', 'output file: .csv, .jsonl or .xml (SUMO FCD)')
    .addHelpText(
      'after',
      '\nScenario parameters (see README): cacc-*: leadHeadway, initialSpeed, safetyCost, horizon;' +
        '\n  ring: preset, length, vehicles, warmup, safetyCap, noise, horizon;' +
        '\n  figure-eight: preset, warmup, safetyCap, collisionPenalty, noise, horizon.',
    )
    .action(async (options) => {
      const result = await runSimulate(options);
      const m = result.metrics;
      const lines = [
        `scenario ${result.scenario}, seed ${result.seed}: ${m.steps} steps (${(m.steps / 10).toFixed(1)} s)`,
        `${result.agents > 0 ? `return ${m.return.toFixed(3)}` : 'no agents'}, mean speed ${m.meanSpeed.toFixed(3)} m/s, speed spread ${m.speedSpread.toFixed(3)} m/s, min gap ${m.minGap.toFixed(3)} m, collision ${m.collision ? 'yes' : 'no'}`,
      ];
      if (m.headwayRmse !== undefined) lines.push(`headway RMSE ${m.headwayRmse.toFixed(3)} m, speed RMSE ${m.speedRmse!.toFixed(3)} m/s`);
      lines.push(`wrote ${result.out}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  registerBenchCommand(program);
  registerRunCommands(program);
  registerServeCommand(program);
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
