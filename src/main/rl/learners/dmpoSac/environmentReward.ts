/**
 * DMPO-SAC with `modelReward` 'environment': a model branch's rewards and done come from the
 * simulator's own CACC rule (sim/cacc.ts: caccReward, CACC_COLLISION) applied to the predicted
 * next state, as the authors' code computes them, instead of the models' reward and done heads.
 *
 * What a prediction gives: each agent's predicted observation, from which caccAgentState
 * recovers its headway h', speed v' and realised acceleration u* (h' exactly while the leader
 * speed difference is within the observation's clip of 10 m/s). The branch row holds every
 * agent's prediction, so the collision rule is the simulator's, platoon-wide: any agent's
 * headway below 1 m is a collision of the whole platoon and every agent's reward is -1000 a
 * step (one agent's own prediction shows only its own headway; a local model cannot see a
 * collision down the platoon, the row can).
 *
 * Held decisions (actionRepeat k): a transition is k control steps whose rewards the real
 * replay sums discounted, but the models predict only the state after the k-th. The states in
 * between are taken on the straight line from the decision's start state to the predicted end
 * (h, v, u* each linear in the step), and the simulator's reward is summed over them as the
 * collector sums the real ones (learning reward, discount gamma per step). A collided start
 * makes every step a collision step. A collided end is where the simulator froze the platoon,
 * at the collision step, not after k steps: that step is estimated from the collided agent's
 * headway change and its closing speed (the mean of v_lead - v at start and end), the line
 * runs from the start to the end over those steps and the rest are collision steps (on the
 * real replay a line over all k steps put the collision at the decision's last step where the
 * simulator had it at the first: -1 where the real reward was -9.6). With k = 1 this is the
 * simulator's reward of the predicted state alone; with k > 1 the estimate's own error is
 * measured on the real transitions (the `floorError`: the real s' through this rule).
 *
 * Done: a collided CACC episode ends at the next multiple of 60 steps, on a step count the
 * observation does not show; a decision of k steps (k dividing 60) ends at such a multiple
 * for k / 60 of the decisions, so a collided row ends with probability min(1, k / 60) and
 * otherwise bootstraps from the collided state, as a real collided row does.
 */
import { CACC_COLLISION, CACC_STATE, caccAgentState, caccReward } from '../../../sim/cacc.ts';
import { DT } from '../../../sim/env.ts';
import type { ReplayBuffer } from '../dsac/replay.ts';
import { relativeError } from '../dmpo/gcn.ts';
import { featureVariance, type EnsembleModels } from './ensembleModel.ts';

export interface EnvironmentRewardSettings {
  readonly agents: number;
  readonly obsDim: number;
  /** Control steps per transition (DSAC's held decisions). */
  readonly actionRepeat: number;
  /** One control step's discount. */
  readonly gamma: number;
  /** The collector's raw reward -> learning reward (rewardScale, rewardClip). */
  readonly learningReward: (reward: number) => number;
  /** The scenario's safetyCost parameter: the training reward's safety term. */
  readonly safetyCost: boolean;
}

/** Errors of the rule's rewards on real transitions (MSE / Var of the real learning rewards). */
export interface EnvironmentRewardErrors {
  /** From the models' predicted next states (every member k of every agent together). */
  readonly rewardError: number;
  /** From the real next states: what the straight line through a held decision costs by itself. */
  readonly floorError: number;
}

export class EnvironmentReward {
  private readonly withSafety: boolean;
  /** The start and end states [n, CACC_STATE.size] of the row being scored. */
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly collisionDone: number;

  constructor(readonly settings: EnvironmentRewardSettings) {
    if (settings.obsDim !== 5) throw new Error(`modelReward 'environment' reads CACC's 5 observation features, got ${settings.obsDim}`);
    this.withSafety = settings.safetyCost;
    this.start = new Float64Array(settings.agents * CACC_STATE.size);
    this.end = new Float64Array(settings.agents * CACC_STATE.size);
    this.collisionDone = Math.min(1, settings.actionRepeat / CACC_COLLISION.endPeriod);
  }

  /**
   * Scores `rows` transitions of states obs -> nextObs ([rows, n, obsDim]): each agent's
   * learning reward of the decision into rewards [rows, n], the row's done probability into
   * doneProbability [rows].
   */
  score(obs: ArrayLike<number>, nextObs: ArrayLike<number>, rows: number, rewards: Float32Array, doneProbability: Float32Array): void {
    const { agents, obsDim, actionRepeat, gamma, learningReward } = this.settings;
    const { start, end } = this;
    const size = CACC_STATE.size;
    const collisionStep = learningReward(CACC_COLLISION.reward);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < agents; i++) {
        caccAgentState(obs, (r * agents + i) * obsDim, start, i * size);
        caccAgentState(nextObs, (r * agents + i) * obsDim, end, i * size);
      }
      const collisionAt = this.collisionStep();
      // The steps the line from start to end spans: to the collision, else the whole decision.
      const span = Math.min(collisionAt, actionRepeat);
      rewards.fill(0, r * agents, (r + 1) * agents);
      let discount = 1;
      for (let k = 1; k <= actionRepeat; k++) {
        const collided = k >= collisionAt;
        const along = k / span;
        for (let i = 0; i < agents; i++) {
          const at = i * size;
          const step = collided ? collisionStep : learningReward(caccReward(between(start, end, at + CACC_STATE.headway, along), between(start, end, at + CACC_STATE.speed, along), between(start, end, at + CACC_STATE.accel, along), this.withSafety));
          rewards[r * agents + i] += discount * step;
        }
        discount *= gamma;
      }
      doneProbability[r] = collisionAt <= actionRepeat ? this.collisionDone : 0;
    }
  }

  /**
   * The step of the decision at which the scored row collides, 1..actionRepeat (0: collided at
   * its start), or actionRepeat + 1 when its end does not collide. A collided end was reached
   * after about (h_end - h_start) / (DT x mean closing speed) steps, the soonest of its
   * collided agents'.
   */
  private collisionStep(): number {
    const { agents, actionRepeat } = this.settings;
    const { start, end } = this;
    const size = CACC_STATE.size;
    let steps = actionRepeat + 1;
    for (let i = 0; i < agents; i++) {
      const h = i * size + CACC_STATE.headway;
      if (start[h] < CACC_COLLISION.headway) return 0;
      if (end[h] >= CACC_COLLISION.headway) continue;
      const d = i * size + CACC_STATE.leadDifference;
      const perStep = (DT * (start[d] + end[d])) / 2;
      // A headway that fell while the speeds say it was not closing: no timing to read, the line's own (the last step).
      const estimate = perStep < 0 ? Math.round((end[h] - start[h]) / perStep) : actionRepeat;
      steps = Math.min(steps, Math.max(1, Math.min(actionRepeat, estimate)));
    }
    return steps;
  }

  /**
   * The rule's errors on real transitions replay[indices]: from each member k's predicted next
   * states (member k of every agent at once, so the platoon-wide collision rule sees one
   * prediction of every headway), averaged over members, and from the real next states.
   */
  validate(models: EnsembleModels, replay: ReplayBuffer, indices: Int32Array): EnvironmentRewardErrors {
    const { agents, obsDim } = this.settings;
    const rows = indices.length;
    const width = agents * obsDim;
    const obs = new Float32Array(rows * width);
    const nextObs = new Float32Array(rows * width);
    const actions = new Uint8Array(rows * agents);
    const real = new Float32Array(rows * agents);
    indices.forEach((index, r) => {
      obs.set(replay.obs.subarray(index * width, (index + 1) * width), r * width);
      nextObs.set(replay.nextObs.subarray(index * width, (index + 1) * width), r * width);
      actions.set(replay.actions.subarray(index * agents, (index + 1) * agents), r * agents);
      real.set(replay.rewards.subarray(index * agents, (index + 1) * agents), r * agents);
    });
    const scored = new Float32Array(rows * agents);
    const done = new Float32Array(rows);
    this.score(obs, nextObs, rows, scored, done);
    const floorMse = meanSquaredDifference(scored, real);
    const inputs = new Float32Array(agents * rows * models.inputSize);
    models.inputs(obs, actions, rows, inputs);
    const predicted = new Float32Array(rows * width);
    const out = obsDim + 2;
    let modelMse = 0;
    for (let k = 0; k < models.members; k++) {
      for (let i = 0; i < agents; i++) {
        const prediction = models.predict(i, k, inputs, rows);
        for (let r = 0; r < rows; r++) {
          const at = (r * agents + i) * obsDim;
          for (let d = 0; d < obsDim; d++) predicted[at + d] = obs[at + d] + prediction[r * out + d];
        }
      }
      this.score(obs, predicted, rows, scored, done);
      modelMse += meanSquaredDifference(scored, real) / models.members;
    }
    const variance = featureVariance(real, 1);
    return { rewardError: relativeError(modelMse, variance), floorError: relativeError(floorMse, variance) };
  }
}

/** Feature `at` of the state a share `along` of the way from start to end. */
function between(start: Float64Array, end: Float64Array, at: number, along: number): number {
  // The end itself as recovered (no rounding through the line): one-step decisions score exactly the predicted state.
  return along === 1 ? end[at] : start[at] + along * (end[at] - start[at]);
}

function meanSquaredDifference(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += (a[k] - b[k]) ** 2;
  return sum / a.length;
}
