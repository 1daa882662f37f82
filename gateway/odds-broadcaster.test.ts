// Proves the odds broadcaster's schedule and routing on the memory store, stepping time by hand:
// a watched race gets one frame per interval in its betting window and one per rush interval in
// the last minute, nothing after its close; races nobody watches and unknown races get nothing;
// each frame carries the odds the core computes from the pools as they stand at that tick, its
// send time, and its byte size as sent. Through a real gateway, each watcher receives the frames
// of the race it watches and no other.
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../backends/memory/index.ts';
import { computeOdds, oddsToWire } from '../core/odds.ts';
import { connectLean } from '../loadtests/swarm/client.ts';
import { signToken } from './auth.ts';
import { createOddsBroadcaster, type OddsFrame } from './odds-broadcaster.ts';
import { startGateway } from './server.ts';

const CLOSE_AT_MS = 100_000;

async function world() {
  const store = createMemoryStore();
  await store.putUsers([{ userId: 'u1', cash: 1_000_000, medals: 0 }]);
  for (const raceId of ['r1', 'r2', 'r3']) await store.putRace({ raceId, sport: 'keirin', riders: 9, closeAtMs: CLOSE_AT_MS, postAtMs: CLOSE_AT_MS + 60_000 });
  const bet = (ticketId: string, raceId: string, combination: string, stake: number) =>
    store.placeBet({ ticketId, userId: 'u1', raceId, betType: 'trifecta', combination, stake, currency: 'cash' });
  return { store, bet };
}

function recorder() {
  const sent: { raceId: string; frame: OddsFrame; bytes: number }[] = [];
  return { sent, sink: { publishOdds: (raceId: string, frame: OddsFrame, bytes: number) => void sent.push({ raceId, frame, bytes }) } };
}

describe('odds broadcaster', () => {
  it('sends one frame per interval, one per rush interval in the last minute, and none after the close', async () => {
    const { store, bet } = await world();
    expect((await bet('t1', 'r1', '1-2-3', 1_000)).ok).toBe(true);
    const { sent, sink } = recorder();
    let now = 0;
    const b = createOddsBroadcaster({ store, sink, watchedRaces: () => ['r1'], intervalMs: 1_000, rushIntervalMs: 250, rushWindowMs: 10_000, nowMs: () => now });
    // Ticks every 50 ms from 30 s before the close to 5 s after it.
    for (now = CLOSE_AT_MS - 30_000; now < CLOSE_AT_MS + 5_000; now += 50) await b.tick(now);
    const times = sent.map((s) => s.frame.sentAt);
    const normal = times.filter((t) => t < CLOSE_AT_MS - 10_000);
    const rush = times.filter((t) => t >= CLOSE_AT_MS - 10_000);
    expect(normal).toHaveLength(20);
    expect(normal.slice(1).map((t, i) => t - (normal[i] as number))).toEqual(Array(19).fill(1_000));
    expect(rush).toHaveLength(40);
    expect(rush.slice(1).map((t, i) => t - (rush[i] as number))).toEqual(Array(39).fill(250));
    expect(Math.max(...times)).toBeLessThan(CLOSE_AT_MS);
    expect(b.stats().framesByRace).toEqual({ r1: 60 });
  });

  it('sends only the races someone watches, skips unknown races, and each frame carries the odds of the pools at that tick', async () => {
    const { store, bet } = await world();
    await bet('t1', 'r1', '1-2-3', 1_000);
    await bet('t2', 'r2', '3-2-1', 500);
    const { sent, sink } = recorder();
    let watched = ['r1', 'nope'];
    const b = createOddsBroadcaster({ store, sink, watchedRaces: () => watched, intervalMs: 1_000 });
    expect(await b.tick(0)).toBe(1);
    await bet('t3', 'r1', '2-1-3', 3_000);
    watched = ['r1', 'r2'];
    expect(await b.tick(500)).toBe(1); // r1 is not due yet; r2 is new
    expect(await b.tick(1_000)).toBe(1);
    expect(sent.map((s) => s.raceId)).toEqual(['r1', 'r2', 'r1']);
    const [first, , third] = sent;
    expect(first?.frame.odds).toEqual({ trifecta: { '1-2-3': '1.0' } });
    // After t3: S = 4,000 at R = 75%: 1-2-3 3,000 / 1,000 = 3.0, 2-1-3 3,000 / 3,000 = 1.0.
    expect(third?.frame.odds).toEqual(oddsToWire(computeOdds({ field: { sport: 'keirin', riders: 9 }, pools: await store.cashPools('r1') })));
    expect(third?.frame.odds).toEqual({ trifecta: { '1-2-3': '3.0', '2-1-3': '1.0' } });
    for (const s of sent) expect(s.bytes).toBe(Buffer.byteLength(JSON.stringify(s.frame)));
    expect(b.stats()).toMatchObject({ frames: 3, errors: 0, framesByRace: { r1: 2, r2: 1 } });
  });

  it('a store that fails is reported per race and the other races still get their frames', async () => {
    const { store } = await world();
    const failing = { getRace: store.getRace, cashPools: async (raceId: string) => (raceId === 'r1' ? Promise.reject(new Error('store down')) : store.cashPools(raceId)) };
    const { sent, sink } = recorder();
    const errors: string[] = [];
    const b = createOddsBroadcaster({ store: failing, sink, watchedRaces: () => ['r1', 'r2'], onError: (raceId, e) => errors.push(`${raceId}: ${(e as Error).message}`) });
    expect(await b.tick(0)).toBe(1);
    expect(errors).toEqual(['r1: store down']);
    expect(sent.map((s) => s.raceId)).toEqual(['r2']);
  });

  it('refuses an interval below its minimum with a message naming it', () => {
    const { sink } = recorder();
    expect(() => createOddsBroadcaster({ store: createMemoryStore(), sink, watchedRaces: () => [], rushIntervalMs: 1 })).toThrow(/rushIntervalMs must be an integer of at least 10 ms, got 1/);
  });

  it('on its own timer keeps to the rate until stopped', async () => {
    const { store, bet } = await world();
    await bet('t1', 'r1', '1-2-3', 1_000);
    const { sent, sink } = recorder();
    const far = Date.now() + 3_600_000;
    await store.putRace({ raceId: 'r9', sport: 'keirin', riders: 9, closeAtMs: far, postAtMs: far });
    const b = createOddsBroadcaster({ store, sink, watchedRaces: () => ['r9'], intervalMs: 50, rushIntervalMs: 50 });
    b.start();
    await new Promise((r) => setTimeout(r, 520));
    await b.stop();
    const n = sent.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(sent.length).toBe(n);
    // 0, 50, ..., 500 ms: 11 frames on time; a busy machine may lose a few, never send extra.
    expect(n).toBeGreaterThanOrEqual(6);
    expect(n).toBeLessThanOrEqual(11);
  });

  it('through a real gateway each watcher gets its own race\'s frames only, and only watched races are computed', async () => {
    const { store, bet } = await world();
    await store.putUsers([{ userId: 'u2', cash: 0, medals: 0 }]);
    const far = Date.now() + 3_600_000;
    for (const raceId of ['r1', 'r2', 'r3']) await store.putRace({ raceId, sport: 'keirin', riders: 9, closeAtMs: far, postAtMs: far });
    await bet('t1', 'r1', '1-2-3', 1_000);
    await bet('t2', 'r2', '3-2-1', 2_000);
    const secret = 'odds-broadcaster-test-secret-32-bytes!';
    const gateway = await startGateway({ store, secret, port: 0, log: () => undefined });
    const got: Record<string, { raceId: string; sentAt: number }[]> = { u1: [], u2: [] };
    const open = async (userId: string, raceId: string) => {
      const c = await connectLean(gateway.wsUrl, await signToken(userId, secret, 60), {
        onNotification: () => undefined,
        onOdds: (o) => void got[userId]?.push(o),
        onError: (m) => { throw new Error(m); },
        onClose: () => undefined,
      });
      c.subscribeOdds(raceId);
      return c;
    };
    const a = await open('u1', 'r1');
    const b = await open('u2', 'r2');
    try {
      const deadline = Date.now() + 5_000;
      while ([...gateway.watchedRaces()].length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const odds = createOddsBroadcaster({ store, sink: gateway, watchedRaces: () => gateway.watchedRaces(), intervalMs: 10, rushIntervalMs: 10 });
      const t0 = Date.now();
      await odds.tick(t0);
      await odds.tick(t0 + 20);
      while ((got['u1']?.length ?? 0) + (got['u2']?.length ?? 0) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(odds.stats().framesByRace).toEqual({ r1: 2, r2: 2 });
      expect(got['u1']?.map((o) => o.raceId)).toEqual(['r1', 'r1']);
      expect(got['u2']?.map((o) => o.raceId)).toEqual(['r2', 'r2']);
    } finally {
      a.close();
      b.close();
      await gateway.close();
    }
  });
});
