/**
 * A trained run's policy acting in a simulation (the policy language's run:RUN_ID[@CHECKPOINT]):
 * its checkpoint restored from the run store, acting deterministically (each agent's most
 * likely action, or its mean), on a scenario whose agents see what the run's agents saw.
 * Used by `headway simulate --policy run:...` and by the app's live simulations; loaded
 * only when such a policy is asked for (it pulls in the tensor backend).
 */
import type { PolicySpec } from '../../shared/api.ts';
import type { BatchedEnv } from '../sim/env.ts';
import { RunStore } from '../store/index.ts';
import type { Policy } from './policies.ts';
import { restorePolicy } from './trainingRun.ts';

export interface RunPolicy {
  policy: Policy;
  /** The checkpoint's training iteration. */
  iteration: number;
  close(): Promise<void>;
}

/** Restores the policy; the error's message says why it cannot act here (no run, other scenario, other agents). */
export async function restoreRunPolicy(spec: Extract<PolicySpec, { kind: 'run' }>, env: BatchedEnv, database: string): Promise<RunPolicy> {
  const { runId } = spec;
  const store = RunStore.open(database, { readOnly: true });
  try {
    const run = store.getRun(runId);
    if (!run) throw new Error(`no run ${runId} in this database`);
    if (run.scenario !== env.spec.scenario) throw new Error(`run ${runId} was trained on ${run.scenario}, not ${env.spec.scenario}`);
    const restored = await restorePolicy(store, runId, spec.checkpoint);
    const { learner } = restored;
    if (learner.policy.spec.nAgents !== env.spec.nAgents || learner.policy.spec.obsDim !== env.spec.obsDim) {
      await restored.close();
      throw new Error(`run ${runId} has ${learner.policy.spec.nAgents} agents observing ${learner.policy.spec.obsDim} values; these parameters give ${env.spec.nAgents} and ${env.spec.obsDim}`);
    }
    return { policy: (_t, out) => void learner.policy.decide(env, out), iteration: restored.iteration, close: restored.close };
  } finally {
    store.close();
  }
}
