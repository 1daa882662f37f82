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
  /** Tried but not found there: a message the pipeline dropped silently or accepted. */
  readonly lost: number;
  /** The first reason seen, for the report. */
  readonly reason?: string;
}

export interface MessageFuzzResult {
  readonly seed: number;
  readonly users: number;
  readonly tickets: number;
  readonly cells: readonly MessageCell[];
  readonly tried: number;
  readonly deadLettered: number;
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

async function untilIdle(bus: { isIdle(): boolean }, deadline: number): Promise<boolean> {
  let idle = 0;
  while (idle < IDLE_POLLS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    idle = bus.isIdle() ? idle + 1 : 0;
    if (performance.now() > deadline) return false;
  }
  return true;
}

/** Counts each tried message found in its topic's dead letters (by text; one letter per original message). */
function tally(messages: readonly FuzzMessage[], view: BusView): MessageCell[] {
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
  const cells = new Map<string, { topic: string; kind: string; tried: number; deadLettered: number; reason?: string }>();
  for (const m of messages) {
    const id = `${m.topic}/${m.kind}`;
    let c = cells.get(id);
    if (c === undefined) cells.set(id, (c = { topic: m.topic, kind: m.kind, tried: 0, deadLettered: 0 }));
    c.tried++;
    const letter = left.get(`${m.topic}\u0000${m.data}`)?.shift();
    if (letter !== undefined && letter.reason.trim() !== '') {
      c.deadLettered++;
      c.reason ??= letter.reason.slice(0, 160);
    }
  }
  return [...cells.values()].map((c) => ({ ...c, lost: c.tried - c.deadLettered }));
}

/** Publishes the malformed messages in small batches spread over the race's settlement. */
async function publishSpread(bus: MessageBus, messages: readonly FuzzMessage[], seed: number): Promise<void> {
  const rng = createRng(`raceday-chaos/fuzz/messages/${seed}`);
  const order = messages.map((m) => ({ m, k: rng.int(0, 1_000_000) })).sort((a, b) => a.k - b.k).map((x) => x.m);
  for (let i = 0; i < order.length; i += 8) {
    await Promise.all(order.slice(i, i + 8).map((m) => bus.publish(m.topic, [{ data: m.data, attributes: m.attributes }])));
    await new Promise((r) => setTimeout(r, rng.int(0, 3)));
  }
}

export async function runMessageFuzz(backend: MessageFuzzBackend, o: MessageFuzzOptions): Promise<MessageFuzzResult> {
  const started = performance.now();
  const log = o.log ?? (() => undefined);
  const day = smokeRaceDay(o.seed, createRng(`raceday-chaos/fuzz/day/${o.seed}`), SHAPE);
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: the smoke day has a race');
  await loadDay(backend.store, day);
  const publishedAt = Date.now();
  const messages = drawMessages({ raceId: race.raceId, resultVersion: 1, userIds: day.users.map((u) => u.userId), publishedAt }, o.runs, o.seed, o.topics ?? FUZZ_TOPICS);
  log(`fuzz messages: ${messages.length} malformed messages on ${(o.topics ?? FUZZ_TOPICS).length} topics while race ${race.raceId} (${day.users.length} users) settles`);
  const pipeline = startPipeline({ store: backend.store, bus: backend.bus, clock: backend.clock });
  const client = startClient(backend.bus, backend.clock);
  const driverErrors: Violation[] = [];
  const ingest = pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched }).then((r) => {
    if (!r.ok) driverErrors.push({ checker: 'driver', message: `ingest refused ${race.raceId}: ${r.error.message}` });
  });
  await Promise.all([ingest, publishSpread(backend.bus, messages, o.seed)]);
  const finished = await untilIdle(backend.bus, started + (o.timeoutMs ?? 120_000));
  await pipeline.stop();
  await client.handle.close();
  if (!finished) driverErrors.push({ checker: 'liveness', message: `still busy after ${o.timeoutMs ?? 120_000} ms` });
  const poison = messages.map((m) => ({ topic: m.topic, data: m.data }));
  const violations = [...driverErrors, ...(await checkWorld({ expected: expectedWorld(day), store: backend.store, bus: backend.view, client: client.view, poison, handlerErrors: pipeline.errors }))];
  const cells = tally(messages, backend.view);
  const sum = (f: (c: MessageCell) => number): number => cells.reduce((n, c) => n + f(c), 0);
  const lost = sum((c) => c.lost);
  return {
    seed: o.seed,
    users: day.users.length,
    tickets: day.ticketCount,
    cells,
    tried: sum((c) => c.tried),
    deadLettered: sum((c) => c.deadLettered),
    lost,
    crashes: [...pipeline.errors],
    violations,
    ok: lost === 0 && pipeline.errors.length === 0 && violations.length === 0,
    wallMs: Math.round(performance.now() - started),
  };
}
