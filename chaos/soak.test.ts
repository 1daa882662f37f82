import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { dayTickets } from '../sim/workload.ts';
import type { DriftPoint } from './drift.ts';
import { dayPhases, relabelDay, rssMb, soakDrift } from './soak.ts';

describe('relabelDay', () => {
  it('prefixes every race, user and ticket id so repeated days never collide', () => {
    const day = smokeRaceDay(5, createRng(5), { usersMin: 10, usersMax: 10, ticketsPerUserMax: 3, stakeUnitsMax: 2 });
    const k = relabelDay(day, 'k2-');
    expect(k.races.map((r) => r.raceId)).toEqual(day.races.map((r) => `k2-${r.raceId}`));
    expect(k.users.every((u) => u.userId.startsWith('k2-u'))).toBe(true);
    const a = dayTickets(day);
    const b = dayTickets(k);
    expect(b).toHaveLength(a.length);
    expect(b.every((t, i) => t.ticketId === `k2-${a[i]?.ticketId}` && t.userId === `k2-${a[i]?.userId}` && t.raceId === `k2-${a[i]?.raceId}` && t.stake === a[i]?.stake)).toBe(true);
    expect(k.ticketCount).toBe(day.ticketCount);
  });
});

describe('soakDrift', () => {
  const series = (f: (t: number) => number): DriftPoint[] => Array.from({ length: 120 }, (_, i) => ({ tMs: i * 15_000, value: f(i * 15_000) + (i % 3) }));
  it('judges memory by 1 MB/min and latency by 2% of its median, and names what grows', () => {
    const byMetric = new Map([
      ['rss settle-1', { unit: 'MB', points: series(() => 150) }],
      ['rss notify-1', { unit: 'MB', points: series((t) => 150 + (3 * t) / 60_000) }],
      ['notify p99', { unit: 'ms', points: series(() => 500) }],
    ]);
    const { drift, verdict } = soakDrift(byMetric, 30);
    expect(drift.map((d) => [d.metric, d.verdict])).toEqual([
      ['rss settle-1', 'no unbounded growth'],
      ['rss notify-1', 'growing'],
      ['notify p99', 'no unbounded growth'],
    ]);
    expect(drift[2]?.thresholdPerMin).toBeCloseTo(10, 0);
    expect(drift[0]?.warmupSamples).toBe(8);
    expect(verdict).toBe('growing: rss notify-1');
    byMetric.delete('rss notify-1');
    expect(soakDrift(byMetric, 30).verdict).toBe('no unbounded growth');
  });

  it('says beside a short soak\'s growing resident memory when the same process\'s live objects are flat', () => {
    const climbing = { unit: 'MB', points: series((t) => 150 + (3 * t) / 60_000) };
    const flat = { unit: 'MB', points: series(() => 60) };
    const byMetric = new Map([['rss post-settle-1', climbing], ['heap post-settle-1', flat], ['external post-settle-1', flat]]);
    const short = soakDrift(byMetric, 30).verdict;
    expect(short).toMatch(/^growing: rss post-settle-1 \(rss post-settle-1: live objects flat; .* 60 minutes or more/);
    // Not on a long soak, and not when the heap grows with it (that is a leak of objects).
    expect(soakDrift(byMetric, 80).verdict).toBe('growing: rss post-settle-1');
    byMetric.set('heap post-settle-1', climbing);
    expect(soakDrift(byMetric, 30).verdict).toBe('growing: rss post-settle-1, heap post-settle-1');
  });
});

describe('rssMb', () => {
  it('reads a live process\'s resident memory and nothing for a gone one', () => {
    const mine = rssMb(process.pid);
    expect(mine).toBeGreaterThan(10);
    expect(Math.abs((mine as number) - process.memoryUsage().rss / 2 ** 20)).toBeLessThan(50);
    expect(rssMb(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('dayPhases', () => {
  it('names the time spent since the previous mark, phase by phase', () => {
    let t = 1_000;
    const phases = dayPhases(() => t);
    t += 2_100;
    phases.mark('load');
    t += 95_000;
    phases.mark('races');
    phases.mark('drain');
    t += 4_250;
    phases.mark('check');
    expect(phases.text()).toBe('load 2.1 s, races 95.0 s, drain 0.0 s, check 4.3 s');
  });
});
