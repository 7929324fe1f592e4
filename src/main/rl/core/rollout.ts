/**
 * Collecting experience: the training environments (copies on their own clocks, reset with
 * fresh episode seeds), the rollout buffer every update reads, and the rollout itself.
 *
 * Choices where the specs are silent:
 * - Environment copies run on their own clocks: a copy that ends is reset at once with the
 *   next episode seed (seed + 10^6 * episode counter), so rollouts need not align with episodes.
 * - The learning reward is clip(reward x rewardScale, -rewardClip, rewardClip); records and
 *   returns keep the raw reward.
 */
import type { Hyperparameters } from '../../../shared/learners.ts';
import type { ScenarioId } from '../../../shared/scenarios.ts';
import type { BatchedEnv } from '../../sim/env.ts';
import { createEnv } from '../../sim/index.ts';
import { RngStreams } from '../../sim/rng.ts';
import { addPrefixed, restoreArrays, underPrefix, type SnapshotArrays, type TypedArray } from '../../sim/snapshot.ts';
import type { AgentNetworks } from '../nn/agentNetworks.ts';
import type { ActorCritic } from './actorCritic.ts';
import type { PolicyOutput } from './trainedPolicy.ts';
import type { PolicyHead } from './distributions.ts';

/** Seeds of training episodes are drawn seed + EPISODE_SEED_STRIDE * k (evaluation's lie apart). */
const EPISODE_SEED_STRIDE = 1_000_000;
/** The stochastic policy's sampling stream is seeded apart from the episodes. */
const SAMPLER_SEED_OFFSET = 0x9e37;

/** The training copies of a scenario, their episode seeds, running returns and the policy's sampling stream. */
export class TrainingEnvs {
  readonly env: BatchedEnv;
  /** Draws the stochastic policy's actions (stream 0). */
  readonly sampler = new RngStreams(1);
  private episodeCounter = 0;
  /** Raw return of the running episode of each copy. */
  private readonly runningReturn: Float64Array;

  constructor(
    scenario: ScenarioId,
    scenarioParams: Readonly<Record<string, unknown>>,
    numEnvs: number,
    private readonly seed: number,
  ) {
    this.env = createEnv(scenario, scenarioParams, numEnvs);
    this.runningReturn = new Float64Array(numEnvs);
    this.sampler.seed(0, seed + SAMPLER_SEED_OFFSET);
    this.env.reset(this.nextEpisodeSeed());
    for (let e = 1; e < numEnvs; e++) this.env.resetEnv(e, this.nextEpisodeSeed());
  }

  /** Adds the raw rewards of copy e's last step to its running return; returns the episode's return when the step ended it. */
  addStep(e: number): number | null {
    const { env } = this;
    const agents = env.spec.nAgents;
    for (let i = 0; i < agents; i++) this.runningReturn[e] += env.rawReward[e * agents + i];
    if ((env.terminated[e] | env.truncated[e]) === 0) return null;
    const total = this.runningReturn[e];
    this.runningReturn[e] = 0;
    return total;
  }

  /** Resets every copy whose episode ended at the last step, with the next episode seeds. */
  resetEnded(): void {
    const { env } = this;
    for (let e = 0; e < env.numEnvs; e++) if ((env.terminated[e] | env.truncated[e]) === 1) env.resetEnv(e, this.nextEpisodeSeed());
  }

  snapshot(into: Record<string, TypedArray>): { episodeCounter: number } {
    addPrefixed(into, 'env.', this.env.snapshot());
    addPrefixed(into, 'policyRng.', this.sampler.snapshot());
    into.runningReturn = this.runningReturn;
    return { episodeCounter: this.episodeCounter };
  }

  restore(arrays: SnapshotArrays, episodeCounter: number): void {
    this.env.restore(underPrefix(arrays, 'env.'));
    this.sampler.restore(underPrefix(arrays, 'policyRng.'));
    restoreArrays({ runningReturn: this.runningReturn }, arrays, checkpointMisfit);
    this.episodeCounter = episodeCounter;
  }

  private nextEpisodeSeed(): number {
    return this.seed + EPISODE_SEED_STRIDE * this.episodeCounter++;
  }
}

/** The message of a learner checkpoint entry that is missing or of another size. */
export function checkpointMisfit(name: string): string {
  return `checkpoint entry ${name} does not fit this learner`;
}

/** The learning reward of a raw reward, from the config's scale and clip. */
export function learningRewardOf(config: Pick<Hyperparameters, 'rewardScale' | 'rewardClip'>): (reward: number) => number {
  const { rewardScale, rewardClip } = config;
  return (reward) => {
    const scaled = reward * rewardScale;
    return scaled > rewardClip ? rewardClip : scaled < -rewardClip ? -rewardClip : scaled;
  };
}

/**
 * One iteration's data, agent-major: row (i, t, e) = i * T * E + t * E + e, so each agent's
 * samples are contiguous for its update.
 */
export class RolloutBuffer {
  readonly actorInputs: Float32Array;
  readonly criticInputs: Float32Array;
  readonly actions: Float32Array;
  readonly oldOutput: Float32Array;
  oldLogStd: Float32Array | null = null;
  readonly rewards: Float32Array;
  readonly values: Float32Array;
  readonly returns: Float32Array;
  readonly lastValues: Float32Array;
  readonly truncationValues: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** Flag indices (t * E + e) where a copy was truncated, in order (see keepTruncations). */
  private truncations: number[] = [];
  /** Scratch: one step's actor inputs [n, E, in], critic inputs, and the inputs after the last step. */
  readonly stepActorInputs: Float32Array;
  readonly stepCriticInputs: Float32Array;
  readonly lastCriticInputs: Float32Array;
  private truncationInputs: Float32Array[] = [];
  private readonly actorInputSize: number;
  private readonly criticInputSize: number;
  private readonly outputSize: number;

  constructor(
    readonly agents: number,
    readonly steps: number,
    readonly envs: number,
    private readonly networks: AgentNetworks,
    head: PolicyHead,
  ) {
    const rows = agents * steps * envs;
    this.actorInputSize = networks.actor.layout.shape.inputSize;
    this.criticInputSize = networks.critic.layout.shape.inputSize;
    this.outputSize = networks.actor.layout.shape.outputSize;
    this.actorInputs = new Float32Array(rows * this.actorInputSize);
    this.criticInputs = new Float32Array(rows * this.criticInputSize);
    this.actions = new Float32Array(rows);
    this.oldOutput = new Float32Array(rows * this.outputSize);
    if (head.kind === 'gaussian') this.oldLogStd = new Float32Array(agents * head.actionSize);
    this.rewards = new Float32Array(rows);
    this.values = new Float32Array(rows);
    this.returns = new Float32Array(rows);
    this.lastValues = new Float32Array(agents * envs);
    this.truncationValues = new Float32Array(rows);
    this.terminated = new Uint8Array(steps * envs);
    this.truncated = new Uint8Array(steps * envs);
    this.stepActorInputs = new Float32Array(agents * envs * this.actorInputSize);
    this.stepCriticInputs = new Float32Array(agents * envs * this.criticInputSize);
    this.lastCriticInputs = new Float32Array(agents * envs * this.criticInputSize);
  }

  /** Samples per agent. */
  get samples(): number {
    return this.steps * this.envs;
  }

  /** Copies one step's actor inputs and head outputs into the agent-major rows of step t. */
  storeStep(t: number, policy: PolicyOutput): void {
    const { agents, envs, steps } = this;
    for (let i = 0; i < agents; i++) {
      const row = i * steps * envs + t * envs;
      this.actorInputs.set(this.stepActorInputs.subarray(i * envs * this.actorInputSize, (i + 1) * envs * this.actorInputSize), row * this.actorInputSize);
      this.oldOutput.set(policy.output.subarray(i * envs * this.outputSize, (i + 1) * envs * this.outputSize), row * this.outputSize);
    }
    if (this.oldLogStd && policy.logStd) this.oldLogStd.set(policy.logStd);
  }

  /** Forgets the truncations of the previous rollout (the buffer is about to be filled again). */
  clearTruncations(): void {
    this.truncations = [];
    this.truncationInputs = [];
  }

  /**
   * Records the copies truncated at step t with their critic inputs (in stepCriticInputs),
   * kept until the next clearTruncations: every update on this rollout (DMPO runs several)
   * bootstraps V(s_T) from them.
   */
  keepTruncations(t: number, truncated: Uint8Array): void {
    for (let e = 0; e < this.envs; e++) {
      if (truncated[e] !== 1) continue;
      this.truncations.push(t * this.envs + e);
      const inputs = new Float32Array(this.agents * this.criticInputSize);
      for (let i = 0; i < this.agents; i++) {
        const from = (i * this.envs + e) * this.criticInputSize;
        inputs.set(this.stepCriticInputs.subarray(from, from + this.criticInputSize), i * this.criticInputSize);
      }
      this.truncationInputs.push(inputs);
    }
  }

  /** V(s_t) for every row, V of the state after the last step, and V(s_T) at truncations. */
  evaluateValues(): void {
    this.values.set(this.networks.evaluateCritic(this.criticInputs, this.steps * this.envs));
    this.lastValues.set(this.networks.evaluateCritic(this.lastCriticInputs, this.envs));
    const count = this.truncations.length;
    if (count > 0) {
      // Gather the kept inputs agent-major ([n, count, in]) and evaluate them in one pass.
      const inputs = new Float32Array(this.agents * count * this.criticInputSize);
      this.truncationInputs.forEach((kept, c) => {
        for (let i = 0; i < this.agents; i++) {
          inputs.set(kept.subarray(i * this.criticInputSize, (i + 1) * this.criticInputSize), (i * count + c) * this.criticInputSize);
        }
      });
      const values = this.networks.evaluateCritic(inputs, count);
      this.truncations.forEach((flag, c) => {
        for (let i = 0; i < this.agents; i++) this.truncationValues[i * this.steps * this.envs + flag] = values[i * count + c];
      });
    }
  }

  /** After an update: the current policy becomes the buffer's "old" policy (DMPO's repeated updates on one rollout). */
  refreshOldPolicy(): void {
    this.oldOutput.set(this.networks.evaluateActor(this.actorInputs, this.samples));
  }
}

/** Watches the real transitions of a rollout (DMPO records them for its models). */
export interface TransitionObserver {
  /** On the state s_t, before the step. */
  beforeStep(env: BatchedEnv): void;
  /** After the step with `actions` [E, n], before ended copies are reset. */
  afterStep(env: BatchedEnv, actions: Float64Array): void;
}

/**
 * Fills `buffer` with a rollout of the current stochastic policy on the training copies;
 * returns the raw returns of the episodes that ended meanwhile.
 */
export function collectRollout(
  envs: TrainingEnvs,
  policy: ActorCritic,
  buffer: RolloutBuffer,
  learningReward: (reward: number) => number,
  observer: TransitionObserver | null = null,
): number[] {
  const { env } = envs;
  const { obsDim, nAgents } = env.spec;
  const { steps, envs: copies } = buffer;
  const finished: number[] = [];
  const envActions = new Float64Array(copies * nAgents);
  buffer.clearTruncations();
  for (let t = 0; t < steps; t++) {
    const row = t * copies;
    policy.actorGather.gatherAgentMajor(env.obs, obsDim, copies, buffer.stepActorInputs, copies, 0);
    policy.criticGather.gatherAgentMajor(env.obs, obsDim, copies, buffer.criticInputs, steps * copies, row);
    const output = policy.act(buffer.stepActorInputs, copies);
    buffer.storeStep(t, output);
    policy.sampleActions(output, envs.sampler, copies, steps, t, buffer.actions, envActions);
    observer?.beforeStep(env);
    env.step(envActions);
    observer?.afterStep(env, envActions);
    for (let e = 0; e < copies; e++) {
      const flag = row + e;
      buffer.terminated[flag] = env.terminated[e];
      buffer.truncated[flag] = env.truncated[e];
      for (let i = 0; i < nAgents; i++) buffer.rewards[i * steps * copies + flag] = learningReward(env.reward[e * nAgents + i]);
      const ended = envs.addStep(e);
      if (ended !== null) finished.push(ended);
    }
    if (env.truncated.includes(1)) {
      // V(s_T) of a truncated copy needs its final state before the reset.
      policy.criticGather.gatherAgentMajor(env.obs, obsDim, copies, buffer.stepCriticInputs, copies, 0);
      buffer.keepTruncations(t, env.truncated);
    }
    envs.resetEnded();
  }
  policy.criticGather.gatherAgentMajor(env.obs, obsDim, copies, buffer.lastCriticInputs, copies, 0);
  return finished;
}
