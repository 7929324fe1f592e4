import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assign } from '../../../../src/main/sim/network/assignment.ts';
import { builtinNetwork } from '../../../../src/main/sim/network/builtin.ts';
import { loadTntp } from '../../../../src/main/sim/network/tntp.ts';

const FIXTURES = new URL('../../../fixtures/tntp/', import.meta.url).pathname;

describe('traffic assignment (conjugate Frank-Wolfe)', () => {
  const braess = builtinNetwork('braess');

  it('finds the Braess user equilibrium in closed form: 2 vehicles per route, each route costing 92', () => {
    const ue = assign(braess, { objective: 'ue', targetGap: 1e-10 });
    // Links 1->3, 1->4, 3->2, 3->4 (the bridge), 4->2.
    Array.from(ue.flows).forEach((flow, a) => expect(flow).toBeCloseTo([4, 2, 2, 2, 4][a], 6));
    expect(ue.times[0] + ue.times[2]).toBeCloseTo(92, 5);
    expect(ue.times[0] + ue.times[3] + ue.times[4]).toBeCloseTo(92, 5);
    expect(ue.tstt).toBeCloseTo(552, 5);
    expect(ue.relativeGap).toBeLessThan(1e-4);
  });

  it('finds the Braess system optimum: the bridge stays empty, TSTT 498', () => {
    const so = assign(braess, { objective: 'so', targetGap: 1e-10 });
    Array.from(so.flows).forEach((flow, a) => expect(flow).toBeCloseTo([3, 3, 3, 0, 3][a], 6));
    expect(so.tstt).toBeCloseTo(498, 5);
  });

  for (const name of ['grid-3x3', 'grid-5x5'] as const) {
    it(`reaches a relative gap under 1e-4 on ${name}, the system optimum below the equilibrium`, () => {
      const network = builtinNetwork(name);
      const ue = assign(network, { objective: 'ue', targetGap: 5e-5 });
      const so = assign(network, { objective: 'so', targetGap: 5e-5 });
      expect(ue.relativeGap).toBeLessThan(1e-4);
      expect(so.relativeGap).toBeLessThan(1e-4);
      expect(so.tstt).toBeLessThan(ue.tstt);
      // Flow is conserved: corner 0 sends as much as it receives (3 x 1000 vehicles per hour each way).
      const out = (s: number, flows: Float64Array) => Array.from(network.linkFrom).reduce((sum, from, a) => sum + (from === s ? flows[a] : 0), 0);
      const into = (s: number, flows: Float64Array) => Array.from(network.linkTo).reduce((sum, to, a) => sum + (to === s ? flows[a] : 0), 0);
      for (const flows of [ue.flows, so.flows]) expect(out(0, flows) - into(0, flows)).toBeCloseTo(0, 6);
      const destinationFlowsSum = new Float64Array(network.linkCount);
      ue.destinationFlows.forEach((flow, i) => (destinationFlowsSum[i % network.linkCount] += flow));
      destinationFlowsSum.forEach((flow, a) => expect(flow).toBeCloseTo(ue.flows[a], 9));
    });
  }

  it('matches the published Sioux Falls user equilibrium (TSTT 7,480,225)', () => {
    const network = loadTntp(`${FIXTURES}SiouxFalls_net.tntp`);
    const ue = assign(network, { objective: 'ue', targetGap: 1e-5 });
    expect(ue.relativeGap).toBeLessThan(1e-5);
    const published = readFileSync(`${FIXTURES}SiouxFalls_flow.tntp`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/).map(Number))
      .filter((fields) => fields.length >= 4);
    const publishedTstt = published.reduce((sum, [, , volume, cost]) => sum + volume * cost, 0);
    expect(publishedTstt).toBeCloseTo(7_480_225.34, 1);
    expect(Math.abs(ue.tstt / publishedTstt - 1)).toBeLessThan(1e-4);
    // Link flows within 1% of the best known solution's largest flow.
    const largest = Math.max(...published.map(([, , volume]) => volume));
    published.forEach(([from, to, volume]) => {
      const a = Array.from(network.linkFrom).findIndex((s, k) => s === from - 1 && network.linkTo[k] === to - 1);
      expect(Math.abs(ue.flows[a] - volume)).toBeLessThan(0.01 * largest);
    });
  });
});
