// `raceday chaos --fuzz`: the three input fuzzers in one run on one backend, and the verdict.
// Messages and bets share one opened backend (their worlds use ids of their own); the GraphQL
// abuse runs against a `raceday gateway` child process on the same kind of backend.
import { openBackend, type BackendName } from '../../sim/open-backend.ts';
import { runBetFuzz, type BetFuzzResult } from './bets.ts';
import { runGraphqlFuzz, type GraphqlFuzzResult } from './graphql.ts';
import { runMessageFuzz, type MessageFuzzResult } from './messages.ts';

export const FUZZ_CLASSES = ['messages', 'bets', 'graphql'] as const;
export type FuzzClass = (typeof FUZZ_CLASSES)[number];

export interface FuzzOptions {
  readonly classes: readonly FuzzClass[];
  /** Generated inputs per (class, kind). */
  readonly runs: number;
  readonly seed: number;
  readonly backend: Extract<BackendName, 'memory' | 'emulators'>;
  readonly log?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly runs: number;
  readonly backend: string;
  readonly messages?: MessageFuzzResult;
  readonly bets?: BetFuzzResult;
  readonly graphql?: GraphqlFuzzResult;
  /** Totals over the classes run. */
  readonly tried: number;
  /** Dead-lettered with a reason, or refused with the expected code or close. */
  readonly refused: number;
  /** Handler exceptions, failed requests, and abuse classes after which the gateway was gone. */
  readonly crashes: number;
  /** Malformed messages not found in the dead letters. */
  readonly lost: number;
  /** Inputs answered other than documented: placed bets, wrong codes, attacks not refused, checker violations. */
  readonly accepted: number;
  readonly ok: boolean;
  readonly wallMs: number;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  let messages: MessageFuzzResult | undefined;
  let bets: BetFuzzResult | undefined;
  if (o.classes.includes('messages') || o.classes.includes('bets')) {
    const backend = await openBackend(o.backend, o.log === undefined ? {} : { log: o.log });
    try {
      if (o.classes.includes('messages')) messages = await runMessageFuzz(backend, { seed: o.seed, runs: o.runs, ...(o.log === undefined ? {} : { log: o.log }) });
      if (o.classes.includes('bets')) bets = await runBetFuzz(backend.store, { seed: o.seed, runs: o.runs, ...(o.log === undefined ? {} : { log: o.log }) });
    } finally {
      await backend.close();
    }
  }
  const graphql = o.classes.includes('graphql') ? await runGraphqlFuzz({ seed: o.seed, runs: o.runs, backend: o.backend, ...(o.log === undefined ? {} : { log: o.log }) }) : undefined;
  const tried = (messages?.tried ?? 0) + (bets?.tried ?? 0) + (graphql?.tried ?? 0);
  const refused = (messages === undefined ? 0 : messages.deadLettered + messages.busRefused) + (bets?.rejected ?? 0) + (graphql?.rejected ?? 0);
  const crashes = (messages?.crashes.length ?? 0) + (bets?.crashes.length ?? 0) + (graphql?.crashes ?? 0);
  const lost = messages?.lost ?? 0;
  const accepted = (messages?.violations.length ?? 0) + (bets === undefined ? 0 : bets.accepted + bets.wrongCode + bets.reconciliation.length) + (graphql?.notRejected ?? 0);
  return {
    seed: o.seed,
    runs: o.runs,
    backend: o.backend,
    ...(messages === undefined ? {} : { messages }),
    ...(bets === undefined ? {} : { bets }),
    ...(graphql === undefined ? {} : { graphql }),
    tried,
    refused,
    crashes,
    lost,
    accepted,
    ok: crashes === 0 && lost === 0 && accepted === 0 && (messages?.ok ?? true) && (bets?.ok ?? true) && (graphql?.ok ?? true),
    wallMs: Math.round(performance.now() - started),
  };
}

/** The report as text: one line per (class, kind), then the verdict. */
export function formatFuzzReport(r: FuzzReport): string {
  const lines = [`raceday chaos --fuzz: seed ${r.seed}, ${r.runs} runs per kind, backend ${r.backend}`];
  if (r.messages !== undefined) {
    lines.push(`messages (race ${r.messages.users} users, ${r.messages.tickets} tickets; topic / kind: tried, dead-lettered with reason, refused by the bus, lost)`);
    for (const c of r.messages.cells) lines.push(`  ${`${c.topic} / ${c.kind}`.padEnd(36)} ${String(c.tried).padStart(5)} ${String(c.deadLettered).padStart(5)} ${String(c.busRefused).padStart(4)} ${String(c.lost).padStart(4)}  ${c.reason ?? ''}`.slice(0, 170));
    lines.push(`  handler exceptions ${r.messages.crashes.length}, checker violations ${r.messages.violations.length}`);
    for (const v of r.messages.violations.slice(0, 5)) lines.push(`    ${v.checker}: ${v.message}`);
  }
  if (r.bets !== undefined) {
    lines.push('bets (kind -> expected code: tried, refused with it, other code, placed)');
    for (const c of r.bets.cells) {
      lines.push(`  ${`${c.kind} -> ${c.expectedCode}`.padEnd(56)} ${String(c.tried).padStart(5)} ${String(c.rejected).padStart(5)} ${String(c.wrongCode).padStart(4)} ${String(c.accepted).padStart(4)}`);
      for (const w of c.wrong) lines.push(`    ${w}`);
    }
    lines.push(`  reconciliation problems ${r.bets.reconciliation.length}, request failures ${r.bets.crashes.length}`);
    for (const p of [...r.bets.reconciliation, ...r.bets.crashes].slice(0, 5)) lines.push(`    ${p}`);
  }
  if (r.graphql !== undefined) {
    lines.push(`graphql (raceday gateway pid ${r.graphql.pid}; abuse: tried, refused as documented, not refused, gateway after)`);
    for (const c of r.graphql.cells) {
      lines.push(`  ${c.kind.padEnd(28)} ${String(c.tried).padStart(5)} ${String(c.rejected).padStart(5)} ${String(c.notRejected + c.errors).padStart(4)}  ${c.health ?? 'alive, /healthz 200'}`);
      for (const n of c.notes) lines.push(`    ${n}`);
    }
  }
  lines.push(`total: ${r.tried} tried, ${r.refused} refused or dead-lettered, ${r.crashes} crashes, ${r.lost} lost, ${r.accepted} accepted that should not be: ${r.ok ? 'ok' : 'FAILED'} (${(r.wallMs / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}
