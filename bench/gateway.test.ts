// Proves `raceday bench gateway` at a tiny size (200 subscribers, 2 policies x {0%, 5%}) prints one
// well-formed JSON object: the throughput comparison with the bare ws loop and, per cell, the
// healthy delivery percentiles, delivered, lost after recovery, drops, evictions, time to evict,
// deepest queue and peak RSS, with counts that add up (every healthy client got both of its
// notifications; the 0% cells lost nothing). It runs in this process on the host's TCP buffers.
import { describe, expect, it } from 'vitest';
import { capture } from '../cli/_fixtures/capture.ts';
import { main } from '../cli/main.ts';

const ARGS = ['bench', 'gateway', '--subscribers', '200', '--policies', 'shared-blocking:100:1000:4KiB,per-subscriber:4:evict-after:1000', '--slow', '0,5',
  '--odds-interval-ms', '200', '--odds-combinations', '30', '--warmup-ms', '1000', '--warmup-max-ms', '1000', '--drain-ms', '1500', '--throughput-notifications', '3', '--tcp-buffer-bytes', '0', '--workers', '1', '--json'];

const percentiles = expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), 'p99.9': expect.any(Number), max: expect.any(Number) });

describe('raceday bench gateway', () => {
  it('prints the matrix as JSON with every per-cell field, at 200 subscribers', async () => {
    const r = await capture(() => main(ARGS));
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { bench: string; throughput: Record<string, unknown>; cells: Record<string, unknown>[]; findings: Record<string, unknown> };
    expect(out.bench).toBe('gateway');
    expect(out.throughput).toMatchObject({ notificationsPerSubscriber: 3, gatewayLost: 0, gatewayDeliveryMs: percentiles });
    expect(out.throughput['gatewayMessagesPerSecond']).toBeGreaterThan(0);
    expect(out.throughput['wsBaselineMessagesPerSecond']).toBeGreaterThan(0);
    expect(out.throughput['wsBaseline']).toMatchObject({ connected: 200, framesSent: 600, framesReceived: 600, lost: 0 });
    expect(out.cells.map((c) => [c['policy'], c['slowOrStalledPercent']])).toEqual([
      ['shared-blocking:100:1000:4KiB', 0], ['shared-blocking:100:1000:4KiB', 5], ['per-subscriber:4:evict-after:1000', 0], ['per-subscriber:4:evict-after:1000', 5],
    ]);
    for (const c of out.cells) {
      expect(c).toMatchObject({ subscribers: 200, connected: 200, healthyDeliveryMs: percentiles, duplicates: 0 });
      for (const k of ['delivered', 'expected', 'lostAfterRecovery', 'lostStalled', 'drops', 'evictions', 'maxQueueMessages', 'maxQueueBytes', 'gatewayPeakRssMb', 'oddsFramesSent', 'channelIsFullLines', 'warmupMs']) expect(typeof c[k], k).toBe('number');
      expect(c).toMatchObject({ slowFeltBeforeSettling: expect.any(Boolean), swarmLoopDelayMs: { p99: expect.any(Number), max: expect.any(Number) } });
      expect(c).toHaveProperty('timeToEvictMs');
      const cohorts = c['cohorts'] as { healthy: number; slow: number; stalled: number };
      expect(cohorts.healthy + cohorts.slow + cohorts.stalled).toBe(200);
      expect(c['expected']).toBe(400);
      // Healthy clients get both notifications (settled and ranking) of the race: the delivered count covers them.
      expect((c['healthyDeliveryMs'] as { count: number }).count).toBe(cohorts.healthy * 2);
      expect(c['delivered'] as number).toBeGreaterThanOrEqual(cohorts.healthy * 2);
      expect(c['oddsFramesSent'] as number).toBeGreaterThan(0);
      if (c['slowOrStalledPercent'] === 0) expect([c['delivered'], c['lostAfterRecovery'], c['lostStalled']]).toEqual([400, 0, 0]);
      else expect(cohorts).toEqual({ healthy: 190, slow: 5, stalled: 5, flapping: 0 });
    }
    expect(Object.keys(out.findings)).toEqual(['shared-blocking:100:1000:4KiB', 'per-subscriber:4:evict-after:1000']);
    expect(out.findings['shared-blocking:100:1000:4KiB']).toHaveProperty('stallReproduced');
  }, 240_000);

  it('refuses a policy it cannot parse, naming it, with exit 2', async () => {
    const r = await capture(() => main(['bench', 'gateway', '--policies', 'per-subscriber:0:drop-oldest', '--json']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--policies: .*per-subscriber/);
  });
});
