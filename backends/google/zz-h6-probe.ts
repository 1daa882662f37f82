import { startSpannerForTests } from './spanner-testing.ts';
const env = await startSpannerForTests('probe');
try {
  const store = await env.freshStore(2, { transactionsPerShardMax: 4 });
  await store.putUsers([{ userId: 'u-bonus', cash: 0, medals: 10 }]);
  const bonus = { bonusId: 'bonus:hit:x', userId: 'u-bonus', medals: 50, reason: 'hit' };
  let t = Date.now();
  const lap = (what: string) => { console.log(what, Date.now() - t, JSON.stringify(store.stats())); t = Date.now(); };
  await Promise.all([store.grantBonuses([bonus]), store.grantBonuses([bonus, bonus])]); lap('grants');
  await store.readBonus('bonus:hit:x'); lap('readBonus');
  await Promise.all(['a1', 'a2', 'a3', 'a1', 'a2'].map((u) => store.markPostSettled('r-post', u))); lap('marks');
  await store.markPostSettled('r-post', 'a3'); lap('mark1');
  await Promise.all([1, 2, 3].map(() => store.claimRanking('r-post'))); lap('claims');
  await store.recordFanoutUsers('r-post', 3); lap('fanout');
} finally { await env.stop(); }
