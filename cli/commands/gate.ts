// `raceday gate`: judges a run record against a rules file (docs/gate.md) and exits with a code a
// CI job can act on. With --compare REF it first measures both sides itself: a checkout of REF
// (A) against this tree (B), interleaved, on the same machine (cli/gate-compare.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateGate, gateRecordsOf } from '../../reports/gate/evaluate.ts';
import { GATE_EXIT, gateExitCode, type GateResult } from '../../reports/gate/result.ts';
import { needsBaseline, parseRules, type Rules } from '../../reports/gate/rules.ts';
import { writeOutputs } from '../../reports/record/outputs.ts';
import { parseRunRecord, type RunRecord } from '../../reports/record/schema.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import { runVariantGate } from '../../sim/variant-gate.ts';
import { runCompare, COMPARE_DEFAULTS } from '../gate-compare.ts';
import { parseVariantFlags } from '../run-variants.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday gate --rules FILE RUN.json [--baseline B.json] [--json] [--out DIR]
       raceday gate --compare REF --rules FILE [--users N] [--seed S] [--repeat K] [--max-repeat M] [--json] [--out DIR]
       raceday gate --variant A=SETTINGS --variant B=SETTINGS --rules FILE [--users N] [--seed S] [--repeat K] [--max-repeat M]

Judges a run record (metrics.json, from raceday run --out) against a rules file (docs/gate.md):
exact and tolerance rules on deterministic figures (counts, virtual-time makespans, invariants,
backlog peaks), optionally against a baseline record; statistical rules on wall-clock figures,
comparing two variants measured in the same run, interleaved (Mann-Whitney U, Hodges-Lehmann
shift with its 95% interval, Holm's correction): a regression fails only when it is significant
and the interval's lower bound is past the practical threshold (default 10%).

  --rules FILE         the rules file (JSON, version 1; docs/gate.md describes it)
  --baseline B.json    a stored run record the exact and tolerance rules may compare to
  --compare REF        measure A on a checkout of REF (a git worktree in a temporary folder,
                       sharing node_modules when package-lock.json is the same, else npm ci
                       there) and B on this tree, interleaved A B B A, smoke day on memory
  --variant NAME=S     measure design variants of this tree in this process instead (repeatable,
                       settings as raceday run --variant; testSlowdown=0.25 is the test knob
                       that adds 25% CPU work), after one unrecorded warm-up round
  --users N            --compare, --variant: users in the smoke day (default ${COMPARE_DEFAULTS.users})
  --seed S             --compare, --variant: the day's seed (default 1)
  --repeat K           --compare, --variant: samples a side to start with (default: the rules' minSamples)
  --max-repeat M       --compare, --variant: while a statistical rule is inconclusive, two more
                       rounds run (A B, B A), up to M samples a side (default ${COMPARE_DEFAULTS.maxRepeat})
  --json               the results as one JSON object
  --out DIR            writes DIR/gate.json (the results), DIR/metrics.json (the record, its gates
                       attached) and the outputs made from it: summary.md, junit.xml (a test case
                       per rule), metrics.prom, report.html

Exit codes: 0 every rule passed (inconclusive ones only warn); 99 a deterministic rule was
breached (as k6 exits on a threshold); 98 a statistical regression; 97 inconclusive after the
sample cap when the rules set defaults.inconclusive to "fail"; 2 a usage error, an invalid rules
file or record, or a rule the record cannot answer (a figure or variant it lacks).`;

async function readJson(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function loadRules(path: string): Promise<Rules> {
  const r = parseRules(await readJson(path, 'rules file'));
  if (!r.ok) throw new UsageError(`${path}: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export async function loadRecord(path: string, what: string): Promise<RunRecord> {
  const r = parseRunRecord(await readJson(path, what), { decodeHistograms: false });
  if (!r.ok) throw new UsageError(`${path}: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const LABEL: Record<GateResult['verdict'], string> = { pass: 'PASS', breach: 'BREACH', regression: 'REGRESSION', inconclusive: 'INCONCLUSIVE', error: 'ERROR' };

export function renderResults(results: readonly GateResult[], exit: number): string {
  const count = (v: GateResult['verdict']) => results.filter((r) => r.verdict === v).length;
  const parts = (['pass', 'breach', 'regression', 'inconclusive', 'error'] as const).filter((v) => count(v) > 0).map((v) => `${count(v)} ${v}`);
  const lines = [`raceday gate: ${results.length} rules: ${parts.join(', ')}`];
  for (const r of results) lines.push(`  ${LABEL[r.verdict].padEnd(12)} ${r.name}: ${r.message}`);
  const meaning: Record<number, string> = { [GATE_EXIT.pass]: 'pass', [GATE_EXIT.breach]: 'a threshold breach', [GATE_EXIT.regression]: 'a statistical regression', [GATE_EXIT.inconclusive]: 'inconclusive after the sample cap', [GATE_EXIT.usage]: 'a rule could not be judged' };
  lines.push(`exit ${exit} (${meaning[exit] ?? 'unknown'})`);
  return lines.join('\n');
}

async function report(rules: Rules, record: RunRecord, results: GateResult[], flags: Record<string, unknown>, baseline?: RunRecord): Promise<number> {
  const exit = gateExitCode(results, rules.settings.inconclusive === 'fail');
  if (typeof flags['out'] === 'string') {
    // The record with its gates, and every output made from it (summary.md, junit.xml with one
    // test case per rule, ...), so a CI job publishes the gate like any run.
    const judged = { ...record, gates: gateRecordsOf(rules, results) };
    await writeOutputs(flags['out'], { records: [judged], ...(baseline === undefined ? {} : { baseline }), gates: results }, undefined, judged);
    await writeFile(join(flags['out'], 'gate.json'), `${JSON.stringify({ exitCode: exit, results }, null, 2)}\n`);
  }
  if (flags['json'] === true) process.stdout.write(`${JSON.stringify({ exitCode: exit, results })}\n`);
  else process.stdout.write(`${renderResults(results, exit)}\n`);
  return exit;
}

const COMPARE_ONLY = ['users', 'seed', 'repeat', 'max-repeat'] as const;

export const command: CommandModule = {
  summary: 'judge a run record against a rules file (thresholds, statistical A/B); exit 99 on a breach, 98 on a regression',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals, lists } = parseArgs(
        argv,
        {
          rules: { type: 'string' },
          baseline: { type: 'string' },
          compare: { type: 'string' },
          variant: { type: 'string', repeatable: true },
          users: { type: 'int', min: 1, max: 200_000 },
          seed: { type: 'int', min: 0, max: 2 ** 31 },
          repeat: { type: 'int', min: 2, max: 1_000 },
          'max-repeat': { type: 'int', min: 2, max: 1_000 },
          json: { type: 'boolean' },
          out: { type: 'string' },
        },
        { positionals: 1 },
      );
      if (typeof flags['rules'] !== 'string') throw new UsageError('--rules FILE is required (docs/gate.md describes the rules file)');
      const rules = await loadRules(flags['rules']);
      const measure = { users: typeof flags['users'] === 'number' ? flags['users'] : COMPARE_DEFAULTS.users, seed: typeof flags['seed'] === 'number' ? flags['seed'] : 1, repeat: typeof flags['repeat'] === 'number' ? flags['repeat'] : rules.settings.minSamples, maxRepeat: typeof flags['max-repeat'] === 'number' ? flags['max-repeat'] : COMPARE_DEFAULTS.maxRepeat };
      if (lists['variant'] !== undefined) {
        if (flags['compare'] !== undefined || positionals.length > 0 || flags['baseline'] !== undefined) throw new UsageError('--variant measures its own record: drop --compare, --baseline and the record');
        const specs = parseVariantFlags(lists['variant'].map(String), 'memory');
        if (specs.length < 2) throw new UsageError('--variant needs at least two variants to compare (e.g. --variant A= --variant B=workers=4)');
        if (measure.maxRepeat < measure.repeat) throw new UsageError(`--max-repeat ${measure.maxRepeat} is below the samples to start with (${measure.repeat})`);
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const { record, results } = await runVariantGate({ rules, specs, ...measure, argv, log });
        return report(rules, record, results, flags);
      }
      if (typeof flags['compare'] === 'string') {
        if (positionals.length > 0) throw new UsageError(`--compare measures its own record; drop the record ${positionals[0]}`);
        if (flags['baseline'] !== undefined) throw new UsageError('--baseline applies to a given record, not to --compare (both sides are measured now)');
        let compared: Awaited<ReturnType<typeof runCompare>>;
        try {
          compared = await runCompare({ ref: flags['compare'], rules, ...measure, log: (line) => process.stderr.write(`${line}\n`) });
        } catch (e) {
          if (e instanceof UsageError) throw e;
          // A side that cannot be built or run (an old checkout without this option, npm ci failing) is no verdict.
          process.stderr.write(`raceday gate: --compare ${flags['compare']} could not measure both sides: ${(e as Error).message}\n`);
          return GATE_EXIT.usage;
        }
        return report(rules, compared.record, compared.results, flags);
      }
      const given = COMPARE_ONLY.find((n) => flags[n] !== undefined);
      if (given !== undefined) throw new UsageError(`--${given} applies to --compare and --variant only`);
      const recordPath = positionals[0];
      if (recordPath === undefined) throw new UsageError('give the run record to judge (RUN.json), or --compare REF');
      const record = await loadRecord(recordPath, 'run record');
      const baseline = typeof flags['baseline'] === 'string' ? await loadRecord(flags['baseline'], 'baseline record') : undefined;
      if (baseline === undefined) {
        const needs = rules.rules.find(needsBaseline);
        if (needs !== undefined) throw new UsageError(`rule "${needs.name}" compares to a baseline: give --baseline B.json`);
      }
      return report(rules, record, evaluateGate(rules, record, baseline), flags, baseline);
    }),
};
