import { describe, expect, it } from 'vitest';
import { Ltde } from '../../src/main/rl/learners/ltde.ts';
import { RoutingEnv } from '../../src/main/sim/routing.ts';
import { resolveLearnerConfig } from '../../src/shared/learners.ts';

describe('LTDE learning on Braess', () => {
  it('its default preset routes within 2% of the system optimum, below the user equilibrium, within 80 iterations (seed 1)', async () => {
    const env = new RoutingEnv({ network: 'braess' });
    const so = env.reference('so').tstt;
    const config = resolveLearnerConfig('ltde', 'network-routing', 'default');
    const ltde = new Ltde({ learner: 'ltde', scenario: 'network-routing', scenarioParams: { network: 'braess' }, config, seed: 1 });
    let tstt = ltde.steadyTstt();
    // Stop once there: docs/ltde.md measured seed 1 within 2% from iteration 12 (burnIn 0.2; 14 before), 1.007 after 100
    // (45 s at nice 5 on the shared 2-core machine at load about 20).
    for (let k = 1; k <= 80 && tstt > 1.02 * so; k++) tstt = (await ltde.iterate()).metrics['routing/steadyTstt'];
    expect(tstt).toBeLessThanOrEqual(1.02 * so);
    expect(tstt).toBeLessThan(env.reference('ue').tstt);
  }, 600_000);
});
