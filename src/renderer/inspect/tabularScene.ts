/**
 * What the schematic views of the DADC paper's environments read from a step's scene state
 * (src/shared/scene.ts): multi-access broadcast's two buffers and what happened on the
 * channel, demand response's loads ON and their share against the target.
 */
import { tabularColumn, type TabularScene } from '../../shared/scene.ts';

/**
 * What the channel did in the step that led to a state: nobody sent (idle), one packet got
 * through (success), both devices sent at once (collision), or one device sent and nothing
 * was delivered (failed: the channel was busy or its buffer empty). 'reset': no step yet.
 */
export type ChannelOutcome = 'reset' | 'idle' | 'success' | 'collision' | 'failed';

export const CHANNEL_OUTCOMES: readonly { id: Exclude<ChannelOutcome, 'reset'>; label: string; colour: string }[] = [
  { id: 'idle', label: 'idle (nobody sent)', colour: '#5f6b7a' },
  { id: 'success', label: 'success (a packet delivered)', colour: '#3fcf8e' },
  { id: 'collision', label: 'collision (both sent)', colour: '#ff5c5c' },
  { id: 'failed', label: 'failed (channel busy or buffer empty)', colour: '#f5a524' },
];

export interface MabcStep {
  /** Packets in each device's buffer (0 or 1) after the step. */
  buffers: number[];
  /** Whether each device sent (1) in the step; NaN at reset. */
  sent: number[];
  /** Whether a packet arrived at each device in the step; NaN at reset. */
  arrived: number[];
  /** The channel's state for the next step: busy (1) or idle (0). */
  channelBusy: number;
  outcome: ChannelOutcome;
}

export function mabcStep(scene: TabularScene, state: ArrayLike<number>): MabcStep {
  const column = (name: string) => tabularColumn(scene, 2, state, name);
  const sent = column('action');
  const delivered = column('delivered')[0];
  let outcome: ChannelOutcome;
  if (Number.isNaN(delivered)) outcome = 'reset';
  else if (delivered > 0) outcome = 'success';
  else if (sent[0] === 1 && sent[1] === 1) outcome = 'collision';
  else outcome = sent[0] === 1 || sent[1] === 1 ? 'failed' : 'idle';
  return { buffers: column('buffer'), sent, arrived: column('arrival'), channelBusy: column('channel_busy')[0], outcome };
}

export interface DemandStep {
  /** Each load ON (1) or OFF (0). */
  on: number[];
  /** Share of loads ON, and its KL divergence to the target distribution. */
  share: number;
  kl: number;
}

export function demandStep(scene: TabularScene, nAgents: number, state: ArrayLike<number>): DemandStep {
  return { on: tabularColumn(scene, nAgents, state, 'on'), share: tabularColumn(scene, nAgents, state, 'share_on')[0], kl: tabularColumn(scene, nAgents, state, 'kl')[0] };
}

export const outcomeColour = (outcome: ChannelOutcome): string => CHANNEL_OUTCOMES.find((o) => o.id === outcome)?.colour ?? 'transparent';
