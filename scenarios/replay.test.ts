// Proves the replay driver end to end on the embedded backend: a small generated multi-race day
// (with a void race, scratches and dead heats) is loaded, its results published through the real
// pipeline, and every race's users are settled exactly once with per-race metrics; the official
// payout tables come from the store's cash pools plus the generated outside sales. It also checks
// that the scaled clock paces a day (speed) and that placeBet mode debits balances.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import { computePayoutTable } from '../core/payout.ts';
import { payoutTableToJson } from '../core/payout-json.ts';
import { buildRaceDay } from './raceday.ts';
import { replayRaceDay } from './replay.ts';
import { outsidePoolsOf, pipelineConnector } from './replay-pipeline.ts';
import { parseScenario } from './spec.ts';

const spec = parseScenario({
  name: 'replay-test',
  users: 300,
  tickets: 4000,
  meetings: [{ sport: 'keirin', kind: 'midnight', races: 3 }, { sport: 'autorace', races: 2 }],
  race: { scratchRate: 0.15, deadHeatRate: 0.3, voidRate: 0.25 },
  arrival: { windowMinutes: 20 },
});

async function replay(seed: number, extra: { speed?: number; bets?: 'load' | 'place' } = {}) {
  const clock = createRealClock();
  const store = createMemoryStore({ clock });
  const bus = createMemoryBus({ clock });
  const day = buildRaceDay(spec, seed);
  const report = await replayRaceDay({ day, store, connect: pipelineConnector(bus, clock), progress: false, settleTimeoutMs: 30_000, ...extra });
  return { day, store, bus, report };
}

describe('replayRaceDay', () => {
  it('settles every user of every race through the pipeline and reports per-race metrics', async () => {
    const { day, store, bus, report } = await replay(3);
    expect(report.driverErrors).toEqual([]);
    expect(report.pipeline.errors).toEqual([]);
    expect(report.complete).toBe(true);
    expect(report.tickets).toBe(4000);
    expect(report.races.map((r) => r.raceId)).toEqual(day.races.map((r) => r.raceId));
    const perRace = new Map<string, Set<string>>();
    for (const b of day.ticketBatches()) for (const t of b.tickets) (perRace.get(t.raceId) ?? perRace.set(t.raceId, new Set()).get(t.raceId)!).add(t.userId);
    for (const m of report.races) {
      expect(m.users).toBe(perRace.get(m.raceId)?.size ?? 0);
      expect(m.settledUsers).toBe(m.users);
      expect(m.settleLatencyMs?.count).toBe(m.users);
      expect(m.tickets).toBe(m.cashTickets + m.medalTickets);
    }
    expect(report.races.reduce((a, r) => a + r.tickets, 0)).toBe(4000);
    expect((report.pipeline.counters as { settlementsApplied: number }).settlementsApplied).toBe(report.races.reduce((a, r) => a + r.users, 0));
    // The recorded payout table is the pure core's over the store's cash pools plus outside sales.
    for (const race of day.races.filter((r) => r.result.status === 'official').slice(0, 2)) {
      const outcome = await store.getOutcome(race.raceId);
      const cash = await store.cashPools!(race.raceId);
      const outside = outsidePoolsOf(race) ?? {};
      const pools: Record<string, Map<number, number>> = {};
      for (const src of [cash, outside]) {
        for (const [t, m] of Object.entries(src)) for (const [code, yen] of m) (pools[t] ??= new Map()).set(code, (pools[t].get(code) ?? 0) + yen);
      }
      const field = { sport: race.sport, riders: race.riders };
      const table = computePayoutTable({ field, scratched: race.scratched, result: race.result as never, pools });
      expect(outcome?.payoutTableJson).toBe(payoutTableToJson(table));
    }
    await bus.close();
  }, 60_000);

  it('paces the day on the scaled clock, and placeBet ends with the same balances as the bulk load', async () => {
    const dayOnly = buildRaceDay(spec, 4);
    const first = Math.min(...dayOnly.races.map((r) => r.opensAtMs ?? r.closeAtMs));
    const last = Math.max(...dayOnly.races.map((r) => r.resultAtMs));
    // Play the whole span in about 1.5 s of wall time.
    const speed = Math.ceil((last - first) / 1500);
    const placed = await replay(4, { speed, bets: 'place' });
    expect(placed.report.complete).toBe(true);
    expect(placed.report.betsRejected).toBe(0);
    expect(placed.report.wallSeconds).toBeGreaterThanOrEqual((((last - first) / speed) * 0.9) / 1000);
    for (const m of placed.report.races) expect(m.publishLagMs).not.toBeNull();
    const loaded = await replay(4);
    const balances = async (store: typeof placed.store) => Promise.all(placed.day.users.map((u) => store.readback!.balances(u.userId)));
    const a = await balances(placed.store);
    expect(a.every((x) => x !== undefined)).toBe(true);
    expect(a).toEqual(await balances(loaded.store));
    expect(a.some((x, i) => x!.cash !== placed.day.users[i]!.cash)).toBe(true);
    await placed.bus.close();
    await loaded.bus.close();
  }, 60_000);
});
