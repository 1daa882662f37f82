// Errors a Spanner Database emits on its own, outside any call: its session pool creates, pings
// and deletes sessions in the background and re-emits what fails as the Database's 'error' event.
// An EventEmitter with no 'error' listener throws, so one such failure ends the process. The
// common one comes with close(): a session the pool was still creating or deleting when the
// client closed fails with "The client has already been closed." (measured: it crashed a
// 20-run chaos series and a 30-minute soak while closing). Every call a caller makes still
// reports its own errors; these background ones are logged, and after close ignored.

const CLOSED_CLIENT = /client has already been closed/i;

export interface PoolErrorGuard {
  /** Called once close() begins: from then on the pool's errors are expected and not logged. */
  closing(): void;
  /** Background errors seen (logged or not). */
  readonly seen: () => number;
}

/** What the guard needs of a Database: its 'error' event (it is an EventEmitter underneath). */
export interface ErrorEmitter {
  on(event: 'error', listener: (e: unknown) => void): unknown;
}

/** Listens for the 'error' events of each database so that none ends the process. */
export function guardPoolErrors(databases: readonly ErrorEmitter[], log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): PoolErrorGuard {
  let closing = false;
  let seen = 0;
  const onError = (e: unknown): void => {
    seen++;
    const message = e instanceof Error ? e.message : String(e);
    if (closing || CLOSED_CLIENT.test(message)) return;
    log(`spanner: session pool: ${message}`);
  };
  for (const d of databases) d.on('error', onError);
  return { closing: () => void (closing = true), seen: () => seen };
}

/**
 * A Database made for one administrative call (exists, delete) and dropped with its client right
 * after: its pool starts creating sessions the moment it is made, and those fail with the closed
 * client, so its background errors are ignored from the start (the call reports its own). A
 * soak's cleanup, dropping the run's databases, crashed on one (2026-12-01).
 */
export function quietDatabase<D extends object>(database: D): D {
  // A Database is an EventEmitter underneath, though its type does not say so (as in the store).
  guardPoolErrors([database as unknown as ErrorEmitter]).closing();
  return database;
}

/** For a close() that raced another: "already closed" is what was asked for; anything else is rethrown. */
export function ignoreClosedClient(e: unknown): void {
  if (!CLOSED_CLIENT.test(e instanceof Error ? e.message : String(e))) throw e;
}
