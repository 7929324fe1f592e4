/**
 * DADC's coordinators as a deployed policy: every agent runs its own coordinator on the
 * common information (its AIS is its memory), takes the greedy prescription (the mean theta,
 * or the most probable opportunity; no exploration), and acts by the prescription's most
 * probable action for its own local information (the common information comes from the
 * information structure: information.ts; a delayed broadcast remembers the previous state's
 * observations, so decide must see every state of an episode in order). Deterministic like every learner's evaluation; the team still needs no
 * communication, since every coordinator computes the same theta from the same common data
 * (agents given one networks object, computeCoordinatorOnce, share one computation of it).
 * Stored frames carry each agent's prescription row (the logits it acted on) and the
 * coordinator's Q(X_t, theta_t) of that decision as its value.
 */
import type { BatchedEnv, EnvSpec } from '../../../sim/env.ts';
import { argmax, type PolicyHead } from '../../core/distributions.ts';
import type { RunningNormaliser } from '../../core/runningNormaliser.ts';
import type { PolicyOutput, TrainedPolicy } from '../../core/trainedPolicy.ts';
import type { PrescriptionSpace } from './coordinator.ts';
import type { InformationStructure } from './information.ts';
import type { DadcNetworks } from './networks.ts';
import { Tape } from './tape.ts';

/** Per coordinator and env copy, the coordinator's memory: its AIS and its previous theta, and the theta it chose now. */
interface Memory {
  /** The first agent the coordinator serves: whose common information it reads. */
  firstAgent: number;
  hidden: Float64Array;
  previous: Float64Array;
  theta: Float64Array;
}

/** Agent k's action from its prescription's action logits (`width` of them). */
export type ActionChoice = (agent: number, logits: Float64Array, width: number) => number;

const mostProbable: ActionChoice = (_agent, logits, width) => argmax(logits, 0, width);

export class DadcPolicy implements TrainedPolicy {
  readonly head: PolicyHead;
  /** Memory per distinct coordinator (agents that share one coordinator share its decision). */
  private memory = new Map<DadcNetworks, Memory>();
  private copies = -1;
  private information: InformationStructure | null = null;
  private common = new Float64Array(0);
  private readonly logits: Float64Array;

  /** `informationFor` gives the information structure on that many copies; `choose` picks each agent's action from its prescription (default: the most probable). */
  constructor(
    readonly spec: EnvSpec,
    private readonly networks: readonly DadcNetworks[],
    private readonly space: PrescriptionSpace,
    private readonly informationFor: (copies: number) => InformationStructure,
    /** The learner's running statistics of Z (normaliseCommon), read but never updated here; null: Z as observed. */
    private readonly commonScale: RunningNormaliser | null = null,
    private readonly choose: ActionChoice = mostProbable,
  ) {
    if (spec.action.kind !== 'discrete') throw new Error('dadc acts on discrete actions');
    this.head = { kind: 'categorical', actionCount: spec.action.n };
    this.logits = new Float64Array(spec.action.n);
  }

  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const { nAgents, obsDim } = this.spec;
    const envs = env.numEnvs;
    const width = this.head.kind === 'categorical' ? this.head.actionCount : 1;
    const p = this.space.size;
    this.prepare(envs);
    const { common } = this;
    const information = this.information!;
    const commonWidth = information.commonWidth;
    const output = new Float32Array(nAgents * envs * width);
    information.see(env);
    for (const [networks, { firstAgent, hidden, previous, theta }] of this.memory) {
      const h = networks.shape.ais;
      for (let e = 0; e < envs; e++) {
        if (env.steps[e] === 0) {
          hidden.fill(0, e * h, (e + 1) * h);
          previous.fill(0, e * p, (e + 1) * p);
        }
      }
      information.common(env, firstAgent, common);
      this.commonScale?.apply(common, envs);
      const tape = new Tape(false);
      const x = networks.encode(tape, tape.constant(hidden, envs, h), tape.constant(common, envs, commonWidth), tape.constant(previous, envs, p));
      this.space.greedy(networks.actorMean(tape, x), theta);
      hidden.set(x.value);
      previous.set(theta);
    }
    this.networks.forEach((networks, k) => {
      const { theta } = this.memory.get(networks)!;
      for (let e = 0; e < envs; e++) {
        this.space.actionLogits(theta, e, k, env.obs, (e * nAgents + k) * obsDim, this.logits, 0);
        output.set(this.logits, (k * envs + e) * width);
        actions[e * nAgents + k] = this.choose(k, this.logits, width);
      }
    });
    return { output, logStd: null };
  }

  /** The theta [copies, P] agent k's coordinator chose at the last decision (a view: the next decision overwrites it). */
  prescription(agent: number): Float64Array {
    const memory = this.memory.get(this.networks[agent]);
    if (!memory) throw new Error('dadc: no decision has been taken yet');
    return memory.theta;
  }

  /**
   * The coordinators' Q(X_t, theta_t) of the last decision on these copies: the memory holds
   * exactly that decision's AIS and theta. NaN before a decision on this many copies.
   */
  values(env: BatchedEnv): Float32Array {
    const envs = env.numEnvs;
    const values = new Float32Array(this.spec.nAgents * envs).fill(NaN);
    if (envs !== this.copies) return values;
    this.networks.forEach((networks, k) => {
      const { hidden, previous } = this.memory.get(networks)!;
      const tape = new Tape(false);
      values.set(networks.q(tape, tape.constant(hidden, envs, networks.shape.ais), tape.constant(previous, envs, this.space.size)).value, k * envs);
    });
    return values;
  }

  nonFiniteParameter(): string | null {
    for (const [k, networks] of this.networks.entries()) {
      for (const [part, matrices] of Object.entries(networks.parts)) {
        if (matrices.some((m) => !m.value.every(Number.isFinite))) return `${part} weights of agent ${k} are not finite`;
      }
    }
    return null;
  }

  dispose(): void {}

  /** Memory for `envs` copies (fresh when the number of copies changes). */
  private prepare(envs: number): void {
    if (envs === this.copies) return;
    this.copies = envs;
    this.information = this.informationFor(envs);
    this.common = new Float64Array(envs * this.information.commonWidth);
    const p = this.space.size;
    this.memory = new Map();
    this.networks.forEach((networks, k) => {
      if (!this.memory.has(networks)) {
        this.memory.set(networks, { firstAgent: k, hidden: new Float64Array(envs * networks.shape.ais), previous: new Float64Array(envs * p), theta: new Float64Array(envs * p) });
      }
    });
  }
}
