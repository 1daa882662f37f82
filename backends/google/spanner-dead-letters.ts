// Dead-lettered users on Spanner: the DeadLettered row keeps the reason, and a PostSettled row (with
// the shard's count) makes the user terminal for the ranking barrier, once, in the same
// transaction that markPostSettledBatch would use for it (both read the same marker and counter
// rows, so Spanner serializes them and a user is never counted twice).
import type { Database, Transaction } from '@google-cloud/spanner';
import type { DeadLetteredUser } from '../../core/ports.ts';

/** Reasons longer than this are cut (the reason is for people; the dead-letter message keeps the rest). */
const REASON_CHARS_MAX = 2_000;

export async function markDeadLetteredTx(tx: Transaction, raceId: string, userId: string, reason: string, nowMs: number): Promise<void> {
  const key = [raceId, userId];
  const [[dead], [marked], [counts]] = await Promise.all([
    tx.read('DeadLettered', { keys: [key], columns: ['RaceId'], json: true }),
    tx.read('PostSettled', { keys: [key], columns: ['RaceId'], json: true }),
    tx.read('PostSettledCounts', { keys: [[raceId]], columns: ['UsersMarked'], json: true }),
  ]);
  if (dead.length === 0) tx.insert('DeadLettered', { RaceId: raceId, UserId: userId, Reason: reason.slice(0, REASON_CHARS_MAX), AtMs: nowMs });
  if (marked.length === 0) {
    const before = (counts as { UsersMarked: number }[])[0]?.UsersMarked ?? 0;
    tx.insert('PostSettled', { RaceId: raceId, UserId: userId });
    tx.upsert('PostSettledCounts', { RaceId: raceId, UsersMarked: before + 1 });
  }
}

/** The dead-lettered users of a race over every shard, ascending user id. */
export async function readDeadLettered(databases: readonly Database[], raceId: string): Promise<DeadLetteredUser[]> {
  const perShard = await Promise.all(
    databases.map(async (d) => {
      const [rows] = await d.table('DeadLettered').read({ ranges: [{ startClosed: [raceId], endClosed: [raceId] }], columns: ['UserId', 'Reason'], json: true });
      return (rows as { UserId: string; Reason: string }[]).map((r) => ({ userId: r.UserId, reason: r.Reason }));
    }),
  );
  return perShard.flat().sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}
