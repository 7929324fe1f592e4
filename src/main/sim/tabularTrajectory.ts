/**
 * Trajectory formats of the scenarios without vehicles (tabular.ts), streamed step by step:
 * - CSV, one row per agent and step: step,agent,<the scenario's agent columns>,reward,
 *   <its copy columns> (mabc: buffer,action,arrival,reward,channel_busy,delivered;
 *   demand-response: on,action,reward,share_on,kl). Step 0 is the reset state; a row's
 *   action, arrival and reward belong to the step that led to it (empty at step 0); the copy
 *   columns repeat on each agent's row so that every row stands alone.
 * - JSONL, one object per step: step, every agent column as an array over agents, the copy
 *   columns, obs (per agent) and reward (per agent; null at step 0).
 * No SUMO FCD: there is no road. Numbers in JavaScript's shortest round-trip form.
 */
import type { TabularEnv } from './tabular.ts';
import type { TrajectoryFormat, TrajectoryWriter } from './trajectoryFormats.ts';

const blankIfNaN = (x: number): string => (Number.isNaN(x) ? '' : String(x));
const nullIfNaN = (x: number): number | null => (Number.isNaN(x) ? null : x);

export function createTabularWriter(format: Exclude<TrajectoryFormat, 'xml'>, env: TabularEnv, copy = 0): TrajectoryWriter {
  return format === 'csv' ? csvWriter(env, copy) : jsonlWriter(env, copy);
}

function csvWriter(env: TabularEnv, copy: number): TrajectoryWriter {
  const { nAgents } = env.spec;
  const nAgentColumns = env.agentColumns.length;
  const nCopyColumns = env.copyColumns.length;
  return {
    begin: () => `${['step', 'agent', ...env.agentColumns, 'reward', ...env.copyColumns].join(',')}\n`,
    step(step) {
      let shared = '';
      for (let c = 0; c < nCopyColumns; c++) shared += `,${blankIfNaN(env.copyState[copy * nCopyColumns + c])}`;
      let text = '';
      for (let i = 0; i < nAgents; i++) {
        const a = copy * nAgents + i;
        let row = `${step},${i}`;
        for (let c = 0; c < nAgentColumns; c++) row += `,${blankIfNaN(env.agentState[a * nAgentColumns + c])}`;
        text += `${row},${step > 0 ? String(env.rawReward[a]) : ''}${shared}\n`;
      }
      return text;
    },
    end: () => '',
  };
}

function jsonlWriter(env: TabularEnv, copy: number): TrajectoryWriter {
  const { nAgents, obsDim } = env.spec;
  const nAgentColumns = env.agentColumns.length;
  const nCopyColumns = env.copyColumns.length;
  return {
    begin: () => '',
    step(step) {
      const record: Record<string, unknown> = { step };
      env.agentColumns.forEach((name, c) => {
        record[name] = Array.from({ length: nAgents }, (_, i) => nullIfNaN(env.agentState[(copy * nAgents + i) * nAgentColumns + c]));
      });
      env.copyColumns.forEach((name, c) => (record[name] = nullIfNaN(env.copyState[copy * nCopyColumns + c])));
      record.obs = Array.from({ length: nAgents }, (_, i) => Array.from(env.obs.subarray((copy * nAgents + i) * obsDim, (copy * nAgents + i + 1) * obsDim)));
      record.reward = step > 0 ? Array.from(env.rawReward.subarray(copy * nAgents, (copy + 1) * nAgents)) : null;
      return `${JSON.stringify(record)}\n`;
    },
    end: () => '',
  };
}
