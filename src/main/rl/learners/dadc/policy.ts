/**
 * DADC's coordinators as a deployed policy: every agent runs its own coordinator on the
 * common information (its AIS is its memory), takes the mean prescription parameters theta
 * (no exploration noise), and acts by the prescription's most probable action for its own
 * local information. Deterministic like every learner's evaluation; the team still needs no
 * communication, since every coordinator computes the same theta from the same common data.
 * Stored frames carry each agent's prescription row (the logits it acted on) and the
 * coordinator's Q(X_t, theta_t) of that decision as its value.
 */
import type { BatchedEnv, EnvSpec } from '../../../sim/env.ts';
import { argmax, type PolicyHead } from '../../core/distributions.ts';
import type { PolicyOutput, TrainedPolicy } from '../../core/trainedPolicy.ts';
import type { DadcNetworks } from './networks.ts';
import { Tape } from './tape.ts';

/** Per agent and copy, the coordinator's memory: its AIS and its previous theta. */
interface Memory {
  hidden: Float64Array;
  previous: Float64Array;
}

export class DadcPolicy implements TrainedPolicy {
  readonly head: PolicyHead;
  private memory: Memory[] = [];
  private copies = -1;
  private lastValues: Float32Array = new Float32Array(0);

  constructor(
    readonly spec: EnvSpec,
    private readonly networks: readonly DadcNetworks[],
    /** The prescription's layout: (one block, or one per agent) x local states x actions. */
    private readonly prescription: { size: number; localStates: number; shared: boolean },
  ) {
    if (spec.action.kind !== 'discrete') throw new Error('dadc acts on discrete actions');
    this.head = { kind: 'categorical', actionCount: spec.action.n };
  }

  decide(env: BatchedEnv, actions: Float64Array): PolicyOutput {
    const { nAgents, obsDim } = this.spec;
    const envs = env.numEnvs;
    const width = this.head.kind === 'categorical' ? this.head.actionCount : 1;
    const { size: p, localStates, shared } = this.prescription;
    this.prepare(envs);
    const output = new Float32Array(nAgents * envs * width);
    const common = new Float64Array(envs * (obsDim - 1));
    this.networks.forEach((networks, k) => {
      const { hidden, previous } = this.memory[k];
      const h = networks.shape.ais;
      for (let e = 0; e < envs; e++) {
        if (env.steps[e] === 0) {
          hidden.fill(0, e * h, (e + 1) * h);
          previous.fill(0, e * p, (e + 1) * p);
        }
        for (let c = 1; c < obsDim; c++) common[e * (obsDim - 1) + c - 1] = env.obs[(e * nAgents + k) * obsDim + c];
      }
      const tape = new Tape(false);
      const x = networks.encode(tape, tape.constant(hidden, envs, h), tape.constant(common, envs, obsDim - 1), tape.constant(previous, envs, p));
      const theta = networks.actorMean(tape, x);
      const q = networks.q(tape, x, theta).value;
      hidden.set(x.value);
      previous.set(theta.value);
      const block = shared ? 0 : k;
      for (let e = 0; e < envs; e++) {
        const local = env.obs[(e * nAgents + k) * obsDim];
        const row = e * p + (block * localStates + local) * width;
        const out = (k * envs + e) * width;
        for (let a = 0; a < width; a++) output[out + a] = theta.value[row + a];
        actions[e * nAgents + k] = argmax(output, out, width);
        this.lastValues[k * envs + e] = q[e];
      }
    });
    return { output, logStd: null };
  }

  /** The coordinators' Q(X_t, theta_t) of the last decision on these copies (the AIS is the policy's memory). */
  values(env: BatchedEnv): Float32Array {
    return env.numEnvs === this.copies ? this.lastValues.slice() : new Float32Array(this.spec.nAgents * env.numEnvs).fill(NaN);
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
    this.memory = this.networks.map((networks) => ({ hidden: new Float64Array(envs * networks.shape.ais), previous: new Float64Array(envs * this.prescription.size) }));
    this.lastValues = new Float32Array(this.spec.nAgents * envs).fill(NaN);
  }
}
