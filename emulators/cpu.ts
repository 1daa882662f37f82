// CPU time used by the local emulator processes, read from Linux /proc: benches report it beside
// the client's own CPU, so a run can tell which process the machine's cores went to (on these
// 2-core machines the Pub/Sub emulator's JVM can take as much as the settlement client).
// Elsewhere (no /proc, containers, external emulators) the figures are simply absent.
import { readFileSync } from 'node:fs';

export type EmulatorCpu = Partial<Record<'pubsub' | 'spanner', number>>;

/** Linux reports process times in clock ticks of USER_HZ, which is 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

function nameOf(cmdline: string): keyof EmulatorCpu | undefined {
  if (cmdline.includes('pubsub-emulator')) return 'pubsub';
  if (cmdline.includes('emulator_main')) return 'spanner';
  return undefined;
}

/** CPU seconds (user + system) used so far by each emulator among `pids`; {} where /proc is unreadable. */
export function emulatorCpuSeconds(pids: readonly number[]): EmulatorCpu {
  const out: EmulatorCpu = {};
  for (const pid of pids) {
    try {
      const name = nameOf(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      if (name === undefined) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at state, field 3; utime and stime are 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // the process is gone or /proc is not there: no figure
    }
  }
  return out;
}

/** What `after - before` used, per emulator, rounded to hundredths of a second (the tick). */
export function emulatorCpuSince(before: EmulatorCpu, after: EmulatorCpu): EmulatorCpu {
  const out: EmulatorCpu = {};
  for (const name of ['pubsub', 'spanner'] as const) {
    const a = after[name];
    const b = before[name];
    if (a !== undefined && b !== undefined) out[name] = Math.round((a - b) * 100) / 100;
  }
  return out;
}
