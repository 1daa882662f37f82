// End to end through the real gateway (GraphQL over graphql-transport-ws): a healthy graphql-ws
// client and a client that subscribes and then never reads watch the same race's odds while the
// gateway broadcasts 64 KiB frames. With the fix (evict-after) the stalled one is evicted and the
// healthy one receives every frame; with shared-blocking the healthy one stalls too and the full
// intake channel drops frames with "channel is full".
import { afterEach, describe, expect, it } from 'vitest';
import { OPEN_RACE, startWorld, tokenFor, wsClient, type World } from '../_fixtures/world.ts';
import { stalledGraphqlClient } from './_fixtures/stalled-graphql-client.ts';

const FRAME_PAD = 60 * 1024; // under the gateway's 64 KiB frame limit for clients (ours are server frames anyway)
const ODDS = `subscription { odds(raceId: "${OPEN_RACE}") { raceId sentAt odds } }`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

let world: World | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await world?.close();
  world = undefined;
});

/** A healthy subscriber: collects the `n` field of every odds frame it receives. */
function healthyWatcher(w: World, token: string): { got: number[] } {
  const got: number[] = [];
  const client = wsClient(w.gateway, token);
  const dispose = client.subscribe<{ odds: { odds: { n: number } } }>({ query: ODDS }, {
    next: (r) => {
      if (r.data) got.push(r.data.odds.odds.n);
    },
    error: () => {},
    complete: () => {},
  });
  cleanups.push(() => {
    dispose();
    void client.dispose();
  });
  return { got };
}

function publish(w: World, n: number): void {
  const payload = { raceId: OPEN_RACE, sentAt: Date.now(), odds: { n, pad: 'x'.repeat(FRAME_PAD) } };
  w.gateway.publishOdds(OPEN_RACE, payload, FRAME_PAD + 64);
}

async function setUp(policy: string): Promise<{ w: World; healthy: { got: number[] } }> {
  const w = await startWorld({ policy });
  world = w;
  const healthy = healthyWatcher(w, await tokenFor('alice'));
  expect(await waitFor(() => w.gateway.stats().subscriptions === 1, 3_000)).toBe(true);
  const stalled = await stalledGraphqlClient(w.gateway.wsUrl, await tokenFor('bob'), ODDS);
  cleanups.push(() => stalled.close());
  expect(await waitFor(() => w.gateway.stats().subscriptions === 2, 3_000)).toBe(true);
  return { w, healthy };
}

describe('delivery policies end to end through the gateway', () => {
  it('per-subscriber:16:evict-after:300 evicts the stalled subscriber and the healthy one gets every frame', async () => {
    const { w, healthy } = await setUp('per-subscriber:16:evict-after:300');
    for (let n = 1; n <= 250; n += 1) {
      publish(w, n);
      await sleep(n % 4 === 0 ? 4 : 0);
    }
    expect(await waitFor(() => healthy.got.length === 250, 10_000)).toBe(true);
    expect(healthy.got).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(w.gateway.policy.stats().evictions).toBe(1);
    expect(w.gateway.policy.stats().timeToEvictMs[0]).toBeGreaterThanOrEqual(300);
    expect(await waitFor(() => w.gateway.stats().subscriptions === 1, 3_000)).toBe(true);
  });

  it('shared-blocking:10:300 stalls the healthy subscriber too and drops frames when the intake is full', async () => {
    const { w, healthy } = await setUp('shared-blocking:10:300');
    for (let n = 1; n <= 250; n += 1) {
      publish(w, n);
      await sleep(n % 4 === 0 ? 4 : 0);
    }
    await sleep(1_000);
    const got = healthy.got.length;
    // The healthy client got the frames before the stall and nothing after: far fewer than sent.
    expect(got).toBeLessThan(200);
    expect(healthy.got).toEqual(Array.from({ length: got }, (_, i) => i + 1));
    expect(w.gateway.policy.stats().drops).toBeGreaterThan(0);
    expect(w.gateway.policy.stats().evictions).toBe(0);
  });
});
