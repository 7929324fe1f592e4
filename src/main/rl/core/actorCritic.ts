/**
 * The agents' actors and critics as the learners use them: per-agent networks (rl/nn), the
 * policy head of the scenario's action space, and what each agent's actor and critic see
 * (its N^1 or own observation; its own, its N^kappa or every agent's observations, gathered
 * agent-major by the agent graph). Acting, stochastic and greedy, lives here once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LearnerInfo } from '../../../shared/learners.ts';
import type { BatchedEnv, EnvSpec } from '../../sim/env.ts';
import { NeighbourhoodGather } from '../../sim/graph.ts';
import type { RngStreams } from '../../sim/rng.ts';
import { AgentNetworks } from '../nn/agentNetworks.ts';
import { activeBackend } from '../nn/backend.ts';
import { formulationFor } from '../nn/formulation.ts';
import { argmax, sampleCategorical, type PolicyHead } from './distributions.ts';
import type { PolicyOutput, TrainedPolicy } from './trainedPolicy.ts';

export interface ActorCriticOptions {
  /** Hops of N^kappa for a neighbourhood critic. */
  readonly kappa?: number;
  readonly shareParameters: boolean;
  readonly initialLogStd: number;
  readonly seed: number;
}

/**
 * Rows per agent from which acting takes the per-group fast path on CPU backends: 64, where it
 * was 4.6x faster than the stacked forward (1.4 vs 6.4 ms for 22 agents, nn/agentNetworks.ts);
 * below it the stacked forward's fewer ops keep the small rollouts' and evaluations' numbers.
 */
export const PER_GROUP_ACTING_ROWS = 64;

export class ActorCritic implements TrainedPolicy {
  readonly agents: number;
  readonly head: PolicyHead;
  readonly networks: AgentNetworks;
  readonly actorGather: NeighbourhoodGather;
  readonly criticGather: NeighbourhoodGather;
  /** Gathered inputs of decide and values, reused while the number of copies stays the same. */
  private actorScratch: Float32Array = new Float32Array(0);
  private criticScratch: Float32Array = new Float32Array(0);

  constructor(
    readonly spec: EnvSpec,
    info: LearnerInfo,
    options: ActorCriticOptions,
  ) {
    if (spec.nAgents === 0) throw new Error(`scenario ${spec.scenario} with these parameters has no agents to train (preset uncontrolled?)`);
    this.agents = spec.nAgents;
    this.head = spec.action.kind === 'discrete' ? { kind: 'categorical', actionCount: spec.action.n } : { kind: 'gaussian', actionSize: 1 };
    if (info.critic === 'neighbourhood' && options.kappa === undefined) throw new Error(`learner ${info.id} has a neighbourhood critic but no kappa`);
    const criticRadius = info.critic === 'own' ? 0 : info.critic === 'global' ? this.agents : options.kappa!;
    this.actorGather = new NeighbourhoodGather(spec.graph, info.policyRadius);
    this.criticGather = new NeighbourhoodGather(spec.graph, criticRadius);
    this.networks = new AgentNetworks({
      agents: this.agents,
      actorInputSize: this.actorGather.width * spec.obsDim,
      criticInputSize: this.criticGather.width * spec.obsDim,
      head: this.head,
      shareParameters: options.shareParameters,
      initialLogStd: options.initialLogStd,
      seed: options.seed,
    });
  }

  get actorInputSize(): number {
    return this.networks.actor.layout.shape.inputSize;
  }

  get criticInputSize(): number {
    return this.networks.critic.layout.shape.inputSize;
  }

  /**
   * Actor head outputs for one step's gathered inputs [n, E, in]: [n, E, out] (+ log std).
   * Through the stacked forward, one batched op per layer for all agents, unless E reaches
   * PER_GROUP_ACTING_ROWS on a CPU backend: wasm runs a batched matMul in a scalar loop, so
   * there each agent's 2-D fast path wins (DMPO's branched rollouts act on 512 to 2,048 rows).
   */
  act(inputs: Float32Array, envs: number): PolicyOutput {
    const backend = activeBackend();
    if (envs >= PER_GROUP_ACTING_ROWS && (backend === null || formulationFor(backend) === 'per-agent')) {
      return { output: this.networks.evaluateActor(inputs, envs), logStd: this.networks.actorLogStd() };
    }
    const observations = tf.tensor3d(inputs, [this.agents, envs, this.actorInputSize]);
    const result = this.networks.actorForward(observations);
    try {
      return { output: result.output.dataSync() as Float32Array, logStd: result.logStd === null ? null : (result.logStd.dataSync() as Float32Array) };
    } finally {
      tf.dispose([observations, result.output, ...(result.logStd ? [result.logStd] : [])]);
    }
  }

  /** Samples every agent's action from one step's `policy` (sampleHeadActions). */
  sampleActions(policy: PolicyOutput, rng: RngStreams, envs: number, steps: number, t: number, actions: Float32Array, envActions: Float64Array): void {
    sampleHeadActions(this.head, this.agents, policy, rng, envs, steps, t, actions, envActions);
  }

  /**
   * The deterministic policy (Gaussian mean, most probable discrete action) on every copy of
   * `env`, a copy of this learner's scenario: writes actions [E, n]; returns the head outputs.
   */
  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const envs = env.numEnvs;
    const inputs = (this.actorScratch = sized(this.actorScratch, this.agents * envs * this.actorInputSize));
    this.actorGather.gatherAgentMajor(env.obs, env.spec.obsDim, envs, inputs, envs, 0);
    const policy = this.act(inputs, envs);
    greedyActions(this.head, this.agents, policy, envs, actions);
    return policy;
  }

  /** The critic's values [n, E] on every copy of `env`. */
  values(env: BatchedEnv): Float32Array {
    const envs = env.numEnvs;
    const inputs = (this.criticScratch = sized(this.criticScratch, this.agents * envs * this.criticInputSize));
    this.criticGather.gatherAgentMajor(env.obs, env.spec.obsDim, envs, inputs, envs, 0);
    return this.networks.evaluateCritic(inputs, envs);
  }

  nonFiniteParameter(): string | null {
    for (const [name, network] of [['actor', this.networks.actor], ['critic', this.networks.critic]] as const) {
      for (const [g, group] of network.groups.entries()) {
        if (!group.params.every(Number.isFinite)) return `${name} weights of ${network.agentsPerGroup === 1 ? `agent ${g}` : 'all agents'} are not finite`;
      }
    }
    return null;
  }

  dispose(): void {
    this.networks.dispose();
  }
}

/**
 * Samples every agent's action from `policy` (one step of `envs` copies, head outputs
 * [n, E, width]) with `rng`'s stream 0: into `actions` at agent-major rows (i, t, e) of a
 * [n, steps, E] buffer, and into the environment's [E, n] array.
 */
export function sampleHeadActions(
  head: PolicyHead,
  agents: number,
  policy: PolicyOutput,
  rng: RngStreams,
  envs: number,
  steps: number,
  t: number,
  actions: Float32Array,
  envActions: Float64Array,
): void {
  const width = head.kind === 'categorical' ? head.actionCount : 1;
  for (let i = 0; i < agents; i++) {
    for (let e = 0; e < envs; e++) {
      const out = (i * envs + e) * width;
      const action = head.kind === 'categorical' ? sampleCategorical(policy.output, out, width, rng.uniform(0)) : policy.output[out] + Math.exp(policy.logStd![i]) * rng.normal(0);
      actions[i * steps * envs + t * envs + e] = action;
      envActions[e * agents + i] = action;
    }
  }
}

/** The deterministic actions (Gaussian mean, most probable discrete action) of head outputs [n, E, width], into [E, n]. */
export function greedyActions(head: PolicyHead, agents: number, policy: PolicyOutput, envs: number, actions: Float64Array): void {
  const width = head.kind === 'categorical' ? head.actionCount : 1;
  for (let i = 0; i < agents; i++) {
    for (let e = 0; e < envs; e++) {
      const out = (i * envs + e) * width;
      actions[e * agents + i] = head.kind === 'categorical' ? argmax(policy.output, out, width) : policy.output[out];
    }
  }
}

/** `buffer` when it has `length` elements, else a new one. */
function sized(buffer: Float32Array, length: number): Float32Array {
  return buffer.length === length ? buffer : new Float32Array(length);
}
