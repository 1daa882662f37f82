// The session pool's background errors must not end the process: an EventEmitter without an
// 'error' listener throws, which is how a late "client has already been closed" from a session
// being created while the store closed crashed a chaos series. Also: the store's close() is
// idempotent on the emulator.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardPoolErrors, ignoreClosedClient, quietDatabase } from './spanner-pool-errors.ts';

describe('guardPoolErrors', () => {
  it('an unguarded database emitting a pool error throws (what crashed the process)', () => {
    const d = new EventEmitter();
    expect(() => d.emit('error', 'The client has already been closed.')).toThrow();
  });

  it('a guarded database survives the error, string or Error, before and after close, and logs only what is unexpected', () => {
    const d = new EventEmitter();
    const lines: string[] = [];
    const guard = guardPoolErrors([d], (l) => lines.push(l));
    expect(() => d.emit('error', 'The client has already been closed.')).not.toThrow();
    expect(() => d.emit('error', new Error('14 UNAVAILABLE: connection reset'))).not.toThrow();
    guard.closing();
    expect(() => d.emit('error', new Error('14 UNAVAILABLE: late'))).not.toThrow();
    expect(guard.seen()).toBe(3);
    expect(lines).toEqual(['spanner: session pool: 14 UNAVAILABLE: connection reset']);
  });

  it('ignoreClosedClient swallows only the already-closed rejection', () => {
    expect(() => ignoreClosedClient('The client has already been closed.')).not.toThrow();
    expect(() => ignoreClosedClient(new Error('The client has already been closed.'))).not.toThrow();
    expect(() => ignoreClosedClient(new Error('PERMISSION_DENIED'))).toThrow('PERMISSION_DENIED');
  });
});

describe('quietDatabase', () => {
  it('keeps an admin handle\'s background errors from ending the process, whatever they say', () => {
    const d = new EventEmitter();
    expect(() => d.emit('error', new Error('The client has already been closed.'))).toThrow();
    const quiet = quietDatabase(new EventEmitter());
    expect(quiet.emit('error', new Error('The client has already been closed.'))).toBe(true);
    expect(quiet.emit('error', new Error('UNAVAILABLE: no connection'))).toBe(true);
  });
});
