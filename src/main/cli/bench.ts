/**
 * `headway bench`: the benchmark suite of bench/, loaded only when the command runs, so the
 * command line does not import bench/ (nor its browser driving) at start. The names of the
 * parts live here, for --help; bench/index.ts takes them from here.
 */
import { Option, type Command } from 'commander';
import { UsageError } from './errors.ts';

export type BenchPart = 'sim' | 'learn' | 'store' | 'ui' | 'history';
export const BENCH_PARTS: readonly BenchPart[] = ['sim', 'learn', 'store', 'ui', 'history'];

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suite (also `npm run bench`)')
    .option('--json', 'print one JSON object on stdout')
    .addOption(new Option('--only <parts>', `comma-separated parts to run: ${BENCH_PARTS.join(', ')}`))
    .action(async (options: { json?: boolean; only?: string }) => {
      const parts = options.only === undefined ? BENCH_PARTS : options.only.split(',');
      for (const part of parts) {
        if (!(BENCH_PARTS as readonly string[]).includes(part)) {
          throw new UsageError(`--only ${JSON.stringify(part)} is not allowed; expected ${BENCH_PARTS.join(', ')}`);
        }
      }
      const { formatBenchReport, runBench } = await import('../../../bench/index.ts');
      const report = await runBench(parts as BenchPart[], (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatBenchReport(report));
    });
}
