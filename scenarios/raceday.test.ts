// Proves the RaceDay that runners consume: races carry the calendar's times and the generated
// results, users have opening balances, ticket batches come in placement order, are the same on
// every call, and agree ticket for ticket with the JSON Lines output of the same seed. Also that
// activity is heavy-tailed (the busiest 1% of users place far more than 1% of the tickets).
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../core/ticket.ts';
import { generateJsonl } from './generate.ts';
import { buildRaceDay } from './raceday.ts';
import { loadScenario, parseScenario } from './spec.ts';

const spec = parseScenario({
  name: 'rd',
  users: 5000,
  tickets: 30_000,
  meetings: [{ sport: 'keirin', kind: 'daytime', races: 4 }, { sport: 'pist6', races: 2 }],
});

const collect = (batches: Iterable<{ tickets: readonly Ticket[]; placedAtMs: readonly number[] }>) => {
  const tickets: Ticket[] = [];
  const times: number[] = [];
  for (const b of batches) {
    expect(b.tickets.length).toBe(b.placedAtMs.length);
    tickets.push(...b.tickets);
    times.push(...b.placedAtMs);
  }
  return { tickets, times };
};

describe('buildRaceDay', () => {
  const day = buildRaceDay(spec, 5);

  it('describes races, users and a replayable ticket stream in placement order', () => {
    expect(day.name).toBe('rd');
    expect(day.races).toHaveLength(6);
    expect(day.users).toHaveLength(5000);
    expect(day.users[0]?.userId).toBe('u0000');
    expect(day.ticketCount).toBe(30_000);
    for (const r of day.races) {
      expect(r.opensAtMs!).toBeLessThan(r.closeAtMs);
      expect(r.closeAtMs).toBeLessThan(r.postAtMs);
      expect(r.postAtMs).toBeLessThan(r.resultAtMs);
    }
    const a = collect(day.ticketBatches());
    const b = collect(day.ticketBatches());
    expect(a.tickets).toHaveLength(30_000);
    expect(b).toEqual(a);
    expect(a.times.every((t, i) => i === 0 || t >= (a.times[i - 1] as number))).toBe(true);
    const perRace = new Map<string, number>();
    for (const t of a.tickets) perRace.set(t.raceId, (perRace.get(t.raceId) ?? 0) + 1);
    for (const r of day.races) expect(perRace.get(r.raceId) ?? 0).toBe(r.ticketCount);
  });

  it('agrees ticket for ticket with the JSON Lines output of the same seed', () => {
    const chunks: Buffer[] = [];
    generateJsonl(spec, 5, { sink: (x) => chunks.push(Buffer.from(x)) });
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const fromJsonl = lines.filter((r) => r.kind === 'ticket').map(({ kind: _k, placedAtMs: _p, ...t }) => t);
    const { tickets } = collect(day.ticketBatches());
    expect(fromJsonl).toEqual(tickets.map((t) => ({ ...t })));
    const users = lines.filter((r) => r.kind === 'user').map(({ kind: _k, ...u }) => u);
    expect(users).toEqual(day.users);
  });

  it('gives users heavy-tailed activity', () => {
    const { tickets } = collect(day.ticketBatches());
    const perUser = new Map<string, number>();
    for (const t of tickets) perUser.set(t.userId, (perUser.get(t.userId) ?? 0) + 1);
    const counts = [...perUser.values()].sort((x, y) => y - x);
    const top1pct = counts.slice(0, 50).reduce((x, y) => x + y, 0);
    // Pareto(1.3) activity: the top 1% hold several times their headcount share.
    expect(top1pct / tickets.length).toBeGreaterThan(0.05);
  });

  it('plans the grand prix as one 9-rider race of 20,000,000 tickets with its outside sales, without drawing the tickets', () => {
    const gp = buildRaceDay(loadScenario('grand-prix'), 1);
    expect(gp.races).toHaveLength(1);
    expect(gp.races[0]?.riders).toBe(9);
    expect(gp.ticketCount).toBe(20_000_000);
    const outside = Object.values(gp.races[0]?.outsidePools ?? {}).reduce((a, pool) => a + Object.values(pool).reduce((x, y) => x + y, 0), 0);
    expect(outside).toBe(6_240_000_000);
  });
});
