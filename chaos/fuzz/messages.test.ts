// The message fuzzer in CI (memory backend): every generated malformed message breaks the contract
// it claims to break (the parser refuses it, or it names another race or result version), and
// published while a real race settles, each one lands in its topic's dead letters with a reason,
// the race settles with every checker passing, and no handler throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../core/messages.ts';
import { openBackend } from '../../sim/open-backend.ts';
import { FORGED_HITS_MIN, FUZZ_TOPICS, kindsOf, malformedMessage, type FuzzRace } from './message-arbitraries.ts';
import { runMessageFuzz } from './messages.ts';

const RACE: FuzzRace = { raceId: 'r1', resultVersion: 1, userIds: ['u00001', 'u00002'], publishedAt: 1_700_000_000_000 };

describe('malformed message arbitraries', () => {
  for (const topic of FUZZ_TOPICS) {
    for (const kind of kindsOf(topic)) {
      it(`${topic} / ${kind}: every message breaks the contract`, () => {
        fc.assert(
          fc.property(malformedMessage(topic, kind, RACE), (m) => {
            const parsed = parseMessage(topic, m.data);
            if (kind === 'unknown-race') return parsed.ok && parsed.value.message.raceId !== RACE.raceId;
            if (kind === 'forged') return parsed.ok && 'hits' in parsed.value.message && parsed.value.message.hits >= FORGED_HITS_MIN;
            if (kind === 'other-version') return parsed.ok && 'resultVersion' in parsed.value.message && parsed.value.message.resultVersion !== RACE.resultVersion;
            return !parsed.ok;
          }),
          { numRuns: kind === 'oversized' ? 5 : 60, seed: 15 },
        );
      });
    }
  }
});

describe('malformed messages while a race settles (memory backend)', () => {
  it('dead-letters every one with its reason; the race settles with every invariant holding; nothing throws', async () => {
    const backend = await openBackend('memory');
    try {
      const r = await runMessageFuzz(backend, { seed: 7, runs: 4, timeoutMs: 20_000 });
      expect(r.crashes).toEqual([]);
      expect(r.violations).toEqual([]);
      expect(r.tried).toBe(FUZZ_TOPICS.reduce((n, t) => n + kindsOf(t).length, 0) * 4);
      for (const c of r.cells) {
        expect({ cell: `${c.topic}/${c.kind}`, lost: c.lost }).toEqual({ cell: `${c.topic}/${c.kind}`, lost: 0 });
        expect(c.reason).toMatch(c.kind === 'forged' ? /^SETTLED\.(UNKNOWN|MISMATCH): / : /^(MESSAGE\.INVALID|MESSAGE\.SCHEMA_VERSION|RACE\.UNKNOWN|RESULT\.ALREADY_FINAL): /);
      }
      expect(r.ok).toBe(true);
    } finally {
      await backend.close();
    }
  });
});
