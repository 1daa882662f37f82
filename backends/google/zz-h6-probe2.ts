import { startSpannerForTests } from './spanner-testing.ts';
import { createSpannerClient } from './spanner-client.ts';
const env = await startSpannerForTests('probe');
try {
  const store = await env.freshStore(1);
  await store.putUsers([{ userId: 'a', cash: 0, medals: 10 }, { userId: 'b', cash: 0, medals: 10 }]);
} finally {}
// direct
import { Spanner } from '@google-cloud/spanner';
const sp = createSpannerClient(env.target);
const [dbs] = await sp.instance(env.target.instanceId).getDatabases();
const name = dbs.map((d) => d.formattedName_.split('/').pop()!).filter((n) => n.startsWith('probe')).sort().pop()!;
const db = sp.instance(env.target.instanceId).database(name);
const t0 = Date.now();
const log = (s: string) => console.log(String(Date.now() - t0).padStart(6), s);
async function one(tag: string, user: string, parallel: boolean) {
  const [tx] = await db.getTransaction();
  log(`${tag} got tx`);
  try {
    if (parallel) {
      await Promise.all([tx.read('Users', { keys: [user], columns: ['Medals'], json: true }), tx.read('Users', { keys: [user], columns: ['CashYen'], json: true })]);
    } else {
      await tx.read('Users', { keys: [user], columns: ['Medals'], json: true });
      log(`${tag} read1`);
      await tx.read('Users', { keys: [user], columns: ['CashYen'], json: true });
    }
    log(`${tag} reads done`);
    tx.update('Users', { UserId: user, Medals: 11 });
    await tx.commit();
    log(`${tag} committed`);
  } catch (e) { log(`${tag} error ${(e as any).code} ${(e as Error).message.slice(0, 100)}`); await tx.rollback().catch(() => 0); }
  finally { tx.end(); }
}
await Promise.all([one('A', 'a', false), one('B', 'b', false)]);
log('--- parallel reads');
await Promise.all([one('C', 'a', true), one('D', 'b', true)]);
log('--- 4 concurrent');
await Promise.all([one('E', 'a', false), one('F', 'b', false), one('G', 'a', false), one('H', 'b', false)]);
sp.close();
await env.stop();
