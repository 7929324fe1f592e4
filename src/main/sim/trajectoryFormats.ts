/**
 * Trajectory output formats for one environment copy, produced step by step as text so that
 * long episodes stream to disk:
 * - CSV, one row per vehicle and step: step,time_s,vehicle,position_m,speed_mps,accel_mps2,
 *   headway_m,action,reward (step 0 is the reset state; reward is the raw reward of the step
 *   that led to the row, empty at step 0 and for vehicles that are not agents; headway_m is
 *   the bumper-to-bumper gap, empty for CACC's leader).
 * - JSONL, one object per step with the vehicles and the agents' observations and rewards.
 * - SUMO FCD XML (fcd-export), with coordinates from the shared road geometry so SUMO's tools
 *   and Flow's plotting scripts read it.
 * When the source has disturbances scheduled (sim/disturbances.ts) as the writer is created,
 * CSV rows end with a `disturbance` column and JSONL objects carry a `disturbance` array:
 * per vehicle the kind (brake, hold, stop, dip) applied in the step that led to the row's
 * state, empty when none. Without disturbances the output is exactly as before. FCD XML
 * leaves it out: SUMO's fcd schema has no such attribute.
 * Numbers are written in JavaScript's shortest round-trip form: nothing is lost.
 */
import { placeOnRoad } from '../../shared/geometry.ts';
import { disturbanceName, type Disturbances } from './disturbances.ts';
import { agentOfVehicle, DT, VehicleKind, type BatchedEnv, type EnvSpec } from './env.ts';

/** What the writers read: a live environment, or a stored episode's frame presented the same way. */
export interface TrajectorySource extends Pick<BatchedEnv, 'position' | 'speed' | 'accel' | 'gap' | 'action' | 'rawReward' | 'obs' | 'collided' | 'roadLength'> {
  readonly spec: Pick<EnvSpec, 'scenario' | 'nVehicles' | 'nAgents' | 'obsDim' | 'vehicleKind' | 'agentVehicle'>;
  /** A live environment's disturbances; stored episodes have none. */
  readonly disturbances?: Pick<Disturbances, 'count' | 'applied'>;
}

/** True when the writers add the disturbance column. */
const hasDisturbances = (env: TrajectorySource): boolean => (env.disturbances?.count ?? 0) > 0;

export type TrajectoryFormat = 'csv' | 'jsonl' | 'xml';

export interface TrajectoryWriter {
  /** Text before the first step. */
  begin(): string;
  /** Text for the state the copy is in now, reached after `step` control steps. */
  step(step: number): string;
  /** Text after the last step. */
  end(): string;
}

const blankIfNaN = (x: number): string => (Number.isNaN(x) ? '' : String(x));

export function createTrajectoryWriter(format: TrajectoryFormat, env: TrajectorySource, copy = 0): TrajectoryWriter {
  switch (format) {
    case 'csv':
      return csvWriter(env, copy);
    case 'jsonl':
      return jsonlWriter(env, copy);
    case 'xml':
      return fcdWriter(env, copy);
  }
}

function csvWriter(env: TrajectorySource, copy: number): TrajectoryWriter {
  const { nVehicles, nAgents } = env.spec;
  const agentOf = agentOfVehicle(env.spec);
  const applied = hasDisturbances(env) ? env.disturbances!.applied : null;
  return {
    begin: () => `step,time_s,vehicle,position_m,speed_mps,accel_mps2,headway_m,action,reward${applied ? ',disturbance' : ''}\n`,
    step(step) {
      const time = (step * DT).toFixed(1);
      let text = '';
      for (let v = 0; v < nVehicles; v++) {
        const k = copy * nVehicles + v;
        const agent = agentOf[v];
        const reward = agent >= 0 && step > 0 ? String(env.rawReward[copy * nAgents + agent]) : '';
        const disturbance = applied ? `,${disturbanceName(applied[k])}` : '';
        text += `${step},${time},${v},${env.position[k]},${env.speed[k]},${env.accel[k]},${blankIfNaN(env.gap[k])},${blankIfNaN(env.action[k])},${reward}${disturbance}\n`;
      }
      return text;
    },
    end: () => '',
  };
}

function jsonlWriter(env: TrajectorySource, copy: number): TrajectoryWriter {
  const { nVehicles, nAgents, obsDim } = env.spec;
  const slice = (array: Float64Array, start: number, length: number) => Array.from(array.subarray(start, start + length), (x) => (Number.isNaN(x) ? null : x));
  const applied = hasDisturbances(env) ? env.disturbances!.applied : null;
  return {
    begin: () => '',
    step(step) {
      const v0 = copy * nVehicles;
      const a0 = copy * nAgents;
      const record = {
        step,
        time_s: Number((step * DT).toFixed(1)),
        position_m: slice(env.position, v0, nVehicles),
        speed_mps: slice(env.speed, v0, nVehicles),
        accel_mps2: slice(env.accel, v0, nVehicles),
        headway_m: slice(env.gap, v0, nVehicles),
        action: slice(env.action, v0, nVehicles),
        obs: Array.from({ length: nAgents }, (_, i) => slice(env.obs, (a0 + i) * obsDim, obsDim)),
        reward: step > 0 ? slice(env.rawReward, a0, nAgents) : null,
        collided: env.collided[copy] === 1,
        ...(applied && { disturbance: Array.from(applied.subarray(v0, v0 + nVehicles), disturbanceName) }),
      };
      return `${JSON.stringify(record)}\n`;
    },
    end: () => '',
  };
}

function fcdWriter(env: TrajectorySource, copy: number): TrajectoryWriter {
  const { nVehicles, vehicleKind, scenario } = env.spec;
  const ids = Array.from(vehicleKind, (kind, v) =>
    kind === VehicleKind.leader ? 'leader' : kind === VehicleKind.agent ? `agent_${v}` : `human_${v}`,
  );
  const types = Array.from(vehicleKind, (kind) => (kind === VehicleKind.leader ? 'leader' : kind === VehicleKind.agent ? 'rl' : 'human'));
  return {
    begin: () =>
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<!-- headway ${scenario}: positions in m from the shared road geometry -->\n` +
      '<fcd-export xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://sumo.dlr.de/xsd/fcd_file.xsd">\n',
    step(step) {
      let text = `    <timestep time="${(step * DT).toFixed(2)}">\n`;
      const length = env.roadLength[copy];
      for (let v = 0; v < nVehicles; v++) {
        const k = copy * nVehicles + v;
        const place = placeOnRoad(scenario, length, env.position[k]);
        text +=
          `        <vehicle id="${ids[v]}" x="${place.x.toFixed(2)}" y="${place.y.toFixed(2)}" angle="${place.angleDeg.toFixed(2)}"` +
          ` type="${types[v]}" speed="${env.speed[k].toFixed(2)}" pos="${env.position[k].toFixed(2)}" lane="${place.lane}" slope="0.00"/>\n`;
      }
      return `${text}    </timestep>\n`;
    },
    end: () => '</fcd-export>\n',
  };
}
