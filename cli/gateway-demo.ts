// `raceday gateway --demo-users N`: a store a standalone gateway can be load-tested against at once
// (users with money and one open race), without a run to provision it.
import type { Store } from '../core/ports.ts';

export const DEMO_RACE = 'demo-race';
export const DEMO_CASH = 100_000;
export const DEMO_MEDALS = 1_000;
const PUT_BATCH = 5_000;

export const demoUserId = (i: number): string => `u${String(i).padStart(6, '0')}`;

export async function seedDemo(store: Store, users: number, nowMs: number = Date.now()): Promise<void> {
  for (let from = 1; from <= users; from += PUT_BATCH) {
    const batch = [];
    for (let i = from; i < Math.min(from + PUT_BATCH, users + 1); i++) batch.push({ userId: demoUserId(i), cash: DEMO_CASH, medals: DEMO_MEDALS });
    await store.putUsers(batch);
  }
  await store.putRace({ raceId: DEMO_RACE, sport: 'keirin', riders: 9, closeAtMs: nowMs + 3_600_000, postAtMs: nowMs + 3_900_000 });
}
