/**
 * The scenarios without vehicles on a road (network-routing, mabc, demand-response): what
 * their views draw. `SceneSpec` is the static picture of an episode (EpisodeSpec.scene, and
 * StoredEpisodeSpec.scene for replay); the state of each step travels in one flat array,
 * `Frame.state` live and `TrajectoryFrame.state` stored, whose layout the scene fixes:
 *
 *   network: linkFlow[L] linkTime[L] nodeMass[D * N] splitRatio[D * L]
 *            (flow entering each link per hour and its BPR time in the step that led here,
 *            the mass of each destination class waiting at each node, and the split ratios
 *            of each class over the links in force in that step; class-major)
 *   tabular: agentState[nAgents * agentColumns] copyState[copyColumns]
 *
 * Road scenarios have no scene (null) and an empty state.
 */

/** A road network drawn from its node coordinates: the routing scenario's scene. */
export interface NetworkScene {
  kind: 'network';
  /** The network's name (braess, grid-5x5, or the TNTP file's). */
  name: string;
  /** Node coordinates in the network's own units (y up); a circle when the network gives none. */
  nodeX: number[];
  nodeY: number[];
  /** Link a goes from node linkFrom[a] to linkTo[a] (0-based; TNTP node k is k - 1). */
  linkFrom: number[];
  linkTo: number[];
  capacity: number[];
  freeFlowTime: number[];
  /** The destination node of each class, in class order. */
  destinations: number[];
  /** Vehicles each class's origins emit per step. */
  classDemand: number[];
  /** Routing choice agent i makes: the logit of link agentLink[i] for class agentClass[i]; empty when a baseline routes. */
  agentClass: number[];
  agentLink: number[];
  /** Hours of demand per step. */
  stepHours: number;
}

/** A few named values per agent and per copy (the DADC paper's environments). */
export interface TabularScene {
  kind: 'tabular';
  agentColumns: string[];
  copyColumns: string[];
}

export type SceneSpec = NetworkScene | TabularScene;

/** Values of Frame.state / TrajectoryFrame.state per step. */
export function sceneStateLength(scene: SceneSpec | null | undefined, nAgents: number): number {
  if (!scene) return 0;
  if (scene.kind === 'tabular') return nAgents * scene.agentColumns.length + scene.copyColumns.length;
  const N = scene.nodeX.length;
  const L = scene.linkFrom.length;
  const D = scene.destinations.length;
  return 2 * L + D * N + D * L;
}

export interface NetworkState<A extends Float32Array | Float64Array> {
  /** [link] vehicles per hour entering the link. */
  flow: A;
  /** [link] BPR travel time. */
  time: A;
  /** [class * N + node] vehicles waiting. */
  mass: A;
  /** [class * L + link] share of the class's mass at the link's start node sent on it. */
  split: A;
}

/** The parts of a network scene's state, as views into it. */
export function networkState<A extends Float32Array | Float64Array>(scene: NetworkScene, state: A): NetworkState<A> {
  const N = scene.nodeX.length;
  const L = scene.linkFrom.length;
  const D = scene.destinations.length;
  return {
    flow: state.subarray(0, L) as A,
    time: state.subarray(L, 2 * L) as A,
    mass: state.subarray(2 * L, 2 * L + D * N) as A,
    split: state.subarray(2 * L + D * N, 2 * L + D * N + D * L) as A,
  };
}

/** One named column of a tabular scene's state: per agent (an array over agents) or per copy (one value). */
export function tabularColumn(scene: TabularScene, nAgents: number, state: ArrayLike<number>, name: string): number[] {
  const agentColumn = scene.agentColumns.indexOf(name);
  const width = scene.agentColumns.length;
  if (agentColumn >= 0) return Array.from({ length: nAgents }, (_, i) => state[i * width + agentColumn]);
  const copyColumn = scene.copyColumns.indexOf(name);
  if (copyColumn < 0) throw new Error(`the scene has no column ${name}; it has ${[...scene.agentColumns, ...scene.copyColumns].join(', ')}`);
  return [state[nAgents * width + copyColumn]];
}
