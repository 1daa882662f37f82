// A planner run's emulators on the official emulators: with `spannerPerRun` each run settles on a
// Spanner emulator of its own (started for it, stopped after it) beside the pair's Pub/Sub, so no
// run meets a Spanner emulator slowed by the runs before it; without it every run uses the pair's.
import { expect, it } from 'vitest';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { probeSpanner } from '../emulators/readiness.ts';
import { withOwnSpanner } from '../emulators/index.ts';
import { runCase, spannerAgeOf, type RunEmulators } from './real-run.ts';

const CASE = { users: 60, workers: 1, shards: 2, maxInFlight: 16 } as const;

/** Runs the case and returns where it ran: the opened backend's Pub/Sub and Spanner hosts. */
async function hostsOfRun(emulators: RunEmulators): Promise<{ pubsubHost: unknown; spannerHost: unknown; ok: boolean }> {
  let where: Readonly<Record<string, unknown>> = {};
  const m = await runCase('emulators', CASE, () => undefined, (opened) => ((where = opened.where), opened), emulators);
  return { pubsubHost: where['pubsubHost'], spannerHost: where['spannerHost'], ok: m.ok && m.settledUsers === CASE.users };
}

describeWithEmulators('a planner run on a Spanner emulator of its own', () => {
  const pair = useEmulators();

  it('each run settles on a Spanner emulator of its own, stopped after it; shared runs use the pair’s', { timeout: 60_000 }, async () => {
    const own = { pair: pair(), spannerPerRun: true };
    const first = await hostsOfRun(own);
    const second = await hostsOfRun(own);
    for (const r of [first, second]) {
      expect(r.ok).toBe(true);
      expect(r.pubsubHost).toBe(pair().pubsubHost);
      expect(r.spannerHost).not.toBe(pair().spannerHost);
      // Stopped with its run: nothing answers there any more.
      expect(await probeSpanner(r.spannerHost as string, pair().projectId)).toBe(false);
    }
    expect(first.spannerHost).not.toBe(second.spannerHost);
    // Every run on its own Spanner is a run on one that served nothing before.
    expect(spannerAgeOf(own, 7)).toBe(0);

    const shared = { pair: pair(), spannerPerRun: false };
    const third = await hostsOfRun(shared);
    expect(third.ok).toBe(true);
    expect(third.spannerHost).toBe(pair().spannerHost);
    expect(spannerAgeOf(shared, 7)).toBe(7);
    expect(await probeSpanner(pair().spannerHost as string, pair().projectId)).toBe(true);
  });

  it('an own Spanner beside the pair: the pair’s Pub/Sub, a new Spanner host; its stop leaves the pair running', { timeout: 30_000 }, async () => {
    const own = await withOwnSpanner(pair());
    try {
      expect(own.pubsubHost).toBe(pair().pubsubHost);
      expect(own.spannerHost).not.toBe(pair().spannerHost);
      expect(own.env['SPANNER_EMULATOR_HOST']).toBe(own.spannerHost);
      expect(await probeSpanner(own.spannerHost as string, own.projectId)).toBe(true);
    } finally {
      await own.stop();
    }
    expect(await probeSpanner(own.spannerHost as string, own.projectId)).toBe(false);
    expect(await probeSpanner(pair().spannerHost as string, pair().projectId)).toBe(true);
  });
});
