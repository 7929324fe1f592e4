/**
 * Trajectory output of the routing scenario, which has links instead of vehicles: per step
 * the flow entering each link (vehicles per hour), its BPR time, volume/capacity and cost.
 * - CSV, one row per link and step: step,link,from,to,flow_vph,time,volume_capacity,cost_vh
 *   (nodes numbered from 1 as in TNTP files; cost_vh = flow x time x stepHours, the link's
 *   vehicle-hours in the step; step 0 is the empty network after reset).
 * - JSONL, one object per step: the step's cost, the vehicles in the network and arrived,
 *   and the links' flows and times in link order.
 */
import type { TrajectoryWriter } from './trajectoryFormats.ts';
import type { RoutingEnv } from './routing.ts';

export type RoutingTrajectoryFormat = 'csv' | 'jsonl';

export function createRoutingWriter(format: RoutingTrajectoryFormat, env: RoutingEnv, copy = 0): TrajectoryWriter {
  const { network } = env;
  const L = network.linkCount;
  const { stepHours } = env;
  if (format === 'csv') {
    return {
      begin: () => 'step,link,from,to,flow_vph,time,volume_capacity,cost_vh\n',
      step(step) {
        const rows: string[] = [];
        for (let a = 0; a < L; a++) {
          const flow = env.linkFlow[copy * L + a];
          const time = env.linkTimes[copy * L + a];
          rows.push(`${step},${a + 1},${network.linkFrom[a] + 1},${network.linkTo[a] + 1},${flow},${time},${flow / network.capacity[a]},${flow * time * stepHours}\n`);
        }
        return rows.join('');
      },
      end: () => '',
    };
  }
  return {
    begin: () => '',
    step: (step) =>
      `${JSON.stringify({
        step,
        cost: env.stepCost[copy],
        inNetwork: env.massInNetwork(copy),
        arrived: env.arrived[copy],
        flow: Array.from(env.linkFlow.subarray(copy * L, (copy + 1) * L)),
        time: Array.from(env.linkTimes.subarray(copy * L, (copy + 1) * L)),
      })}\n`,
    end: () => '',
  };
}
