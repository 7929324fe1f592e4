/**
 * Where each piece of one agent's DMPO local model sits in its flat parameter vector, and
 * the architecture that fixes their sizes (gcn.ts's header describes the model).
 */
import type { ActionSpace } from '../../../sim/env.ts';
import type { AgentGraph } from '../../../sim/graph.ts';
import { MlpLayout } from '../../nn/parameters.ts';

export interface GcnArchitecture {
  /** Units of the node encoder h_j = ReLU(W s_j + b). Spec: 8. */
  readonly nodeEncoderSize: number;
  /** ReLU hidden layers of each edge MLP. Spec: [16, 16]. */
  readonly edgeHiddenSizes: readonly number[];
  /** Output size of an edge MLP (linear): the message. Spec: 12. */
  readonly messageSize: number;
  /** ReLU hidden layers of the node MLP. Spec: [16, 16]. */
  readonly nodeHiddenSizes: readonly number[];
  /** ReLU output of the node MLP, input of the three heads. Spec: 8. */
  readonly nodeOutputSize: number;
  /** Size of a discrete action's learned embedding (continuous actions enter raw). Spec: 4. */
  readonly actionEmbeddingSize: number;
}

export const SPEC_ARCHITECTURE: GcnArchitecture = {
  nodeEncoderSize: 8,
  edgeHiddenSizes: [16, 16],
  messageSize: 12,
  nodeHiddenSizes: [16, 16],
  nodeOutputSize: 8,
  actionEmbeddingSize: 4,
};

/** What the models are of: the agent graph and each agent's observation and action. */
export interface ModelSystem {
  readonly graph: AgentGraph;
  readonly obsDim: number;
  /** One action per agent: a discrete index or a continuous value (the environment's contract). */
  readonly action: ActionSpace;
}

/** A named run of one agent's flat parameter vector, row-major. */
export interface ParameterSegment {
  readonly name: string;
  readonly offset: number;
  readonly shape: readonly number[];
}

/** One piece of an agent's model: an MLP layout placed at an offset of its flat vector. */
export interface Block {
  readonly offset: number;
  readonly layout: MlpLayout;
}

/** Where each piece of one agent's model sits in its flat parameter vector. */
export class AgentLayout {
  /** N_i^1 without i, in the gather order (by distance, then index). */
  readonly neighbours: readonly number[];
  /** Slot 0 encodes the agent itself, slot k + 1 its neighbour k. */
  readonly encoders: readonly Block[];
  readonly edges: readonly Block[];
  /** Offset of the [actionCount, actionEmbeddingSize] embedding table; -1 for continuous actions. */
  readonly embeddingOffset: number;
  readonly node: Block;
  /** Columns: state delta (obsDim), reward, done logit. */
  readonly head: Block;
  readonly size: number;

  constructor(graph: AgentGraph, agent: number, obsDim: number, action: ActionSpace, architecture: GcnArchitecture) {
    const a = architecture;
    this.neighbours = graph.neighbourhood(agent, 1).slice(1);
    let offset = 0;
    const block = (inputSize: number, hiddenSizes: readonly number[], outputSize: number): Block => {
      const layout = new MlpLayout({ inputSize, hiddenSizes, outputSize, extraSize: 0 });
      const placed = { offset, layout };
      offset += layout.size;
      return placed;
    };
    this.encoders = Array.from({ length: this.neighbours.length + 1 }, () => block(obsDim, [], a.nodeEncoderSize));
    this.edges = this.neighbours.map(() => block(2 * a.nodeEncoderSize, a.edgeHiddenSizes, a.messageSize));
    if (action.kind === 'discrete') {
      this.embeddingOffset = offset;
      offset += action.n * a.actionEmbeddingSize;
    } else {
      this.embeddingOffset = -1;
    }
    const actionFeatures = action.kind === 'discrete' ? a.actionEmbeddingSize : 1;
    this.node = block(a.messageSize + actionFeatures, a.nodeHiddenSizes, a.nodeOutputSize);
    this.head = block(a.nodeOutputSize, [], obsDim + 2);
    this.size = offset;
  }
}


/** Seed of one block of one agent's parameters: unrelated streams per block (RngStreams hashes its seed). */
export function blockSeed(seed: number, agent: number, block: number): number {
  return seed + (agent * 64 + block + 1) * 1_000_003;
}
