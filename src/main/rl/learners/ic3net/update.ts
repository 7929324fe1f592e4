/**
 * IC3Net's gradient on a filled rollout: one advantage actor-critic step,
 * loss = sum over agents of [policy loss + valueCoef * value MSE - entropyCoef * entropy],
 * each term a mean over the agent's samples; in the paper variant the gate head's action is
 * trained by the same policy gradient (and entropy bonus).
 *
 * The reference-code variant is feed-forward: one pass over the whole batch. The paper
 * variant replays the rollout from its starting state in chunks of bpttSteps (truncated
 * BPTT): gradients flow back through the LSTM within a chunk; the state entering the next
 * chunk is carried forward as a constant.
 *
 * The per-sample policy terms are the core's PolicyLoss evaluated with the current outputs
 * as the "old" ones: at ratio 1 the clipped surrogate's gradient is exactly the policy
 * gradient -A grad log pi (clip 0 never engages there), with its entropy term.
 *
 * With skipFrozenSteps the policy and gate terms are means over the steps that were not
 * frozen (rollout.frozen: taken from a collided state whose actions change nothing, so their
 * log-probabilities carry only noise); the value MSE stays a mean over every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { IterationMetrics } from '../../core/iteration.ts';
import { mean } from '../../core/iteration.ts';
import { evaluateValueLoss, PolicyLoss, PolicyStatistics, type PolicyRows } from '../../core/losses.ts';
import type { PolicyHead } from '../../core/distributions.ts';
import { HIDDEN_SIZE, type Ic3netForward, type Ic3netNetworks, type TapeState } from './networks.ts';
import type { Ic3netRollout } from './rollout.ts';
import { TensorTape, type Node } from './tensorTape.ts';

export interface Ic3netLossSettings {
  readonly valueCoef: number;
  readonly entropyCoef: number;
  /** Steps per truncated-BPTT chunk (paper variant). */
  readonly bpttSteps: number;
  /** Leave the rollout's frozen steps out of the policy and gate loss (the value loss keeps them). */
  readonly skipFrozenSteps: boolean;
}

const GATE_HEAD: PolicyHead = { kind: 'categorical', actionCount: 2 };

/** The loss gradient over the flat parameter vector, and the update's metrics. */
export function ic3netGradient(networks: Ic3netNetworks, rollout: Ic3netRollout, settings: Ic3netLossSettings): { gradient: Float32Array; metrics: IterationMetrics } {
  const { agents, steps, envs, obsDim, samples } = rollout;
  const gradient = new Float32Array(networks.parameters.params.length);
  const actorLoss = { kind: 'ppo-clip', clipEpsilon: 0, entropyCoefficient: settings.entropyCoef } as const;
  const losses = { policy: new PolicyLoss(networks.head, actorLoss, agents), gate: new PolicyLoss(GATE_HEAD, actorLoss, agents) };
  const policyStats = Array.from({ length: agents }, () => new PolicyStatistics(1));
  const gateStats = Array.from({ length: agents }, () => new PolicyStatistics(1));
  const valueLoss = new Float64Array(agents);
  const chunk = networks.recurrent ? settings.bpttSteps : steps;
  const frozen = settings.skipFrozenSteps ? rollout.frozen : null;
  const active = frozen === null ? samples : frozen.reduce((sum, x) => sum + (x === 0 ? 1 : 0), 0);
  const all = {
    observations: tf.tensor3d(rollout.observations, [agents, samples, obsDim]),
    gates: tf.tensor3d(rollout.gates, [agents, samples, 1]),
    fresh: tf.tensor3d(rollout.fresh, [1, samples, 1]),
  };
  let carried: tf.Tensor[] = networks.recurrent
    ? [
        tf.tensor3d(rollout.startHidden, [agents, envs, HIDDEN_SIZE]),
        tf.tensor3d(rollout.startCell, [agents, envs, HIDDEN_SIZE]),
        tf.tensor3d(rollout.startGate, [agents, envs, 1]),
      ]
    : [];
  try {
    for (let t0 = 0; t0 < steps; t0 += chunk) {
      const t1 = Math.min(steps, t0 + chunk);
      const rows = (t1 - t0) * envs;
      const next = tf.tidy(() => {
        const tape = new TensorTape(true);
        const params = networks.parameterNodes(tape);
        const { output, state } = forwardChunk(networks, tape, params, all, carried, t0, t1, envs);
        const seeds = lossGradients(networks, rollout, output, { t0, rows, valueScale: rows / samples, activeRows: activeRows(frozen, t0 * envs, rows), active, settings, losses, policyStats, gateStats, valueLoss, gradient });
        tape.backward(seeds);
        networks.addGradients(params, gradient);
        return state === null ? [] : [state.hidden.value, state.cell.value, state.gate];
      });
      tf.dispose(carried);
      carried = next;
    }
  } finally {
    tf.dispose([...carried, all.observations, all.gates, all.fresh]);
  }
  // With every step frozen there is no policy term: its statistics read 0.
  const summary = (stats: PolicyStatistics) => (active === 0 ? { loss: 0, entropy: 0 } : stats.summaries(settings.entropyCoef)[0]);
  const policy = policyStats.map(summary);
  const metrics: IterationMetrics = {
    'loss/actor': mean(policy.map((s) => s.loss)),
    'loss/critic': mean(Array.from(valueLoss)),
    entropy: mean(policy.map((s) => s.entropy)),
  };
  if (networks.recurrent) {
    const gate = gateStats.map(summary);
    metrics['gate/sendRate'] = mean(Array.from(rollout.gates));
    metrics['gate/entropy'] = mean(gate.map((s) => s.entropy));
  }
  return { gradient, metrics };
}

/** The head outputs of steps [t0, t1) on the tape, [n, rows, width] (rows in rollout order), and the state after them. */
function forwardChunk(
  networks: Ic3netNetworks,
  tape: TensorTape,
  params: Record<string, Node>,
  all: { observations: tf.Tensor3D; gates: tf.Tensor3D; fresh: tf.Tensor3D },
  carried: tf.Tensor[],
  t0: number,
  t1: number,
  envs: number,
): { output: Pick<Ic3netForward, 'policy' | 'value' | 'gateLogits'>; state: TapeState | null } {
  const { agents, obsDim } = networks;
  if (!networks.recurrent) {
    const observations = tf.slice(all.observations, [0, t0 * envs, 0], [agents, (t1 - t0) * envs, obsDim]);
    return { output: networks.forward(tape, params, observations, null, null), state: null };
  }
  let state: TapeState = { hidden: tape.constant(carried[0]), cell: tape.constant(carried[1]), gate: carried[2] };
  const outputs: Ic3netForward[] = [];
  for (let t = t0; t < t1; t++) {
    const observations = tf.slice(all.observations, [0, t * envs, 0], [agents, envs, obsDim]);
    const fresh = tf.slice(all.fresh, [0, t * envs, 0], [1, envs, 1]);
    const step = networks.forward(tape, params, observations, state, fresh);
    outputs.push(step);
    // The gate of step t (chosen from h_t) decides what the agent sends at step t + 1.
    state = { hidden: step.hidden!, cell: step.cell!, gate: tf.slice(all.gates, [0, t * envs, 0], [agents, envs, 1]) };
  }
  const join = (pick: (f: Ic3netForward) => Node) => tape.concatSamples(outputs.map(pick));
  return { output: { policy: join((f) => f.policy), value: join((f) => f.value), gateLogits: join((f) => f.gateLogits!) }, state };
}

/** The chunk's rows (0-based within it) whose steps were not frozen; every row when `frozen` is null. */
function activeRows(frozen: Uint8Array | null, first: number, rows: number): Int32Array {
  if (frozen === null) return Int32Array.from({ length: rows }, (_, r) => r);
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) if (frozen[first + r] === 0) kept.push(r);
  return Int32Array.from(kept);
}

interface ChunkLoss {
  t0: number;
  rows: number;
  /** The chunk's share of each agent's samples (the value MSE's mean is weighted by it). */
  valueScale: number;
  /** The chunk's rows the policy and gate terms are evaluated on. */
  activeRows: Int32Array;
  /** Samples per agent in the whole batch the policy and gate terms are means over. */
  active: number;
  settings: Ic3netLossSettings;
  losses: { policy: PolicyLoss; gate: PolicyLoss };
  policyStats: PolicyStatistics[];
  gateStats: PolicyStatistics[];
  /** Per-agent value MSE, accumulated over chunks. */
  valueLoss: Float64Array;
  /** The flat gradient: the Gaussian log std's part is added here. */
  gradient: Float32Array;
}

/** dLoss/dOutput of the chunk's heads (the tape's seeds), with the statistics and the log std gradient on the side. */
function lossGradients(
  networks: Ic3netNetworks,
  rollout: Ic3netRollout,
  output: Pick<Ic3netForward, 'policy' | 'value' | 'gateLogits'>,
  chunk: ChunkLoss,
): [Node, tf.Tensor][] {
  const { agents, samples, envs } = rollout;
  const { t0, rows, valueScale, activeRows, settings } = chunk;
  const policyScale = activeRows.length / Math.max(chunk.active, 1);
  const width = networks.outputSize;
  const policy = output.policy.value.dataSync() as Float32Array;
  const values = output.value.value.dataSync() as Float32Array;
  const gateLogits = output.gateLogits === null ? null : (output.gateLogits.value.dataSync() as Float32Array);
  const dPolicy = new Float32Array(agents * rows * width);
  const dValue = new Float32Array(agents * rows);
  const dGate = new Float32Array(agents * rows * 2);
  const dLogStd = networks.logStd === null ? null : new Float32Array(1);
  const everyRow = activeRows.length === rows;
  const rowIndex = Int32Array.from({ length: rows }, (_, r) => r);
  // The policy terms' outputs and gradients in evaluation order: the active rows only.
  const evaluated = { policy: new Float32Array(activeRows.length * width), gate: new Float32Array(activeRows.length * 2), dPolicy: new Float32Array(activeRows.length * width), dGate: new Float32Array(activeRows.length * 2) };
  const gather = (from: Float32Array, size: number, into: Float32Array) => {
    activeRows.forEach((r, k) => into.set(from.subarray(r * size, (r + 1) * size), k * size));
    return into;
  };
  const scatter = (from: Float32Array, size: number, into: Float32Array) => activeRows.forEach((r, k) => into.set(from.subarray(k * size, (k + 1) * size), r * size));
  for (let i = 0; i < agents; i++) {
    const start = i * samples + t0 * envs;
    const own = <T extends Float32Array>(array: T, size = 1) => array.subarray(start * size, (start + rows) * size) as T;
    const mine = (array: Float32Array, size: number) => array.subarray(i * rows * size, (i + 1) * rows * size);
    const rowsOf = (actions: Float32Array, outputs: Float32Array, logStd: Float32Array | null): PolicyRows => ({
      rowIndex: activeRows,
      samplesPerAgent: rows,
      firstAgent: i,
      actions: own(actions),
      advantages: own(rollout.advantages),
      oldOutput: outputs,
      oldLogStd: logStd,
    });
    const logStd = networks.logStd?.subarray(i, i + 1) ?? null;
    if (activeRows.length > 0) {
      const out = everyRow ? mine(policy, width) : gather(mine(policy, width), width, evaluated.policy);
      const grad = everyRow ? mine(dPolicy, width) : evaluated.dPolicy;
      chunk.losses.policy.evaluate(rowsOf(rollout.actions, mine(policy, width), logStd), out, logStd, { output: grad, logStd: dLogStd }, chunk.policyStats[i]);
      if (!everyRow) scatter(grad, width, mine(dPolicy, width));
      if (dLogStd !== null) chunk.gradient[networks.logStdOffset + i] += policyScale * dLogStd[0];
      if (gateLogits !== null) {
        const gateOut = everyRow ? mine(gateLogits, 2) : gather(mine(gateLogits, 2), 2, evaluated.gate);
        const gateGrad = everyRow ? mine(dGate, 2) : evaluated.dGate;
        chunk.losses.gate.evaluate(rowsOf(rollout.gates, mine(gateLogits, 2), null), gateOut, null, { output: gateGrad, logStd: null }, chunk.gateStats[i]);
        if (!everyRow) scatter(gateGrad, 2, mine(dGate, 2));
      }
    }
    const valueGradient = mine(dValue, 1);
    chunk.valueLoss[i] += valueScale * evaluateValueLoss({ rowIndex, samplesPerAgent: rows, returns: own(rollout.returns) }, mine(values, 1), valueGradient, null);
    for (let r = 0; r < rows; r++) valueGradient[r] *= settings.valueCoef;
  }
  for (const array of [dPolicy, dGate]) for (let k = 0; k < array.length; k++) array[k] *= policyScale;
  for (let k = 0; k < dValue.length; k++) dValue[k] *= valueScale;
  const seeds: [Node, tf.Tensor][] = [
    [output.policy, tf.tensor3d(dPolicy, [agents, rows, width])],
    [output.value, tf.tensor3d(dValue, [agents, rows, 1])],
  ];
  if (output.gateLogits !== null) seeds.push([output.gateLogits, tf.tensor3d(dGate, [agents, rows, 2])]);
  return seeds;
}
