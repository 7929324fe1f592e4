import { describe, expect, it } from 'vitest';
import { sweepCells, validateSweep } from '../../../src/shared/sweep.ts';

describe('a sweep grid with learners of some scenarios only', () => {
  it('leaves out the pairs a learner does not train on, and checks settings on the pairs it keeps', () => {
    const checked = validateSweep({ name: 'mixed', scenarios: ['ring', 'network-routing'], learners: ['dppo', 'ltde'], seeds: [1], set: { gamma: 0.9 } });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    expect(sweepCells(checked.sweep).map((cell) => cell.key)).toEqual(['ring/dppo/1/default', 'network-routing/dppo/1/default', 'network-routing/ltde/1/default']);
  });

  it('refuses a grid with no pair at all, naming the learners and scenarios', () => {
    const checked = validateSweep({ name: 'none', scenarios: ['ring'], learners: ['ltde', 'dadc'], seeds: [1] });
    expect(checked).toEqual({ ok: false, errors: [{ field: 'learners', message: 'no learner of [ltde, dadc] trains on a scenario of [ring]' }] });
  });
});
