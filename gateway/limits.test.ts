// Every limit of a gateway instance, enforced against real clients with its close code (or HTTP
// status) and its error code: connections, frame size, connection_init timeout, subscriptions per
// connection, query depth and cost (refused before execution), request body size.
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE, type GatewayLimits } from './limits.ts';
import { post, rawSocket, startWorld, tokenFor, type World } from './_fixtures/world.ts';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function withLimits(limits: Partial<GatewayLimits>): Promise<World> {
  world = await startWorld({ limits });
  return world;
}

/** A raw socket that has been acknowledged (connection_init with a valid token). */
async function initialised(w: World, userId = 'alice'): Promise<ReturnType<typeof rawSocket>> {
  const s = rawSocket(w.gateway);
  await s.opened;
  s.ws.send(JSON.stringify({ type: 'connection_init', payload: { token: await tokenFor(userId) } }));
  await until(() => s.messages.some((m) => (m as { type: string }).type === 'connection_ack'));
  return s;
}

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// The schema has no cycles, but introspection's ofType chain nests as deep as one likes (graphql's
// own introspection-depth rule counts only fields, interfaces and possibleTypes).
const deepQuery = (levels: number): string => `{ __schema { types { fields { type { ${'ofType { '.repeat(levels)}name${' }'.repeat(levels)} } } } } }`;
const costlyQuery = (aliases: number): string => `{ ${Array.from({ length: aliases }, (_, i) => `r${i}: race(raceId: "race-open") { raceId sport riders }`).join(' ')} }`;

describe('connections per instance', () => {
  it('the connection over the limit is closed 4503; the others stay open', async () => {
    const w = await withLimits({ maxConnections: 3 });
    const first = [rawSocket(w.gateway), rawSocket(w.gateway), rawSocket(w.gateway)];
    await Promise.all(first.map((s) => s.opened));
    const extra = rawSocket(w.gateway);
    expect(await extra.closed).toEqual({ code: CLOSE.tooManyConnections, reason: 'GATEWAY.TOO_MANY_CONNECTIONS' });
    expect(first.every((s) => s.ws.readyState === s.ws.OPEN)).toBe(true);
    first[0]?.ws.close();
    await first[0]?.closed;
    await until(() => w.gateway.stats().connections === 2);
    const again = rawSocket(w.gateway);
    await again.opened;
    expect(again.ws.readyState).toBe(again.ws.OPEN);
    for (const s of [...first, again]) s.ws.close();
  });
});

describe('frame size', () => {
  it('a frame over maxFrameBytes closes the connection 1009', async () => {
    const w = await withLimits({ maxFrameBytes: 1_024 });
    const s = await initialised(w);
    s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ balances { cash } } # ${'x'.repeat(2_000)}` } }));
    expect((await s.closed).code).toBe(CLOSE.messageTooBig);
    expect(w.gateway.stats().closedByCode[CLOSE.messageTooBig]).toBe(1);
  });
});

describe('connection_init timeout', () => {
  it('a client that never sends connection_init is closed 4408', async () => {
    const w = await withLimits({ connectionInitTimeoutMs: 150 });
    const s = rawSocket(w.gateway);
    await s.opened;
    expect((await s.closed).code).toBe(CLOSE.connectionInitTimeout);
  });

  it('a second connection_init is closed 4429', async () => {
    const w = await withLimits({});
    const s = await initialised(w);
    s.ws.send(JSON.stringify({ type: 'connection_init', payload: { token: await tokenFor('alice') } }));
    expect((await s.closed).code).toBe(CLOSE.tooManyInitRequests);
  });
});

describe('subscriptions per connection', () => {
  it('the subscription over the limit closes the connection 4430', async () => {
    const w = await withLimits({ maxSubscriptionsPerConnection: 2 });
    const s = await initialised(w);
    for (const id of ['1', '2']) s.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    await until(() => w.gateway.stats().subscriptions === 2);
    s.ws.send(JSON.stringify({ id: '3', type: 'subscribe', payload: { query: 'subscription { odds(raceId: "race-open") { sentAt } }' } }));
    expect(await s.closed).toEqual({ code: CLOSE.tooManySubscriptions, reason: 'GATEWAY.TOO_MANY_SUBSCRIPTIONS' });
    await until(() => w.gateway.stats().subscriptions === 0);
  });
});

describe('query depth and cost, before execution', () => {
  it('HTTP: too deep and too costly are refused with their codes', async () => {
    const w = await withLimits({ maxDepth: 6, maxCost: 200 });
    const token = await tokenFor('alice');
    const deep = await post(w.gateway, deepQuery(4), {}, token);
    expect(deep.body.errors?.[0]?.extensions?.code, JSON.stringify(deep.body)).toBe('GATEWAY.QUERY_TOO_DEEP');
    expect(deep.body.data ?? undefined).toBeUndefined();
    const costly = await post(w.gateway, costlyQuery(60), {}, token);
    expect(costly.body.errors?.[0]?.extensions?.code).toBe('GATEWAY.QUERY_TOO_COSTLY');
    const fine = await post(w.gateway, costlyQuery(3), {}, token);
    expect(Object.keys(fine.body.data ?? {})).toHaveLength(3);
  });

  it('HTTP: a list whose limit argument multiplies its cost is refused, even through a variable', async () => {
    const w = await withLimits({ maxCost: 500 });
    const r = await post(w.gateway, 'query($n: Int) { missedNotifications(afterSeq: 0, limit: $n) { seq raceId kind payload publishedAt } }', { n: 400 }, await tokenFor('alice'));
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GATEWAY.QUERY_TOO_COSTLY');
  });

  it('a fragment spread twice by a fragment spread twice (30 levels) is priced at once, not walked 2^30 times', async () => {
    const w = await withLimits({});
    const n = 30;
    const fragments = Array.from({ length: n }, (_, i) => (i === n - 1 ? `fragment F${i} on Query { race(raceId: "race-open") { raceId } }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`));
    const r = await post(w.gateway, `query { ...F0 }\n${fragments.join('\n')}`, {}, await tokenFor('alice'));
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GATEWAY.QUERY_TOO_COSTLY');
    expect(r.body.errors?.[0]?.message).toMatch(/costs 1073741824/);
  });

  it('the cost is checked before validation compares fields pairwise: a costly invalid document gets the cost code', async () => {
    const w = await withLimits({ maxCost: 100 });
    // 100 fields of one response name with different arguments: validation would report conflicts.
    const r = await post(w.gateway, `{ ${Array.from({ length: 100 }, (_, i) => `race(raceId: "r${i}") { raceId }`).join(' ')} }`, {}, await tokenFor('alice'));
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['GATEWAY.QUERY_TOO_COSTLY']);
    // Under the limits, validation speaks.
    const cheap = await post(w.gateway, `{ ${Array.from({ length: 3 }, (_, i) => `race(raceId: "r${i}") { raceId }`).join(' ')} }`, {}, await tokenFor('alice'));
    expect(cheap.body.errors?.[0]?.message).toMatch(/conflict/);
  });

  it('a document of more than 5,000 tokens is refused by the parser', async () => {
    const w = await withLimits({});
    const r = await post(w.gateway, `{ ${'__typename '.repeat(5_001)} }`, {}, await tokenFor('alice'));
    expect(r.body.errors?.[0]?.message).toMatch(/Document contains more th.. 5000 tokens/);
  });

  it('WebSocket: the operation is refused with an error message carrying the code; the connection stays', async () => {
    const w = await withLimits({ maxDepth: 6 });
    const s = await initialised(w);
    s.ws.send(JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: deepQuery(4) } }));
    await until(() => s.messages.some((m) => (m as { id?: string }).id === 'd'));
    const answer = s.messages.find((m) => (m as { id?: string }).id === 'd') as { type: string; payload: { extensions: { code: string } }[] };
    expect(answer.type).toBe('error');
    expect(answer.payload[0]?.extensions.code).toBe('GATEWAY.QUERY_TOO_DEEP');
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.ws.close();
  });
});

describe('HTTP body size', () => {
  it('a body over maxBodyBytes is answered 413 GATEWAY.BODY_TOO_LARGE', async () => {
    const w = await withLimits({ maxBodyBytes: 512 });
    const r = await post(w.gateway, `{ balances { cash } } # ${'x'.repeat(1_000)}`, {}, await tokenFor('alice'));
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GATEWAY.BODY_TOO_LARGE');
  });
});

describe('hostile messages', () => {
  it('are refused with the protocol close code or an error message, and the gateway keeps serving', async () => {
    const w = await withLimits({});
    const closings: [string, number][] = [];
    for (const [what, message] of [
      ['not JSON', '{nope'],
      ['a binary-looking frame', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')],
      ['an unknown message type', JSON.stringify({ type: 'explode' })],
      ['variables that are not an object', JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ balances { cash } }', variables: 'x' } })],
    ] as const) {
      const s = await initialised(w);
      s.ws.send(message);
      closings.push([what, (await s.closed).code]);
    }
    expect(closings).toEqual([
      ['not JSON', 4400],
      ['a binary-looking frame', 4400],
      ['an unknown message type', 4400],
      ['variables that are not an object', 4400],
    ]);
    const s = await initialised(w);
    s.ws.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ balances { cash } nope }' } }));
    s.ws.send(JSON.stringify({ id: 'r', type: 'subscribe', payload: { query: '{ balances { cash } }' } }));
    await until(() => s.messages.some((m) => (m as { id?: string; type: string }).id === 'r' && (m as { type: string }).type === 'next'));
    const answers = s.messages.filter((m) => (m as { id?: string }).id !== undefined) as { id: string; type: string; payload: unknown }[];
    expect(answers.find((m) => m.id === 'q')?.type).toBe('error');
    expect(answers.find((m) => m.id === 'r')?.payload).toEqual({ data: { balances: { cash: 10_000 } } });
    s.ws.close();
  });
});
