/**
 * What the agents of a communicating policy (IC3Net) sent and received at one step, as live
 * frames (Frame.communication) and stored episodes (TrajectoryFrame.communication) carry it:
 * per agent COMMUNICATION_WIDTH numbers in the order of COMMUNICATION_FIELDS, agent-major.
 * Episodes of other policies have width 0 (no record). Who sent to an agent is not stored
 * per receiver: it is the neighbours whose `sent` is 1 at the same step, which the inspectors
 * read off the agent graph's edges.
 */
import { buildAdjacency } from './neighbourhoods.ts';

export const COMMUNICATION_FIELDS = [
  /** 1 when the agent's hidden state went into its neighbours' messages at this step (its previous gate was open). */
  'sent',
  /** 1 when its gate chose to send at the next step (the gate head's most probable choice). */
  'gate',
  /** The gate head's probability of sending. */
  'sendProbability',
  /** L2 norm of the message it received: the mean of its sending neighbours' hidden states (zero when none sent). */
  'messageNorm',
] as const;

export const COMMUNICATION_WIDTH = COMMUNICATION_FIELDS.length;

/** One agent's communication at one step, as an inspector shows it. */
export interface CommunicationView {
  /** Its gate for the next step: open (sends) or closed. */
  gateOpen: boolean;
  sendProbability: number;
  /** Whether its own hidden state reached its neighbours at this step. */
  sent: boolean;
  messageNorm: number;
  /** Its graph neighbours whose hidden states make up the message it received. */
  senders: number[];
  /** Its graph neighbours that stayed silent at this step. */
  silent: number[];
}

/**
 * Agent `agent`'s communication from a frame's record [nAgents * width] (width 0: the
 * episode's policy does not communicate, null). `edges` is the agent graph's edge list.
 */
export function communicationView(record: ArrayLike<number>, width: number, agent: number, nAgents: number, edges: readonly (readonly [number, number])[]): CommunicationView | null {
  if (width < COMMUNICATION_WIDTH || agent < 0 || agent >= nAgents || record.length < nAgents * width) return null;
  const at = (i: number, field: (typeof COMMUNICATION_FIELDS)[number]) => record[i * width + COMMUNICATION_FIELDS.indexOf(field)];
  const neighbours = buildAdjacency(nAgents, edges)[agent].sort((a, b) => a - b);
  return {
    gateOpen: at(agent, 'gate') === 1,
    sendProbability: at(agent, 'sendProbability'),
    sent: at(agent, 'sent') === 1,
    messageNorm: at(agent, 'messageNorm'),
    senders: neighbours.filter((j) => at(j, 'sent') === 1),
    silent: neighbours.filter((j) => at(j, 'sent') !== 1),
  };
}
