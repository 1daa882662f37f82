// The gate's rules file (JSON, docs/gate.md): what a run must satisfy, validated field by field
// with an error that names the field. Two families of rules:
// - deterministic figures (virtual-time makespans, message counts, invariants, backlog peaks):
//   `exact` and `tolerance`, optionally against the same figure of a stored baseline record;
// - wall-clock figures: `statistical`, comparing two variants measured in the same run,
//   interleaved (ABBA), by Mann-Whitney U and the Hodges-Lehmann shift (stats.ts).
import { z } from 'zod';
import type { Result } from '../../core/result.ts';

export const RULES_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const fraction = finite.pipe(z.number().min(0, 'must be at least 0').max(10, 'must be at most 10 (a fraction: 0.1 is 10%)'));
const name = z.string().min(1, 'must be a non-empty string');

/** Where a deterministic figure is read: the record's figures (then counters), or each sample of one variant. */
const figureRef = {
  /** A key of the record's `figures` (or, failing that, of its `counters`). */
  figure: name,
  /** Check every sample of this variant instead of the record's top-level figures. */
  variant: name.optional(),
};

const exactRule = z.strictObject({
  name,
  kind: z.literal('exact'),
  ...figureRef,
  /** The required value; omitted: the baseline record's value of the same figure. */
  value: finite.optional(),
});

const toleranceRule = z
  .strictObject({
    name,
    kind: z.literal('tolerance'),
    ...figureRef,
    min: finite.optional(),
    max: finite.optional(),
    /** At most this fraction above the baseline's value (0.05: 5%). Needs --baseline. */
    maxIncrease: fraction.optional(),
    /** At most this fraction below the baseline's value. Needs --baseline. */
    maxDecrease: fraction.optional(),
  })
  .refine((r) => r.min !== undefined || r.max !== undefined || r.maxIncrease !== undefined || r.maxDecrease !== undefined, {
    message: 'a tolerance rule needs at least one of min, max, maxIncrease, maxDecrease',
  })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'min must not exceed max' });

const invariantsRule = z.strictObject({
  name,
  kind: z.literal('invariants'),
  /** Only these invariant checkers (default: every one the record holds, and at least one). */
  only: z.array(name).min(1).optional(),
});

const statisticalRule = z.strictObject({
  name,
  kind: z.literal('statistical'),
  /** A wall-clock figure every sample of both variants holds. */
  figure: name,
  /** The base side (default: the record's first variant). */
  a: name.optional(),
  /** The candidate side (default: the record's second variant). */
  b: name.optional(),
  /** Which direction is better: `lower` (times, default) or `higher` (throughput). */
  better: z.enum(['lower', 'higher']).optional(),
  threshold: fraction.optional(),
});

const defaults = z.strictObject({
  /** The practical threshold: a regression must be shown larger than this fraction of A's median. */
  threshold: fraction.optional(),
  /** Significance level after Holm's correction across the statistical rules. */
  alpha: finite.pipe(z.number().gt(0, 'must be above 0').lt(1, 'must be below 1')).optional(),
  /** Fewest samples a side before a statistical rule can pass or fail. */
  minSamples: z.number().int().min(2, 'must be at least 2').max(10_000).optional(),
  /** What an inconclusive statistical rule does to the exit code: warn (exit 0) or fail (exit 97). */
  inconclusive: z.enum(['warn', 'fail']).optional(),
});

const rule = z.discriminatedUnion('kind', [exactRule, toleranceRule, invariantsRule, statisticalRule]);

const rulesFile = z.strictObject({
  version: z.literal(RULES_VERSION, { error: `must be ${RULES_VERSION}` }),
  defaults: defaults.optional(),
  rules: z.array(rule).min(1, 'must hold at least one rule'),
});

export type Rule = z.infer<typeof rule>;
export type ExactRule = z.infer<typeof exactRule>;
export type ToleranceRule = z.infer<typeof toleranceRule>;
export type InvariantsRule = z.infer<typeof invariantsRule>;
export type StatisticalRule = z.infer<typeof statisticalRule>;

export interface GateSettings {
  readonly threshold: number;
  readonly alpha: number;
  readonly minSamples: number;
  readonly inconclusive: 'warn' | 'fail';
}

export const DEFAULT_SETTINGS: GateSettings = { threshold: 0.1, alpha: 0.05, minSamples: 8, inconclusive: 'warn' };

export interface Rules {
  readonly settings: GateSettings;
  readonly rules: readonly Rule[];
}

export interface RulesError {
  readonly code: 'GATE.RULES_INVALID';
  /** Names the field, e.g. `rules[2].threshold: must be at most 10 (a fraction: 0.1 is 10%)`. */
  readonly message: string;
}

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

const invalid = (message: string): Result<Rules, RulesError> => ({ ok: false, error: { code: 'GATE.RULES_INVALID', message } });

/** Validates a rules file (its JSON text or a parsed value). */
export function parseRules(input: unknown): Result<Rules, RulesError> {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      return invalid(`rules file is not JSON: ${(e as Error).message}`);
    }
  }
  const parsed = rulesFile.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = pathOf(issue?.path ?? []);
    return invalid(`${where === '' ? 'rules file' : where}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const [i, r] of parsed.data.rules.entries()) {
    if (seen.has(r.name)) return invalid(`rules[${i}].name: "${r.name}" is used by an earlier rule; names must be unique`);
    seen.add(r.name);
  }
  const d = parsed.data.defaults ?? {};
  const settings: GateSettings = {
    threshold: d.threshold ?? DEFAULT_SETTINGS.threshold,
    alpha: d.alpha ?? DEFAULT_SETTINGS.alpha,
    minSamples: d.minSamples ?? DEFAULT_SETTINGS.minSamples,
    inconclusive: d.inconclusive ?? DEFAULT_SETTINGS.inconclusive,
  };
  return { ok: true, value: { settings, rules: parsed.data.rules } };
}

/** Whether a rule reads the baseline record. */
export function needsBaseline(r: Rule): boolean {
  if (r.kind === 'exact') return r.value === undefined;
  if (r.kind === 'tolerance') return r.maxIncrease !== undefined || r.maxDecrease !== undefined;
  return false;
}
