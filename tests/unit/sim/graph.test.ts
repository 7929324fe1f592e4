import { describe, expect, it } from 'vitest';
import { AgentGraph, NeighbourhoodGather } from '../../../src/main/sim/graph.ts';

describe('agent graph', () => {
  it('orders a chain neighbourhood self first, then by distance, then by index', () => {
    const chain = AgentGraph.chain(8);
    expect(chain.neighbourhood(0, 1)).toEqual([0, 1]);
    expect(chain.neighbourhood(3, 1)).toEqual([3, 2, 4]);
    expect(chain.neighbourhood(3, 2)).toEqual([3, 2, 4, 1, 5]);
    expect(chain.neighbourhood(7, 2)).toEqual([7, 6, 5]);
    expect(chain.maxNeighbourhoodSize(2)).toBe(5);
  });

  it('wraps a cycle', () => {
    const ring = AgentGraph.cycle(22);
    expect(ring.neighbourhood(0, 1)).toEqual([0, 1, 21]);
    expect(ring.neighbourhood(0, 3)).toEqual([0, 1, 21, 2, 20, 3, 19]);
    expect(ring.neighbourhood(21, 1)).toEqual([21, 0, 20]);
    expect(ring.distance[0 * 22 + 11]).toBe(11);
    // kappa = n covers everyone (CPPO's critic).
    expect(ring.neighbourhood(5, 22)).toHaveLength(22);
  });

  it('rejects bad edges', () => {
    expect(() => new AgentGraph(3, [[0, 3]])).toThrow(/bad edge/);
    expect(() => new AgentGraph(3, [[1, 1]])).toThrow(/bad edge/);
  });
});

describe('neighbourhood gather', () => {
  it('gathers neighbour observations with zero padding and a mask at chain ends', () => {
    const gather = new NeighbourhoodGather(AgentGraph.chain(4), 1);
    expect(gather.width).toBe(3);
    expect(Array.from(gather.index)).toEqual([0, 1, -1, 1, 0, 2, 2, 1, 3, 3, 2, -1]);
    expect(Array.from(gather.mask)).toEqual([1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    // Two envs, obs value = 100*env + 10*agent + dim.
    const obsDim = 2;
    const obs = new Float64Array(2 * 4 * obsDim).map((_, k) => 100 * Math.floor(k / 8) + 10 * Math.floor((k % 8) / 2) + (k % 2));
    const out = new Float32Array(2 * 4 * 3 * obsDim).fill(-1);
    gather.gather(obs, obsDim, 2, out);
    const row = (e: number, i: number) => Array.from(out.subarray((e * 4 + i) * 6, (e * 4 + i + 1) * 6));
    expect(row(0, 0)).toEqual([0, 1, 10, 11, 0, 0]);
    expect(row(0, 2)).toEqual([20, 21, 10, 11, 30, 31]);
    expect(row(1, 3)).toEqual([130, 131, 120, 121, 0, 0]);
  });

  it('gathers on a ring with kappa 3 in distance order', () => {
    const gather = new NeighbourhoodGather(AgentGraph.cycle(22), 3);
    expect(gather.width).toBe(7);
    const obs = Float64Array.from({ length: 22 }, (_, i) => i);
    const out = new Float64Array(22 * 7);
    gather.gather(obs, 1, 1, out);
    expect(Array.from(out.subarray(0, 7))).toEqual([0, 1, 21, 2, 20, 3, 19]);
    expect(Array.from(gather.mask.subarray(0, 7))).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses a too small output buffer', () => {
    const gather = new NeighbourhoodGather(AgentGraph.chain(3), 1);
    expect(() => gather.gather(new Float64Array(3), 1, 1, new Float32Array(5))).toThrow(/needs 9/);
  });
});

describe('agent-major gather', () => {
  it('writes agent i of copy e to row i * rowsPerAgent + firstRow + e', () => {
    const gather = new NeighbourhoodGather(AgentGraph.chain(3), 1);
    const obs = Float64Array.from({ length: 2 * 3 }, (_, k) => 10 * Math.floor(k / 3) + (k % 3)); // [2 envs, 3 agents, 1]
    const rowsPerAgent = 5;
    const out = new Float32Array(3 * rowsPerAgent * gather.width).fill(-1);
    gather.gatherAgentMajor(obs, 1, 2, out, rowsPerAgent, 2);
    const row = (r: number) => Array.from(out.subarray(r * 3, r * 3 + 3));
    expect(row(0 * 5 + 2)).toEqual([0, 1, 0]);
    expect(row(0 * 5 + 3)).toEqual([10, 11, 0]);
    expect(row(1 * 5 + 3)).toEqual([11, 10, 12]);
    expect(row(2 * 5 + 2)).toEqual([2, 1, 0]);
    expect(row(0)).toEqual([-1, -1, -1]);
  });
});
