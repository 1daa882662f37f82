// The GraphQL abuse classes, each a fast-check arbitrary of attack inputs and the attack itself
// against a running gateway: what it sends, and whether the gateway refused it the documented way
// (docs/gateway.md: error codes, HTTP 401/413, close codes 1009, 4401, 4408, 4409, 4430, 4503).
import net from 'node:net';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { signToken } from '../../gateway/auth.ts';
import { FUZZ_DEMO_USERS, FUZZ_GATEWAY_LIMITS as L, type GatewayProcess } from './gateway-process.ts';

export interface Outcome {
  /** Refused (or, for floods, survived) exactly as documented. */
  readonly rejected: boolean;
  readonly note: string;
}

export interface Attack<T> {
  readonly arbitrary: fc.Arbitrary<T>;
  /** One generated input as several attacks (every way of a class tried on each input). */
  readonly expand?: (input: T) => T[];
  run(g: GatewayProcess, input: T): Promise<Outcome>;
}

const demoUser = (i: number): string => `u${String(i).padStart(6, '0')}`;
const userArb = fc.integer({ min: 1, max: FUZZ_DEMO_USERS }).map(demoUser);

async function postGraphql(g: GatewayProcess, body: string, token: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; codes: string[]; data: unknown; text: string }> {
  const res = await fetch(g.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers }, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let parsed: { data?: unknown; errors?: { extensions?: { code?: string } }[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // not JSON: judged by the caller from status and text
  }
  return { status: res.status, codes: (parsed.errors ?? []).map((e) => e.extensions?.code ?? 'no code'), data: parsed.data, text: text.slice(0, 200) };
}

/** A raw graphql-transport-ws socket: every message received, and its close code and reason. */
export function rawWs(g: GatewayProcess): { ws: WebSocket; messages: { type?: string; id?: string; payload?: unknown }[]; opened: Promise<void>; closed: Promise<{ code: number; reason: string }> } {
  const ws = new WebSocket(g.wsUrl, 'graphql-transport-ws');
  const messages: { type?: string }[] = [];
  ws.on('message', (d) => {
    try {
      messages.push(JSON.parse(String(d)) as { type?: string });
    } catch {
      messages.push({ type: 'unparsable' });
    }
  });
  ws.on('error', () => undefined);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return { ws, messages, opened, closed };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 15));
  }
  return true;
}

async function authedWs(g: GatewayProcess, userId: string): Promise<ReturnType<typeof rawWs>> {
  const s = rawWs(g);
  await s.opened;
  s.ws.send(JSON.stringify({ type: 'connection_init', payload: { token: await signToken(userId, g.secret, 600) } }));
  if (!(await until(() => s.messages.some((m) => m.type === 'connection_ack'), 5_000))) throw new Error('no connection_ack');
  return s;
}

const identifier = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,7}$/);

/** Nested selections deeper than maxDepth: refused by the depth check before validation. */
export const deepQuery: Attack<{ fields: string[]; viaWs: boolean }> = {
  arbitrary: fc.record({ fields: fc.array(identifier, { minLength: L.maxDepth + 1, maxLength: 400 }), viaWs: fc.boolean() }),
  async run(g, { fields, viaWs }) {
    const query = `${viaWs ? 'subscription ' : ''}${fields.map((f) => `{ ${f} `).join('')}${'}'.repeat(fields.length)}`;
    return refusedWith(g, query, {}, viaWs, ['GATEWAY.QUERY_TOO_DEEP']);
  },
};

/** Aliased list fields whose estimated cost is past maxCost. */
export const costlyQuery: Attack<{ aliases: number; limit: number; fields: number; viaWs: boolean }> = {
  arbitrary: fc
    .record({ aliases: fc.integer({ min: 1, max: 60 }), limit: fc.integer({ min: 1, max: 500 }), fields: fc.integer({ min: 1, max: 5 }), viaWs: fc.boolean() })
    .filter((a) => a.aliases * (1 + a.limit * a.fields) > L.maxCost),
  async run(g, { aliases, limit, fields, viaWs }) {
    const sel = ['seq', 'raceId', 'kind', 'publishedAt', 'notificationId'].slice(0, fields).join(' ');
    const query = `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: missedNotifications(afterSeq: 0, limit: ${limit}) { ${sel} }`).join(' ')} }`;
    return refusedWith(g, query, {}, viaWs, ['GATEWAY.QUERY_TOO_COSTLY']);
  },
};

/** Over HTTP: an `errors` answer with one of `codes` and no data; over WebSocket: an `error` message with it, the connection left open. */
async function refusedWith(g: GatewayProcess, query: string, variables: Record<string, unknown>, viaWs: boolean, codes: readonly string[]): Promise<Outcome> {
  if (!viaWs) {
    const a = await postGraphql(g, JSON.stringify({ query, variables }), await signToken(demoUser(1), g.secret, 600));
    const ok = a.codes.length > 0 && a.codes.every((c) => codes.includes(c)) && (a.data === undefined || a.data === null);
    return { rejected: ok, note: `HTTP ${a.status} ${a.codes.join(',')}` };
  }
  const s = await authedWs(g, demoUser(1));
  s.ws.send(JSON.stringify({ id: 'x', type: 'subscribe', payload: { query, variables } }));
  await until(() => s.messages.some((m) => m.type === 'error' || m.type === 'next'), 5_000);
  const error = s.messages.find((m) => m.type === 'error') as { payload?: { extensions?: { code?: string } }[] } | undefined;
  const code = error?.payload?.[0]?.extensions?.code ?? 'none';
  const open = s.ws.readyState === WebSocket.OPEN;
  s.ws.close();
  return { rejected: codes.includes(code) && open, note: `ws error ${code}${open ? '' : ' (connection closed)'}` };
}

type Forgery = 'none' | 'garbage' | 'alg-none' | 'wrong-secret' | 'expired' | 'tampered' | 'not-a-string' | 'no-subject' | 'other-scheme' | 'oversized';
const FORGERY_CODE: Readonly<Record<Forgery, string>> = {
  none: 'GATEWAY.UNAUTHENTICATED',
  'other-scheme': 'GATEWAY.UNAUTHENTICATED',
  garbage: 'GATEWAY.TOKEN_INVALID',
  'alg-none': 'GATEWAY.TOKEN_INVALID',
  'wrong-secret': 'GATEWAY.TOKEN_INVALID',
  tampered: 'GATEWAY.TOKEN_INVALID',
  'not-a-string': 'GATEWAY.TOKEN_INVALID',
  'no-subject': 'GATEWAY.TOKEN_INVALID',
  oversized: 'GATEWAY.TOKEN_INVALID',
  expired: 'GATEWAY.TOKEN_EXPIRED',
};
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

async function forge(kind: Forgery, userId: string, secret: string, junk: string): Promise<unknown> {
  const now = Math.floor(Date.now() / 1000);
  switch (kind) {
    case 'none':
    case 'other-scheme':
      return undefined;
    case 'garbage':
      return junk.length === 0 ? 'x' : junk;
    case 'alg-none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: userId, exp: now + 600 })}.`;
    case 'wrong-secret':
      return signToken(userId, `${secret}-but-another-one`, 600);
    case 'expired':
      return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt(now - 700).setExpirationTime(now - 100).sign(new TextEncoder().encode(secret));
    case 'tampered': {
      const [h, , sig] = (await signToken(userId, secret, 600)).split('.');
      return `${h}.${b64({ sub: demoUser(FUZZ_DEMO_USERS), exp: now + 600, iat: now })}.${sig}`;
    }
    case 'not-a-string':
      return { sub: userId };
    case 'no-subject':
      return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(new TextEncoder().encode(secret));
    case 'oversized':
      return `${await signToken(userId, secret, 600)}${'A'.repeat(2_100)}`;
  }
}

/** Forged, expired, alg-none, wrong-secret and absent tokens: HTTP 401 with the code; WebSocket closed 4401 with the code as reason. */
export const forgedToken: Attack<{ kind: Forgery; userId: string; junk: string; viaWs: boolean }> = {
  arbitrary: fc.record({ kind: fc.constantFrom(...(Object.keys(FORGERY_CODE) as Forgery[])), userId: userArb, junk: fc.string({ maxLength: 60 }).filter((s) => !/\s/.test(s)), viaWs: fc.boolean() }),
  async run(g, { kind, userId, junk, viaWs }) {
    const token = await forge(kind, userId, g.secret, junk);
    const want = FORGERY_CODE[kind];
    if (!viaWs) {
      if (typeof token !== 'string' && token !== undefined) return { rejected: true, note: 'a header carries text only: not applicable over HTTP' };
      const headers: Record<string, string> = kind === 'other-scheme' ? { authorization: `Basic ${Buffer.from(`${userId}:x`).toString('base64')}` } : {};
      const a = await postGraphql(g, JSON.stringify({ query: '{ balances { cash } }' }), token as string | undefined, headers);
      return { rejected: a.status === 401 && a.codes.length === 1 && a.codes[0] === want, note: `HTTP ${a.status} ${a.codes.join(',')}` };
    }
    const s = rawWs(g);
    await s.opened;
    s.ws.send(JSON.stringify({ type: 'connection_init', payload: kind === 'none' || kind === 'other-scheme' ? {} : { token } }));
    const c = await within(s.closed, 5_000);
    s.ws.terminate();
    if (c === 'timeout') return { rejected: false, note: 'still open 5 s after a forged connection_init' };
    const acked = s.messages.some((m) => m.type === 'connection_ack');
    return { rejected: c.code === 4401 && c.reason === want && !acked, note: `closed ${c.code} ${c.reason}` };
  },
};

/** Subscribing without being let in: before connection_init (4401), or with a non-object init payload (4400 / 4401). */
export const unauthenticatedSubscribe: Attack<{ how: 'subscribe-first' | 'init-payload-junk'; payload: unknown }> = {
  arbitrary: fc.record({ how: fc.constantFrom('subscribe-first' as const, 'init-payload-junk' as const), payload: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })) }),
  async run(g, { how, payload }) {
    const s = rawWs(g);
    await s.opened;
    if (how === 'subscribe-first') s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    else s.ws.send(JSON.stringify({ type: 'connection_init', payload }));
    const c = await within(s.closed, 5_000);
    s.ws.terminate();
    const got = s.messages.filter((m) => m.type === 'next').length;
    if (c === 'timeout') return { rejected: false, note: 'still open after 5 s' };
    return { rejected: got === 0 && !s.messages.some((m) => m.type === 'connection_ack') && (c.code === 4401 || c.code === 4400), note: `closed ${c.code} ${c.reason}` };
  },
};

/**
 * Cross-user: B tries to reach A's bets and notifications with everything the schema offers; the
 * user comes only from the token, so every attempt must come back with B's own (nothing of A's)
 * or a refusal of the stray argument.
 */
const CROSS_USER_WAYS = ['ticket', 'tickets', 'user-argument', 'variables', 'missed', 'live'] as const;

export const crossUser: Attack<{ a: number; b: number; afterSeq: number; key: string; how: (typeof CROSS_USER_WAYS)[number] }> = {
  expand: (x) => CROSS_USER_WAYS.map((how, i) => ({ ...x, how, key: `${x.key}-${i}` })),
  arbitrary: fc
    .record({ a: fc.integer({ min: 1, max: FUZZ_DEMO_USERS }), b: fc.integer({ min: 1, max: FUZZ_DEMO_USERS }), afterSeq: fc.integer({ min: 0, max: 1_000 }), key: fc.string({ minLength: 1, maxLength: 20 }), how: fc.constantFrom('ticket' as const, 'tickets' as const, 'user-argument' as const, 'variables' as const, 'missed' as const, 'live' as const) })
    .filter((x) => x.a !== x.b),
  async run(g, { a, b, afterSeq, key, how }) {
    const [ua, ub] = [demoUser(a), demoUser(b)];
    const [ta, tb] = [await signToken(ua, g.secret, 600), await signToken(ub, g.secret, 600)];
    const place = 'mutation($i: BetInput!, $k: String!) { placeBet(input: $i, idempotencyKey: $k) { ticket { ticketId } } }';
    const placed = await postGraphql(g, JSON.stringify({ query: place, variables: { i: { raceId: g.raceId, betType: 'trifecta', combination: '1-2-3', stake: 100 }, k: `x-${key}` } }), ta);
    const ticketId = (placed.data as { placeBet?: { ticket?: { ticketId?: string } } } | undefined)?.placeBet?.ticket?.ticketId;
    if (ticketId === undefined) return { rejected: false, note: `A's own bet was refused: ${placed.text}` };
    const ask = (query: string, variables: Record<string, unknown> = {}) => postGraphql(g, JSON.stringify({ query, variables }), tb);
    switch (how) {
      case 'ticket': {
        const r = await ask('query($r: ID!, $t: ID!) { ticket(raceId: $r, ticketId: $t) { ticketId } }', { r: g.raceId, t: ticketId });
        return { rejected: (r.data as { ticket?: unknown } | undefined)?.ticket === null, note: `ticket of A asked by B: ${r.text}` };
      }
      case 'tickets': {
        const r = await ask('query($r: ID!) { tickets(raceId: $r) { ticketId } }', { r: g.raceId });
        return { rejected: !r.text.includes(ticketId) && r.status === 200, note: `B's tickets: ${r.text}` };
      }
      case 'user-argument': {
        const r = await ask(`{ missedNotifications(afterSeq: ${afterSeq}, userId: "${ua}") { seq } balances(userId: "${ua}") { cash } }`);
        return { rejected: r.codes.length > 0 && r.codes.every((c) => c === 'GATEWAY.QUERY_INVALID') && !r.text.includes(ua), note: `${r.status} ${r.codes.join(',')}` };
      }
      case 'variables': {
        const r = await ask('{ balances { userId } }', { userId: ua, sub: ua });
        return { rejected: (r.data as { balances?: { userId?: string } } | undefined)?.balances?.userId === ub, note: r.text };
      }
      case 'live': {
        // A's notifications published while B listens, then one of B's own: B must get its own
        // (the control: the feed works) and none of A's.
        if (g.notify === undefined) return { rejected: false, note: 'no notification intake to publish into' };
        const s = await authedWs(g, ub);
        s.ws.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription { notifications { seq notificationId } }', variables: { userId: ua } } }));
        await new Promise((r) => setTimeout(r, 100));
        const theirs = [await g.notify(ua), await g.notify(ua)];
        const mine = await g.notify(ub);
        const got = await until(() => JSON.stringify(s.messages).includes(mine), 3_000);
        const leaked = theirs.some((id) => JSON.stringify(s.messages).includes(id));
        s.ws.close();
        return { rejected: got && !leaked, note: leaked ? `B received A's notification` : got ? 'own only' : "B's own notification never arrived (the check proves nothing)" };
      }
      case 'missed': {
        const s = await authedWs(g, ub);
        s.ws.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: `subscription { notifications(afterSeq: ${afterSeq}) { seq notificationId } }`, variables: { userId: ua } } }));
        await new Promise((r) => setTimeout(r, 150));
        const leaked = JSON.stringify(s.messages).includes(ua);
        s.ws.close();
        return { rejected: !leaked, note: leaked ? `B's subscription carried ${ua}` : 'nothing of A' };
      }
    }
  },
};

/** A WebSocket frame past maxFrameBytes (closed 1009), or an HTTP body past maxBodyBytes (413). */
export const oversized: Attack<{ extra: number; viaWs: boolean }> = {
  arbitrary: fc.record({ extra: fc.integer({ min: 1, max: 256 * 1024 }), viaWs: fc.boolean() }),
  async run(g, { extra, viaWs }) {
    if (viaWs) {
      const s = await authedWs(g, demoUser(2));
      s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ balances { cash } } #${'x'.repeat(L.maxFrameBytes + extra)}` } }));
      const c = await within(s.closed, 5_000);
      s.ws.terminate();
      return { rejected: c !== 'timeout' && c.code === 1009, note: c === 'timeout' ? 'still open' : `closed ${c.code}` };
    }
    const a = await postGraphql(g, JSON.stringify({ query: `{ balances { cash } } #${'x'.repeat(L.maxBodyBytes + extra)}` }), await signToken(demoUser(2), g.secret, 600)).catch((e: Error) => ({ status: 0, codes: [e.message], data: undefined, text: '' }));
    return { rejected: a.status === 413 && a.codes[0] === 'GATEWAY.BODY_TOO_LARGE', note: `HTTP ${a.status} ${a.codes.join(',')}` };
  },
};

/** Floods on one connection: subscribe messages (a reused id closes 4409, too many 4430) or pings (each answered, the connection stays). */
export const flood: Attack<{ kind: 'subscribe' | 'ping'; count: number; distinctIds: boolean }> = {
  arbitrary: fc.record({ kind: fc.constantFrom('subscribe' as const, 'ping' as const), count: fc.integer({ min: 20, max: 2_000 }), distinctIds: fc.boolean() }),
  async run(g, { kind, count, distinctIds }) {
    const s = await authedWs(g, demoUser(3));
    if (kind === 'ping') {
      for (let i = 0; i < count; i++) s.ws.send(JSON.stringify({ type: 'ping' }));
      const answered = await until(() => s.messages.filter((m) => m.type === 'pong').length >= count, 10_000);
      const open = s.ws.readyState === WebSocket.OPEN;
      s.ws.close();
      return { rejected: answered && open, note: `${s.messages.filter((m) => m.type === 'pong').length} pongs of ${count}` };
    }
    for (let i = 0; i < count && s.ws.readyState === WebSocket.OPEN; i++) s.ws.send(JSON.stringify({ id: distinctIds ? `s${i}` : 'same', type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    const c = await within(s.closed, 5_000);
    s.ws.terminate();
    const want = distinctIds ? 4430 : 4409;
    return { rejected: c !== 'timeout' && c.code === want, note: c === 'timeout' ? 'still open' : `closed ${c.code} ${c.reason}` };
  },
};

/** Exactly one subscription more than the limit: the connection is closed 4430 when it asks. */
export const tooManySubscriptions: Attack<{ over: number }> = {
  arbitrary: fc.record({ over: fc.integer({ min: 1, max: 4 }) }),
  async run(g, { over }) {
    const s = await authedWs(g, demoUser(4));
    for (let i = 0; i < L.maxSubscriptionsPerConnection; i++) s.ws.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    await new Promise((r) => setTimeout(r, 100));
    const openAtLimit = s.ws.readyState === WebSocket.OPEN;
    for (let i = 0; i < over; i++) s.ws.send(JSON.stringify({ id: `o${i}`, type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    const c = await within(s.closed, 5_000);
    s.ws.terminate();
    return { rejected: openAtLimit && c !== 'timeout' && c.code === 4430 && c.reason === 'GATEWAY.TOO_MANY_SUBSCRIPTIONS', note: c === 'timeout' ? 'still open' : `closed ${c.code} ${c.reason}` };
  },
};

/** maxConnections and a few more: the extra ones are closed 4503. */
export const tooManyConnections: Attack<{ extra: number }> = {
  arbitrary: fc.record({ extra: fc.integer({ min: 1, max: 16 }) }),
  async run(g, { extra }) {
    const sockets = Array.from({ length: L.maxConnections + extra }, () => rawWs(g));
    const closes = await Promise.all(sockets.map((s) => within(s.closed, 1_500)));
    for (const s of sockets) s.ws.terminate();
    const refused = closes.filter((c) => c !== 'timeout' && c.code === 4503).length;
    // Connections nobody initialised close 4408 after the init timeout: only the 4503s count here.
    return { rejected: refused >= extra, note: `${refused} of ${L.maxConnections + extra} closed 4503` };
  },
};

/** A WebSocket that never sends connection_init: closed 4408 after the init timeout. */
export const noConnectionInit: Attack<{ sendsPing: boolean }> = {
  arbitrary: fc.record({ sendsPing: fc.boolean() }),
  async run(g, { sendsPing }) {
    const s = rawWs(g);
    await s.opened;
    if (sendsPing) s.ws.send(JSON.stringify({ type: 'ping' }));
    const c = await within(s.closed, L.connectionInitTimeoutMs + 3_000);
    s.ws.terminate();
    return { rejected: c !== 'timeout' && c.code === 4408, note: c === 'timeout' ? 'still open' : `closed ${c.code}` };
  },
};

/** Slowloris: sockets that trickle header bytes forever are closed at the headers timeout (plus the 1 s check), /healthz answering meanwhile. */
export const slowloris: Attack<{ sockets: number; upgrade: boolean; everyMs: number }> = {
  arbitrary: fc.record({ sockets: fc.integer({ min: 10, max: 120 }), upgrade: fc.boolean(), everyMs: fc.integer({ min: 50, max: 500 }) }),
  async run(g, { sockets, upgrade, everyMs }) {
    const port = Number(new URL(g.url).port);
    const started = Date.now();
    const closedAfter: number[] = [];
    const open = Array.from({ length: sockets }, () => {
      const s = net.connect(port, '127.0.0.1', () => s.write(upgrade ? 'GET /graphql HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' : 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      const trickle = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), everyMs);
      s.on('close', () => {
        clearInterval(trickle);
        closedAfter.push(Date.now() - started);
      });
      s.on('error', () => undefined);
      return s;
    });
    const h0 = Date.now();
    const health = await fetch(g.healthUrl, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
    const healthMs = Date.now() - h0;
    const bound = L.headersTimeoutMs + 1_000 + 2_000;
    await until(() => closedAfter.length === sockets, bound);
    for (const s of open) s.destroy();
    const inTime = closedAfter.filter((t) => t <= bound).length;
    return { rejected: health === 200 && inTime === sockets, note: `${inTime} of ${sockets} closed within ${bound} ms; /healthz ${health} in ${healthMs} ms` };
  },
};

export const ATTACKS = {
  'deep-query': deepQuery,
  'costly-query': costlyQuery,
  'forged-token': forgedToken,
  'unauthenticated-subscribe': unauthenticatedSubscribe,
  'cross-user': crossUser,
  oversized,
  flood,
  'too-many-subscriptions': tooManySubscriptions,
  'too-many-connections': tooManyConnections,
  'no-connection-init': noConnectionInit,
  slowloris,
} as const;
export type AttackKind = keyof typeof ATTACKS;
export const ATTACK_KINDS = Object.keys(ATTACKS) as AttackKind[];
