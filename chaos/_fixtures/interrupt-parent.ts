// A stand-in for `raceday chaos` in chaos/interrupt.test.ts: installs the interrupt handlers (unless
// told not to), starts a long-lived child in a process group of its own (as fleet members are) and
// registers it, prints its pid, and waits to be signalled.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { installInterruptHandlers, onInterrupt } from '../interrupt.ts';

if (process.argv[2] !== 'unguarded') installInterruptHandlers({ log: (l) => void process.stderr.write(`${l}\n`), graceMs: 10_000 });
const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => setTimeout(() => process.exit(0), 200)); setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
const exited = once(child, 'exit');
void exited.then(
  onInterrupt(async () => {
    child.kill('SIGTERM');
    await exited;
  }),
);
process.stdout.write(`${JSON.stringify({ child: child.pid })}\n`);
setInterval(() => undefined, 1000);
