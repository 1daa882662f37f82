// Every user of a race, open or already settled, page by page (ascending user id), for the walks
// that must not skip a settled user: the single-worker fan-out (a user settled by an earlier,
// crashed delivery still needs its `settled`) and the reconciler (a settled user may still not be
// post-settled). Open users are read before settled ones, and a user only ever moves from open to
// settled, so nobody falls between the two reads.
import type { Store } from '../core/ports.ts';
import { storeMethod } from './context.ts';
import { LIMITS } from './settings.ts';

export async function* allUserPages(store: Store, raceId: string): AsyncGenerator<readonly string[]> {
  const pageSettled = storeMethod(store, 'pageSettlementTotals');
  const limit = LIMITS.fanoutPageUsers;
  let after: string | undefined;
  for (;;) {
    const open = await store.pageUsersWithOpenTickets(raceId, after, limit);
    const settled = (await pageSettled(raceId, after, limit)).map((t) => t.userId);
    // Only ids up to the smaller full page's last id are complete in both reads.
    let bound: string | undefined;
    for (const page of [open, settled]) {
      const last = page[page.length - 1];
      if (page.length === limit && last !== undefined && (bound === undefined || last < bound)) bound = last;
    }
    const users = [...new Set([...open, ...settled])].filter((u) => bound === undefined || u <= bound).sort();
    if (users.length > 0) yield users;
    if (bound === undefined) return;
    after = bound;
  }
}
