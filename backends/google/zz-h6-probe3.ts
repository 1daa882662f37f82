import { startSpannerForTests } from './spanner-testing.ts';
import { createSpannerClient } from './spanner-client.ts';
const env = await startSpannerForTests('probe');
const store = await env.freshStore(1);
const N = 400;
await store.putUsers(Array.from({ length: N }, (_, i) => ({ userId: `u${i}`, cash: 0, medals: 10 })));
await store.putRace({ raceId: 'r', sport: 'keirin', riders: 7, closeAtMs: 0, postAtMs: 1 });
await store.loadTickets(Array.from({ length: N * 5 }, (_, i) => ({ ticketId: `t${i % 5}`, userId: `u${Math.floor(i / 5)}`, raceId: 'r', betType: 'exacta', combination: '1-2', stake: 100, currency: 'cash' })));
const sp = createSpannerClient(env.target);
const [dbs] = await sp.instance(env.target.instanceId).getDatabases();
const name = dbs.map((d) => d.formattedName_.split('/').pop()!).filter((n) => n.startsWith('probe')).sort().pop()!;
const db = sp.instance(env.target.instanceId).database(name);
const acc = { get: 0, read: 0, commit: 0 };
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  let t = performance.now();
  const [tx] = await db.getTransaction();
  acc.get += performance.now() - t; t = performance.now();
  const u = `u${i}`;
  const [[rows], [users]] = await Promise.all([
    tx.read('Tickets', { ranges: [{ startClosed: [u, 'r'], endClosed: [u, 'r'] }], columns: ['TicketId', 'Stake'], json: true }),
    tx.read('Users', { keys: [u], columns: ['Medals'], json: true }),
  ]);
  acc.read += performance.now() - t; t = performance.now();
  tx.update('Tickets', (rows as any[]).map((r) => ({ UserId: u, RaceId: 'r', TicketId: r.TicketId, Status: 'lost', OpenRaceId: null })));
  tx.update('Users', { UserId: u, Medals: 11 });
  await tx.commit();
  acc.commit += performance.now() - t;
  tx.end();
}
const s = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ perSec: N / s, msPerTx: { get: acc.get / N, read: acc.read / N, commit: acc.commit / N } }));
sp.close();
await env.stop();
