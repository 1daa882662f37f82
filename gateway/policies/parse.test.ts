// parsePolicy turns every documented spec into the policy it names, with its parameters, and
// refuses every malformed spec with GATEWAY.POLICY_INVALID and a sentence naming the bad field.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_SPEC, parsePolicy, POLICY_SPECS } from './index.ts';

function parsed(spec: string) {
  const r = parsePolicy(spec);
  if (!r.ok) throw new Error(`${spec}: ${r.error.message}`);
  return r.value;
}

function refused(spec: string): string {
  const r = parsePolicy(spec);
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.error.code).toBe('GATEWAY.POLICY_INVALID');
  return r.error.message;
}

describe('parsePolicy', () => {
  it('parses every example spec and the default, keeping the spec as the name', () => {
    for (const spec of [...POLICY_SPECS, DEFAULT_POLICY_SPEC]) expect(parsed(spec).name).toBe(spec);
  });

  it('gives shared-blocking the incident defaults (100 frames, 60 s) and takes overrides', () => {
    expect(parsed('shared-blocking').intake).toEqual({ capacity: 100, sendTimeoutMs: 60_000 });
    expect(parsed('shared-blocking:10:250').intake).toEqual({ capacity: 10, sendTimeoutMs: 250 });
    expect(parsed('shared-blocking:10:250:64KiB').intake).toEqual({ capacity: 10, sendTimeoutMs: 250 });
  });

  it('gives every other policy an intake without a shared bound', () => {
    for (const spec of ['unbounded', 'per-subscriber:8:drop-oldest', 'per-subscriber:8:evict-after:50', 'bytes:4096:disconnect', 'bytes:1MiB:disconnect']) {
      expect(parsed(spec).intake).toEqual({});
    }
  });

  it('hands out fresh stats per parse', () => {
    const a = parsed('unbounded');
    expect(a.stats()).toEqual({ drops: 0, evictions: 0, timeToEvictMs: [], maxQueueMessages: 0, maxQueueBytes: 0 });
    expect(parsed('unbounded')).not.toBe(a);
  });

  it('refuses unknown names and empty specs, listing the known ones', () => {
    expect(refused('fast')).toMatch(/unknown policy "fast": expected one of unbounded, shared-blocking/);
    expect(refused('')).toMatch(/empty policy/);
    expect(refused('   ')).toMatch(/empty policy/);
  });

  it('refuses bad numbers naming the field and its bound', () => {
    expect(refused('per-subscriber:0:drop-oldest')).toBe('per-subscriber capacity "0" must be an integer in 1..1000000');
    expect(refused('per-subscriber:-1:drop-oldest')).toMatch(/capacity "-1"/);
    expect(refused('per-subscriber:1.5:drop-oldest')).toMatch(/capacity "1.5"/);
    expect(refused('per-subscriber:256:evict-after:0')).toMatch(/evict-after \(ms\) "0" must be an integer in 1..3600000/);
    expect(refused('per-subscriber:256:evict-after:abc')).toMatch(/evict-after \(ms\) "abc"/);
    expect(refused('bytes:0:disconnect')).toMatch(/bytes cap "0"/);
    expect(refused('bytes:2048MiB:disconnect')).toMatch(/bytes cap "2048MiB" must be an integer in 1..1073741824/);
    expect(refused('shared-blocking:0')).toMatch(/shared-blocking capacity "0"/);
    expect(refused('shared-blocking:100:1e3')).toMatch(/send timeout \(ms\) "1e3"/);
    expect(refused('per-subscriber:8KiB:drop-oldest')).toMatch(/capacity "8KiB"/);
  });

  it('refuses wrong shapes', () => {
    expect(refused('unbounded:5')).toMatch(/unbounded takes no parameters/);
    expect(refused('per-subscriber:8')).toMatch(/expected per-subscriber:N:drop-oldest or per-subscriber:N:evict-after:MS/);
    expect(refused('per-subscriber:8:drop-newest')).toMatch(/expected per-subscriber/);
    expect(refused('per-subscriber:8:evict-after')).toMatch(/expected per-subscriber:N:drop-oldest or per-subscriber:N:evict-after:MS/);
    expect(refused('per-subscriber:8:drop-oldest:5')).toMatch(/expected per-subscriber/);
    expect(refused('bytes:4096')).toMatch(/expected bytes:B:disconnect/);
    expect(refused('shared-blocking:1:2:3:4')).toMatch(/too many fields/);
  });
});
