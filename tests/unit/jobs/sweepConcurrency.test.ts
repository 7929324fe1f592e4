/**
 * How many cells a sweep on this machine trains at once (localSweep.ts fitsBeside): with
 * --parallel N exactly N; by default as many as the cores hold, each counting the threads it
 * trains with, so one-thread learners (DSAC, DMPO-SAC, IC3Net, LTDE, DADC) fill the cores
 * beside runs with update workers. One cell always starts, even when it alone needs more.
 */
import { describe, expect, it } from 'vitest';
import { fitsBeside } from '../../../src/main/jobs/localSweep.ts';
import { updateThreads } from '../../../src/shared/learners.ts';

describe('sweep concurrency', () => {
  it('--parallel N: exactly N runs whatever their threads', () => {
    expect(fitsBeside([], 8, { runs: 1 })).toBe(true);
    expect(fitsBeside([2], 2, { runs: 2 })).toBe(true);
    expect(fitsBeside([1, 1], 1, { runs: 2 })).toBe(false);
  });

  it('by default: as many as the cores hold, a run counting the threads it trains with', () => {
    const cores = { cores: 2 };
    // --threads 2: a DPPO run takes both cores; two DSAC runs share them; a DPPO run waits beside one DSAC run.
    expect(fitsBeside([], updateThreads('dppo', 2), cores)).toBe(true);
    expect(fitsBeside([updateThreads('dppo', 2)], updateThreads('dsac', 2), cores)).toBe(false);
    expect(fitsBeside([updateThreads('dsac', 2)], updateThreads('dmpo-sac', 2), cores)).toBe(true);
    expect(fitsBeside([updateThreads('dsac', 2)], updateThreads('dppo', 2), cores)).toBe(false);
    expect(fitsBeside([1, 1], 1, cores)).toBe(false);
    // A run that alone needs more than the machine has still starts when nothing else runs.
    expect(fitsBeside([], 8, cores)).toBe(true);
  });
});
