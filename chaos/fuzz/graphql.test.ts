// The GraphQL abuse fuzzer in CI: `raceday gateway` runs as a child process (memory backend) and
// every abuse class is generated a few times against it: each attack must be refused the
// documented way, and after every class the process must be alive and answer /healthz.
import { describe, expect, it } from 'vitest';
import { ATTACK_KINDS, forgedToken } from './graphql-attacks.ts';
import fc from 'fast-check';
import { healthy, startGatewayProcess } from './gateway-process.ts';
import { runGraphqlFuzz } from './graphql.ts';

describe('GraphQL abuse against raceday gateway (child process)', () => {
  it('every class is refused as documented and the gateway stays alive and healthy', async () => {
    const r = await runGraphqlFuzz({ seed: 5, runs: 4 });
    expect(r.cells.map((c) => c.kind)).toEqual(ATTACK_KINDS);
    for (const c of r.cells) expect({ kind: c.kind, notRejected: c.notRejected, errors: c.errors, health: c.health, notes: c.notes }).toEqual({ kind: c.kind, notRejected: 0, errors: 0, health: undefined, notes: [] });
    expect(r.crashes).toBe(0);
    expect(r.rejected).toBe(r.tried);
    expect(r.ok).toBe(true);
  }, 60_000);

  it('the forgeries cover every kind of bad token', () => {
    const kinds = new Set(fc.sample(forgedToken.arbitrary, { seed: 1, numRuns: 300 }).map((x) => x.kind));
    expect([...kinds].sort()).toEqual(['alg-none', 'expired', 'garbage', 'no-subject', 'none', 'not-a-string', 'other-scheme', 'oversized', 'tampered', 'wrong-secret']);
  });

  it('a gateway process that died is reported, not taken for alive', async () => {
    const g = await startGatewayProcess({ backend: 'memory', secret: 'a-secret-of-at-least-thirty-two-bytes-long' });
    expect(await healthy(g)).toBeUndefined();
    process.kill(g.pid, 'SIGKILL');
    for (let i = 0; i < 100 && g.alive(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await healthy(g)).toMatch(/exited \(signal SIGKILL\)/);
    await g.stop();
  }, 30_000);
});
