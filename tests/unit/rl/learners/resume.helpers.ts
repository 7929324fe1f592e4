import { decodeState, encodeState } from '../../../../src/main/rl/core/checkpoint.ts';
import type { IterationResult } from '../../../../src/main/rl/core/iteration.ts';
import type { Learner } from '../../../../src/main/rl/core/learner.ts';

/**
 * Two learners from `make`: one trained straight, one checkpointed after `before` iterations,
 * disposed and restored into a fresh learner; both then run `after` more iterations. Returns
 * both learners and the pairs of results (straight, resumed) for the caller's assertions.
 */
export async function straightAndResumed<L extends Learner>(make: () => L, before = 2, after = 2): Promise<{ straight: L; resumed: L; pairs: [IterationResult, IterationResult][] }> {
  const straight = make();
  const interrupted = make();
  for (let k = 0; k < before; k++) {
    await straight.iterate();
    await interrupted.iterate();
  }
  const blob = encodeState(interrupted.state());
  interrupted.dispose();
  const resumed = make();
  resumed.restore(decodeState(blob));
  const pairs: [IterationResult, IterationResult][] = [];
  for (let k = 0; k < after; k++) pairs.push([await straight.iterate(), await resumed.iterate()]);
  return { straight, resumed, pairs };
}
