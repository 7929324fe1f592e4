/**
 * Decentralised SAC's networks (DMPO paper section 6.3, shared/specs/algorithms.md "DMPO on
 * CACC"): per agent i a categorical policy on N_i^1, twin Q critics on N_i^kappa with their
 * target copies, and a learned temperature alpha_i.
 *
 * Q_i's input is the kappa-hop neighbourhood's states and its neighbours' actions (one-hot,
 * agent i's own slot zeroed); its output is one value per own action. So the expectation over
 * agent i's own action in the target and the actor loss is exact (a sum over the categorical),
 * and only the neighbours' actions are sampled: the discrete-SAC form (Christodoulou 2019)
 * with the extended Q-function of the paper's eq. 6.
 *
 * This is also the trained policy evaluation and the app use: decide() takes each agent's
 * most probable action (with actionRepeat k > 1, only where the copy's step count is a
 * multiple of k, holding it in between, as in training); values() is min(Q1, Q2) of that action with the neighbours' greedy
 * actions, in learning-reward units summed over N^kappa (what the inspector shows as value).
 */
import type { BatchedEnv, EnvSpec } from '../../../sim/env.ts';
import { NeighbourhoodGather } from '../../../sim/graph.ts';
import { argmax, type PolicyHead } from '../../core/distributions.ts';
import type { PolicyOutput, TrainedPolicy } from '../../core/trainedPolicy.ts';
import { zeroMoments, type AdamMoments } from '../../nn/adam.ts';
import { evaluateGroups, NetworkParameters, seedOf } from '../../nn/agentNetworks.ts';
import { initialParameters, MlpLayout } from '../../nn/parameters.ts';

export interface SacAgentsConfig {
  /** Hops of N^kappa the critics see. */
  readonly kappa: number;
  /** ReLU hidden layers of actor and critics. */
  readonly hiddenSizes: readonly number[];
  /** alpha of every agent before learning. */
  readonly initialAlpha: number;
  readonly seed: number;
  /** Control steps each decision is held for (default 1: a decision every step). */
  readonly actionRepeat?: number;
}

export class SacAgents implements TrainedPolicy {
  readonly agents: number;
  readonly actionCount: number;
  readonly head: PolicyHead;
  readonly actorGather: NeighbourhoodGather;
  readonly criticGather: NeighbourhoodGather;
  readonly actor: NetworkParameters;
  /** Twin critics Q1, Q2 and their Polyak-averaged targets. */
  readonly critics: readonly [NetworkParameters, NetworkParameters];
  readonly targets: readonly [NetworkParameters, NetworkParameters];
  /** log alpha per agent, and its Adam state (one step per update for all agents). */
  readonly logAlpha: Float32Array;
  readonly logAlphaMoments: AdamMoments;
  readonly actionRepeat: number;
  /** With actionRepeat > 1: the actions each environment's copies hold between decisions. */
  private readonly held = new WeakMap<BatchedEnv, Float64Array>();
  /** Per-row features [obs, one-hot action] of every agent, gathered into critic inputs. */
  private features: Float32Array = new Float32Array(0);
  private actorScratch: Float32Array = new Float32Array(0);
  private criticScratch: Float32Array = new Float32Array(0);
  private greedyScratch: Float64Array = new Float64Array(0);

  constructor(
    readonly spec: EnvSpec,
    config: SacAgentsConfig,
  ) {
    if (spec.action.kind !== 'discrete') throw new Error(`scenario ${spec.scenario} has continuous actions; decentralised SAC here needs discrete ones (CACC)`);
    if (spec.nAgents === 0) throw new Error(`scenario ${spec.scenario} with these parameters has no agents to train (preset uncontrolled?)`);
    this.agents = spec.nAgents;
    this.actionCount = spec.action.n;
    this.head = { kind: 'categorical', actionCount: this.actionCount };
    this.actorGather = new NeighbourhoodGather(spec.graph, 1);
    this.criticGather = new NeighbourhoodGather(spec.graph, config.kappa);
    const actorLayout = new MlpLayout({ inputSize: this.actorGather.width * spec.obsDim, hiddenSizes: config.hiddenSizes, outputSize: this.actionCount, extraSize: 0 });
    const criticLayout = new MlpLayout({
      inputSize: this.criticGather.width * (spec.obsDim + this.actionCount),
      hiddenSizes: config.hiddenSizes,
      outputSize: this.actionCount,
      extraSize: 0,
    });
    // Seeds: agent i's actor from stream 3i, its critics from 3i + 1 and 3i + 2; targets start as copies.
    const network = (layout: MlpLayout, stream: number, withMoments: boolean, copyOf?: NetworkParameters) =>
      new NetworkParameters(
        layout,
        Array.from({ length: this.agents }, (_, i) => ({
          params: copyOf ? copyOf.groups[i].params.slice() : initialParameters(layout, seedOf(config.seed, 3 * i + stream)),
          moments: zeroMoments(withMoments ? layout.size : 0),
        })),
        1,
      );
    this.actor = network(actorLayout, 0, true);
    this.critics = [network(criticLayout, 1, true), network(criticLayout, 2, true)];
    this.targets = [network(criticLayout, 1, false, this.critics[0]), network(criticLayout, 2, false, this.critics[1])];
    this.logAlpha = new Float32Array(this.agents).fill(Math.log(config.initialAlpha));
    this.logAlphaMoments = zeroMoments(this.agents);
    this.actionRepeat = config.actionRepeat ?? 1;
  }

  get actorInputSize(): number {
    return this.actor.layout.shape.inputSize;
  }

  get criticInputSize(): number {
    return this.critics[0].layout.shape.inputSize;
  }

  /** Policy inputs [n, rows, actorInputSize] of observations [rows, n, obsDim]. */
  actorInputs(obs: ArrayLike<number>, rows: number, out: Float32Array): void {
    this.actorGather.gatherAgentMajor(obs, this.spec.obsDim, rows, out, rows, 0);
  }

  /** Critic inputs [n, rows, criticInputSize] of observations [rows, n, obsDim] and actions [rows, n]; each agent's own action slot is zero. */
  criticInputs(obs: ArrayLike<number>, actions: ArrayLike<number>, rows: number, out: Float32Array): void {
    const { agents, actionCount } = this;
    const { obsDim } = this.spec;
    const width = obsDim + actionCount;
    const features = (this.features = sized(this.features, rows * agents * width));
    features.fill(0);
    for (let r = 0; r < rows * agents; r++) {
      for (let d = 0; d < obsDim; d++) features[r * width + d] = obs[r * obsDim + d];
      features[r * width + obsDim + actions[r]] = 1;
    }
    this.criticGather.gatherAgentMajor(features, width, rows, out, rows, 0);
    // Slot 0 is the agent itself: its Q has one output per own action instead.
    const inputSize = this.criticInputSize;
    for (let row = 0; row < agents * rows; row++) out.fill(0, row * inputSize + obsDim, row * inputSize + width);
  }

  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const envs = env.numEnvs;
    const inputs = (this.actorScratch = sized(this.actorScratch, this.agents * envs * this.actorInputSize));
    this.actorInputs(env.obs, envs, inputs);
    const logits = evaluateGroups(this.actor, inputs, envs, this.agents);
    const repeat = this.actionRepeat;
    // An environment met for the first time decides in every copy, whatever its step count.
    const held = repeat === 1 ? null : this.held.get(env);
    for (let i = 0; i < this.agents; i++) {
      for (let e = 0; e < envs; e++) {
        const at = e * this.agents + i;
        actions[at] = held === undefined || held === null || env.steps[e] % repeat === 0 ? argmax(logits, (i * envs + e) * this.actionCount, this.actionCount) : held[at];
      }
    }
    if (repeat > 1) {
      const memory = held ?? new Float64Array(envs * this.agents);
      memory.set(actions.subarray(0, memory.length));
      this.held.set(env, memory);
    }
    return { output: logits, logStd: null };
  }

  values(env: BatchedEnv): Float32Array {
    const envs = env.numEnvs;
    const greedy = (this.greedyScratch = sized64(this.greedyScratch, envs * this.agents));
    this.decide(env, greedy);
    const inputs = (this.criticScratch = sized(this.criticScratch, this.agents * envs * this.criticInputSize));
    this.criticInputs(env.obs, greedy, envs, inputs);
    const q1 = evaluateGroups(this.critics[0], inputs, envs, this.agents);
    const q2 = evaluateGroups(this.critics[1], inputs, envs, this.agents);
    const values = new Float32Array(this.agents * envs);
    for (let i = 0; i < this.agents; i++) {
      for (let e = 0; e < envs; e++) {
        const at = (i * envs + e) * this.actionCount + greedy[e * this.agents + i];
        values[i * envs + e] = Math.min(q1[at], q2[at]);
      }
    }
    return values;
  }

  nonFiniteParameter(): string | null {
    const named = [['actor', this.actor], ['critic 1', this.critics[0]], ['critic 2', this.critics[1]]] as const;
    for (const [name, network] of named) {
      for (const [i, group] of network.groups.entries()) if (!group.params.every(Number.isFinite)) return `${name} weights of agent ${i} are not finite`;
    }
    const agent = this.logAlpha.findIndex((x) => !Number.isFinite(x));
    return agent < 0 ? null : `temperature (log alpha) of agent ${agent} is not finite`;
  }

  /** Parameters are plain arrays and inference tensors live only inside a call: nothing to free. */
  dispose(): void {}
}

/** `buffer` when it has `length` elements, else a new one. */
function sized(buffer: Float32Array, length: number): Float32Array {
  return buffer.length === length ? buffer : new Float32Array(length);
}

function sized64(buffer: Float64Array, length: number): Float64Array {
  return buffer.length === length ? buffer : new Float64Array(length);
}
