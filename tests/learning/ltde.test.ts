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
    // Stop once there: docs/ltde.md measured seed 1 within 2% from iteration 14 (1.019 x SO), 1.0125 after 80
    // (14 iterations: 37 s at nice 10 on the shared 2-core machine at load 9).
    for (let k = 1; k <= 80 && tstt > 1.02 * so; k++) tstt = (await ltde.iterate()).metrics['routing/steadyTstt'];
    expect(tstt).toBeLessThanOrEqual(1.02 * so);
    expect(tstt).toBeLessThan(env.reference('ue').tstt);
  }, 600_000);
});
