// How an ingest process takes official results: POST /results answers the ingest's outcome, the
// same result posted again is accepted again without a second record (a caller whose first request
// died with the process posts again), and bad requests get precise errors with nothing published.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import type { Delivery } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { SUBSCRIPTIONS } from '../core/topology.ts';
import { createIngest } from '../pipeline/ingest.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { INGEST_ENDPOINT_LIMITS, startIngestEndpoint } from './ingest-endpoint.ts';

async function post(url: string, body: string): Promise<{ status: number; body: { ok: boolean; outcome?: { recorded: boolean }; error?: { code: string; message: string } } }> {
  const res = await fetch(`${url}/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as never };
}

describe('the ingest endpoint', () => {
  it('records a result once, accepts it again idempotently, and refuses bad requests precisely', async () => {
    const clock = createRealClock();
    const store = createMemoryStore({ clock });
    const bus = createMemoryBus({ clock });
    const day = smokeRaceDay(1, createRng('ingest-endpoint').fork('workload'));
    await loadDay(store, day);
    const race = day.races[0]!;
    const published: string[] = [];
    const sub = bus.subscribe(SUBSCRIPTIONS.fanOut.name, async (d: Delivery) => (published.push(d.data), d.ack()), { maxInFlight: 8, ackDeadlineMs: 10_000 });
    const endpoint = await startIngestEndpoint(createIngest({ store, bus, clock }));
    try {
      expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const result = { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched };
      const first = await post(endpoint.url, JSON.stringify(result));
      expect(first.status).toBe(200);
      expect(first.body.outcome?.recorded).toBe(true);
      const again = await post(endpoint.url, JSON.stringify(result));
      expect(again.status).toBe(200);
      expect(again.body.outcome?.recorded).toBe(false);

      const notJson = await post(endpoint.url, '{"raceId":');
      expect([notJson.status, notJson.body.error?.code]).toEqual([400, 'INGEST.BAD_REQUEST']);
      const noRace = await post(endpoint.url, JSON.stringify([1, 2]));
      expect([noRace.status, noRace.body.error?.code]).toEqual([400, 'INGEST.BAD_REQUEST']);
      const unknown = await post(endpoint.url, JSON.stringify({ ...result, raceId: 'r-nope' }));
      expect([unknown.status, unknown.body.error?.code]).toEqual([422, 'RACE.UNKNOWN']);
      const other = await post(endpoint.url, JSON.stringify({ ...result, resultVersion: 2, result: { status: 'void' } }));
      expect([other.status, other.body.error?.code]).toEqual([422, 'RESULT.ALREADY_FINAL']);
      const huge = await post(endpoint.url, JSON.stringify({ raceId: 'x', pad: 'y'.repeat(INGEST_ENDPOINT_LIMITS.maxBodyBytes) }));
      expect([huge.status, huge.body.error?.code]).toEqual([413, 'INGEST.TOO_LARGE']);
      expect((await fetch(`${endpoint.url}/results`)).status).toBe(405);
      expect((await fetch(`${endpoint.url}/elsewhere`, { method: 'POST' })).status).toBe(404);

      await new Promise((r) => setTimeout(r, 50));
      // The recorded result and its idempotent repeat: two race-results messages, nothing for the refused ones.
      expect(published).toHaveLength(2);
      expect(endpoint.counts()).toEqual({ accepted: 2, refused: 2, malformed: 2 });
    } finally {
      await endpoint.close();
      await sub.close();
      await bus.close();
    }
  });
});
