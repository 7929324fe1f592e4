/**
 * Scenarios whose state is not vehicles on a road: the DADC paper's multi-access broadcast
 * and demand response. They have no vehicles (nVehicles 0, so the road buffers are empty);
 * their state of record is a few named values per agent and per copy, which the trajectory
 * writers (tabularTrajectory.ts) put in their own columns.
 *
 * The reward is the team's: every agent receives the same R_t (the paper's cooperative team).
 */
import type { ResolvedParams, ScenarioId } from '../../shared/scenarios.ts';
import { BatchedEnv, type ActionSpace } from './env.ts';
import { AgentGraph } from './graph.ts';

export interface TabularLayout {
  scenario: ScenarioId;
  params: ResolvedParams;
  nAgents: number;
  /** Observation field 0 is the agent's local information, an index below localStates; the other fields are the common information, the same for every agent. */
  obsNames: readonly string[];
  localStates: number;
  action: ActionSpace;
  horizon: number;
  rewardTermNames: readonly string[];
  /** Per agent state columns, e.g. a device's buffer; agentState is [E, nAgents, agentColumns]. */
  agentColumns: readonly string[];
  /** Per copy state columns, e.g. the channel; copyState is [E, copyColumns]. */
  copyColumns: readonly string[];
  /** Discount of the reported discounted return and of the planner. */
  discount: number;
  /**
   * A finite set of deterministic prescriptions its paper's coordinator chooses among:
   * opportunities[c][agent][local state] is the agent's action under choice c; null if none.
   */
  opportunities: readonly (readonly (readonly number[])[])[] | null;
}

export abstract class TabularEnv extends BatchedEnv {
  readonly agentColumns: readonly string[];
  readonly copyColumns: readonly string[];
  readonly discount: number;
  /** Values of the local information (observation field 0). */
  readonly localStates: number;
  readonly opportunities: TabularLayout['opportunities'];
  readonly agentState: Float64Array;
  readonly copyState: Float64Array;

  protected constructor(layout: TabularLayout, numEnvs: number) {
    const { agentColumns, copyColumns, discount, localStates, opportunities, ...rest } = layout;
    super(
      {
        ...rest,
        nVehicles: 0,
        obsDim: rest.obsNames.length,
        // No edges: an agent's local information is its own; what all agents share is in every observation.
        graph: new AgentGraph(rest.nAgents, []),
        agentVehicle: new Int32Array(rest.nAgents).fill(-1),
        vehicleKind: new Uint8Array(0),
        closedRoad: false,
        maxDecel: 0,
      },
      numEnvs,
    );
    this.agentColumns = agentColumns;
    this.copyColumns = copyColumns;
    this.discount = discount;
    this.localStates = localStates;
    this.opportunities = opportunities;
    this.agentState = new Float64Array(numEnvs * rest.nAgents * agentColumns.length);
    this.copyState = new Float64Array(numEnvs * copyColumns.length);
  }

  /** Writes the team reward R into every agent's reward of copy e, and its terms. */
  protected setTeamReward(a0: number, terms: ArrayLike<number>): void {
    let total = 0;
    for (let k = 0; k < terms.length; k++) total += terms[k];
    const nTerms = terms.length;
    for (let i = 0; i < this.spec.nAgents; i++) {
      this.rawReward[a0 + i] = total;
      this.reward[a0 + i] = total;
      for (let k = 0; k < nTerms; k++) this.rewardTerms[(a0 + i) * nTerms + k] = terms[k];
    }
  }
}

/** Throws for an action outside {0, .., n-1}, naming the scenario, agent and value. */
export function checkedDiscreteAction(value: number, n: number, agent: number, scenario: ScenarioId): number {
  if (!Number.isInteger(value) || value < 0 || value >= n) {
    throw new Error(`${scenario}: action of agent ${agent} is ${value}; allowed: ${Array.from({ length: n }, (_, k) => k).join(', ')}`);
  }
  return value;
}
