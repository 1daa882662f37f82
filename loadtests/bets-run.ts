// `raceday load bets` on an embedded gateway: a Store (memory, or Spanner on the emulators through
// the same opener as `raceday run`) with users and one race closing just after the ramp, the real
// gateway (startGateway) over it, the deadline rush against its HTTP endpoint, then the Store
// checked against every answer (verifyBets).
import { signToken } from '../gateway/auth.ts';
import { openBackend, type BackendName } from '../sim/open-backend.ts';
import { startGateway } from '../gateway/server.ts';
import type { Store } from '../core/ports.ts';
import { runBets, verifyBets, type BetsReport, type BetsVerification, type RushMix } from './bets.ts';

export interface BetsRunOptions {
  /** memory (default) or emulators: where the Store lives. */
  readonly backend?: Extract<BackendName, 'memory' | 'emulators'>;
  readonly users: number;
  /** Users (the first ones) whose opening cash affords only a few bets: refusals for insufficient balance. */
  readonly poorUsers: number;
  readonly rampMs: number;
  readonly stages: number;
  readonly rateStartPerSecond: number;
  readonly ratePeakPerSecond: number;
  readonly afterCloseMs: number;
  readonly connections: number;
  readonly mix?: RushMix;
  readonly log: (line: string) => void;
}

export interface BetsRunReport {
  readonly backend: string;
  readonly rush: BetsReport;
  readonly verification: BetsVerification;
  readonly elapsedMs: number;
}

const SECRET = 'raceday-load-bets-secret-of-32-bytes!!';
const RACE_ID = 'rush-race';
const RIDERS = 9;
/** Cash of a user who can afford many bets, and of a poor one (three 100-yen bets). */
const OPENING_CASH_YEN = 1_000_000;
const POOR_CASH_YEN = 300;
/** Time to start the gateway and sign tokens before the ramp starts. */
const LEAD_MS = 1_000;

export async function runBetsEmbedded(o: BetsRunOptions): Promise<BetsRunReport> {
  const started = performance.now();
  const backend = await openBackend(o.backend ?? 'memory', { log: o.log });
  try {
    return await rushOn(backend.store, backend.name, o, started);
  } finally {
    await backend.close();
  }
}

async function rushOn(store: Store, backendName: string, o: BetsRunOptions, started: number): Promise<BetsRunReport> {
  const ids = Array.from({ length: o.users }, (_, i) => `bu${String(i).padStart(6, '0')}`);
  const opening = new Map(ids.map((id, i) => [id, i < o.poorUsers ? POOR_CASH_YEN : OPENING_CASH_YEN]));
  await store.putUsers(ids.map((userId) => ({ userId, cash: opening.get(userId) as number, medals: 0 })));
  const closeAtMs = Date.now() + LEAD_MS + o.rampMs;
  await store.putRace({ raceId: RACE_ID, sport: 'keirin', riders: RIDERS, closeAtMs, postAtMs: closeAtMs + 5 * 60_000 });
  const users = await Promise.all(ids.map(async (userId) => ({ userId, token: await signToken(userId, SECRET, 3_600) })));
  const gw = await startGateway({ store, secret: SECRET, log: (l) => o.log(`gateway: ${l}`) });
  try {
    const { report, records } = await runBets({
      graphqlUrl: gw.url, users, raceId: RACE_ID, riders: RIDERS, closeAtMs, rampMs: o.rampMs, stages: o.stages,
      rateStartPerSecond: o.rateStartPerSecond, ratePeakPerSecond: o.ratePeakPerSecond, afterCloseMs: o.afterCloseMs, connections: o.connections,
      ...(o.mix === undefined ? {} : { mix: o.mix }), log: o.log,
    });
    const readback = store.readback;
    if (readback === undefined) throw new Error(`the ${backendName} store has no readback to check the rush against`);
    const verification = await verifyBets(records, readback, RACE_ID, opening);
    return { backend: backendName, rush: report, verification, elapsedMs: Math.round(performance.now() - started) };
  } finally {
    await gw.close();
  }
}
