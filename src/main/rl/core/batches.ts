/**
 * Training data handed to an update, per agent and agent-major: row = agent * samples + sample.
 * The caller gathers each agent's neighbourhood observations into its feature vector.
 */
import { actionWidth, headOutputSize, type PolicyHead } from './distributions.ts';

export interface ActorBatch {
  /** Samples per agent. */
  readonly samples: number;
  /** [agents, samples, actorInputSize]. */
  readonly observations: Float32Array;
  /** Gaussian: [agents, samples, actionSize]; categorical: [agents, samples] action indices. */
  readonly actions: Float32Array;
  /** [agents, samples], normalised by the caller if wanted. */
  readonly advantages: Float32Array;
  /** [agents, samples, outputSize]: means or logits of the policy that collected the data. */
  readonly oldOutput: Float32Array;
  /** Gaussian only: [agents, actionSize] log std of that policy. */
  readonly oldLogStd?: Float32Array;
}

export interface CriticBatch {
  readonly samples: number;
  /** [agents, samples, criticInputSize]. */
  readonly observations: Float32Array;
  /** [agents, samples] regression targets (returns). */
  readonly returns: Float32Array;
}

export function checkActorBatch(batch: ActorBatch, head: PolicyHead, agents: number, inputSize: number): void {
  const rows = agents * batch.samples;
  expectLength('observations', batch.observations, rows * inputSize);
  expectLength('actions', batch.actions, rows * actionWidth(head));
  expectLength('advantages', batch.advantages, rows);
  expectLength('oldOutput', batch.oldOutput, rows * headOutputSize(head));
  if (head.kind === 'gaussian') {
    if (batch.oldLogStd === undefined) throw new Error('a Gaussian policy update needs oldLogStd');
    expectLength('oldLogStd', batch.oldLogStd, agents * head.actionSize);
  } else {
    for (const action of batch.actions) {
      if (!Number.isInteger(action) || action < 0 || action >= head.actionCount) {
        throw new Error(`action ${action} is not an index below ${head.actionCount}`);
      }
    }
  }
}

export function checkCriticBatch(batch: CriticBatch, agents: number, inputSize: number): void {
  const rows = agents * batch.samples;
  expectLength('observations', batch.observations, rows * inputSize);
  expectLength('returns', batch.returns, rows);
}

/** Views (copy = false) or copies of the rows of agents [first, first + count). */
export function actorBatchAgents(
  batch: ActorBatch,
  head: PolicyHead,
  inputSize: number,
  first: number,
  count: number,
  copy: boolean,
): ActorBatch {
  const take = rowsOf(batch.samples, first, count, copy);
  const logStdSize = head.kind === 'gaussian' ? head.actionSize : 0;
  return {
    samples: batch.samples,
    observations: take(batch.observations, inputSize),
    actions: take(batch.actions, actionWidth(head)),
    advantages: take(batch.advantages, 1),
    oldOutput: take(batch.oldOutput, headOutputSize(head)),
    oldLogStd:
      batch.oldLogStd === undefined ? undefined : part(batch.oldLogStd, first * logStdSize, (first + count) * logStdSize, copy),
  };
}

export function criticBatchAgents(batch: CriticBatch, inputSize: number, first: number, count: number, copy: boolean): CriticBatch {
  const take = rowsOf(batch.samples, first, count, copy);
  return { samples: batch.samples, observations: take(batch.observations, inputSize), returns: take(batch.returns, 1) };
}

function rowsOf(samples: number, first: number, count: number, copy: boolean) {
  return (array: Float32Array, width: number): Float32Array =>
    part(array, first * samples * width, (first + count) * samples * width, copy);
}

function part(array: Float32Array, start: number, end: number, copy: boolean): Float32Array {
  return copy ? array.slice(start, end) : array.subarray(start, end);
}

function expectLength(name: string, array: Float32Array, length: number): void {
  if (array.length !== length) throw new Error(`${name} has ${array.length} values, expected ${length}`);
}
