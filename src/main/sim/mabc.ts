/**
 * Multi-access broadcast (the DADC paper, appendix D.1; shared/specs/seed-benchmarks.md):
 * two devices with one-packet buffers share a channel that is idle (S = 0) or busy (S = 1),
 * a Markov chain P = [[alpha0, 1 - alpha0], [1 - alpha1, alpha1]]. Each step device j
 * transmits (A^j = 1) or not; a packet gets through when exactly one device transmits, it
 * holds a packet and the channel is idle. Then packets arrive, W^j ~ Bernoulli(p^j), and a
 * packet arriving at a full buffer is dropped:
 *   B'^j = min(B^j - delivered^j + W^j, 1),   R = -kappa (A^1 + A^2) + r * delivered.
 * An empty device may transmit: it pays kappa and sends nothing (the original problem).
 *
 * Information structure (control sharing): device j's local information is its buffer B^j;
 * the common information is both actions of the previous step and, when either transmitted,
 * the channel state of that step. Observation of device j, in order:
 *   [B^j, A^1_{t-1}, A^2_{t-1}, seen_{t-1}, S_{t-1} * seen_{t-1}]
 * with seen = 1 when either device transmitted (all zero at reset: nothing shared yet).
 *
 * Initial state: empty buffers, S_0 from the stationary distribution of P (uniform when P
 * has no unique one, alpha0 = alpha1 = 1). Random draws per step, in order: W^1, W^2, then
 * the next channel state, each one uniform from the copy's stream.
 */
import type { ScenarioParams } from '../../shared/scenarios.ts';
import { checkedDiscreteAction, TabularEnv } from './tabular.ts';

/** Devices, observation width and columns. */
const DEVICES = 2;
const AGENT_COLUMNS = ['buffer', 'action', 'arrival'] as const;
const COPY_COLUMNS = ['channel_busy', 'delivered'] as const;
const BUFFER = 0;
const ACTION = 1;
const ARRIVAL = 2;
const CHANNEL = 0;
const DELIVERED = 1;
const N_AGENT_COLUMNS = AGENT_COLUMNS.length;
const N_COPY_COLUMNS = COPY_COLUMNS.length;
const OBS_DIM = 5;

/**
 * Opportunity prescriptions (the DADC paper's coordinator for this problem, appendix E.1):
 * neither device, device 1, device 2, or both get the opportunity to transmit; a device
 * transmits when it has the opportunity and holds a packet. [choice][device][buffer] ->
 * action. The paper lists the last three only; with them alone the coordinator's best value
 * is 0.615989 (value iteration restricted to them, paper's parameters), against 0.878824 with
 * every prescription. Adding "neither" restores 0.878824: holding back when the channel is
 * believed busy is part of the optimum.
 */
const OPPORTUNITIES = [
  [[0, 0], [0, 0]],
  [[0, 1], [0, 0]],
  [[0, 0], [0, 1]],
  [[0, 1], [0, 1]],
] as const;

/** P(S_0 = busy): the stationary busy share of the channel chain. */
export function stationaryBusy(stayIdle: number, stayBusy: number): number {
  const leave = 2 - stayIdle - stayBusy;
  return leave === 0 ? 0.5 : (1 - stayIdle) / leave;
}

export class MabcEnv extends TabularEnv {
  private readonly arrival: readonly [number, number];
  private readonly stayIdle: number;
  private readonly stayBusy: number;
  private readonly kappa: number;
  private readonly successReward: number;
  /** Reward terms of one step (transmission cost, delivery), reused. */
  private readonly terms = new Float64Array(2);

  constructor(params: ScenarioParams<'mabc'>, numEnvs: number) {
    super(
      {
        scenario: 'mabc',
        params,
        nAgents: DEVICES,
        obsNames: ['own buffer B^j', 'previous action A^1', 'previous action A^2', 'channel seen (either transmitted)', 'previous channel busy S (0 when unseen)'],
        localStates: 2,
        action: { kind: 'discrete', n: 2 },
        horizon: params.horizon,
        rewardTermNames: ['transmission', 'delivery'],
        agentColumns: AGENT_COLUMNS,
        copyColumns: COPY_COLUMNS,
        discount: params.discount,
        opportunities: OPPORTUNITIES,
      },
      numEnvs,
    );
    this.arrival = [params.arrival1, params.arrival2];
    this.stayIdle = params.stayIdle;
    this.stayBusy = params.stayBusy;
    this.kappa = params.transmitCost;
    this.successReward = params.successReward;
  }

  protected resetCopy(e: number): void {
    const s0 = e * DEVICES * N_AGENT_COLUMNS;
    for (let j = 0; j < DEVICES; j++) {
      this.agentState[s0 + j * N_AGENT_COLUMNS + BUFFER] = 0;
      this.agentState[s0 + j * N_AGENT_COLUMNS + ACTION] = NaN;
      this.agentState[s0 + j * N_AGENT_COLUMNS + ARRIVAL] = NaN;
    }
    this.copyState[e * N_COPY_COLUMNS + CHANNEL] = this.rng.uniform(e) < stationaryBusy(this.stayIdle, this.stayBusy) ? 1 : 0;
    this.copyState[e * N_COPY_COLUMNS + DELIVERED] = NaN;
    this.obs.fill(0, e * DEVICES * OBS_DIM, (e + 1) * DEVICES * OBS_DIM);
  }

  protected stepCopy(e: number, actions: ArrayLike<number>, a0: number): boolean {
    const { agentState, copyState, obs, rng } = this;
    const s0 = e * DEVICES * N_AGENT_COLUMNS;
    const a1 = checkedDiscreteAction(actions[a0], 2, 0, 'mabc');
    const a2 = checkedDiscreteAction(actions[a0 + 1], 2, 1, 'mabc');
    const busy = copyState[e * N_COPY_COLUMNS + CHANNEL];
    const b1 = agentState[s0 + BUFFER];
    const b2 = agentState[s0 + N_AGENT_COLUMNS + BUFFER];
    const sent1 = a1 * (1 - a2) * (1 - busy) * b1;
    const sent2 = a2 * (1 - a1) * (1 - busy) * b2;
    const w1 = rng.uniform(e) < this.arrival[0] ? 1 : 0;
    const w2 = rng.uniform(e) < this.arrival[1] ? 1 : 0;
    const stay = busy === 1 ? this.stayBusy : this.stayIdle;
    const nextBusy = rng.uniform(e) < stay ? busy : 1 - busy;

    agentState[s0 + BUFFER] = Math.min(b1 - sent1 + w1, 1);
    agentState[s0 + ACTION] = a1;
    agentState[s0 + ARRIVAL] = w1;
    agentState[s0 + N_AGENT_COLUMNS + BUFFER] = Math.min(b2 - sent2 + w2, 1);
    agentState[s0 + N_AGENT_COLUMNS + ACTION] = a2;
    agentState[s0 + N_AGENT_COLUMNS + ARRIVAL] = w2;
    copyState[e * N_COPY_COLUMNS + CHANNEL] = nextBusy;
    copyState[e * N_COPY_COLUMNS + DELIVERED] = sent1 + sent2;

    this.terms[0] = -this.kappa * (a1 + a2);
    this.terms[1] = this.successReward * (sent1 + sent2);
    this.setTeamReward(a0, this.terms);

    const seen = a1 === 1 || a2 === 1 ? 1 : 0;
    for (let j = 0; j < DEVICES; j++) {
      const o = (a0 + j) * OBS_DIM;
      obs[o] = agentState[s0 + j * N_AGENT_COLUMNS + BUFFER];
      obs[o + 1] = a1;
      obs[o + 2] = a2;
      obs[o + 3] = seen;
      obs[o + 4] = seen * busy;
    }
    return false;
  }
}
