// The run record's `profile` section: one RunProfile (profile.ts) per profiled run or per sample of
// a --variant run, so one record of `raceday run --profile --variant w1=workers=1 ...` holds a
// whole concurrency sweep. Validated with zod when read back, with the failing field named.
import { z } from 'zod';
import { OPERATIONS, type OperationName } from './contracts.ts';
import { planErr, type PlanResult } from './plan-error.ts';
import type { OperationProfile, RunProfile } from './profile.ts';

export const PROFILE_SCHEMA_VERSION = 1;

export interface ProfileSection {
  readonly schemaVersion: 1;
  readonly runs: readonly RunProfile[];
}

const nonNeg = z.number().finite().nonnegative();
const posInt = z.number().int().positive();

const sampleSchema = z.object({ durationUs: nonNeg, latencyUs: nonNeg, sizes: z.record(z.string(), nonNeg) });
const operationSchema = z.object({ count: z.number().int().nonnegative(), sumDurationUs: nonNeg, samples: z.array(sampleSchema) });

const runProfileSchema = z.object({
  target: z.enum(['memory', 'emulators', 'google']),
  variant: z.string().optional(),
  repeat: z.number().int().nonnegative().optional(),
  knobs: z.object({ workers: posInt, maxInFlight: posInt, shards: posInt, settlementsPerCommit: posInt }),
  concurrency: posInt,
  run: z.object({ users: z.number().int().nonnegative(), tickets: z.number().int().nonnegative(), settledUsers: z.number().int().nonnegative(), makespanMs: nonNeg, throughputUsersPerSecond: nonNeg }),
  operations: z.record(z.string(), operationSchema).superRefine((ops, ctx) => {
    for (const k of Object.keys(ops)) if (!(OPERATIONS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', message: `unknown operation "${k}" (one of ${OPERATIONS.join(', ')})`, path: [k] });
  }),
});

const sectionSchema = z.object({ schemaVersion: z.literal(PROFILE_SCHEMA_VERSION), runs: z.array(runProfileSchema) });

/** `a.b[2].c` from a zod issue path. */
export function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

export function parseProfileSection(json: unknown): PlanResult<ProfileSection> {
  const r = sectionSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issuePath('profile', issue?.path ?? []);
    return planErr('PLAN.NO_PROFILE', `${path}: ${issue?.message ?? 'invalid'}`, path);
  }
  const runs = r.data.runs.map((p) => ({ ...p, operations: p.operations as Partial<Record<OperationName, OperationProfile>> })) as RunProfile[];
  return { ok: true, value: { schemaVersion: 1, runs } };
}

/** The section holding these runs. */
export function profileSection(runs: readonly RunProfile[]): ProfileSection {
  return { schemaVersion: 1, runs: [...runs] };
}

/** A one-line summary of a run's profile for `--json` output: per operation, samples and mean service time. */
export function profileSummary(p: RunProfile): Record<string, unknown> {
  const ops: Record<string, { count: number; meanUs: number }> = {};
  for (const [op, o] of Object.entries(p.operations)) if (o !== undefined) ops[op] = { count: o.count, meanUs: o.count === 0 ? 0 : Math.round(o.sumDurationUs / o.count) };
  return { ...(p.variant === undefined ? {} : { variant: p.variant, repeat: p.repeat }), concurrency: p.concurrency, knobs: p.knobs, throughputUsersPerSecond: p.run.throughputUsersPerSecond, operations: ops };
}
