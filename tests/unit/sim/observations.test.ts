/** Observation fields in physical units: every field of every scenario preset has one, and it matches the simulator's state. */
import { describe, expect, it } from 'vitest';
import { createEnv } from '../../../src/main/sim/index.ts';
import { observationUnit, physicalObservation, SCENARIO_IDS, SCENARIOS } from '../../../src/shared/scenarios.ts';

describe('observation units', () => {
  it('cover every observation field of every scenario and preset', () => {
    for (const scenario of SCENARIO_IDS) {
      for (const preset of [undefined, ...Object.keys(SCENARIOS[scenario].presets)]) {
        if (preset === 'uncontrolled') continue;
        const presetParam = SCENARIOS[scenario].params.some((spec) => spec.name === 'preset');
        const env = createEnv(scenario, presetParam && preset && preset !== 'dmpo' ? { preset } : {}, 1);
        for (const name of env.spec.obsNames) expect(observationUnit(name), `${scenario} ${preset ?? ''}: ${name}`).not.toBeNull();
      }
    }
  });

  it('turn the policy inputs back into the state they describe', () => {
    const ring = createEnv('ring', { length: 250 }, 1);
    ring.reset(3);
    ring.step(new Float64Array(ring.spec.nAgents).fill(0.5));
    const [speedName, positionName] = ring.spec.obsNames;
    const agent = 4;
    const vehicle = ring.spec.agentVehicle[agent];
    expect(physicalObservation(speedName, ring.obs[agent * 2], 250)).toBeCloseTo(ring.speed[vehicle], 9);
    expect(physicalObservation(positionName, ring.obs[agent * 2 + 1], 250)).toBeCloseTo(ring.position[vehicle] % 250, 6);
    expect(physicalObservation(positionName, 0.5, null)).toBeNull();

    const cacc = createEnv('cacc-catchup', {}, 1);
    cacc.reset(5);
    const first = cacc.spec.agentVehicle[0];
    expect(physicalObservation(cacc.spec.obsNames[0], cacc.obs[0], null)).toBeCloseTo(cacc.speed[first] - 15, 9);
  });
});
