import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinNetwork } from '../../../../src/main/sim/network/builtin.ts';
import { loadNetwork } from '../../../../src/main/sim/network/index.ts';
import { buildNetwork, NetworkError } from '../../../../src/main/sim/network/roadNetwork.ts';
import { loadTntp, parseTntpLinks, parseTntpNodes, parseTntpTrips } from '../../../../src/main/sim/network/tntp.ts';

const FIXTURES = new URL('../../../fixtures/tntp/', import.meta.url).pathname;
const SIOUX_FALLS = join(FIXTURES, 'SiouxFalls_net.tntp');

const NET = `<NUMBER OF ZONES> 2
<NUMBER OF NODES> 3
<FIRST THRU NODE> 1
<NUMBER OF LINKS> 3
<END OF METADATA>

~ init term capacity length fftt b power ;
1 3 100 1 2 0.15 4 ;
3 2 100 1 2 0.15 4 ;
1 2 50 1 5 ;
`;
const TRIPS = `<NUMBER OF ZONES> 2
<END OF METADATA>
Origin 1
    1 : 0.0;  2 : 120.0;
Origin 2
    1 : 0;
`;

describe('TNTP parsing', () => {
  it('reads Sioux Falls: 24 nodes, 76 links, 360,600 trips, coordinates', () => {
    const network = loadTntp(SIOUX_FALLS);
    expect(network.name).toBe('SiouxFalls');
    expect(network.nodeCount).toBe(24);
    expect(network.linkCount).toBe(76);
    expect(network.odRate.reduce((sum, rate) => sum + rate, 0)).toBe(360_600);
    expect(network.destinations.length).toBe(24);
    expect(network.coordinates?.length).toBe(48);
    // Link 4 of the file: 2 -> 6, capacity 4958.180928, free-flow time 5.
    expect([network.linkFrom[3], network.linkTo[3], network.capacity[3], network.freeFlowTime[3], network.b[3], network.power[3]]).toEqual([1, 5, 4958.180928, 5, 0.15, 4]);
  });

  it('takes BPR b = 0.15 and power 4 where the file gives none, and skips zero demand', () => {
    const links = parseTntpLinks(NET, 'tiny_net.tntp');
    expect(links.links[2]).toEqual({ from: 0, to: 1, capacity: 50, length: 1, freeFlowTime: 5, b: 0.15, power: 4 });
    expect(parseTntpTrips(TRIPS, 'tiny_trips.tntp', 2)).toEqual([{ origin: 0, destination: 1, rate: 120 }]);
  });

  const badFiles: [string, string, RegExp][] = [
    ['a capacity that is no number', NET.replace('1 3 100', '1 3 abc'), /^tiny_net\.tntp line 8: capacity "abc" is not a number$/],
    ['a zero capacity', NET.replace('3 2 100', '3 2 0'), /^tiny_net\.tntp line 9: capacity 0 is not allowed; expected a positive number$/],
    ['an unknown node', NET.replace('3 2 100', '7 2 100'), /^tiny_net\.tntp line 9: init node 7 is not a node \(nodes are 1 to 3\)$/],
    ['a missing free-flow time', NET.replace('1 2 50 1 5 ;', '1 2 50 1 ;'), /^tiny_net\.tntp line 10: free-flow time is missing$/],
    ['a wrong link count', NET.replace('<NUMBER OF LINKS> 3', '<NUMBER OF LINKS> 4'), /^tiny_net\.tntp: <NUMBER OF LINKS> says 4 but the file has 3 link lines$/],
    ['no node count', NET.replace('<NUMBER OF NODES> 3\n', ''), /^tiny_net\.tntp: the metadata has no <NUMBER OF NODES>$/],
  ];
  for (const [what, text, message] of badFiles) {
    it(`refuses a network file with ${what}, naming the file and line`, () => {
      expect(() => parseTntpLinks(text, 'tiny_net.tntp')).toThrow(message);
    });
  }

  it('refuses bad trips and node files, naming the file and line', () => {
    expect(() => parseTntpTrips(TRIPS.replace('2 : 120.0', '2 : lots'), 'tiny_trips.tntp', 2)).toThrow(/^tiny_trips\.tntp line 4: rate to 2 "lots" is not a number$/);
    expect(() => parseTntpTrips(TRIPS.replace('2 : 120.0', '5 : 120.0'), 'tiny_trips.tntp', 2)).toThrow(/^tiny_trips\.tntp line 4: destination 5 is not a node \(nodes are 1 to 2\)$/);
    expect(() => parseTntpTrips(TRIPS.replace('2 : 120.0', '2 120'), 'tiny_trips.tntp', 2)).toThrow(/^tiny_trips\.tntp line 4: "2 120" is not a "destination : rate" entry$/);
    expect(() => parseTntpTrips('<END OF METADATA>\n 2 : 5;\n', 'tiny_trips.tntp', 2)).toThrow(/^tiny_trips\.tntp line 2: demand before the first "Origin" line$/);
    expect(() => parseTntpNodes('Node X Y ;\n1 0 0 ;\n2 1 ;\n', 'tiny_node.tntp', 2)).toThrow(/^tiny_node\.tntp line 3: y is missing$/);
    expect(() => parseTntpNodes('Node X Y ;\n1 0 0 ;\n', 'tiny_node.tntp', 2)).toThrow(/^tiny_node\.tntp: node 2 has no coordinates$/);
  });

  it('loads the trips beside the network file and names a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headway-tntp-'));
    writeFileSync(join(dir, 'tiny_net.tntp'), NET);
    expect(() => loadTntp(join(dir, 'tiny_net.tntp'))).toThrow(`${join(dir, 'tiny_trips.tntp')}: cannot read it (no such file)`);
    writeFileSync(join(dir, 'tiny_trips.tntp'), TRIPS);
    const network = loadNetwork(join(dir, 'tiny_net.tntp'));
    expect([network.nodeCount, network.linkCount, network.coordinates]).toEqual([3, 3, null]);
    expect(() => loadNetwork('nowhere')).toThrow('"nowhere" is not allowed; expected braess, grid-3x3, grid-5x5 or a TNTP file <name>_net.tntp');
  });

  it('refuses demand that no route serves', () => {
    const link = { capacity: 1, length: 1, freeFlowTime: 1, b: 0.15, power: 4 };
    const input = { name: 'oneway', nodeCount: 2, firstThruNode: 0, links: [{ from: 0, to: 1, ...link }], demand: [{ origin: 1, destination: 0, rate: 1 }], coordinates: null };
    expect(() => buildNetwork(input)).toThrow(new NetworkError('oneway: destination 1 cannot be reached from origin 2, which has demand to it'));
  });
});

describe('built-in networks', () => {
  it('grids are two-way with demand between their four corners', () => {
    const grid = builtinNetwork('grid-5x5');
    expect([grid.nodeCount, grid.linkCount, grid.odRate.length]).toEqual([25, 80, 12]);
    expect(Array.from(grid.destinations)).toEqual([0, 4, 20, 24]);
    const braess = builtinNetwork('braess');
    expect([braess.nodeCount, braess.linkCount]).toEqual([4, 5]);
  });
});
