/**
 * The inspected vehicle, as the live views (Simulate, Train) and Replay name it: its kind
 * (agent, human, leader) from the episode's VehicleKindCode, its title ("Agent 3", "Leader",
 * "Vehicle 7"), the vehicle picker's choices, and the state both inspectors show.
 */
import { VehicleKindCode } from '../../shared/api.ts';

export type VehicleKind = keyof typeof VehicleKindCode;

const KIND_NAMES: readonly VehicleKind[] = ['human', 'agent', 'leader'];

/** The kind of a vehicle from its VehicleKindCode (unknown codes are humans). */
export const vehicleKindOf = (code: number): VehicleKind => KIND_NAMES[code] ?? 'human';

/** What drives a vehicle of this kind, for the inspector's badge. */
export const vehicleKindLabel = (kind: VehicleKind): string => (kind === 'agent' ? 'Controlled' : kind === 'leader' ? 'Exogenous leader' : 'Human driver');

/** The vehicle's title: "Agent 3" when an agent drives it, else "Leader" or "Vehicle 7". */
export const vehicleTitle = (vehicle: number, agent: number, kind: VehicleKind): string =>
  agent >= 0 ? `Agent ${agent}` : kind === 'leader' ? 'Leader' : `Vehicle ${vehicle}`;

/** The state of the inspected vehicle, live and in replay. */
export interface InspectedVehicle {
  vehicle: number;
  /** Agent driving the vehicle, -1 for humans and the CACC leader. */
  agent: number;
  kind: VehicleKind;
  position: number;
  speed: number;
  gap: number;
  accel: number;
}

/** One entry of the vehicle picker. */
export interface VehicleChoice {
  vehicle: number;
  agent: number;
  label: string;
}

/** Vehicles for the picker: agents first (by agent index), then humans and the leader (by vehicle index). */
export function vehicleChoicesOf(n: number, vehicleKind: readonly number[], agentOfVehicle: ArrayLike<number>): VehicleChoice[] {
  const rows = Array.from({ length: n }, (_, v) => {
    const agent = agentOfVehicle[v] ?? -1;
    const kind = vehicleKindOf(vehicleKind[v]);
    const label = agent >= 0 ? `Agent ${agent} · vehicle ${v}` : kind === 'leader' ? `Leader · vehicle ${v}` : `Human · vehicle ${v}`;
    return { vehicle: v, agent, label, order: agent >= 0 ? agent : n + v };
  });
  return rows.sort((a, b) => a.order - b.order).map(({ vehicle, agent, label }) => ({ vehicle, agent, label }));
}
