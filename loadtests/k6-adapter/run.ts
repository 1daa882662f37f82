// TEST ADAPTER, not k6: runs a k6 script's default function in Node and prints one JSON summary.
//   node --import ./loadtests/k6-adapter/register.ts loadtests/k6-adapter/run.ts SCRIPT [--vus N] [--iterations M]
// VUs run one after another (k6's HTTP calls block the VU, and so do the stand-ins); asynchronous
// work the iterations start (sockets, timers) runs until it is done, then the summary is printed
// with the script's thresholds evaluated on the samples (see README.md for what is and is not done).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { checks } from './k6.ts';
import { registry } from './metrics.ts';
import { evaluate, summarize } from './thresholds.ts';

interface Globals {
  __ENV: Record<string, string>;
  __VU: number;
  __ITER: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const script = process.argv[2];
if (script === undefined) throw new Error('usage: run.ts SCRIPT [--vus N] [--iterations M]');
const vus = argValue('--vus', 1);
const iterations = argValue('--iterations', 1);
const g = globalThis as unknown as Globals;
g.__ENV = { ...process.env } as Record<string, string>;
const mod = (await import(pathToFileURL(resolve(script)).href)) as { default: () => void; options?: { thresholds?: Record<string, string[]> } };
for (let vu = 1; vu <= vus; vu++) {
  for (let iter = 0; iter < iterations; iter++) {
    g.__VU = vu;
    g.__ITER = iter;
    mod.default();
  }
}
process.once('beforeExit', () => {
  const metrics: Record<string, Record<string, number>> = {};
  for (const [name, m] of registry) metrics[name] = summarize(m);
  const thresholds: Record<string, { expr: string; ok: boolean }[]> = {};
  for (const [name, exprs] of Object.entries(mod.options?.thresholds ?? {})) {
    thresholds[name] = exprs.map((expr) => ({ expr, ok: evaluate(expr, metrics[name] ?? {}) }));
  }
  const ok = Object.values(thresholds).every((list) => list.every((t) => t.ok));
  process.stdout.write(`${JSON.stringify({ vus, iterations, metrics, checks: Object.fromEntries(checks), thresholds, ok })}\n`);
});
