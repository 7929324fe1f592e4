/**
 * One environment copy's state as the arrays of a stored trajectory frame
 * (TrajectoryStepInput), in buffers reused from step to step: what evaluation and forks
 * hand to the run store's episode writer. The agent-side arrays that depend on who acts
 * (action, reward, value, action distribution, communication) are the caller's to fill.
 */
import type { TrajectoryStepInput } from '../../shared/runs.ts';
import type { BatchedEnv } from './env.ts';
import { sceneStateLengthOf, writeSceneState } from './scene.ts';

export type StepFrameArrays = TrajectoryStepInput & { [K in Exclude<keyof TrajectoryStepInput, 'collided' | 'terminated' | 'truncated'>]-?: Float64Array };

export class StepFrame {
  readonly frame: StepFrameArrays;

  constructor(
    private readonly spec: Pick<BatchedEnv['spec'], 'nAgents' | 'nVehicles' | 'obsDim' | 'rewardTermNames'>,
    actionParamDim: number,
    /** Values per agent of its communication record (0 unless the policy communicates). */
    communicationDim = 0,
  ) {
    const { nAgents, nVehicles, obsDim } = spec;
    this.frame = {
      position: new Float64Array(nVehicles),
      speed: new Float64Array(nVehicles),
      accel: new Float64Array(nVehicles),
      gap: new Float64Array(nVehicles),
      vehicleAction: new Float64Array(nVehicles),
      agentAction: new Float64Array(nAgents),
      reward: new Float64Array(nAgents),
      value: new Float64Array(nAgents),
      obs: new Float64Array(nAgents * obsDim),
      actionParams: new Float64Array(nAgents * actionParamDim),
      rewardTerms: new Float64Array(nAgents * spec.rewardTermNames.length),
      // Sized by the first fillState, which sees the env (its scene's state).
      state: new Float64Array(0),
      communication: new Float64Array(nAgents * communicationDim),
    };
  }

  /** Copies copy `copy`'s vehicles, observations, reward terms, scene state and end flags into the frame. */
  fillState(env: BatchedEnv, copy: number): StepFrameArrays {
    const { nAgents, nVehicles, obsDim } = this.spec;
    const terms = this.spec.rewardTermNames.length;
    const { frame } = this;
    const v0 = copy * nVehicles;
    frame.position.set(env.position.subarray(v0, v0 + nVehicles));
    frame.speed.set(env.speed.subarray(v0, v0 + nVehicles));
    frame.accel.set(env.accel.subarray(v0, v0 + nVehicles));
    frame.gap.set(env.gap.subarray(v0, v0 + nVehicles));
    frame.vehicleAction.set(env.action.subarray(v0, v0 + nVehicles));
    frame.obs.set(env.obs.subarray(copy * nAgents * obsDim, (copy + 1) * nAgents * obsDim));
    frame.rewardTerms.set(env.rewardTerms.subarray(copy * nAgents * terms, (copy + 1) * nAgents * terms));
    const stateLength = sceneStateLengthOf(env);
    if (frame.state.length !== stateLength) frame.state = new Float64Array(stateLength);
    writeSceneState(env, copy, frame.state);
    frame.collided = env.collided[copy] === 1;
    frame.terminated = env.terminated[copy] === 1;
    frame.truncated = env.truncated[copy] === 1;
    return frame;
  }
}
