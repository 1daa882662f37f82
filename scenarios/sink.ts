// Synchronous byte sinks for the generator: a file descriptor written with writeSync. Standard
// output may be a non-blocking pipe, where writeSync fails with EAGAIN while the reader is behind;
// then the writer waits briefly and retries instead of buffering without bound.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { ByteSink } from './jsonl.ts';

const EAGAIN_WAIT_MS = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function fdSink(fd: number): ByteSink {
  return (bytes) => {
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(sleeper, 0, 0, EAGAIN_WAIT_MS);
      }
    }
  };
}

/** `-` is standard output; anything else a file opened for writing (truncated). */
export function openOutput(target: string): { sink: ByteSink; close(): void } {
  if (target === '-') return { sink: fdSink(1), close: () => {} };
  const fd = openSync(target, 'w');
  return { sink: fdSink(fd), close: () => closeSync(fd) };
}

/** Progress on an interactive terminal only: CI logs and pipes stay quiet. */
export function progressEnabled(): boolean {
  return process.stderr.isTTY === true && !process.env.CI;
}

export function progressLine(label: string, done: number, total: number): void {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  process.stderr.write(`\r${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} tickets (${pct}%)   `);
}
