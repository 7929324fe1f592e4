/**
 * Constants every scenario shares, in a module of their own so that env.ts and the modules
 * it builds on (disturbances.ts) can both import them without an import cycle. env.ts
 * re-exports them: import them from there.
 */

/** Time step in s: one control step is one integration step (shared/specs/scenarios.md). */
export const DT = 0.1;

/** Vehicle length in m (every scenario). */
export const VEHICLE_LENGTH = 5;

export const VehicleKind = { human: 0, agent: 1, leader: 2 } as const;
