// Carries out a fault schedule during a run: the run says which phase the pipeline entered, and
// every planned fault of that phase is armed to strike its delay later. Kills and network faults
// run side by side; rolling restarts run one after another (one instance at a time across the
// fleet, so the promise "no maintenance window" is tested with every role restarted in turn).
// Each fault's start and end are kept, with what proves it happened: the pid a kill replaced, the
// toxics a network fault installed.
import type { FaultKind, FleetMember, NetworkFaultKind } from './contracts.ts';
import type { PlannedFault, SchedulePhase } from './schedule.ts';

/** What the executor can do to the running system (run.ts wires these to the fleet and Toxiproxy). */
export interface FaultActions {
  members(): readonly FleetMember[];
  /** SIGKILL a member and bring it back after `downMs`; resolves once the replacement is ready. */
  kill(id: string, downMs: number): Promise<void>;
  /** Every member of a role restarted one at a time; resolves once the last is ready. */
  rollingRestart(role: string): Promise<void>;
  /** A toxic on a proxy; `clear` takes it away. */
  network(proxy: string, kind: NetworkFaultKind, durationMs: number): Promise<{ readonly toxics: readonly string[]; clear(): Promise<void> }>;
}

export interface ExecutedFault {
  readonly planned: PlannedFault;
  readonly kind: FaultKind;
  readonly target: string;
  /** The pipeline's phase when it struck (the one that armed it, or a later one). */
  readonly phase: string;
  readonly startMs: number;
  endMs: number | undefined;
  /** kill: the pid killed and the replacement's; network: the toxics installed. */
  readonly proof: { pidBefore?: number; pidAfter?: number; toxics?: readonly string[] };
  error?: string;
}

export interface FaultExecutor {
  /** The pipeline entered a phase: arm its faults (once per phase); `label` names the moment when it is not the phase itself (`idle`). */
  phase(p: SchedulePhase, label?: string): void;
  currentPhase(): string;
  /** Resolves once every fault that struck has ended (network faults cleared, members ready). */
  drain(): Promise<void>;
  /** Planned faults whose phase never came: never injected. */
  pending(): readonly PlannedFault[];
  /** Cancels faults not yet struck (the run is over). */
  cancel(): void;
  executed(): readonly ExecutedFault[];
}

export function createFaultExecutor(schedule: readonly PlannedFault[], actions: FaultActions, now: () => number, log: (line: string) => void = () => undefined): FaultExecutor {
  const armed = new Set<SchedulePhase>();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const done: ExecutedFault[] = [];
  const waiting = new Set(schedule);
  let current = 'idle';
  // Rolling restarts queue behind each other: one instance at a time across the whole fleet.
  let rolling: Promise<void> = Promise.resolve();
  // Process faults on one role wait for each other: a kill does not race a restart of the same
  // members (the fleet acts on one member at a time; two acts on it at once are not a fault but
  // a fight over the process).
  const roleLocks = new Map<string, Promise<void>>();
  const withRole = async (role: string, act: () => Promise<void>): Promise<void> => {
    const before = roleLocks.get(role) ?? Promise.resolve();
    const mine = before.then(act);
    roleLocks.set(role, mine.catch(() => undefined));
    await mine;
  };
  const roleOf = (id: string): string => id.replace(/-\d+$/, '');

  const strike = async (f: PlannedFault): Promise<void> => {
    const e: ExecutedFault = { planned: f, kind: f.kind, target: f.target, phase: current, startMs: now(), endMs: undefined, proof: {} };
    done.push(e);
    try {
      if (f.kind === 'kill') {
        await withRole(roleOf(f.target), async () => {
          e.proof.pidBefore = actions.members().find((m) => m.id === f.target)?.pid;
          log(`chaos: kill ${f.target} (pid ${e.proof.pidBefore}) in ${current}, down ${f.durationMs} ms`);
          await actions.kill(f.target, f.durationMs);
        });
        e.proof.pidAfter = actions.members().find((m) => m.id === f.target)?.pid;
      } else if (f.kind === 'rolling-restart') {
        const turn = rolling.then(() => withRole(f.target, () => actions.rollingRestart(f.target)));
        rolling = turn.catch(() => undefined);
        log(`chaos: rolling restart of ${f.target} queued in ${current}`);
        await turn;
      } else if (f.kind === 'gateway-restart') {
        // The gateway restart runs as its own part of the run (run.ts); nothing to do here.
        return;
      } else {
        const injected = await actions.network(f.target, f.kind, f.durationMs);
        e.proof.toxics = injected.toxics;
        log(`chaos: ${f.kind} on ${f.target} in ${current} for ${f.durationMs} ms (${injected.toxics.join(', ')})`);
        await new Promise((r) => setTimeout(r, f.durationMs));
        await injected.clear();
      }
    } catch (err) {
      e.error = (err as Error).message;
      log(`chaos: ${f.kind} on ${f.target} failed: ${e.error}`);
    } finally {
      e.endMs = now();
    }
  };

  return {
    phase(p, label) {
      current = label ?? p;
      if (armed.has(p)) return;
      armed.add(p);
      for (const f of schedule.filter((x) => x.phase === p && x.kind !== 'gateway-restart')) {
        const t = setTimeout(() => {
          timers.delete(t);
          waiting.delete(f);
          const run = strike(f);
          running.add(run);
          void run.finally(() => running.delete(run));
        }, f.delayMs);
        timers.add(t);
      }
    },
    currentPhase: () => current,
    async drain() {
      while (running.size > 0 || timers.size > 0) await Promise.race([...running, new Promise((r) => setTimeout(r, 50))]);
    },
    pending: () => [...waiting].filter((f) => f.kind !== 'gateway-restart'),
    cancel() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    executed: () => done,
  };
}
