// `raceday gateway` as its own process: it prints its URLs (and the secret it made up), serves a
// bet and /metrics, and on SIGTERM closes and exits 0; misuse is a usage error (exit 2).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { signToken } from '../../gateway/auth.ts';
import { capture } from '../_fixtures/capture.ts';
import { command } from './gateway.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');

describe('raceday gateway', () => {
  it('serves until SIGTERM, then closes and exits 0', async () => {
    const child = spawn(process.execPath, [bin, 'gateway', '--demo-users', '3', '--policy', 'per-subscriber:64:drop-oldest'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const started = JSON.parse(line) as { url: string; metricsUrl: string; secret: string; policy: string; demo: { raceId: string } };
      expect(started.policy).toBe('per-subscriber:64:drop-oldest');
      const token = await signToken('u000002', started.secret, 60);
      const res = await fetch(started.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `mutation { placeBet(input: {raceId: "${started.demo.raceId}", betType: "trifecta", combination: "1-2-3", stake: 500}, idempotencyKey: "k") { balances { cash } } }` }),
      });
      expect(await res.json()).toEqual({ data: { placeBet: { balances: { cash: 99_500 } } } });
      expect(await (await fetch(started.metricsUrl)).text()).toMatch(/raceday_gateway_connections 0/);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('SIGTERM, closing') });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses options that do not apply, with exit code 2', async () => {
    for (const argv of [['--project', 'p'], ['--secret', 'too-short'], ['--policy', 'per-subscriber:0:drop-oldest'], ['--redis-url', 'redis://x'], ['--max-connections', '0'], ['--instances', '2'], ['--backend', 'emulators', '--instances', '2', '--intake', 'bus']]) {
      const r = await capture(() => command.run(argv));
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^raceday gateway: /);
    }
  });
});
