/**
 * IC3Net's extra critic steps (criticSteps > 1): Adam steps of the value head alone on a
 * filled rollout, before the joint actor-critic step. IC3Net as specified takes one step on
 * one loss per batch, and at a rate the actor tolerates the value head cannot follow CACC's
 * returns (tens after scaling) from one batch to the next: the critic explained about none of
 * their variance, so every policy gradient was the Monte Carlo return's whole noise
 * (docs/ic3net.md). The head is linear on the hidden layer the rollout recorded, so its
 * squared error needs no forward pass: per agent, d/dw = 2/N sum (v - R) h and
 * d/db = 2/N sum (v - R). It has its own Adam state: the joint step's moments would carry the
 * actor's last direction into every extra step.
 */
import { adamStep, zeroMoments } from '../../nn/adam.ts';
import type { ParameterGroup } from '../../nn/parameters.ts';
import { HIDDEN_SIZE, type Ic3netNetworks } from './networks.ts';
import type { Ic3netRollout } from './rollout.ts';

export class ValueHeadFit {
  /** The value head's weights then biases (a view into the networks' flat vector) and their Adam state. */
  readonly group: ParameterGroup;
  private readonly gradient: Float32Array;

  constructor(private readonly networks: Ic3netNetworks) {
    const { offset, size } = networks.valueHead;
    this.group = { params: networks.parameters.params.subarray(offset, offset + size), moments: zeroMoments(size) };
    this.gradient = new Float32Array(size);
  }

  /** `steps` Adam steps at `learningRate` on the rollout's value targets; returns the mean squared error before the first. */
  fit(rollout: Ic3netRollout, steps: number, learningRate: number): number {
    const { agents, samples, features, returns } = rollout;
    const { params } = this.group;
    const gradient = this.gradient;
    const biases = agents * HIDDEN_SIZE;
    let firstError = 0;
    for (let step = 0; step < steps; step++) {
      gradient.fill(0);
      let squares = 0;
      for (let i = 0; i < agents; i++) {
        const w = i * HIDDEN_SIZE;
        for (let s = 0; s < samples; s++) {
          const row = i * samples + s;
          const f = row * HIDDEN_SIZE;
          let value = params[biases + i];
          for (let h = 0; h < HIDDEN_SIZE; h++) value += params[w + h] * features[f + h];
          const error = value - returns[row];
          squares += error * error;
          const d = (2 * error) / samples;
          gradient[biases + i] += d;
          for (let h = 0; h < HIDDEN_SIZE; h++) gradient[w + h] += d * features[f + h];
        }
      }
      if (step === 0) firstError = squares / (agents * samples);
      adamStep(params, gradient, this.group.moments, { learningRate });
    }
    this.networks.markChanged();
    return firstError;
  }
}

/** 1 - var(R - V) / var(R) over every sample: the share of the value targets' variance the values explain. */
export function explainedVariance(values: Float32Array, targets: Float32Array): number {
  const n = targets.length;
  let meanTarget = 0;
  let meanError = 0;
  for (let k = 0; k < n; k++) {
    meanTarget += targets[k] / n;
    meanError += (targets[k] - values[k]) / n;
  }
  let varTarget = 0;
  let varError = 0;
  for (let k = 0; k < n; k++) {
    varTarget += (targets[k] - meanTarget) ** 2;
    varError += (targets[k] - values[k] - meanError) ** 2;
  }
  return varTarget === 0 ? 0 : 1 - varError / varTarget;
}
