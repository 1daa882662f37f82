import { describe, expect, it } from 'vitest';
import { countByKind, drawSchedule, FAULT_CHOICES, parseFaults, SCHEDULE_PHASES, type FleetShape } from './schedule.ts';

const FLEET: FleetShape = { ingest: 1, fanout: 2, settle: 3, 'post-settle': 2, notify: 2, 'dead-letters': 1, gateway: 1 };

describe('parseFaults', () => {
  it('accepts a list, all and network', () => {
    expect(parseFaults('kill,network:reset')).toEqual({ ok: true, value: ['kill', 'network:reset'] });
    expect(parseFaults('all')).toEqual({ ok: true, value: [...FAULT_CHOICES] });
    const net = parseFaults('kill,network');
    expect(net.ok && net.value).toEqual(['kill', 'network:latency', 'network:bandwidth', 'network:timeout', 'network:reset', 'network:half-open']);
  });

  it('refuses unknown, empty and repeated names with CHAOS.BAD_FAULTS', () => {
    const unknown = parseFaults('kill,network:jitter');
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.error.code).toBe('CHAOS.BAD_FAULTS');
    expect(!unknown.ok && unknown.error.message).toContain('unknown fault "network:jitter"');
    const empty = parseFaults('kill,,rolling');
    expect(!empty.ok && empty.error.message).toContain('empty name');
    const twice = parseFaults('kill,kill');
    expect(!twice.ok && twice.error.message).toContain('twice');
  });
});

describe('drawSchedule', () => {
  const all = parseFaults('all');
  const faults = all.ok ? all.value : [];

  it('is the same for the same seed and differs across seeds', () => {
    const a = drawSchedule({ seed: 7, faults, fleet: FLEET });
    expect(drawSchedule({ seed: 7, faults, fleet: FLEET })).toEqual(a);
    expect(drawSchedule({ seed: 8, faults, fleet: FLEET })).not.toEqual(a);
  });

  it('aims kills at the fan-out, settlement and the barrier, on members that exist', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const kills = drawSchedule({ seed, faults: ['kill'], fleet: FLEET }).filter((f) => f.kind === 'kill');
      expect(kills.map((k) => k.phase)).toEqual(['fanout', 'settle', 'barrier']);
      expect(kills[0]?.target).toMatch(/^fanout-[12]$/);
      expect(kills[1]?.target).toMatch(/^settle-[123]$/);
      expect(kills[2]?.target).toMatch(/^post-settle-[12]$/);
    }
  });

  it('draws every requested kind: network faults on proxies, a rolling restart per role, a gateway restart while notifying', () => {
    const s = drawSchedule({ seed: 3, faults, fleet: FLEET });
    expect(countByKind(s)).toEqual({ bandwidth: 1, 'gateway-restart': 1, 'half-open': 1, kill: 3, latency: 1, reset: 1, 'rolling-restart': 6, timeout: 1 });
    for (const f of s.filter((x) => ['latency', 'bandwidth', 'timeout', 'reset', 'half-open'].includes(x.kind))) {
      expect(['spanner', 'pubsub', 'gateway']).toContain(f.target);
      expect(f.durationMs).toBeGreaterThan(0);
    }
    expect(s.filter((f) => f.kind === 'rolling-restart').map((f) => f.target).sort()).toEqual(['dead-letters', 'fanout', 'ingest', 'notify', 'post-settle', 'settle']);
    expect(s.find((f) => f.kind === 'gateway-restart')?.phase).toBe('notify');
    // Ordered as the run meets them.
    const order = s.map((f) => SCHEDULE_PHASES.indexOf(f.phase));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('leaves out what the fleet cannot take: no gateway, no gateway faults', () => {
    const { gateway: _g, ...noGateway } = FLEET;
    for (let seed = 1; seed <= 30; seed++) {
      const s = drawSchedule({ seed, faults, fleet: noGateway });
      expect(s.some((f) => f.target === 'gateway' || f.kind === 'gateway-restart')).toBe(false);
    }
  });

  it('adding a fault kind does not move the others', () => {
    const kills = drawSchedule({ seed: 11, faults: ['kill'], fleet: FLEET });
    const both = drawSchedule({ seed: 11, faults: ['kill', 'network:latency'], fleet: FLEET });
    expect(both.filter((f) => f.kind === 'kill')).toEqual(kills);
  });
});
