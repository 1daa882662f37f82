// SIGTERM and SIGINT to a chaos run (or a soak) must leave nothing behind. Its fleet members run
// in process groups of their own (so a terminal's Ctrl-C reaches only the parent) and stop by
// themselves when the parent's pipe closes, but Node's default for SIGTERM is to exit at once:
// members still draining, the gateway, Toxiproxy (whose proxies the members were talking through)
// outlived the run. So every process a chaos run starts is registered here while it lives, and the
// command's signal handler stops them all (SIGTERM each, SIGKILL after a grace period) before it
// exits with the conventional 128 + signal number: 130 for SIGINT, 143 for SIGTERM. A second
// signal exits at once.

/** Something to stop on an interrupt: a child process, Toxiproxy. */
export type Stopper = () => Promise<unknown>;

const live = new Set<Stopper>();
let interruptedAt: number | undefined;

/** True once an interrupt began stopping everything: nothing may be started (or restarted) any more. */
export function interrupted(): boolean {
  return interruptedAt !== undefined;
}
/** Stopped after the others: Toxiproxy, which the draining members still talk through. */
const lastly = new Set<Stopper>();

/** Registers `stop` until the returned function is called (the thing ended on its own). */
export function onInterrupt(stop: Stopper, o: { readonly last?: boolean } = {}): () => void {
  const set = o.last === true ? lastly : live;
  set.add(stop);
  return () => void set.delete(stop);
}

/** How many stoppers are registered (for tests). */
export function registeredStoppers(): number {
  return live.size + lastly.size;
}

/** Runs every registered stopper (the `last` ones after the rest); resolves when all settled or after `timeoutMs`. */
export async function stopEverything(timeoutMs: number): Promise<void> {
  interruptedAt ??= Date.now();
  const first = [...live];
  const then = [...lastly];
  live.clear();
  lastly.clear();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const all = (async () => {
    await Promise.allSettled(first.map((s) => s()));
    await Promise.allSettled(then.map((s) => s()));
  })();
  await Promise.race([all, late]);
  clearTimeout(timer);
}

export const EXIT_CODE_OF: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Installs SIGINT/SIGTERM handlers that stop everything registered, then exit 130/143. Returns the
 * uninstaller. `graceMs` bounds the whole stop (members drain up to their own timeouts).
 */
export function installInterruptHandlers(o: { readonly log: (line: string) => void; readonly graceMs?: number; readonly exit?: (code: number) => void }): () => void {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const handler = (signal: 'SIGINT' | 'SIGTERM'): void => {
    const code = EXIT_CODE_OF[signal];
    if (stopping) return exit(code);
    stopping = true;
    o.log(`raceday chaos: ${signal}: stopping ${registeredStoppers()} processes (fleet, gateway, Toxiproxy), then exiting ${code}; a second signal exits at once`);
    void stopEverything(o.graceMs ?? 40_000).finally(() => exit(code));
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
