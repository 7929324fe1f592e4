/**
 * A training run's budget, as `headway train` sets it and the run record stores it: apart
 * from the training itself, so what reads a run's progress (the sweep's display) does not
 * load the learners and tensor backends.
 */
import type { RunDetail } from '../../shared/runs.ts';

export interface TrainingBudget {
  /** Stop after this many iterations in total, or after this many environment steps. */
  iterations?: number;
  envSteps?: number;
}

export function budgetFraction(budget: TrainingBudget, iteration: number, envSteps: number): number {
  return budget.iterations !== undefined ? iteration / budget.iterations : envSteps / budget.envSteps!;
}

/** How far a stored run is through its budget, from 0 to 1. */
export function runFraction(run: RunDetail): number {
  const { budget } = run.config as unknown as { budget: TrainingBudget };
  return Math.min(1, budgetFraction(budget, run.iterations, run.envSteps));
}
