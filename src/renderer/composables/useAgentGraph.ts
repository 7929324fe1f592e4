/**
 * The agent graph around the selected vehicle, a composable of the live and replay stores:
 * which agent drives each vehicle, the vehicle picker's choices, the selected agent's policy
 * neighbourhood N^1 and critic neighbourhood N^kappa, and kappa itself (1 to the agent's
 * eccentricity).
 */
import { computed, ref, type Ref } from 'vue';
import { buildAdjacency, distancesFrom, eccentricity, neighbourhoodView, type NeighbourhoodView } from '../../shared/neighbourhoods.ts';
import { vehicleChoicesOf } from '../inspect/vehicles.ts';

export interface AgentGraphSource {
  nAgents: number;
  nVehicles: number;
  edges: readonly (readonly [number, number])[];
  agentVehicle: readonly number[];
  /** vehicleKind[v]: VehicleKindCode of vehicle v. */
  vehicleKind: readonly number[];
}

export function useAgentGraph(graph: () => AgentGraphSource | null, selectedVehicle: Ref<number | null>) {
  const kappa = ref(2);
  const adjacency = computed(() => {
    const g = graph();
    return g ? buildAdjacency(g.nAgents, g.edges) : [];
  });
  /** agentOfVehicle[v]: the agent driving vehicle v, -1 for humans and the CACC leader. */
  const agentOfVehicle = computed(() => {
    const g = graph();
    const map = new Int32Array(g?.nVehicles ?? 0).fill(-1);
    g?.agentVehicle.forEach((vehicle, agent) => (map[vehicle] = agent));
    return map;
  });
  /** Vehicles for the picker: agents first, then humans, then the leader. */
  const vehicleChoices = computed(() => {
    const g = graph();
    return g ? vehicleChoicesOf(g.nVehicles, g.vehicleKind, agentOfVehicle.value) : [];
  });
  const selectedAgent = computed(() => {
    const v = selectedVehicle.value;
    return v === null ? -1 : (agentOfVehicle.value[v] ?? -1);
  });
  /** Distances from the selected agent (or agent 0, to size the kappa slider when nothing is selected). */
  const agentDistances = computed(() => {
    const g = graph();
    if (!g || g.nAgents === 0) return null;
    return distancesFrom(adjacency.value, selectedAgent.value >= 0 ? selectedAgent.value : 0);
  });
  const maxKappa = computed(() => Math.max(1, agentDistances.value ? eccentricity(agentDistances.value) : 1));

  function setKappa(value: number): void {
    kappa.value = Math.max(1, Math.min(Math.round(value), maxKappa.value));
  }

  /** The selected agent's neighbourhoods, as agents and as vehicles, and the graph edges to draw. */
  const neighbourhoods = computed<NeighbourhoodView | null>(() => {
    const g = graph();
    const distance = agentDistances.value;
    if (!g || !distance || selectedAgent.value < 0) return null;
    return neighbourhoodView(g.edges, g.agentVehicle, distance, selectedAgent.value, Math.min(kappa.value, maxKappa.value));
  });

  return { kappa, agentOfVehicle, vehicleChoices, selectedAgent, maxKappa, setKappa, neighbourhoods };
}
