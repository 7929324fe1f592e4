/**
 * The action space of an episode as the live views (Simulate, Train) and Replay show it:
 * its type, the text of an applied action, and the policy's action distribution.
 */
import type { ActionSpaceInfo } from '../../shared/api.ts';
import type { StoredActionSpace } from '../../shared/runs.ts';

/** Discrete(n) actions (an index) or continuous accelerations in [low, high] m/s²: a live episode's and a stored one's alike. */
export type ActionSpace = ActionSpaceInfo | StoredActionSpace;

/** An applied action as text: "3 of Discrete(4)", or "0.250 m/s² (range -1 to 1)". */
export function describeAction(space: ActionSpace, value: number): string {
  return space.kind === 'discrete' ? `${value} of Discrete(${space.n})` : `${value.toFixed(3)} m/s² (range ${space.low} to ${space.high})`;
}

export type ActionDistribution =
  | { kind: 'discrete'; probabilities: number[] }
  | { kind: 'continuous'; mean: number; std: number; low: number; high: number };

/**
 * One agent's action distribution from its parameters [actionParamDim], in a live frame
 * (Frame.actionParams) or a stored one (TrajectoryFrame.actionParams). Discrete: the
 * policy head's probabilities, as live frames carry them and the recorder stores them
 * (src/main/rl/core/ppo.ts, EvalFrameBuffers); parameters that are not a distribution are logits and go through a
 * softmax. Continuous: a Gaussian's mean and standard deviation.
 */
export function actionDistribution(action: ActionSpace, params: ArrayLike<number>, offset = 0): ActionDistribution | null {
  if (action.kind === 'continuous') {
    const mean = params[offset];
    const std = params[offset + 1];
    if (!Number.isFinite(mean) || !Number.isFinite(std)) return null;
    return { kind: 'continuous', mean, std, low: action.low, high: action.high };
  }
  const values = Array.from({ length: action.n }, (_, k) => params[offset + k]);
  if (!values.every(Number.isFinite)) return null;
  const sum = values.reduce((a, b) => a + b, 0);
  if (values.every((p) => p >= 0) && Math.abs(sum - 1) < 1e-3) return { kind: 'discrete', probabilities: values.map((p) => p / sum) };
  const max = Math.max(...values);
  const exp = values.map((logit) => Math.exp(logit - max));
  const total = exp.reduce((a, b) => a + b, 0);
  return { kind: 'discrete', probabilities: exp.map((e) => e / total) };
}
