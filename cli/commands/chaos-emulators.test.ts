// The short chaos pass of CI: `raceday chaos` on the emulators, a small smoke day on a fleet of
// worker processes behind Toxiproxy, with SIGKILLs (fan-out, settlement, barrier) and one network
// fault (latency on an emulator proxy). The real checkers must find nothing lost and nothing
// doubled, and the faults must really have happened: every killed member has a new pid, and
// Toxiproxy listed the fault's toxics on the proxy while it held.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { parseReliability } from '../../reports/record/reliability.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as chaos } from './chaos.ts';

// The worker processes pull with unary Pull (backends/google/pubsub-pull.ts), so a SIGKILLed
// worker's messages come back after their deadline; the ingest process's reconciler re-drives a
// race whose progress stopped all the same (pipeline/reconcile.ts). With StreamingPull this test
// failed intermittently on the emulator's stall (docs/chaos.md).

interface Printed {
  runs: { seed: number; faultsByKind: Record<string, number>; tickets: number; settledExactlyOnce: number; lost: number; doubled: number; violations: string[]; ok: boolean }[];
  totals: { lost: number; doubled: number; ok: boolean; faults: number };
  details: { kills: { id: string; pidBefore?: number; pidAfter?: number }[]; toxics: { proxy: string; kind: string; listed: string[] }[]; fleet: { kills: number; crashes: number } }[];
}

const out = mkdtempSync(join(tmpdir(), 'raceday-chaos-'));
afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(out, { recursive: true, force: true }));

describeWithEmulators('raceday chaos --backend emulators (short pass)', () => {
  useEmulators();

  it('kills and a network fault on a small day: nothing lost or doubled, and every fault really struck', { timeout: 300_000 }, async () => {
    const { code, out: printed, err } = await capture(() => chaos.run(['--backend', 'emulators', '--faults', 'kill,network:latency', '--users', '40', '--seed', '3', '--timeout-s', '120', '--json', '--out', out]));
    const r = JSON.parse(printed) as Printed;
    const run = r.runs[0];
    expect(run?.violations, err.slice(-3000)).toEqual([]);
    expect(code).toBe(0);
    expect(r.totals).toMatchObject({ lost: 0, doubled: 0, ok: true });
    expect(run?.settledExactlyOnce).toBe(run?.tickets);
    expect(run?.tickets).toBeGreaterThan(0);
    // The kills struck real processes: each member came back with another pid.
    const detail = r.details[0];
    expect(run?.faultsByKind['kill']).toBeGreaterThanOrEqual(2);
    expect(detail?.fleet.kills).toBe(run?.faultsByKind['kill']);
    for (const k of detail?.kills ?? []) {
      expect(k.pidBefore, k.id).toBeTypeOf('number');
      expect(k.pidAfter, k.id).toBeTypeOf('number');
      expect(k.pidAfter, k.id).not.toBe(k.pidBefore);
    }
    // The latency toxic was on the proxy while the fault held, as Toxiproxy itself listed it.
    expect(run?.faultsByKind['latency']).toBe(1);
    expect(detail?.toxics).toHaveLength(1);
    expect(detail?.toxics[0]?.listed).toEqual(expect.arrayContaining(['chaos-latency-upstream', 'chaos-latency-downstream']));
    // The run record carries the reliability section, valid against its schema.
    const record = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { reliability: unknown; invariants: { name: string; ok: boolean }[] };
    const section = parseReliability(record.reliability);
    expect(section.ok && section.value.totals.lost).toBe(0);
    expect(record.invariants.filter((i) => i.name.startsWith('chaos:')).every((i) => i.ok)).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('## Reliability');
  });
});
