/** The road-network view's geometry, colours and a clicked node's team, on Braess as the simulator routes it. */
import { describe, expect, it } from 'vitest';
import { captureFrame } from '../../../src/main/jobs/frames.ts';
import { createEnv } from '../../../src/main/sim/index.ts';
import { sceneOf } from '../../../src/main/sim/scene.ts';
import type { NetworkScene } from '../../../src/shared/scene.ts';
import { inspectNode } from '../../../src/renderer/inspect/networkNode.ts';
import { linkPaths, linkWidth, placeNodes, vcColour } from '../../../src/renderer/scene/networkDrawing.ts';

function braessFrame(policy: string, steps: number) {
  const env = createEnv('network-routing', { network: 'braess', policy }, 1);
  env.reset(0);
  for (let t = 0; t < steps; t++) env.step(new Float64Array(env.spec.nAgents));
  return { scene: sceneOf(env) as NetworkScene, frame: captureFrame(env, 'sim-1', 0, 0, 0) };
}

describe('network drawing', () => {
  it('places the nodes inside the box with y up, and offsets the two directions of a road to either side', () => {
    const { scene } = braessFrame('ue', 0);
    const nodes = placeNodes(scene, 800, 600);
    for (const { x, y } of nodes) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(800);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(600);
    }
    // Node 3 (1, 1) is drawn above node 4 (1, -1).
    expect(nodes[2].y).toBeLessThan(nodes[3].y);
    const twoWay = { ...scene, linkFrom: [0, 1], linkTo: [1, 0] };
    const [there, back] = linkPaths(twoWay, nodes);
    expect(Math.abs(there.y1 - back.y2)).toBeGreaterThan(5);
  });

  it('colours free, congested and overloaded links apart and widens with flow', () => {
    expect(vcColour(0)).toBe('rgb(70, 82, 96)');
    expect(new Set([vcColour(0.1), vcColour(0.6), vcColour(1), vcColour(3)]).size).toBe(4);
    expect(vcColour(3)).toBe(vcColour(2));
    expect(linkWidth(10, 10)).toBeGreaterThan(linkWidth(5, 10));
    expect(linkWidth(0, 0)).toBeGreaterThan(0);
  });
});

describe('a clicked node', () => {
  it('shows its mass per destination and the user-equilibrium splits of Braess at the origin (two thirds first to node 3)', () => {
    const { scene, frame } = braessFrame('ue', 10);
    const origin = inspectNode(scene, frame.state, frame.value, 0);
    expect(origin.links.map((link) => link.to)).toEqual([2, 3]);
    expect(origin.classes.map((row) => row.destination)).toEqual([1]);
    // UE: 2 vehicles on each of 3 routes, two of them (1-3-2, 1-3-4-2) start on 1 -> 3.
    expect(origin.classes[0].split[0]).toBeCloseTo(2 / 3, 3);
    expect(origin.classes[0].split[1]).toBeCloseTo(1 / 3, 3);
    expect(origin.hasValues).toBe(false);
    // The destination has no class passing it.
    expect(inspectNode(scene, frame.state, frame.value, 1).classes).toEqual([]);
  });

  it("shows the critic's value of each routing choice when the frame carries the agents' values", () => {
    const { scene, frame } = braessFrame('agents', 3);
    const values = Float64Array.from(scene.agentClass, (_, agent) => -agent);
    const origin = inspectNode(scene, frame.state, values, 0);
    expect(origin.hasValues).toBe(true);
    const agents = origin.links.map((link) => scene.agentLink.findIndex((l, agent) => l === link.link && scene.agentClass[agent] === 0));
    expect(origin.classes[0].value).toEqual(agents.map((agent) => -agent));
  });
});
