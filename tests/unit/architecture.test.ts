/**
 * The layout's rules, checked on the source itself: no import cycles; the simulator and the
 * learners import nothing of Electron, Vue, the store or the api backend; and no file refers
 * to a path outside the repository (a clone alone must build, test and run).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(folder: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'out' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (pattern.test(name)) found.push(path);
    }
  };
  walk(join(ROOT, folder));
  return found;
}

const SOURCE = /\.(ts|mts|mjs|vue)$/;
/** Every import or re-export specifier of a file, type-only ones included. */
const importsOf = (text: string): string[] => [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);

describe('architecture', () => {
  const sources = filesUnder('src', SOURCE);

  it('has no import cycle in src/', () => {
    const graph = new Map<string, string[]>();
    for (const file of sources) {
      const local = importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(dirname(file), spec));
      graph.set(file, local.filter((target) => sources.includes(target)));
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(ROOT, f)).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of sources) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('keeps the simulator and the learners free of Electron, Vue, the store and the api backend', () => {
    const forbidden = /^(electron|vue|pinia|better-sqlite3)$|\/(store|services|jobs|app|renderer|server|cli)\//;
    const offences = [...filesUnder('src/main/sim', SOURCE), ...filesUnder('src/main/rl', SOURCE)].flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => forbidden.test(spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) + '/' : spec))
        .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
    );
    expect(offences).toEqual([]);
  });

  it('refers to no path outside the repository', () => {
    const files = ['src', 'tests', 'bench', 'bin', '.ci'].flatMap((folder) => filesUnder(folder, /\.(ts|mts|mjs|js|vue|json|sh)$|^run$/));
    const outside = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/['"`]((?:\.\.\/)+[^'"`$]*)['"`]/g)]
        .map((m) => m[1])
        .filter((path) => relative(ROOT, resolve(dirname(file), path)).startsWith('..'))
        .map((path) => `${relative(ROOT, file)}: ${path}`),
    );
    expect(outside).toEqual([]);
  });
});
