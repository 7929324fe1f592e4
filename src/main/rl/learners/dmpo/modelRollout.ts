/**
 * A branched model rollout (branchedRollout.ts) laid out as a real rollout, so DMPO's inner
 * updates train on it exactly as on environment data: the agents' gathered actor and critic
 * inputs agent-major, the policy's head outputs and sampled actions, the models' rewards and
 * ends. Model rollouts are truncated, not terminated, at their last step: V bootstraps there.
 */
import type { RngStreams } from '../../../sim/rng.ts';
import type { ActorCritic } from '../../core/actorCritic.ts';
import type { RolloutBuffer } from '../../core/rollout.ts';
import type { LocalModels } from './localModel.ts';

/** Fills `buffer` (T steps x nTraj rollouts) with a branched rollout of `policy` in `models`, sampling with `sampler`. */
export function fillModelRollout(models: LocalModels, policy: ActorCritic, sampler: RngStreams, buffer: RolloutBuffer): RolloutBuffer {
  const { steps, envs: batch, agents } = buffer;
  const { obsDim } = policy.spec;
  const actions = new Float64Array(batch * agents);
  let t = 0;
  const rollout = models.branchedRollout(
    (observations) => {
      policy.actorGather.gatherAgentMajor(observations, obsDim, batch, buffer.stepActorInputs, batch, 0);
      policy.criticGather.gatherAgentMajor(observations, obsDim, batch, buffer.criticInputs, steps * batch, t * batch);
      const output = policy.act(buffer.stepActorInputs, batch);
      buffer.storeStep(t, output);
      policy.sampleActions(output, sampler, batch, steps, t, buffer.actions, actions);
      t++;
      return actions;
    },
    { trajectories: batch, steps },
  );
  for (let step = 0; step < steps; step++) {
    for (let b = 0; b < batch; b++) {
      const flag = step * batch + b;
      buffer.terminated[flag] = rollout.dones[flag * agents];
      buffer.truncated[flag] = 0;
      for (let i = 0; i < agents; i++) buffer.rewards[i * steps * batch + flag] = rollout.rewards[flag * agents + i];
    }
  }
  buffer.clearTruncations();
  policy.criticGather.gatherAgentMajor(rollout.finalObservations, obsDim, batch, buffer.lastCriticInputs, batch, 0);
  return buffer;
}

