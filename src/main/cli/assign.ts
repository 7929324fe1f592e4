/**
 * `headway assign`: the static traffic assignment of a network (user equilibrium, or with
 * --so the system optimum) by conjugate Frank-Wolfe, written as link flows for traffic
 * engineers who want the static answer directly.
 */
import type { Command } from 'commander';
import { assign, loadNetwork, NETWORK_CHOICES, NetworkError, type AssignmentResult, type RoadNetwork } from '../sim/network/index.ts';
import { parseIntegerOption, UsageError } from './errors.ts';
import { AtomicTextFile } from './output.ts';

interface AssignOptions {
  network: string;
  so?: boolean;
  gap: string;
  maxIterations: string;
  out: string;
  json?: boolean;
}

interface AssignSummary {
  network: string;
  objective: 'ue' | 'so';
  nodes: number;
  links: number;
  iterations: number;
  relativeGap: number;
  /** Total system travel time, in the network's time unit x vehicles per hour. */
  tstt: number;
  out: string;
}

export function registerAssignCommand(program: Command): void {
  program
    .command('assign')
    .description('compute the user equilibrium (or with --so the system optimum) of a road network and write its link flows as CSV')
    .requiredOption('--network <name|file>', `network: ${NETWORK_CHOICES}`)
    .option('--so', 'system optimum (least total travel time) instead of the user equilibrium')
    .option('--gap <g>', 'stop at this relative gap', '1e-5')
    .option('--max-iterations <n>', 'stop after this many iterations even above the gap', '10000')
    .requiredOption('--out <file.csv>', 'output CSV: one row per link')
    .option('--json', 'print the summary as JSON')
    .action((options: AssignOptions) => {
      const summary = runAssign(options);
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : describeAssignment(summary));
    });
}

function runAssign(options: AssignOptions): AssignSummary {
  if (!options.out.toLowerCase().endsWith('.csv')) throw new UsageError(`--out ${options.out}: expected a file ending in .csv`);
  const gap = Number(options.gap);
  if (options.gap.trim() === '' || !(gap >= 0 && gap < 1)) throw new UsageError(`--gap ${JSON.stringify(options.gap)} is not allowed; expected a number from 0 to below 1`);
  const maxIterations = parseIntegerOption('--max-iterations', options.maxIterations, 1);
  let network: RoadNetwork;
  try {
    network = loadNetwork(options.network);
  } catch (error) {
    if (error instanceof NetworkError) throw new UsageError(`--network ${error.message}`);
    throw error;
  }
  const file = new AtomicTextFile(options.out);
  const objective = options.so ? 'so' : 'ue';
  const result = assign(network, { objective, targetGap: gap, maxIterations });
  file.write(linkFlowsCsv(network, result));
  file.commit();
  return { network: network.name, objective, nodes: network.nodeCount, links: network.linkCount, iterations: result.iterations, relativeGap: result.relativeGap, tstt: result.tstt, out: options.out };
}

/** One row per link, nodes numbered from 1 as in TNTP files. */
function linkFlowsCsv(network: RoadNetwork, result: AssignmentResult): string {
  const rows = ['link,from,to,capacity,free_flow_time,flow,time,volume_capacity'];
  for (let a = 0; a < network.linkCount; a++) {
    const flow = result.flows[a];
    rows.push([a + 1, network.linkFrom[a] + 1, network.linkTo[a] + 1, network.capacity[a], network.freeFlowTime[a], flow, result.times[a], flow / network.capacity[a]].join(','));
  }
  return `${rows.join('\n')}\n`;
}

function describeAssignment(summary: AssignSummary): string {
  const what = summary.objective === 'ue' ? 'user equilibrium' : 'system optimum';
  return (
    `${summary.network} (${summary.nodes} nodes, ${summary.links} links): ${what} after ${summary.iterations} iterations, relative gap ${summary.relativeGap.toExponential(2)}\n` +
    `total system travel time ${summary.tstt.toFixed(3)}\nwrote ${summary.out}\n`
  );
}
