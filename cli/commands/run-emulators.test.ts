// Proves `raceday run --backend emulators` end to end on the official emulators (started or reused
// through emulators/test-support.ts, never skipped silently): a small smoke race day is loaded into
// Spanner (two shard databases), settled by the pipeline's workers over Pub/Sub, and every
// invariant of the simulator's checkers holds against Spanner's final state read back through the
// client; the printed numbers agree with each other (every loaded ticket settled, every user
// settled once and notified, the counters of the store and the bus present).
import { afterEach, expect, it, vi } from 'vitest';
import { TX_LIMITS } from '../../backends/google/index.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { command as run } from './run.ts';
import { capture } from '../_fixtures/capture.ts';

interface Summary {
  backend: string;
  users: number;
  tickets: number;
  ticketsLoaded: number;
  settledUsers: number;
  settledTickets: number;
  spannerShards: number;
  counters: { settlementsApplied: number; notificationsPublished: number; rankingsPublished: number; handlerErrors: number; deadLettered: number };
  transactionsCommitted: number;
  transactionsAborted: number;
  redeliveries: number;
  backlogMax: Record<string, number>;
  where: { databases: string[]; projectId: string };
  invariants: { name: string; ok: boolean; violations: string[] }[];
  ok: boolean;
  wallMs: number;
}

afterEach(() => vi.restoreAllMocks());

describeWithEmulators('raceday run --backend emulators', () => {
  // The emulators' endpoints land in the environment, so the run takes them as `external` ones.
  useEmulators();

  it('settles a smoke race day on Pub/Sub and Spanner with every invariant holding', async () => {
    const users = 150;
    const { code, out, err } = await capture(() => run.run(['--backend', 'emulators', '--strategy', 'external', '--scenario', 'smoke', '--users', String(users), '--spanner-shards', '2', '--seed', '7', '--json']));
    const s = JSON.parse(out) as Summary;
    const failed = s.invariants.filter((i) => !i.ok);
    expect(failed, `violations: ${JSON.stringify(failed)}\nstderr: ${err}`).toEqual([]);
    expect(s.ok).toBe(true);
    expect(code).toBe(0);
    expect(s.backend).toBe('emulators');
    expect(s.invariants.map((i) => i.name)).toContain('settled-exactly-once');
    expect(s.where.databases).toHaveLength(2);
    expect(s.spannerShards).toBe(2);
    // Every user of the smoke day holds at least one ticket: each is settled exactly once.
    expect(s.users).toBe(users);
    expect(s.ticketsLoaded).toBe(s.tickets);
    expect(s.settledTickets).toBe(s.ticketsLoaded);
    expect(s.settledUsers).toBe(users);
    expect(s.counters.settlementsApplied).toBe(users);
    expect(s.counters.notificationsPublished).toBeGreaterThanOrEqual(users);
    expect(s.counters.rankingsPublished).toBeGreaterThanOrEqual(1);
    expect(s.counters.handlerErrors).toBe(0);
    expect(s.counters.deadLettered).toBe(0);
    // Settlements and post-settlement writes are group-committed per shard: some transactions, and
    // fewer than the three per user (settle, bonus, marker) they would take one by one.
    expect(s.transactionsCommitted).toBeGreaterThan(0);
    expect(s.transactionsCommitted).toBeLessThan(3 * users);
    // Aborts are retried within the transaction runner's budget: no transaction failed (no handler
    // error), so each committed one was aborted at most attemptsMax - 1 times on the way.
    expect(Number.isSafeInteger(s.transactionsAborted)).toBe(true);
    expect(s.transactionsAborted).toBeLessThanOrEqual(s.transactionsCommitted * (TX_LIMITS.attemptsMax - 1));
    expect(s.backlogMax['settle-requests-settle']).toBeGreaterThan(0);
    // Redeliveries are counted apart from first deliveries: a healthy run published the result, a
    // settle request and a settled message per user and every notification, and redelivered far
    // fewer than that (a counter that took every delivery for a redelivery would reach it).
    const published = 1 + 2 * users + s.counters.notificationsPublished;
    expect(Number.isSafeInteger(s.redeliveries)).toBe(true);
    expect(s.redeliveries).toBeLessThan(published);
  });

  it('refuses --spanner-shards on the memory backend and Google Cloud without a project (usage errors)', async () => {
    const shards = await capture(() => run.run(['--backend', 'memory', '--spanner-shards', '4']));
    expect(shards.code).toBe(2);
    expect(shards.err).toContain('emulator-only');
    const google = await capture(() => run.run(['--backend', 'google']));
    expect(google.code).toBe(2);
    expect(google.err).toContain('--project');
  });
});
