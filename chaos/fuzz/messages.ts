// Malformed messages on every topic while a legitimate race settles: the generated messages
// (message-arbitraries.ts) are published on the topics the pipeline and the notification client
// read, interleaved with the race's own traffic; afterwards every malformed message must be in its
// topic's dead letters with a reason, the race must have settled with every invariant holding
// (sim/checkers.ts, the malformed messages passed as the poison it expects) and no handler may
// have thrown. Runs on any opened backend (memory, or the emulators).
import type { MessageBus, Store } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { startPipeline } from '../../pipeline/runner.ts';
import { checkWorld, type BusView, type Violation } from '../../sim/checkers.ts';
import { expectedWorld } from '../../sim/expected.ts';
import { smokeRaceDay } from '../../sim/workload.ts';
import { loadDay, startClient } from '../../sim/world.ts';
import type { Clock } from '../../core/ports.ts';
import { drawMessages, FUZZ_TOPICS, type FuzzMessage, type FuzzTopic } from './message-arbitraries.ts';

export interface MessageFuzzBackend {
  readonly store: Store;
  readonly bus: MessageBus & { isIdle(): boolean };
  readonly view: BusView;
  readonly clock: Clock;
}

export interface MessageFuzzOptions {
  readonly seed: number;
  /** Messages per (topic, kind). */
  readonly runs: number;
  readonly topics?: readonly FuzzTopic[];
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** One (topic, kind) cell of the report. */
export interface MessageCell {
  readonly topic: string;
  readonly kind: string;
  readonly tried: number;
  /** Found in the topic's dead letters with a non-empty reason. */
  readonly deadLettered: number;
  /** Refused by the bus at publish (never reached the pipeline), e.g. Pub/Sub's empty message. */
  readonly busRefused: number;
  /** Tried but not found there: a message the pipeline dropped silently or accepted. */
  readonly lost: number;
  /** The first reason seen, for the report. */
  readonly reason?: string;
  /** The bus's error for the first message it refused. */
  readonly busReason?: string;
}

export interface MessageFuzzResult {
  readonly seed: number;
  readonly users: number;
  readonly tickets: number;
  readonly cells: readonly MessageCell[];
  readonly tried: number;
  readonly deadLettered: number;
  readonly busRefused: number;
  readonly lost: number;
  /** Handler exceptions (bugs): must be none. */
  readonly crashes: readonly string[];
  /** The checkers' violations of the legitimate race (poison accounted for): must be none. */
  readonly violations: readonly Violation[];
  readonly ok: boolean;
  readonly wallMs: number;
}

const SHAPE = { usersMin: 30, usersMax: 30, ticketsPerUserMax: 3, stakeUnitsMax: 5 };
const POLL_MS = 25;
const IDLE_POLLS = 6;

/**
 * Done when the race's ranking broadcast reached the client, every malformed message has a dead
 * letter (a remote bus's idleness alone lags its deliveries: the emulators' watcher counts what it
 * has seen), and the bus has stayed idle a few polls.
 */
async function untilDone(bus: { isIdle(): boolean }, done: () => boolean, deadline: number): Promise<boolean> {
  let idle = 0;
  while (idle < IDLE_POLLS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    idle = done() && bus.isIdle() ? idle + 1 : 0;
    if (performance.now() > deadline) return false;
  }
  return true;
}

/** Distinct dead letters (by original message) on each topic's dead-letter topic. */
function deadLetterCounts(view: BusView, topics: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const topic of topics) out.set(topic, new Set(view.deadLetters(topic).map((dl, i) => dl.attributes['originalMessageId'] ?? `#${i}`)).size);
  return out;
}

/** Counts each tried message found in its topic's dead letters (by text; one letter per original message). */
function tally(messages: readonly FuzzMessage[], busRefused: ReadonlyMap<FuzzMessage, string>, view: BusView): MessageCell[] {
  const left = new Map<string, { reason: string }[]>();
  for (const topic of new Set(messages.map((m) => m.topic))) {
    const seen = new Set<string>();
    for (const dl of view.deadLetters(topic)) {
      const original = dl.attributes['originalMessageId'];
      if (original !== undefined && seen.has(original)) continue;
      if (original !== undefined) seen.add(original);
      const key = `${topic}\u0000${dl.data}`;
      const list = left.get(key) ?? [];
      list.push({ reason: dl.attributes['reason'] ?? '' });
      left.set(key, list);
    }
  }
  const cells = new Map<string, { topic: string; kind: string; tried: number; deadLettered: number; busRefused: number; reason?: string; busReason?: string }>();
  for (const m of messages) {
    const id = `${m.topic}/${m.kind}`;
    let c = cells.get(id);
    if (c === undefined) cells.set(id, (c = { topic: m.topic, kind: m.kind, tried: 0, deadLettered: 0, busRefused: 0 }));
    c.tried++;
    const refusal = busRefused.get(m);
    if (refusal !== undefined) {
      c.busRefused++;
      c.busReason ??= refusal.slice(0, 160);
      continue;
    }
    const letter = left.get(`${m.topic}\u0000${m.data}`)?.shift();
    if (letter !== undefined && letter.reason.trim() !== '') {
      c.deadLettered++;
      c.reason ??= letter.reason.slice(0, 160);
    }
  }
  return [...cells.values()].map((c) => ({ ...c, lost: c.tried - c.deadLettered - c.busRefused }));
}

/**
 * Publishes the malformed messages a few at a time, spread over the race's settlement. A message
 * the bus itself refuses (Pub/Sub: no data and no attributes, a reserved attribute name) never
 * reaches the pipeline: it is returned with the bus's error, refused at the door.
 */
async function publishSpread(bus: MessageBus, messages: readonly FuzzMessage[], seed: number): Promise<Map<FuzzMessage, string>> {
  const rng = createRng(`raceday-chaos/fuzz/messages/${seed}`);
  const order = messages.map((m) => ({ m, k: rng.int(0, 1_000_000) })).sort((a, b) => a.k - b.k).map((x) => x.m);
  const refused = new Map<FuzzMessage, string>();
  for (let i = 0; i < order.length; i += 8) {
    await Promise.all(
      order.slice(i, i + 8).map((m) =>
        bus.publish(m.topic, [{ data: m.data, attributes: m.attributes }]).catch((e: unknown) => {
          refused.set(m, e instanceof Error ? e.message : String(e));
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, rng.int(0, 3)));
  }
  return refused;
}

/** The text as the wire carries it (UTF-8): a lone surrogate arrives as U+FFFD on every bus but the in-process one. */
const asOnTheWire = (m: FuzzMessage): FuzzMessage => ({ ...m, data: Buffer.from(m.data, 'utf8').toString('utf8') });

export async function runMessageFuzz(backend: MessageFuzzBackend, o: MessageFuzzOptions): Promise<MessageFuzzResult> {
  const started = performance.now();
  const log = o.log ?? (() => undefined);
  const day = smokeRaceDay(o.seed, createRng(`raceday-chaos/fuzz/day/${o.seed}`), SHAPE);
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: the smoke day has a race');
  await loadDay(backend.store, day);
  const publishedAt = Date.now();
  const messages = drawMessages({ raceId: race.raceId, resultVersion: 1, userIds: day.users.map((u) => u.userId), publishedAt }, o.runs, o.seed, o.topics ?? FUZZ_TOPICS).map(asOnTheWire);
  log(`fuzz messages: ${messages.length} malformed messages on ${(o.topics ?? FUZZ_TOPICS).length} topics while race ${race.raceId} (${day.users.length} users) settles`);
  const pipeline = startPipeline({ store: backend.store, bus: backend.bus, clock: backend.clock });
  const client = startClient(backend.bus, backend.clock);
  const driverErrors: Violation[] = [];
  let busRefused: Map<FuzzMessage, string>;
  let published: FuzzMessage[];
  let finished: boolean;
  try {
    const ingest = pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched }).then((r) => {
      if (!r.ok) driverErrors.push({ checker: 'driver', message: `ingest refused ${race.raceId}: ${r.error.message}` });
    });
    [, busRefused] = await Promise.all([ingest, publishSpread(backend.bus, messages, o.seed)]);
    const refused = busRefused;
    published = messages.filter((m) => !refused.has(m));
    const expectedLetters = new Map<string, number>();
    for (const m of published) expectedLetters.set(m.topic, (expectedLetters.get(m.topic) ?? 0) + 1);
    const allLettered = (): boolean => [...deadLetterCounts(backend.view, [...expectedLetters.keys()])].every(([topic, n]) => n >= (expectedLetters.get(topic) ?? 0));
    finished = await untilDone(backend.bus, () => client.lastBroadcastAtMs() > 0 && allLettered(), started + (o.timeoutMs ?? 120_000));
  } finally {
    // Stopped before anything else, also on a throw: handlers still in flight would otherwise
    // meet a closed backend (Spanner reports their sessions as leaked).
    await pipeline.stop();
    await client.handle.close();
  }
  if (!finished) driverErrors.push({ checker: 'liveness', message: `still busy after ${o.timeoutMs ?? 120_000} ms` });
  const poison = published.map((m) => ({ topic: m.topic, data: m.data }));
  const violations = [...driverErrors, ...(await checkWorld({ expected: expectedWorld(day), store: backend.store, bus: backend.view, client: client.view, poison, handlerErrors: pipeline.errors }))];
  const cells = tally(messages, busRefused, backend.view);
  const sum = (f: (c: MessageCell) => number): number => cells.reduce((n, c) => n + f(c), 0);
  const lost = sum((c) => c.lost);
  return {
    seed: o.seed,
    users: day.users.length,
    tickets: day.ticketCount,
    cells,
    tried: sum((c) => c.tried),
    deadLettered: sum((c) => c.deadLettered),
    busRefused: sum((c) => c.busRefused),
    lost,
    crashes: [...pipeline.errors],
    violations,
    ok: lost === 0 && pipeline.errors.length === 0 && violations.length === 0,
    wallMs: Math.round(performance.now() - started),
  };
}
