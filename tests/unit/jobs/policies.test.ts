/**
 * The human policy: automated vehicles that drive as the ring's IDM humans do (no noise),
 * clipped to the action range; refused on CACC, whose platoon has no human-driver model.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/shared/api.ts';
import { checkPolicy, makePolicy } from '../../../src/main/jobs/policies.ts';
import { humanAccel } from '../../../src/main/sim/idm.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { runCliInProcess } from '../cli/cli.helpers.ts';

describe('the human policy', () => {
  it("gives each automated vehicle the IDM acceleration behind the vehicle ahead, within the action range", () => {
    const env = createEnv('ring', { length: 260 }, 1).reset(4);
    const policy = makePolicy({ kind: 'human' }, env, 4);
    const out = new Float64Array(env.spec.nAgents);
    for (let t = 0; t < 300; t++) {
      policy(t, out);
      env.step(out);
    }
    policy(300, out);
    const { agentVehicle, nVehicles } = env.spec;
    agentVehicle.forEach((v, i) => {
      const a = humanAccel(env.speed[v], env.speed[(v + 1) % nVehicles], env.gap[v]);
      expect(out[i]).toBe(Math.min(1, Math.max(-1, a)));
    });
    expect(new Set(out).size).toBeGreaterThan(1);
  });

  it('is refused on CACC, by the app and by the CLI', async () => {
    const cacc = createEnv('cacc-catchup', {}, 1);
    expect(checkPolicy(parsePolicy('human')!, cacc.spec)).toMatchObject({ field: 'policy', message: expect.stringMatching(/^policy human: cacc-catchup's platoon has no human-driver model/) });
    expect(checkPolicy(parsePolicy('human')!, createEnv('figure-eight', {}, 1).spec)).toBeNull();
    const cli = await runCliInProcess(['simulate', '--scenario', 'cacc-slowdown', '--policy', 'human', '--out', '/tmp/never.csv']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/--policy human: cacc-slowdown's platoon has no human-driver model/);
  });
});
