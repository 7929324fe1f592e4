/**
 * What clicking a node of the road network shows: the team of that node (in LTDE the agents
 * are grouped by the state they are in, here the node), its vehicle mass per destination,
 * how the policy splits each destination's mass over the node's outgoing links, and where a
 * trained policy acts, the critic's value of each routing choice (class, link) at the node.
 */
import { networkState, type NetworkScene } from '../../shared/scene.ts';
import { nodeName } from '../scene/networkDrawing.ts';

export interface NodeClassRow {
  /** Destination node (0-based) of the class. */
  destination: number;
  /** Vehicles of the class waiting at the node. */
  mass: number;
  /** Share of the class's mass sent on each outgoing link (same order as NodeInspection.links); all 0 when it has no way on. */
  split: number[];
  /** The critic's value of the agent choosing each link for this class; null where no agent chooses it. */
  value: (number | null)[];
}

export interface NodeInspection {
  node: number;
  /** Outgoing links: index, end node, flow entering it per hour, volume/capacity. */
  links: { link: number; to: number; flow: number; vc: number }[];
  /** Classes whose destination is not this node. */
  classes: NodeClassRow[];
  totalMass: number;
  /** Whether any routing choice here has a value (a trained policy's frames). */
  hasValues: boolean;
}

export function inspectNode(scene: NetworkScene, state: Float32Array | Float64Array, values: ArrayLike<number>, node: number): NodeInspection {
  const { flow, mass, split } = networkState(scene, state);
  const N = scene.nodeX.length;
  const L = scene.linkFrom.length;
  const out: number[] = [];
  scene.linkFrom.forEach((from, link) => {
    if (from === node) out.push(link);
  });
  // The agent of (class, link), when agents route and the frames carry their values.
  const agentOf = new Map<number, number>();
  scene.agentLink.forEach((link, agent) => agentOf.set(scene.agentClass[agent] * L + link, agent));
  const withValues = values.length === scene.agentClass.length && values.length > 0;
  let hasValues = false;
  let totalMass = 0;
  const classes: NodeClassRow[] = [];
  scene.destinations.forEach((destination, d) => {
    if (destination === node) return;
    const m = mass[d * N + node];
    totalMass += m;
    const value = out.map((link) => {
      const agent = agentOf.get(d * L + link);
      if (agent === undefined || !withValues || !Number.isFinite(values[agent])) return null;
      hasValues = true;
      return values[agent];
    });
    classes.push({ destination, mass: m, split: out.map((link) => split[d * L + link]), value });
  });
  return {
    node,
    links: out.map((link) => ({ link, to: scene.linkTo[link], flow: flow[link], vc: flow[link] / scene.capacity[link] })),
    classes,
    totalMass,
    hasValues,
  };
}

/** "link 3 → 4" */
export const linkLabel = (scene: NetworkScene, link: number): string => `${nodeName(scene.linkFrom[link])} → ${nodeName(scene.linkTo[link])}`;
