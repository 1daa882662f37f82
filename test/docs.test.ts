// The project stands alone: its code and docs cite only documents inside the repository (docs/,
// the folder READMEs), every `docs/<name>.md` a source file cites exists, and every relative link
// in the Markdown resolves.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

const sources = files(root, /\.(ts|mjs|md|sql|json)$/).filter((f) => !f.endsWith('package-lock.json'));

describe('documentation', () => {
  it('nothing cites a design or domain document from outside the repository', () => {
    const outside = /\b(DESIGN|DOMAIN|STYLE)\.md\b|\bshared\//;
    const bad = sources.filter((f) => f !== import.meta.filename && outside.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(bad).toEqual([]);
  });

  it('every docs/<name>.md that code cites exists', () => {
    const missing: string[] = [];
    for (const f of sources.filter((s) => !s.endsWith('.md'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bdocs\/([a-z0-9-]+\.md)/g)) {
        const doc = `docs/${m[1]}`;
        if (!existsSync(join(root, doc))) missing.push(`${relative(root, f)} cites ${doc}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the rules, architecture and message contracts are documented, and relative links resolve', () => {
    for (const doc of ['docs/README.md', 'docs/rules.md', 'docs/architecture.md', 'docs/messages.md', 'docs/emulators.md', 'docs/result-finality.md', 'docs/day-missions.md', 'docs/bench.md']) expect(existsSync(join(root, doc)), doc).toBe(true);
    const broken: string[] = [];
    for (const f of sources.filter((s) => s.endsWith('.md'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
        const path = relative(root, resolve(dirname(f), target));
        if (!existsSync(join(root, path))) broken.push(`${relative(root, f)} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
