/**
 * The scene of an env without vehicles (src/shared/scene.ts) and its state per step, read
 * out of the env's own buffers: what the live frames and the stored trajectories carry for
 * the views of network-routing, mabc and demand-response. Roads have no scene.
 */
import type { SceneSpec } from '../../shared/scene.ts';
import type { BatchedEnv } from './env.ts';
import { RoutingEnv } from './routing.ts';
import { TabularEnv } from './tabular.ts';

/** The env's scene; null for the road scenarios. */
export function sceneOf(env: BatchedEnv): SceneSpec | null {
  if (env instanceof TabularEnv) return { kind: 'tabular', agentColumns: [...env.agentColumns], copyColumns: [...env.copyColumns] };
  if (!(env instanceof RoutingEnv)) return null;
  const { network, choices } = env;
  const N = network.nodeCount;
  const { coordinates } = network;
  // Without coordinates the nodes stand on a circle, in order.
  const at = (node: number, axis: 0 | 1) => (coordinates ? coordinates[2 * node + axis] : axis === 0 ? Math.cos((2 * Math.PI * node) / N) : Math.sin((2 * Math.PI * node) / N));
  return {
    kind: 'network',
    name: network.name,
    nodeX: Array.from({ length: N }, (_, node) => at(node, 0)),
    nodeY: Array.from({ length: N }, (_, node) => at(node, 1)),
    linkFrom: Array.from(network.linkFrom),
    linkTo: Array.from(network.linkTo),
    capacity: Array.from(network.capacity),
    freeFlowTime: Array.from(network.freeFlowTime),
    destinations: Array.from(network.destinations),
    classDemand: Array.from(env.classDemand),
    agentClass: Array.from(choices.agentClass),
    agentLink: Array.from(choices.agentLink),
    stepHours: env.stepHours,
  };
}

/** Values of the env's scene state per copy (sceneStateLength of sceneOf(env), without building the scene). */
export function sceneStateLengthOf(env: BatchedEnv): number {
  if (env instanceof TabularEnv) return env.spec.nAgents * env.agentColumns.length + env.copyColumns.length;
  if (!(env instanceof RoutingEnv)) return 0;
  const { network } = env;
  return (2 + network.destinations.length) * network.linkCount + network.destinations.length * network.nodeCount;
}

/** Writes copy `copy`'s scene state into `out` (its length is sceneStateLength of the scene). */
export function writeSceneState(env: BatchedEnv, copy: number, out: Float64Array): void {
  if (env instanceof TabularEnv) {
    const agentWidth = env.spec.nAgents * env.agentColumns.length;
    const copyWidth = env.copyColumns.length;
    out.set(env.agentState.subarray(copy * agentWidth, (copy + 1) * agentWidth));
    out.set(env.copyState.subarray(copy * copyWidth, (copy + 1) * copyWidth), agentWidth);
    return;
  }
  if (!(env instanceof RoutingEnv)) return;
  const { network } = env;
  const L = network.linkCount;
  const DN = network.destinations.length * network.nodeCount;
  const DL = network.destinations.length * L;
  out.set(env.linkFlow.subarray(copy * L, (copy + 1) * L));
  out.set(env.linkTimes.subarray(copy * L, (copy + 1) * L), L);
  out.set(env.nodeMass.subarray(copy * DN, (copy + 1) * DN), 2 * L);
  out.set(env.splitRatio.subarray(copy * DL, (copy + 1) * DL), 2 * L + DN);
}
