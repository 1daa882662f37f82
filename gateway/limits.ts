// What one gateway instance lets a client do, and how it says no. Every limit has a default sized
// for the 10,000-subscriber target and can be changed per instance (docs/gateway.md). Queries are
// measured before anything executes: depth (nesting of selections) and cost (one per field, a
// list field's children multiplied by the list's size).
import { Kind, type ArgumentNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { gatewayError, type GatewayError } from './errors.ts';
import { ok, type Result } from '../core/result.ts';

export interface GatewayLimits {
  /** Open WebSocket connections per instance; the next one is closed with 4503. */
  readonly maxConnections: number;
  /** Largest WebSocket frame a client may send (ws maxPayload); a bigger one closes with 1009. */
  readonly maxFrameBytes: number;
  /** Largest HTTP request body; a bigger one is answered 413. */
  readonly maxBodyBytes: number;
  /** Deepest selection nesting of one operation. */
  readonly maxDepth: number;
  /** Highest estimated cost of one operation. */
  readonly maxCost: number;
  /** Time a WebSocket client has to send `connection_init`; then it is closed with 4408. */
  readonly connectionInitTimeoutMs: number;
  /** Subscriptions one connection may hold at once; the next closes the connection with 4430. */
  readonly maxSubscriptionsPerConnection: number;
  /** Most notifications `missedNotifications` returns in one call. */
  readonly maxMissedPage: number;
  /**
   * Time an HTTP client has to send its request headers. Given explicitly (--headers-timeout-ms),
   * a connection's first request is also timed by a timer of its own and the socket destroyed at
   * the timeout, so a slowloris client holds a socket this long; otherwise Node's own check, which
   * runs every 30 s, is all (docs/gateway.md).
   */
  readonly headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxConnections: 20_000,
  maxFrameBytes: 64 * 1024,
  maxBodyBytes: 64 * 1024,
  maxDepth: 6,
  maxCost: 2_000,
  connectionInitTimeoutMs: 3_000,
  maxSubscriptionsPerConnection: 8,
  maxMissedPage: 500,
  headersTimeoutMs: 10_000,
};

/** Close codes: graphql-ws's own (CloseCode) plus the gateway's, all documented in docs/gateway.md. */
export const CLOSE = {
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  connectionInitTimeout: 4408,
  tooManyInitRequests: 4429,
  /** Gateway: subscriptions per connection exceeded. */
  tooManySubscriptions: 4430,
  /** Gateway: the instance holds its maximum of connections. */
  tooManyConnections: 4503,
  /** WebSocket standard: a frame larger than maxFrameBytes (sent by ws itself). */
  messageTooBig: 1009,
} as const;

export function resolveLimits(given: Partial<GatewayLimits> | undefined): GatewayLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`gateway limit ${name} must be a positive integer, got ${value}`);
  }
  return limits;
}

/** How many items a list field is assumed to return, for the cost estimate (its `limit` argument when given). */
const LIST_SIZES: Readonly<Record<string, number>> = { tickets: 100, missedNotifications: 100 };

interface Measure {
  readonly depth: number;
  readonly cost: number;
}

interface MeasureContext {
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
  /**
   * Each fragment measured once: a fragment spread twice by a fragment spread twice by ... would
   * otherwise cost 2^n walks (validation has already refused cycles).
   */
  readonly memo: Map<string, Measure>;
}

function measure(set: SelectionSetNode, ctx: MeasureContext): Measure {
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    let inner: Measure;
    if (sel.kind === Kind.FIELD) {
      const child = sel.selectionSet === undefined ? { depth: 0, cost: 0 } : measure(sel.selectionSet, ctx);
      const size = listSize(sel.name.value, sel.arguments ?? [], ctx.variables);
      inner = { depth: child.depth + 1, cost: 1 + size * child.cost };
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(sel.selectionSet, ctx);
    } else {
      const name = sel.name.value;
      const known = ctx.memo.get(name);
      const frag = ctx.fragments.get(name);
      if (known !== undefined) inner = known;
      // An unknown fragment is a validation error graphql reports; count it as nothing here.
      else if (frag === undefined) continue;
      else {
        // Marked first, so a cycle (refused by validation anyway) ends here instead of recursing.
        ctx.memo.set(name, { depth: 0, cost: 0 });
        inner = measure(frag.selectionSet, ctx);
        ctx.memo.set(name, inner);
      }
    }
    depth = Math.max(depth, inner.depth);
    cost += inner.cost;
  }
  return { depth, cost };
}

function listSize(field: string, args: readonly ArgumentNode[], variables: Readonly<Record<string, unknown>>): number {
  const dflt = LIST_SIZES[field];
  if (dflt === undefined) return 1;
  const limit = args.find((a) => a.name.value === 'limit')?.value;
  let n: unknown;
  if (limit?.kind === Kind.INT) n = Number(limit.value);
  else if (limit?.kind === Kind.VARIABLE) n = variables[limit.name.value];
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : dflt;
}

/** Depth and cost of the operation to run; an error with GATEWAY.QUERY_TOO_DEEP / _TOO_COSTLY above the limits. */
export function checkOperation(document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>, limits: GatewayLimits): Result<Measure, GatewayError> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const m = measure(operation.selectionSet, { fragments, variables, memo: new Map() });
  if (m.depth > limits.maxDepth) return gatewayError('GATEWAY.QUERY_TOO_DEEP', `the operation is ${m.depth} levels deep, the limit is ${limits.maxDepth}`);
  if (m.cost > limits.maxCost) return gatewayError('GATEWAY.QUERY_TOO_COSTLY', `the operation costs ${m.cost}, the limit is ${limits.maxCost}`);
  return ok(m);
}
