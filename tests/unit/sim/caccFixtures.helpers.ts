import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The golden CACC trajectories of the original NMARL environment (tests/fixtures/cacc, copied from the NMARL reference environment). */
export interface CaccFixture {
  file: string;
  scenario: 'cacc-catchup' | 'cacc-slowdown';
  init: { leadHeadway?: number; initialSpeed?: number };
  actions: number[][];
  headway: number[][];
  speed: number[][];
  accel: number[][];
  globalReward: number[];
  initialObservation: number[][];
}

export const FIXTURE_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/cacc');

export function loadCaccFixtures(): CaccFixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as Omit<CaccFixture, 'file'>) }));
}

/** 1e-9 relative, with a 1e-12 absolute floor for values that are zero up to rounding. */
export function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = 1e-9 * Math.max(Math.abs(actual), Math.abs(expected)) + 1e-12;
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`${what}: got ${actual}, expected ${expected}`);
  }
}
