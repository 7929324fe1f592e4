/**
 * Evaluation: deterministic episodes of a learner's policy (Gaussian mean, most probable
 * discrete action) on fresh copies seeded apart from training, without training-only reward
 * terms, each step optionally handed to a recorder (the run store keeps them for replay).
 */
import type { TrajectoryStepInput } from '../../../shared/runs.ts';
import type { BatchedEnv } from '../../sim/env.ts';
import { createEnv } from '../../sim/index.ts';
import { EpisodeStats, type EpisodeMetrics } from '../../sim/metrics.ts';
import { StepFrame } from '../../sim/stepFrame.ts';
import { communicationWidth, type PolicyOutput } from './trainedPolicy.ts';
import { actionParamWidth, smoothedSoftmax, type PolicyHead } from './distributions.ts';
import { mean } from './iteration.ts';
import type { Learner } from './learner.ts';

/** Evaluation episodes are seeded seed + EVAL_SEED_OFFSET + k, apart from the training episodes. */
const EVAL_SEED_OFFSET = 500_000;

export interface EvaluationResult {
  episodes: EpisodeMetrics[];
  meanReturn: number;
  stdReturn: number;
  /** Means over episodes of every episode metric. */
  metrics: Record<string, number>;
}

/** Receives every step of evaluation episodes (for storage and replay). */
export interface EvaluationRecorder {
  begin(episode: number, seed: number, env: BatchedEnv): void;
  step(episode: number, frame: TrajectoryStepInput): void;
  end(episode: number, metrics: EpisodeMetrics): void;
}

/**
 * Runs `episodes` deterministic episodes of `learner`'s policy side by side; episode k uses
 * seed evalSeed + k (default: the learner's seed + 500000).
 */
export function evaluatePolicy(learner: Pick<Learner, 'setup' | 'policy'>, episodes: number, evalSeed = learner.setup.seed + EVAL_SEED_OFFSET, recorder?: EvaluationRecorder): EvaluationResult {
  const { setup, policy: trained } = learner;
  const env = createEnv(setup.scenario, setup.scenarioParams, episodes);
  env.training = false;
  const { nAgents } = env.spec;
  for (let k = 0; k < episodes; k++) env.resetEnv(k, evalSeed + k);
  const stats = Array.from({ length: episodes }, (_, k) => new EpisodeStats(env, k));
  const actions = new Float64Array(episodes * nAgents);
  const head = trained.head;
  const frame = recorder ? new EvalFrameBuffers(env.spec, actionParamWidth(head), communicationWidth(trained)) : null;
  let policy: PolicyOutput = { output: new Float32Array(0), logStd: null };
  let values: Float32Array | null = null;
  let communication: Float32Array | null = null;
  const act = () => {
    policy = trained.decide(env, actions);
    if (recorder) {
      values = trained.values(env);
      communication = trained.communication?.(env) ?? null;
    }
  };
  if (recorder) for (let k = 0; k < episodes; k++) recorder.begin(k, evalSeed + k, env);
  const running = new Uint8Array(episodes).fill(1);
  act();
  if (frame) for (let k = 0; k < episodes; k++) recorder!.step(k, frame.fill(env, k, actions, policy, values!, communication, head, false));
  while (!env.allDone()) {
    env.step(actions);
    for (let k = 0; k < episodes; k++) if (running[k] === 1) stats[k].add();
    act();
    for (let k = 0; k < episodes; k++) {
      if (running[k] === 0) continue;
      if (frame) recorder!.step(k, frame.fill(env, k, actions, policy, values!, communication, head, true));
      if ((env.terminated[k] | env.truncated[k]) === 1) running[k] = 0;
    }
  }
  const results = stats.map((s) => s.result());
  if (recorder) results.forEach((metrics, k) => recorder.end(k, metrics));
  return summariseEvaluation(results);
}

/** Per-step evaluation frames: the copy's state, and the action, distribution and communication of its policy there. */
class EvalFrameBuffers {
  private readonly state: StepFrame;

  constructor(
    spec: BatchedEnv['spec'],
    private readonly paramWidth: number,
    private readonly communicationWidth: number,
  ) {
    this.state = new StepFrame(spec, paramWidth, communicationWidth);
  }

  fill(
    env: BatchedEnv,
    copy: number,
    actions: Float64Array,
    policy: PolicyOutput,
    values: Float32Array,
    communication: Float32Array | null,
    head: PolicyHead,
    afterStep: boolean,
  ): TrajectoryStepInput {
    const { paramWidth, communicationWidth: width } = this;
    const frame = this.state.fillState(env, copy);
    const agents = env.spec.nAgents;
    const episodes = env.numEnvs;
    const outputWidth = head.kind === 'categorical' ? head.actionCount : 1;
    for (let i = 0; i < agents; i++) {
      // The action and distribution the policy chooses in this state (applied at the next step).
      frame.agentAction[i] = actions[copy * agents + i];
      frame.reward[i] = afterStep ? env.rawReward[copy * agents + i] : NaN;
      frame.value[i] = values[i * episodes + copy];
      const out = (i * episodes + copy) * outputWidth;
      if (head.kind === 'categorical') {
        smoothedSoftmax(policy.output, out, outputWidth, frame.actionParams, i * paramWidth);
      } else {
        frame.actionParams[i * paramWidth] = policy.output[out];
        frame.actionParams[i * paramWidth + 1] = Math.exp(policy.logStd![i]);
      }
      if (communication !== null) {
        const from = (i * episodes + copy) * width;
        frame.communication.set(communication.subarray(from, from + width), i * width);
      }
    }
    return frame;
  }
}

function summariseEvaluation(episodes: EpisodeMetrics[]): EvaluationResult {
  const returns = episodes.map((e) => e.return);
  const meanReturn = mean(returns);
  const stdReturn = Math.sqrt(mean(returns.map((r) => (r - meanReturn) ** 2)));
  const metrics: Record<string, number> = {};
  const flat = episodes.map(flatMetrics);
  for (const key of Object.keys(flat[0] ?? {})) metrics[key] = mean(flat.map((e) => e[key]));
  return { episodes, meanReturn, stdReturn, metrics };
}

/** An episode's metrics as named numbers: a scenario's own group (routing) as 'routing/steadyTstt' ... */
function flatMetrics(episode: EpisodeMetrics): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const [key, value] of Object.entries(episode)) {
    if (typeof value === 'object' && value !== null) for (const [name, inner] of Object.entries(value)) flat[`${key}/${name}`] = Number(inner);
    else flat[key] = Number(value);
  }
  return flat;
}
