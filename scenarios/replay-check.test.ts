// The replay's checkers can fail: a clean multi-race day (void race, scratches, dead heats) passes
// every checker through the default (benched) configuration with tickets loaded as columns, and a
// store that pays one user wrong is caught ticket by ticket and in the balances. Progress prints
// lines (not a redrawn bar) when stderr is not a terminal.
import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../backends/memory/index.ts';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import { raceDayOf } from '../core/missions.ts';
import { scenarioInstantMs } from './calendar.ts';
import { buildRaceDay } from './raceday.ts';
import { replayOnMemory } from './replay-memory.ts';
import { replayRaceDay } from './replay.ts';
import { pipelineConnector } from './replay-pipeline.ts';
import { parseScenario } from './spec.ts';

const spec = parseScenario({
  name: 'replay-check-test',
  users: 400,
  tickets: 6000,
  meetings: [{ sport: 'keirin', kind: 'midnight', races: 3 }, { sport: 'autorace', races: 2 }],
  race: { scratchRate: 0.15, deadHeatRate: 0.3, voidRate: 0.25 },
  arrival: { windowMinutes: 20 },
});

/** A store whose columnar settlement pays the first user it settles as if every lost ticket had won at 1.0. */
function paysOneUserWrong(base: MemoryStore): { store: MemoryStore; victim: () => string | undefined } {
  let victim: string | undefined;
  const store = Object.create(base) as MemoryStore;
  store.settleUserColumns = (raceId, userId, version, lookup, outbox) => {
    victim ??= userId;
    if (userId !== victim) return base.settleUserColumns(raceId, userId, version, lookup, outbox);
    const status = Uint8Array.from(lookup.status);
    const per100 = Int32Array.from(lookup.per100);
    for (let i = 0; i < status.length; i++) {
      if (status[i] === 2) {
        status[i] = 1; // lost -> won
        per100[i] = 100;
      }
    }
    const wrong: Parameters<MemoryStore['settleUserColumns']>[3] = { status, per100 };
    return base.settleUserColumns(raceId, userId, version, wrong, outbox);
  };
  return { store, victim: () => victim };
}

describe('replay checkers', () => {
  it('pass on a clean day replayed with the default configuration and column loads', async () => {
    const report = await replayOnMemory({ spec, seed: 5, progress: false, settleTimeoutMs: 30_000 });
    expect(report.complete).toBe(true);
    expect(report.loadPath).toBe('columns');
    expect(report.invariants.map((i) => i.name)).toEqual(['settled-exactly-once', 'ledger-conservation', 'bonuses-exactly-once', 'notified-exactly-once', 'ranking-exactly-once', 'nothing-unacked', 'no-handler-errors']);
    expect(report.invariants.filter((i) => !i.ok)).toEqual([]);
  }, 60_000);

  it('puts every race of the day into the store on one Japan day, whatever its hour', async () => {
    let stored: MemoryStore | undefined;
    const report = await replayOnMemory({ spec, seed: 5, progress: false, settleTimeoutMs: 30_000, wrapStore: (base) => (stored = base) });
    expect(report.complete).toBe(true);
    const day = buildRaceDay(spec, 5);
    // The card spans the daytime autorace and the midnight keirin (from 21:00), across 15:00 UTC.
    expect(Math.max(...day.races.map((r) => r.postAtMs))).toBeGreaterThan(15 * 3_600_000);
    const days = new Set<string>();
    for (const r of day.races) {
      const info = await stored?.getRace(r.raceId);
      days.add(raceDayOf(info?.postAtMs ?? Number.NaN));
      expect(info?.postAtMs).toBe(scenarioInstantMs(r.postAtMs));
    }
    expect([...days]).toEqual(['2026-12-30']);
  }, 60_000);

  it('catch a store that pays one user wrong, in its tickets and in its balance', async () => {
    let victim: () => string | undefined = () => undefined;
    const report = await replayOnMemory({
      spec,
      seed: 5,
      progress: false,
      settleTimeoutMs: 30_000,
      wrapStore: (base) => {
        const w = paysOneUserWrong(base);
        victim = w.victim;
        return w.store;
      },
    });
    const failed = new Map(report.invariants.filter((i) => !i.ok).map((i) => [i.name, i.violations]));
    expect([...failed.keys()]).toEqual(['settled-exactly-once', 'ledger-conservation']);
    const who = victim();
    expect(who).toBeDefined();
    expect(failed.get('settled-exactly-once')?.[0]).toContain(`user ${who}'s`);
    expect(failed.get('settled-exactly-once')?.[0]).toContain('stored won per100 100, the core computes lost per100 0');
    expect(failed.get('ledger-conservation')).toHaveLength(1);
    expect(failed.get('ledger-conservation')?.[0]).toContain(`user ${who}:`);
  }, 60_000);

  it('loads the same day as columns or as Ticket objects to the same balances', async () => {
    const run = async (columns: boolean) => {
      const clock = createRealClock();
      const store = createMemoryStore({ clock });
      const bus = createMemoryBus({ clock });
      const day = buildRaceDay(spec, 6);
      const report = await replayRaceDay({
        day,
        store,
        connect: pipelineConnector(bus, clock),
        progress: false,
        settleTimeoutMs: 30_000,
        ...(columns
          ? {
              loadColumns: (b) => {
                for (let i = 0; i < b.count; i++) b.userIdx[i] = store.userIndexOf(day.users[b.userIdx[i] as number]!.userId);
                store.loadTicketColumns(b);
              },
            }
          : {}),
      });
      const balances = await Promise.all(day.users.map((u) => store.readback.balances(u.userId)));
      await bus.close();
      return { report, balances };
    };
    const cols = await run(true);
    const objs = await run(false);
    expect(cols.report.loadPath).toBe('columns');
    expect(objs.report.loadPath).toBe('objects');
    expect(cols.report.complete && objs.report.complete).toBe(true);
    expect(cols.report.races.map((r) => [r.raceId, r.tickets, r.users, r.cashTickets])).toEqual(objs.report.races.map((r) => [r.raceId, r.tickets, r.users, r.cashTickets]));
    expect(cols.balances).toEqual(objs.balances);
  }, 60_000);

  it('prints progress lines, not a redrawn bar, when stderr is not a terminal', async () => {
    const written: string[] = [];
    const report = await replayOnMemory({ spec, seed: 7, settleTimeoutMs: 30_000, progress: { mode: 'lines', lineEveryMs: 1, write: (t) => void written.push(t) } });
    expect(report.complete).toBe(true);
    expect(written.length).toBeGreaterThanOrEqual(3);
    for (const line of written) {
      // Work done (tickets loaded + settlements) of the total, the phase's rate and ETA, then the detail.
      expect(line).toMatch(/^replay replay-check-test \d+ s (preparing|loading|settling|checking): [\d,]+\/[\d,]+ \([\d.]+%\)( [\d.,]+\/s)?( ETA \d+ s)? tickets [\d,]+\/6,000 results \d+\/\d+ races settled \d+ settlements [\d,]+\/[\d,]+\n$/);
    }
    expect(written.some((l) => / checking: .* tickets 6,000\/6,000/.test(l))).toBe(true);
  }, 60_000);
});
