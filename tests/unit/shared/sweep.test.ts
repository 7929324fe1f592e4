import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sweepCells, validateSweep } from '../../../src/shared/sweep.ts';

const REPORT = fileURLToPath(new URL('../../../docs/learning-report', import.meta.url));

describe('a sweep grid with learners of some scenarios only', () => {
  it('leaves out the pairs a learner does not train on, and checks settings on the pairs it keeps', () => {
    const checked = validateSweep({ name: 'mixed', scenarios: ['ring', 'network-routing'], learners: ['dppo', 'ltde'], seeds: [1], set: { gamma: 0.9 } });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    expect(sweepCells(checked.sweep).map((cell) => cell.key)).toEqual(['ring/dppo/1/default', 'network-routing/dppo/1/default', 'network-routing/ltde/1/default']);
  });

  it('refuses a grid with no pair at all, naming the learners and scenarios', () => {
    const checked = validateSweep({ name: 'none', scenarios: ['ring'], learners: ['ltde', 'dadc'], seeds: [1] });
    expect(checked).toEqual({ ok: false, errors: [{ field: 'learners', message: 'no learner of [ltde, dadc] trains on a scenario of [ring]' }] });
  });
});

describe("the learning report's paper-scale sweep files", () => {
  it('are valid sweeps, and the parts never repeat a cell of one another, each inside the whole grid', () => {
    const cellsOf = (file: string) => {
      const checked = validateSweep(JSON.parse(readFileSync(file, 'utf8')));
      if (!checked.ok) throw new Error(`${file}: ${JSON.stringify(checked.errors)}`);
      return sweepCells(checked.sweep).map((cell) => cell.key);
    };
    const grid = new Set(cellsOf(join(REPORT, 'paper-scale.json')));
    expect(grid.size).toBe(96);
    const parts = readdirSync(join(REPORT, 'paper-scale', 'parts')).flatMap((file) => cellsOf(join(REPORT, 'paper-scale', 'parts', file)));
    expect(new Set(parts).size).toBe(parts.length);
    expect(parts.filter((cell) => !grid.has(cell))).toEqual([]);
  });
});
