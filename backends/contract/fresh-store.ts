// What the store contracts share: fresh ids per test (a nonce prefix, so the suites also run on a
// shared database) and a fresh store per test, cleaned up whatever the test does.
import type { Store } from '../../core/ports.ts';

export interface StoreUnderTest {
  readonly store: Store;
  cleanup(): Promise<void>;
}

let nonceCounter = 0;

/** A prefix no other test of this process or of another process uses; `tag` tells the suites apart. */
export function nonce(tag: string): string {
  return `${tag}${Date.now().toString(36)}${process.pid.toString(36)}${(nonceCounter++).toString(36)}`;
}

/** Runs a test body on a fresh store with a fresh id prefix, cleaning the store up afterwards. */
export function storeRunner(makeStore: () => Promise<StoreUnderTest>, tag: string): (body: (store: Store, prefix: string) => Promise<void>) => Promise<void> {
  return async (body) => {
    const { store, cleanup } = await makeStore();
    try {
      await body(store, nonce(tag));
    } finally {
      await cleanup();
    }
  };
}
