// `--policy SPEC`: parses a delivery policy's spec into the module that implements it. Every
// number in a spec is a positive decimal integer within the bound named in its error; byte sizes
// may carry a KiB or MiB suffix. See docs/delivery-policies.md for what each policy does.
import type { Result } from '../../core/result.ts';
import type { DeliveryPolicy } from '../contracts.ts';
import { createByteCapPolicy } from './byte-cap.ts';
import { createDropOldestPolicy } from './drop-oldest.ts';
import { createEvictAfterPolicy } from './evict-after.ts';
import { createSharedBlockingPolicy, SHARED_BLOCKING_DEFAULTS } from './shared-blocking.ts';
import { createUnboundedPolicy } from './unbounded.ts';

export { SLOW_CONSUMER_CLOSE } from './close-codes.ts';
export { SHARED_BLOCKING_DEFAULTS } from './shared-blocking.ts';

/** One example spec per policy, in the order the bench matrix reports them. */
export const POLICY_SPECS: readonly string[] = [
  'shared-blocking',
  'unbounded',
  'per-subscriber:256:drop-oldest',
  'per-subscriber:256:evict-after:1000',
  'bytes:1MiB:disconnect',
];

/** The fix, and the default when no `--policy` is given. */
export const DEFAULT_POLICY_SPEC = 'per-subscriber:256:evict-after:1000';

/** The grammar, one line per policy, for `--help` and error messages. */
export const POLICY_GRAMMAR: readonly string[] = [
  'shared-blocking[:CAPACITY[:SEND_TIMEOUT_MS[:HIGH_WATER_BYTES]]]  the incident (defaults 100, 60000, 16KiB)',
  'unbounded                                                      per-subscriber queues without a bound',
  'per-subscriber:N:drop-oldest                                   at most N frames each, the oldest dropped',
  'per-subscriber:N:evict-after:MS                                at most N frames; full for MS ms: closed 4008 "slow consumer"',
  'bytes:B:disconnect                                             at most B bytes owed (queue + socket); more: closed 4008',
];

export interface PolicyError {
  readonly code: 'GATEWAY.POLICY_INVALID';
  /** A sentence naming the bad part, e.g. `per-subscriber capacity "0" must be an integer in 1..1000000`. */
  readonly message: string;
}

/** Named limits on every number a spec may carry. */
const LIMITS = {
  queueFramesMax: 1_000_000,
  timeoutMsMax: 3_600_000, // one hour
  bytesMax: 1024 * 1024 * 1024, // 1 GiB
} as const;

const KNOWN = 'unbounded, shared-blocking[:CAPACITY[:SEND_TIMEOUT_MS[:HIGH_WATER_BYTES]]], per-subscriber:N:drop-oldest, per-subscriber:N:evict-after:MS, bytes:B:disconnect';

function invalid(message: string): { readonly ok: false; readonly error: PolicyError } {
  return { ok: false, error: { code: 'GATEWAY.POLICY_INVALID', message } };
}

/** A bounded integer from a spec field, or the error naming the field. */
function integer(text: string | undefined, what: string, min: number, max: number, bytes = false): Result<number, PolicyError> {
  const m = /^(\d{1,10})(KiB|MiB)?$/.exec(text ?? '');
  const unit = m?.[2] === 'KiB' ? 1024 : m?.[2] === 'MiB' ? 1024 * 1024 : 1;
  const value = m === null || (m[2] !== undefined && !bytes) ? Number.NaN : Number(m[1]) * unit;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return invalid(`${what} "${text ?? ''}" must be an integer in ${min}..${max}${bytes ? ' (bytes; KiB and MiB suffixes allowed)' : ''}`);
  }
  return { ok: true, value };
}

function sharedBlocking(spec: string, fields: readonly string[]): Result<DeliveryPolicy, PolicyError> {
  if (fields.length > 4) return invalid(`policy "${spec}" has too many fields: shared-blocking[:CAPACITY[:SEND_TIMEOUT_MS[:HIGH_WATER_BYTES]]]`);
  const d = SHARED_BLOCKING_DEFAULTS;
  const capacity = fields[1] === undefined ? { ok: true as const, value: d.capacity } : integer(fields[1], 'shared-blocking capacity', 1, LIMITS.queueFramesMax);
  if (!capacity.ok) return capacity;
  const timeout = fields[2] === undefined ? { ok: true as const, value: d.sendTimeoutMs } : integer(fields[2], 'shared-blocking send timeout (ms)', 1, LIMITS.timeoutMsMax);
  if (!timeout.ok) return timeout;
  const highWater = fields[3] === undefined ? { ok: true as const, value: d.highWaterBytes } : integer(fields[3], 'shared-blocking high-water mark', 0, LIMITS.bytesMax, true);
  if (!highWater.ok) return highWater;
  return { ok: true, value: createSharedBlockingPolicy({ capacity: capacity.value, sendTimeoutMs: timeout.value, highWaterBytes: highWater.value }, spec) };
}

function perSubscriber(spec: string, fields: readonly string[]): Result<DeliveryPolicy, PolicyError> {
  const capacity = integer(fields[1], 'per-subscriber capacity', 1, LIMITS.queueFramesMax);
  if (!capacity.ok) return capacity;
  if (fields[2] === 'drop-oldest' && fields.length === 3) return { ok: true, value: createDropOldestPolicy(capacity.value, spec) };
  if (fields[2] === 'evict-after' && fields.length === 4) {
    const ms = integer(fields[3], 'per-subscriber evict-after (ms)', 1, LIMITS.timeoutMsMax);
    if (!ms.ok) return ms;
    return { ok: true, value: createEvictAfterPolicy(capacity.value, ms.value, spec) };
  }
  return invalid(`policy "${spec}": expected per-subscriber:N:drop-oldest or per-subscriber:N:evict-after:MS`);
}

function byteCap(spec: string, fields: readonly string[]): Result<DeliveryPolicy, PolicyError> {
  if (fields.length !== 3 || fields[2] !== 'disconnect') return invalid(`policy "${spec}": expected bytes:B:disconnect`);
  const cap = integer(fields[1], 'bytes cap', 1, LIMITS.bytesMax, true);
  if (!cap.ok) return cap;
  return { ok: true, value: createByteCapPolicy(cap.value, spec) };
}

/** A fresh policy (its own queues and stats) from its spec, or `GATEWAY.POLICY_INVALID` saying what is wrong. */
export function parsePolicy(spec: string): Result<DeliveryPolicy, PolicyError> {
  if (typeof spec !== 'string' || spec.trim() === '') return invalid(`empty policy: expected one of ${KNOWN}`);
  const fields = spec.trim().split(':');
  switch (fields[0]) {
    case 'unbounded':
      return fields.length === 1 ? { ok: true, value: createUnboundedPolicy() } : invalid(`policy "${spec}": unbounded takes no parameters`);
    case 'shared-blocking':
      return sharedBlocking(spec.trim(), fields);
    case 'per-subscriber':
      return perSubscriber(spec.trim(), fields);
    case 'bytes':
      return byteCap(spec.trim(), fields);
    default:
      return invalid(`unknown policy "${spec}": expected one of ${KNOWN}`);
  }
}
