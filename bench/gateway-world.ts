// The world one cell of `raceday bench gateway` runs in: N users with signed tokens, a race that
// settles all of them (its notifications: one `settled` and one `ranking` per user) and the next
// race, in its deadline rush, whose odds every user watches. The odds race's cash pools are
// loaded so that its odds frame has a chosen size: odds bytes are what fill a slow subscriber's
// buffers, so the bench sizes them (docs/bench.md, gateway section).
import { encodeCombination, enumerateCombinations, formatCombination } from '../core/combination.ts';
import { rankingNotification, settledNotificationId, type NotificationBody } from '../core/notification.ts';
import type { RankingEntry } from '../core/ranking.ts';
import type { Ticket } from '../core/ticket.ts';
import type { Store } from '../core/ports.ts';

export const SETTLE_RACE_ID = 'bench-settle';
export const ODDS_RACE_ID = 'bench-odds';
/** Notifications each user gets from the settling race: its settlement and the race's ranking. */
export const NOTIFICATIONS_PER_USER = 2;
const RANKING_TOP = 10;

export interface BenchUser {
  readonly userId: string;
  readonly token: string;
}

export const userIdOf = (i: number): string => `u${String(i).padStart(6, '0')}`;

/**
 * Puts the users and both races into the store; the odds race closes `oddsCloseInMs` from now (so
 * the broadcaster runs at its rush rate throughout) and carries `oddsCombinations` staked trifecta
 * combinations (about 16 bytes of odds frame each).
 */
export async function loadWorld(store: Pick<Store, 'putUsers' | 'putRace' | 'loadTickets'>, users: number, oddsCombinations: number, oddsCloseInMs: number): Promise<void> {
  const accounts = Array.from({ length: users }, (_, i) => ({ userId: userIdOf(i), cash: 1_000_000, medals: 10_000 }));
  for (let i = 0; i < accounts.length; i += 10_000) await store.putUsers(accounts.slice(i, i + 10_000));
  const now = Date.now();
  await store.putRace({ raceId: SETTLE_RACE_ID, sport: 'keirin', riders: 9, closeAtMs: now - 120_000, postAtMs: now - 60_000 });
  await store.putRace({ raceId: ODDS_RACE_ID, sport: 'keirin', riders: 9, closeAtMs: now + oddsCloseInMs, postAtMs: now + oddsCloseInMs + 60_000 });
  const field = { sport: 'keirin' as const, riders: 9 };
  const combos = enumerateCombinations('trifecta', field).slice(0, Math.min(oddsCombinations, 504));
  const tickets: Ticket[] = combos.map((c, i) => ({
    ticketId: `odds-${encodeCombination(c)}`,
    userId: userIdOf(i % users),
    raceId: ODDS_RACE_ID,
    betType: 'trifecta',
    combination: formatCombination('trifecta', c),
    // Uneven stakes, so the odds differ from one combination to the next.
    stake: 100 * (1 + ((i * 7919) % 97)),
    currency: 'cash',
  }));
  if (tickets.length > 0) await store.loadTickets(tickets);
}

/** The settling race's notifications, user by user (settled, then ranking), stamped `publishedAt`. */
export function settlementNotifications(users: number, publishedAt: number): NotificationBody[] {
  const ranking: RankingEntry[] = Array.from({ length: Math.min(RANKING_TOP, users) }, (_, i) => ({ rank: i + 1, userId: userIdOf(i), cash: 10_000 - i * 100, medals: 0 }));
  const out: NotificationBody[] = [];
  for (let i = 0; i < users; i++) {
    const userId = userIdOf(i);
    const settlementId = `stl:${SETTLE_RACE_ID}:${userId}:v1`;
    const payload = { kind: 'settled' as const, raceId: SETTLE_RACE_ID, settlementId, cash: (i % 5) * 100, medals: 0, hits: i % 2 };
    out.push({ userId, raceId: SETTLE_RACE_ID, kind: 'settled', payload, publishedAt, notificationId: settledNotificationId(settlementId) });
    out.push(rankingNotification(SETTLE_RACE_ID, userId, ranking, RANKING_TOP, publishedAt));
  }
  return out;
}
