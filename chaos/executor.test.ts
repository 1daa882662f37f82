import { describe, expect, it } from 'vitest';
import type { FleetMember } from './contracts.ts';
import { createFaultExecutor, type FaultActions } from './executor.ts';
import type { PlannedFault } from './schedule.ts';

function fakeFleet() {
  const members: FleetMember[] = ['fanout-1', 'settle-1', 'settle-2'].map((id, i) => ({ role: id.replace(/-\d$/, '') as FleetMember['role'], id, pid: 100 + i, startedAtMs: 0, restarts: 0 }));
  const log: string[] = [];
  let active = 0;
  let maxActiveRolling = 0;
  const actions: FaultActions = {
    members: () => members,
    async kill(id, downMs) {
      log.push(`kill ${id}`);
      await new Promise((r) => setTimeout(r, downMs));
      const i = members.findIndex((m) => m.id === id);
      const m = members[i] as FleetMember;
      members[i] = { ...m, pid: m.pid + 1000, restarts: m.restarts + 1 };
    },
    async rollingRestart(role) {
      active++;
      maxActiveRolling = Math.max(maxActiveRolling, active);
      log.push(`rolling ${role}`);
      await new Promise((r) => setTimeout(r, 20));
      active--;
    },
    async network(proxy, kind) {
      log.push(`${kind} on ${proxy}`);
      return { toxics: [`chaos-${kind}-upstream`], clear: async () => void log.push(`clear ${kind}`) };
    },
  };
  return { actions, log, maxActive: () => maxActiveRolling };
}

const plan = (p: Partial<PlannedFault> & Pick<PlannedFault, 'kind' | 'target' | 'phase'>): PlannedFault => ({ delayMs: 0, durationMs: 10, ...p });

describe('createFaultExecutor', () => {
  it('strikes a phase\'s faults only once the phase arrives, and records proof of each', async () => {
    const f = fakeFleet();
    let t = 0;
    const ex = createFaultExecutor(
      [plan({ kind: 'kill', target: 'settle-2', phase: 'settle' }), plan({ kind: 'latency', target: 'spanner', phase: 'settle', durationMs: 15 }), plan({ kind: 'kill', target: 'fanout-1', phase: 'barrier' })],
      f.actions,
      () => (t += 1),
    );
    ex.phase('fanout');
    await ex.drain();
    expect(f.log).toEqual([]);
    ex.phase('settle');
    await ex.drain();
    expect(f.log.sort()).toEqual(['clear latency', 'kill settle-2', 'latency on spanner']);
    const kill = ex.executed().find((e) => e.kind === 'kill');
    expect(kill?.proof).toEqual({ pidBefore: 102, pidAfter: 1102 });
    expect(kill?.phase).toBe('settle');
    expect(ex.executed().find((e) => e.kind === 'latency')?.proof.toxics).toEqual(['chaos-latency-upstream']);
    for (const e of ex.executed()) expect(e.endMs).toBeGreaterThan(e.startMs);
    // The barrier never came: its kill is pending, never injected.
    expect(ex.pending().map((p) => p.target)).toEqual(['fanout-1']);
  });

  it('runs rolling restarts one after another, never two at once', async () => {
    const f = fakeFleet();
    const ex = createFaultExecutor(['fanout', 'settle', 'notify'].map((role) => plan({ kind: 'rolling-restart', target: role, phase: 'settle' })), f.actions, () => 0);
    ex.phase('settle');
    await ex.drain();
    expect(f.log).toEqual(['rolling fanout', 'rolling settle', 'rolling notify']);
    expect(f.maxActive()).toBe(1);
  });

  it('keeps a failed fault with its error and goes on', async () => {
    const f = fakeFleet();
    const actions = { ...f.actions, network: async () => Promise.reject(new Error('TOXIPROXY.NOT_FOUND: no proxy')) };
    const ex = createFaultExecutor([plan({ kind: 'reset', target: 'nope', phase: 'settle' }), plan({ kind: 'kill', target: 'settle-1', phase: 'settle' })], actions, () => 0);
    ex.phase('settle');
    await ex.drain();
    expect(ex.executed().find((e) => e.kind === 'reset')?.error).toMatch(/NOT_FOUND/);
    expect(ex.executed().find((e) => e.kind === 'kill')?.error).toBeUndefined();
  });
});

describe('process faults on one role', () => {
  it('never overlap: a kill waits for a rolling restart of its role, and records the pid it really killed', async () => {
    const f = fakeFleet();
    const events: string[] = [];
    const actions: FaultActions = {
      ...f.actions,
      async rollingRestart(role) {
        events.push(`roll ${role} start`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`roll ${role} end`);
      },
      async kill(id, downMs) {
        events.push(`kill ${id} start`);
        await f.actions.kill(id, downMs);
        events.push(`kill ${id} end`);
      },
    };
    const ex = createFaultExecutor([plan({ kind: 'rolling-restart', target: 'settle', phase: 'settle' }), plan({ kind: 'kill', target: 'settle-1', phase: 'settle', delayMs: 5 })], actions, () => 0);
    ex.phase('settle');
    await ex.drain();
    expect(events).toEqual(['roll settle start', 'roll settle end', 'kill settle-1 start', 'kill settle-1 end']);
  });
});
