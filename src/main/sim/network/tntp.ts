/**
 * Reads networks in TNTP format, the format of the transportation-network test problems
 * (github.com/bstabler/TransportationNetworks): `<name>_net.tntp` (links), `<name>_trips.tntp`
 * (demand by origin) and, optionally, `<name>_node.tntp` (coordinates), found beside it.
 * Every problem is reported as "FILE line N: what is wrong".
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BPR_B, BPR_POWER, buildNetwork, NetworkError, type DemandInput, type LinkInput, type RoadNetwork } from './roadNetwork.ts';

interface Line {
  number: number;
  text: string;
}

/** The metadata tags (<NAME> value) before <END OF METADATA>, and the lines after it without comments (~) and blanks. */
function splitTntp(text: string, file: string): { metadata: Map<string, Line>; body: Line[] } {
  const lines = text.split(/\r?\n/);
  const metadata = new Map<string, Line>();
  let k = 0;
  const hasMetadata = lines.some((line) => line.trim().toUpperCase().startsWith('<END OF METADATA>'));
  if (hasMetadata) {
    for (; k < lines.length; k++) {
      const match = /^\s*<([^>]+)>\s*(.*)$/.exec(lines[k]);
      if (!match) continue;
      const tag = match[1].trim().toUpperCase();
      if (tag === 'END OF METADATA') {
        k++;
        break;
      }
      metadata.set(tag, { number: k + 1, text: match[2].trim() });
    }
  }
  const body: Line[] = [];
  for (; k < lines.length; k++) {
    const text = lines[k].trim();
    if (text !== '' && !text.startsWith('~')) body.push({ number: k + 1, text });
  }
  if (body.length === 0) throw new NetworkError(`${file}: no data after the metadata`);
  return { metadata, body };
}

function integerTag(metadata: Map<string, Line>, tag: string, file: string, required: boolean): number | null {
  const line = metadata.get(tag);
  if (!line) {
    if (required) throw new NetworkError(`${file}: the metadata has no <${tag}>`);
    return null;
  }
  const value = Number(line.text.split(/\s+/)[0]);
  if (!Number.isInteger(value) || value < 0) throw new NetworkError(`${file} line ${line.number}: <${tag}> ${JSON.stringify(line.text)} is not a whole number`);
  return value;
}

function numberField(line: Line, file: string, field: string, raw: string | undefined): number {
  const value = raw === undefined ? NaN : Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(value)) {
    throw new NetworkError(`${file} line ${line.number}: ${field} ${raw === undefined ? 'is missing' : `${JSON.stringify(raw)} is not a number`}`);
  }
  return value;
}

function nodeField(line: Line, file: string, field: string, raw: string | undefined, nodeCount: number): number {
  const value = numberField(line, file, field, raw);
  if (!Number.isInteger(value) || value < 1 || value > nodeCount) throw new NetworkError(`${file} line ${line.number}: ${field} ${raw} is not a node (nodes are 1 to ${nodeCount})`);
  return value - 1;
}

export interface TntpLinks {
  nodeCount: number;
  zoneCount: number;
  /** 0-based index of the first node traffic may pass through. */
  firstThruNode: number;
  links: LinkInput[];
}

/** Parses a `_net.tntp` text: columns init node, term node, capacity, length, free-flow time, b, power (b, power default to BPR's 0.15 and 4). */
export function parseTntpLinks(text: string, file: string): TntpLinks {
  const { metadata, body } = splitTntp(text, file);
  const nodeCount = integerTag(metadata, 'NUMBER OF NODES', file, true)!;
  const linkCount = integerTag(metadata, 'NUMBER OF LINKS', file, true)!;
  const zoneCount = integerTag(metadata, 'NUMBER OF ZONES', file, false) ?? nodeCount;
  const firstThru = integerTag(metadata, 'FIRST THRU NODE', file, false) ?? 1;
  const links = body.map((line): LinkInput => {
    const fields = line.text.replace(/;\s*$/, '').trim().split(/\s+/);
    const field = (k: number, name: string) => numberField(line, file, name, fields[k]);
    const link = {
      from: nodeField(line, file, 'init node', fields[0], nodeCount),
      to: nodeField(line, file, 'term node', fields[1], nodeCount),
      capacity: field(2, 'capacity'),
      length: field(3, 'length'),
      freeFlowTime: field(4, 'free-flow time'),
      b: fields.length > 5 ? field(5, 'b') : BPR_B,
      power: fields.length > 6 ? field(6, 'power') : BPR_POWER,
    };
    const bad = (what: string, value: number, allowed: string) => new NetworkError(`${file} line ${line.number}: ${what} ${value} is not allowed; expected ${allowed}`);
    if (!(link.capacity > 0)) throw bad('capacity', link.capacity, 'a positive number');
    if (!(link.freeFlowTime > 0)) throw bad('free-flow time', link.freeFlowTime, 'a positive number');
    if (link.length < 0) throw bad('length', link.length, 'a number >= 0');
    if (link.b < 0) throw bad('b', link.b, 'a number >= 0');
    if (link.power < 1) throw bad('power', link.power, 'a number >= 1');
    if (link.from === link.to) throw new NetworkError(`${file} line ${line.number}: init node and term node are both ${link.from + 1}; a link must join two different nodes`);
    return link;
  });
  if (links.length !== linkCount) throw new NetworkError(`${file}: <NUMBER OF LINKS> says ${linkCount} but the file has ${links.length} link lines`);
  return { nodeCount, zoneCount, firstThruNode: firstThru - 1, links };
}

/** Parses a `_trips.tntp` text: "Origin o" lines, each followed by "d : rate;" entries (vehicles per hour). */
export function parseTntpTrips(text: string, file: string, zoneCount: number): DemandInput[] {
  const { body } = splitTntp(text, file);
  const demand: DemandInput[] = [];
  let origin = -1;
  for (const line of body) {
    const header = /^origin\s+(\S+)/i.exec(line.text);
    if (header) {
      origin = nodeField(line, file, 'origin', header[1], zoneCount);
      continue;
    }
    if (origin < 0) throw new NetworkError(`${file} line ${line.number}: demand before the first "Origin" line`);
    for (const entry of line.text.split(';')) {
      if (entry.trim() === '') continue;
      const match = /^\s*(\S+)\s*:\s*(\S+)\s*$/.exec(entry);
      if (!match) throw new NetworkError(`${file} line ${line.number}: ${JSON.stringify(entry.trim())} is not a "destination : rate" entry`);
      const destination = nodeField(line, file, 'destination', match[1], zoneCount);
      const rate = numberField(line, file, `rate to ${match[1]}`, match[2]);
      if (rate < 0) throw new NetworkError(`${file} line ${line.number}: rate to ${match[1]} is ${rate}; expected a number >= 0`);
      if (rate > 0 && destination === origin) throw new NetworkError(`${file} line ${line.number}: demand ${rate} from zone ${origin + 1} to itself; expected 0`);
      if (rate > 0) demand.push({ origin, destination, rate });
    }
  }
  return demand;
}

/** Parses a `_node.tntp` text: "node x y" rows (a header line is skipped); every node needs coordinates. */
export function parseTntpNodes(text: string, file: string, nodeCount: number): Float64Array {
  const lines = text.split(/\r?\n/).map((text, k) => ({ number: k + 1, text: text.replace(/;\s*$/, '').trim() }));
  const coordinates = new Float64Array(2 * nodeCount).fill(NaN);
  for (const line of lines) {
    if (line.text === '' || /^[A-Za-z~<]/.test(line.text)) continue;
    const fields = line.text.split(/\s+/);
    const node = nodeField(line, file, 'node', fields[0], nodeCount);
    coordinates[2 * node] = numberField(line, file, 'x', fields[1]);
    coordinates[2 * node + 1] = numberField(line, file, 'y', fields[2]);
  }
  const missing = coordinates.findIndex((value) => Number.isNaN(value));
  if (missing >= 0) throw new NetworkError(`${file}: node ${(missing >> 1) + 1} has no coordinates`);
  return coordinates;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new NetworkError(`${path}: cannot read it (${reason})`);
  }
}

/** Loads `<name>_net.tntp` with `<name>_trips.tntp` (required) and `<name>_node.tntp` (optional) from beside it. */
export function loadTntp(netPath: string): RoadNetwork {
  if (!netPath.endsWith('_net.tntp')) throw new NetworkError(`${netPath}: expected a TNTP network file named <name>_net.tntp (its trips file <name>_trips.tntp beside it)`);
  const prefix = netPath.slice(0, -'_net.tntp'.length);
  const tripsPath = `${prefix}_trips.tntp`;
  const nodePath = `${prefix}_node.tntp`;
  const links = parseTntpLinks(readText(netPath), netPath);
  const demand = parseTntpTrips(readText(tripsPath), tripsPath, links.zoneCount);
  const coordinates = existsSync(nodePath) ? parseTntpNodes(readText(nodePath), nodePath, links.nodeCount) : null;
  return buildNetwork({ name: basename(prefix), nodeCount: links.nodeCount, firstThruNode: links.firstThruNode, links: links.links, demand, coordinates });
}
