// The live-odds broadcaster: while a race's betting window is open, reads its cash pools from the
// store, computes its odds with the core (core/odds.ts) and hands one serialised frame to the
// gateway, which fans it out to every watcher of the race (`subscription { odds(raceId) }`).
// Odds are what fills subscriber buffers: a few notifications per race per user, but an odds
// frame per race per interval per watcher, and faster in the deadline rush, when the pools move
// most. One frame is computed and serialised per race per tick, however many watch it.
import { computeOdds, oddsToWire, type OddsWire } from '../core/odds.ts';
import type { RaceInfo, Store } from '../core/ports.ts';
import { validateField, type Field } from '../core/sports.ts';

/** Where frames go: the gateway's `publishOdds` (GatewayHandle). */
export interface OddsSink {
  publishOdds(raceId: string, payload: OddsFrame, bytes: number): void;
}

/** What the `odds` subscription yields: the race, the send time (ms since the epoch) and the odds. */
export interface OddsFrame {
  readonly raceId: string;
  readonly sentAt: number;
  readonly odds: OddsWire;
}

export interface OddsBroadcasterOptions {
  readonly store: Pick<Store, 'getRace' | 'cashPools'>;
  readonly sink: OddsSink;
  /** The races someone watches now (the gateway's odds subscriptions); others cost nothing. */
  readonly watchedRaces: () => Iterable<string>;
  /** Interval between two frames of one race in its betting window. */
  readonly intervalMs?: number;
  /** Interval in the deadline rush, the last `rushWindowMs` before the race closes. */
  readonly rushIntervalMs?: number;
  readonly rushWindowMs?: number;
  readonly nowMs?: () => number;
  /** A tick that fails (the store is unreachable) is reported here and the broadcaster goes on. */
  readonly onError?: (raceId: string, error: unknown) => void;
}

export const ODDS_INTERVAL_MS_DEFAULT = 1_000; // one frame a second per race
export const ODDS_RUSH_INTERVAL_MS_DEFAULT = 250; // four a second in the rush
export const ODDS_RUSH_WINDOW_MS_DEFAULT = 60_000; // the last minute before the close
/** The smallest interval accepted: below it the broadcaster would spend the gateway's CPU on odds alone. */
export const ODDS_INTERVAL_MS_MIN = 10;
/** Races whose field and close time are remembered (a day has a few hundred). */
const RACES_REMEMBERED_MAX = 4_096;

export interface OddsBroadcasterStats {
  /** Frames handed to the gateway, per race. */
  readonly framesByRace: Readonly<Record<string, number>>;
  readonly frames: number;
  readonly bytes: number;
  readonly errors: number;
}

export interface OddsBroadcaster {
  /** Sends every watched race that is due at `nowMs`; resolves with the frames sent. */
  tick(nowMs?: number): Promise<number>;
  /** Ticks on a timer until stop(). */
  start(): void;
  stop(): Promise<void>;
  stats(): OddsBroadcasterStats;
}

interface RaceSlot {
  readonly field: Field;
  readonly closeAtMs: number;
}

function checkInterval(name: string, value: number): number {
  if (!Number.isInteger(value) || value < ODDS_INTERVAL_MS_MIN) throw new RangeError(`${name} must be an integer of at least ${ODDS_INTERVAL_MS_MIN} ms, got ${value}`);
  return value;
}

export function createOddsBroadcaster(options: OddsBroadcasterOptions): OddsBroadcaster {
  const intervalMs = checkInterval('intervalMs', options.intervalMs ?? ODDS_INTERVAL_MS_DEFAULT);
  const rushIntervalMs = checkInterval('rushIntervalMs', options.rushIntervalMs ?? ODDS_RUSH_INTERVAL_MS_DEFAULT);
  const rushWindowMs = options.rushWindowMs ?? ODDS_RUSH_WINDOW_MS_DEFAULT;
  const now = options.nowMs ?? Date.now;
  const races = new Map<string, RaceSlot | null>();
  const lastSentAt = new Map<string, number>();
  const framesByRace: Record<string, number> = {};
  let frames = 0;
  let bytes = 0;
  let errors = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | undefined;
  const period = Math.min(intervalMs, rushIntervalMs);

  async function slotOf(raceId: string): Promise<RaceSlot | null> {
    const known = races.get(raceId);
    if (known !== undefined) return known;
    const race: RaceInfo | undefined = await options.store.getRace(raceId);
    const field = race === undefined ? undefined : validateField(race.sport, race.riders);
    // An unknown race (a client may watch any id) is remembered as such and never broadcast.
    const slot = race === undefined || field === undefined || !field.ok ? null : { field: field.value, closeAtMs: race.closeAtMs };
    if (races.size >= RACES_REMEMBERED_MAX) races.clear();
    races.set(raceId, slot);
    return slot;
  }

  async function sendRace(raceId: string, at: number): Promise<boolean> {
    const slot = await slotOf(raceId);
    if (slot === null || at >= slot.closeAtMs) return false;
    const due = (lastSentAt.get(raceId) ?? Number.NEGATIVE_INFINITY) + (slot.closeAtMs - at <= rushWindowMs ? rushIntervalMs : intervalMs);
    if (at < due) return false;
    if (options.store.cashPools === undefined) throw new Error('invariant violated: the odds broadcaster needs a Store with cashPools(raceId)');
    const pools = await options.store.cashPools(raceId);
    const sentAt = now();
    const frame: OddsFrame = { raceId, sentAt, odds: oddsToWire(computeOdds({ field: slot.field, pools })) };
    const size = Buffer.byteLength(JSON.stringify(frame));
    // Keep to the schedule: a tick a little late does not push every later frame back.
    lastSentAt.set(raceId, Number.isFinite(due) && at - due < period ? due : at);
    options.sink.publishOdds(raceId, frame, size);
    framesByRace[raceId] = (framesByRace[raceId] ?? 0) + 1;
    frames++;
    bytes += size;
    return true;
  }

  async function tick(nowMs: number = now()): Promise<number> {
    let sent = 0;
    for (const raceId of new Set(options.watchedRaces())) {
      try {
        if (await sendRace(raceId, nowMs)) sent++;
      } catch (e) {
        errors++;
        options.onError?.(raceId, e);
      }
    }
    return sent;
  }

  const loop = (): void => {
    // One tick at a time: a slow store read delays the next tick instead of piling ticks up.
    running = tick().finally(() => {
      running = undefined;
      if (timer !== undefined) timer = setTimeout(loop, period);
    });
  };

  return {
    tick,
    start() {
      if (timer !== undefined) return;
      timer = setTimeout(loop, 0);
    },
    async stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
    stats: () => ({ framesByRace: { ...framesByRace }, frames, bytes, errors }),
  };
}
