// Proves the Spanner store passes the shared Store contracts (backends/contract: the port's methods
// and the ones the pipeline needs) on the Spanner emulator, the same suites the memory store passes: one store over 2 shard databases, every test
// with its own nonce-prefixed ids, concurrency through the store's per-shard gates.
import { afterAll, beforeAll } from 'vitest';
import { describeDayProgressContract } from '../contract/day-progress-contract.ts';
import { describeNotificationLogContract } from '../contract/notification-log-contract.ts';
import { describeStoreContract } from '../contract/store-contract.ts';
import { describeStorePipelineContract } from '../contract/store-pipeline-contract.ts';
import type { SpannerStore } from './spanner-store.ts';
import { startSpannerForTests, type SpannerForTests } from '../../emulators/spanner-testing.ts';

let env: SpannerForTests | undefined;
let store: SpannerStore | undefined;
let twin: SpannerStore | undefined;

beforeAll(async () => {
  env = await startSpannerForTests('contract');
  store = await env.freshStore(2);
  twin = env.twinStore(store);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describeStoreContract(
  'spanner (emulator, 2 shards)',
  async () => {
    if (store === undefined) throw new Error('the Spanner emulator store was not set up (see beforeAll)');
    return { store, cleanup: async () => undefined };
  },
  { testTimeoutMs: 60_000 },
);

describeDayProgressContract(
  'spanner (emulator, 2 shards)',
  async () => {
    if (store === undefined) throw new Error('the Spanner emulator store was not set up (see beforeAll)');
    return { store, cleanup: async () => undefined };
  },
  { testTimeoutMs: 60_000 },
);

describeStorePipelineContract(
  'spanner (emulator, 2 shards)',
  async () => {
    if (store === undefined) throw new Error('the Spanner emulator store was not set up (see beforeAll)');
    return { store, cleanup: async () => undefined };
  },
  { testTimeoutMs: 60_000 },
);

describeNotificationLogContract(
  'spanner (emulator, 2 shards)',
  async () => {
    if (store === undefined) throw new Error('the Spanner emulator store was not set up (see beforeAll)');
    return { store, cleanup: async () => undefined };
  },
  { testTimeoutMs: 60_000, twin: () => twin as SpannerStore },
);
