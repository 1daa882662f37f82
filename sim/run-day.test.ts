// The run's report says, per race, how many users its ranking left out and why: a memory-backend
// run where one user's settlement fails on every delivery attempt is ranked without that user, and
// the result carries `leftOut` from the ranking the client was shown (raceday run prints it).
import { expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import type { Store } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { runDay } from './run-day.ts';
import { smokeRaceDay } from './workload.ts';

it('reports each race ranking with the users it left out and why', { timeout: 60_000 }, async () => {
  const clock = createRealClock();
  const bus = createMemoryBus({ clock });
  const memory = createMemoryStore({ clock });
  const day = smokeRaceDay(7, createRng(7), { usersMin: 12, usersMax: 12, ticketsPerUserMax: 2, stakeUnitsMax: 3 });
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  let victim = '';
  for (const b of day.ticketBatches()) for (const t of b.tickets) if (t.raceId === race.raceId && victim === '') victim = t.userId;
  const store: Store = Object.assign(Object.create(memory) as Store, {
    settleUser: (raceId: string, userId: string, ...rest: unknown[]) => (userId === victim ? Promise.reject(new Error('disk on fire')) : (memory.settleUser as (...a: unknown[]) => ReturnType<Store['settleUser']>)(raceId, userId, ...rest)),
  });
  const r = await runDay({ day, backend: { store, bus, view: bus, clock }, variants: DEFAULT_VARIANTS, workers: 2, maxInFlight: 4, timeoutMs: 30_000 });
  expect(r.rankings).toEqual([{ raceId: race.raceId, shown: true, leftOut: { users: 1, reasons: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 1 } } }]);
  // The checkers expected that user settled: the run says so rather than passing quietly.
  expect(r.ok).toBe(false);
});
