// GraphQL abuse against `raceday gateway` in a child process: for each abuse class
// (graphql-attacks.ts), `runs` generated attacks, a few at a time; after each class the process
// must be alive and answering /healthz within a second or so. A class whose attacks were not all
// refused the documented way, or after which the gateway is gone, is a finding.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createClient } from 'redis';
import { encodeNotification } from '../../core/messages.ts';
import { settledNotificationId } from '../../core/notification.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import { TOPICS } from '../../core/topology.ts';
import { ensureRedis } from '../../emulators/redis.ts';
import { ATTACK_KINDS, ATTACKS, type AttackKind, type Outcome } from './graphql-attacks.ts';
import { healthy, startGatewayProcess, type GatewayProcess } from './gateway-process.ts';

export interface GraphqlFuzzOptions {
  readonly seed: number;
  /** Attacks per class. */
  readonly runs: number;
  readonly kinds?: readonly AttackKind[];
  readonly backend?: 'memory' | 'emulators';
  readonly log?: (line: string) => void;
}

export interface GraphqlCell {
  readonly kind: string;
  readonly tried: number;
  /** Refused (or survived, for floods) exactly as documented. */
  readonly rejected: number;
  /** Answered otherwise: examples in `notes`. */
  readonly notRejected: number;
  /** The attack itself failed (a request error, a socket that never opened). */
  readonly errors: number;
  /** After the class: undefined when the process was alive and /healthz answered. */
  readonly health?: string;
  readonly notes: readonly string[];
}

export interface GraphqlFuzzResult {
  readonly seed: number;
  readonly pid: number;
  readonly cells: readonly GraphqlCell[];
  readonly tried: number;
  readonly rejected: number;
  readonly notRejected: number;
  /** Classes after which the gateway process was gone or not answering: must be 0. */
  readonly crashes: number;
  readonly ok: boolean;
  readonly wallMs: number;
}

const SECRET = 'chaos-fuzz-gateway-secret-of-32-bytes-or-more';
const NOTES_KEPT = 3;
/** Attacks of one class in flight at once (the connection-count class runs alone). */
const IN_FLIGHT = 4;

/** Classes whose one attack takes seconds (a timeout to wait out, 50 sockets to open) run a quarter of the attacks. */
const SLOW: ReadonlySet<AttackKind> = new Set(['slowloris', 'too-many-connections']);

export function runsOf(kind: AttackKind, runs: number): number {
  return SLOW.has(kind) ? Math.max(1, Math.ceil(runs / 4)) : runs;
}

async function runClass(g: GatewayProcess, kind: AttackKind, runs: number, seed: number): Promise<GraphqlCell> {
  const attack = ATTACKS[kind] as { arbitrary: fc.Arbitrary<unknown>; expand?: (x: unknown) => unknown[]; run(g: GatewayProcess, input: unknown): Promise<Outcome> };
  const sampled = fc.sample(attack.arbitrary, { seed, numRuns: runsOf(kind, runs) });
  const inputs = attack.expand === undefined ? sampled : sampled.flatMap((x) => attack.expand?.(x) ?? [x]);
  const cell = { kind, tried: 0, rejected: 0, notRejected: 0, errors: 0, notes: [] as string[] };
  // Cross-user publishes each user's notifications in number order: one attack at a time.
  const inFlight = kind === 'too-many-connections' || kind === 'slowloris' || kind === 'cross-user' ? 1 : IN_FLIGHT;
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < inputs.length) {
        const input = inputs[next++];
        cell.tried++;
        try {
          const o = await attack.run(g, input);
          if (o.rejected) cell.rejected++;
          else {
            cell.notRejected++;
            if (cell.notes.length < NOTES_KEPT) cell.notes.push(`${JSON.stringify(input).slice(0, 120)} -> ${o.note}`);
          }
        } catch (e) {
          cell.errors++;
          if (cell.notes.length < NOTES_KEPT) cell.notes.push(`${JSON.stringify(input).slice(0, 120)} -> error: ${(e as Error).message}`);
        }
      }
    }),
  );
  const health = await healthy(g);
  return health === undefined ? cell : { ...cell, health };
}

/**
 * A redis-server of the fuzzer's own (a fresh directory: never the shared one other runs listen
 * on) that the gateway takes notifications from, and a publisher: live notifications to any
 * user, numbered 1, 2, ... per user, for the cross-user class.
 */
async function privateNotifications(): Promise<{ url: string; notify(userId: string): Promise<string>; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'raceday-fuzz-redis-'));
  const redis = await ensureRedis(dir);
  const client = createClient({ url: redis.url });
  client.on('error', () => undefined);
  await client.connect();
  const seqs = new Map<string, number>();
  return {
    url: redis.url,
    async notify(userId) {
      const seq = (seqs.get(userId) ?? 0) + 1;
      seqs.set(userId, seq);
      const raceId = 'fuzz-race';
      const settlementId = settlementIdOf(raceId, userId, seq);
      const notificationId = settledNotificationId(settlementId);
      await client.publish(TOPICS.notifications, encodeNotification({ userId, raceId, kind: 'settled', payload: { kind: 'settled', raceId, settlementId, cash: 100, medals: 0, hits: 1 }, publishedAt: Date.now(), notificationId, seq }));
      return notificationId;
    },
    async close() {
      await client.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function runGraphqlFuzz(o: GraphqlFuzzOptions): Promise<GraphqlFuzzResult> {
  const started = performance.now();
  const notifications = await privateNotifications();
  let g: GatewayProcess;
  try {
    const p = await startGatewayProcess({ backend: o.backend ?? 'memory', secret: SECRET, redisUrl: notifications.url, ...(o.log === undefined ? {} : { log: o.log }) });
    g = { ...p, notify: notifications.notify };
  } catch (e) {
    await notifications.close();
    throw e;
  }
  const cells: GraphqlCell[] = [];
  try {
    for (const [i, kind] of (o.kinds ?? ATTACK_KINDS).entries()) {
      const cell = await runClass(g, kind, o.runs, o.seed + 7_919 * i);
      o.log?.(`fuzz graphql: ${kind}: ${cell.rejected} of ${cell.tried} refused${cell.health === undefined ? '' : `; gateway: ${cell.health}`}`);
      cells.push(cell);
      if (!g.alive()) break;
    }
  } finally {
    await g.stop();
    await notifications.close();
  }
  const sum = (f: (c: GraphqlCell) => number): number => cells.reduce((n, c) => n + f(c), 0);
  const crashes = cells.filter((c) => c.health !== undefined).length;
  const notRejected = sum((c) => c.notRejected + c.errors);
  return {
    seed: o.seed,
    pid: g.pid,
    cells,
    tried: sum((c) => c.tried),
    rejected: sum((c) => c.rejected),
    notRejected,
    crashes,
    ok: crashes === 0 && notRejected === 0 && cells.length === (o.kinds ?? ATTACK_KINDS).length,
    wallMs: Math.round(performance.now() - started),
  };
}
