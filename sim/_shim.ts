// TEMPORARY (H5): adds the pipeline's optional Store reads until the memory store implements them.
import type { MemoryStore } from '../backends/memory/index.ts';
import type { Settlement } from '../core/settlement-record.ts';

export function withPipelineReads(store: MemoryStore): MemoryStore {
  if (store.getSettlement !== undefined && store.fanoutUsers !== undefined && store.pageSettlementTotals !== undefined) return store;
  const settlements = new Map<string, Settlement>();
  const fanout = new Map<string, number>();
  const s: MemoryStore = Object.create(store) as MemoryStore;
  Object.assign(s, {
    async settleUser(...args: Parameters<MemoryStore['settleUser']>) {
      const r = await store.settleUser(...args);
      if (r.kind === 'applied') settlements.set(`${args[0]}/${args[1]}`, r.settlement);
      return r;
    },
    async recordFanoutUsers(raceId: string, users: number) {
      if (!fanout.has(raceId)) fanout.set(raceId, users);
      return fanout.get(raceId);
    },
    async fanoutUsers(raceId: string) {
      return fanout.get(raceId);
    },
    async getSettlement(raceId: string, userId: string) {
      return settlements.get(`${raceId}/${userId}`);
    },
    async pageSettlementTotals(raceId: string, after: string | undefined, limit: number) {
      const rows = [...settlements.values()]
        .filter((x) => x.raceId === raceId && (after === undefined || x.userId > after))
        .sort((a, b) => (a.userId < b.userId ? -1 : 1))
        .slice(0, limit);
      return rows.map((x) => ({ userId: x.userId, settlementId: x.settlementId, cash: x.cashDelta, medals: x.medalDelta, hits: x.hits }));
    },
  });
  return s;
}
