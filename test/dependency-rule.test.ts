// Proves the dependency rule of docs/architecture.md by reading every import in the tree: each
// folder imports only the folders below it (relative imports) and only the packages it is allowed
// (bare imports). The pure core and the pipeline import no package and no node:* module; the
// memory backend no Google client; the backend-neutral checkers no backend; code that ships
// imports only the package's `dependencies`; every relative import resolves to a file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

type Packages = 'none' | 'node-only' | 'declared';

interface Rule {
  /** Project folders (or files) this folder may import from; its own folder is always allowed. */
  readonly may: readonly string[];
  /** none: no bare import at all; node-only: node:* only; declared: node:* and packages of package.json. */
  readonly packages: Packages;
  /** Packages refused even where `declared` allows packages. */
  readonly forbidPackages?: readonly string[];
  /** Modules allowed whatever `packages` says: k6's built-in modules, which exist only inside k6. */
  readonly allowModules?: readonly string[];
}

/** Every top-level source folder and its allowed edges, from the bottom up. The order is the layering. */
export const RULES: Readonly<Record<string, Rule>> = {
  core: { may: [], packages: 'none' },
  pipeline: { may: ['core'], packages: 'none' },
  'backends/memory': { may: ['core', 'pipeline'], packages: 'node-only' },
  'backends/google': { may: ['core', 'pipeline'], packages: 'declared' },
  'backends/contract': { may: ['core'], packages: 'declared' },
  cmdline: { may: [], packages: 'none' },
  emulators: { may: ['core', 'pipeline', 'backends'], packages: 'declared' },
  reports: { may: ['core'], packages: 'declared' },
  // The notification gateway: the core and packages only; a backend reaches it as ports the CLI opens.
  gateway: { may: ['core'], packages: 'declared' },
  scenarios: { may: ['core', 'pipeline', 'backends', 'reports', 'cmdline'], packages: 'declared' },
  sim: { may: ['core', 'pipeline', 'backends', 'emulators', 'scenarios', 'reports', 'gateway'], packages: 'declared' },
  // The load drivers: the gateway they load (tokens, the bet ids), the backend opener of the
  // runners (sim/open-backend.ts), reports' histograms, and the command-line parser's usage
  // errors; never the CLI.
  loadtests: { may: ['core', 'pipeline', 'backends', 'scenarios', 'reports', 'gateway', 'cmdline', 'sim'], packages: 'declared' },
  // k6 scripts run inside k6, not Node: k6's own modules only, and nothing outside their folder.
  'loadtests/k6': { may: [], packages: 'none', allowModules: ['k6', 'k6/http', 'k6/metrics', 'k6/options', 'k6/timers', 'k6/websockets'] },
  // The capacity planner: fits service times from run records and runs the pipeline in virtual
  // time on the memory backend with them; never the gateway's server or the CLI.
  planner: { may: ['core', 'pipeline', 'backends', 'emulators', 'scenarios', 'sim', 'reports', 'cmdline'], packages: 'declared' },
  // Reliability under real faults: worker processes, Toxiproxy, the chaos runs and the input fuzzers.
  chaos: { may: ['core', 'pipeline', 'backends', 'emulators', 'scenarios', 'sim', 'reports', 'cmdline', 'gateway', 'loadtests'], packages: 'declared' },
  bench: { may: ['core', 'pipeline', 'backends', 'emulators', 'scenarios', 'sim', 'reports', 'cmdline', 'gateway', 'loadtests', 'planner', 'chaos'], packages: 'declared' },
  cli: { may: ['core', 'pipeline', 'backends', 'emulators', 'scenarios', 'sim', 'reports', 'bench', 'loadtests', 'cmdline', 'gateway', 'planner', 'chaos'], packages: 'declared' },
  bin: { may: ['cli'], packages: 'declared' },
  test: { may: [], packages: 'declared' },
};

/** Files stricter than their folder. */
export const FILE_RULES: Readonly<Record<string, Rule>> = {
  // The checkers read any backend through ports and a bus view: they must not know one backend.
  'sim/checkers.ts': { may: ['core', 'pipeline', 'sim/expected.ts', 'sim/check-missions.ts'], packages: 'none' },
  'sim/check-missions.ts': { may: ['core', 'pipeline', 'sim/expected.ts'], packages: 'none' },
};

/** Google's clients belong to backends/google (and the emulator tooling that provisions them). */
const GOOGLE_PACKAGES = ['@google-cloud/spanner', '@google-cloud/pubsub', 'google-gax', 'google-auth-library'];

/** Test support: tests and the helpers only tests use may import devDependencies (vitest) and any declared package. */
const isTestSupport = (file: string): boolean =>
  file.endsWith('.test.ts') || file.startsWith('backends/contract/') || file.includes('/_fixtures/') || file.endsWith('/_fixtures.ts') || file.includes('/fixtures/') || /^emulators\/(test-support|spanner-testing)\.ts$/.test(file);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|mjs|js)$/.test(p)) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push((m[1] ?? m[2] ?? m[3]) as string);
  return found;
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** The most specific rule for a file: a file rule, else its sub-folder (backends/x), else its top folder. */
function ruleOf(file: string): { owner: string; rule: Rule } | undefined {
  if (FILE_RULES[file] !== undefined) return { owner: file, rule: FILE_RULES[file] };
  const parts = file.split('/');
  const sub = parts.slice(0, 2).join('/');
  if (parts.length > 2 && RULES[sub] !== undefined) return { owner: sub, rule: RULES[sub] };
  return RULES[parts[0] as string] === undefined ? undefined : { owner: parts[0] as string, rule: RULES[parts[0] as string] as Rule };
}

const within = (target: string, folder: string): boolean => target === folder || target.startsWith(`${folder}/`);

/** Every broken edge of one file (relative path from the root) given its source text. */
export function violationsOf(file: string, text: string): string[] {
  const found = ruleOf(file);
  if (found === undefined) return [`${file}: no dependency rule covers this folder (add it to RULES)`];
  const { owner, rule } = found;
  // A file rule lists everything the file may import: its own folder is not implied.
  const folder = owner.endsWith('.ts') ? undefined : owner;
  const test = isTestSupport(file);
  const bad: string[] = [];
  for (const spec of importsOf(text)) {
    const where = `${file} imports "${spec}"`;
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(root, dirname(file), spec));
      if (!existsSync(join(root, target))) bad.push(`${where}: no such file`);
      // Tests wire layers together (a pipeline test on the memory backend); only the core's tests stay pure.
      if (test && owner !== 'core') continue;
      const allowed = (folder !== undefined && within(target, folder)) || rule.may.some((m) => within(target, m));
      if (!allowed) bad.push(`${where}: ${owner} may import only ${[...(folder === undefined ? [] : [folder]), ...rule.may].join(', ')}`);
      continue;
    }
    if ((rule.allowModules ?? []).includes(spec)) continue;
    const isNode = spec.startsWith('node:');
    const name = packageOf(spec);
    if (rule.packages === 'none' && !(test && (name === 'vitest' || name === 'fast-check'))) {
      bad.push(`${where}: ${owner} imports no package or node:* module`);
    } else if (rule.packages === 'node-only' && !isNode && !(test && (pkg.devDependencies[name] ?? pkg.dependencies[name]) !== undefined)) {
      bad.push(`${where}: ${owner} imports node:* modules only`);
    } else if (!isNode && pkg.dependencies[name] === undefined && !(test && pkg.devDependencies[name] !== undefined)) {
      bad.push(`${where}: "${name}" is not in package.json ${test ? 'dependencies or devDependencies' : 'dependencies'}`);
    }
    if (GOOGLE_PACKAGES.includes(name) && !['backends/google', 'emulators'].includes(owner)) bad.push(`${where}: Google clients are used only in backends/google and emulators`);
    if ((rule.forbidPackages ?? []).includes(name)) bad.push(`${where}: forbidden in ${owner}`);
  }
  return bad;
}

function allViolations(): string[] {
  const bad: string[] = [];
  for (const top of readdirSync(root)) {
    if (top === 'node_modules' || top.startsWith('.') || !statSync(join(root, top)).isDirectory()) continue;
    for (const abs of sourceFiles(join(root, top))) {
      const file = relative(root, abs);
      bad.push(...violationsOf(file, readFileSync(abs, 'utf8')));
    }
  }
  return bad;
}

describe('dependency rule', () => {
  it('every folder imports only the folders and packages its layer allows', () => {
    expect(allViolations()).toEqual([]);
  });

  it('the checker catches forbidden edges and packages (self-test on synthetic files)', () => {
    expect(violationsOf('core/x.ts', "import { readFileSync } from 'node:fs';")).toEqual(['core/x.ts imports "node:fs": core imports no package or node:* module']);
    expect(violationsOf('pipeline/x.ts', "import { z } from 'zod';")).toHaveLength(1);
    expect(violationsOf('pipeline/x.ts', "import { bus } from '../backends/memory/index.ts';")).toEqual([
      'pipeline/x.ts imports "../backends/memory/index.ts": pipeline may import only pipeline, core',
    ]);
    expect(violationsOf('backends/memory/x.ts', "import { Spanner } from '@google-cloud/spanner';")).toHaveLength(2);
    expect(violationsOf('backends/google/x.ts', "import { ensureEmulators } from '../../emulators/index.ts';")).toHaveLength(1);
    expect(violationsOf('bench/x.ts', "import { parseArgs } from '../cli/args.ts';")).toHaveLength(1);
    expect(violationsOf('sim/checkers.ts', "import { DEAD_LETTER_ATTRIBUTES } from '../backends/memory/index.ts';")).toHaveLength(1);
    expect(violationsOf('scenarios/x.ts', "import { expect } from 'vitest';")).toEqual([
      'scenarios/x.ts imports "vitest": "vitest" is not in package.json dependencies',
    ]);
    expect(violationsOf('core/x.test.ts', "import { expect } from 'vitest';\nimport '../sim/checkers.ts';")).toHaveLength(1);
    expect(violationsOf('newfolder/x.ts', '')).toHaveLength(1);
    expect(violationsOf('loadtests/k6/x.ts', "import http from 'k6/http';\nimport { sleep } from 'k6';")).toEqual([]);
    expect(violationsOf('loadtests/k6/x.ts', "import { readFileSync } from 'node:fs';")).toHaveLength(1);
    expect(violationsOf('loadtests/k6/x.ts', "import { parsePolicy } from '../../gateway/policies/index.ts';")).toHaveLength(1);
    expect(violationsOf('loadtests/x.ts', "import { main } from '../cli/main.ts';")).toHaveLength(1);
    expect(violationsOf('gateway/x.ts', "import { openBackend } from '../sim/open-backend.ts';")).toHaveLength(1);
    expect(violationsOf('gateway/x.ts', "import { createMemoryStore } from '../backends/memory/index.ts';")).toHaveLength(1);
  });
});
