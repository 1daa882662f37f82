// A ws socket as a delivery policy sees it (SocketPort): the bytes it holds that the kernel has not
// taken, a wait until that falls to a low-water mark, and close. Waits are served by one shared
// poll timer for every waiting socket (plus the socket's own 'drain'), not a timer per socket, so
// thousands of stalled subscribers cost one timer.
import type { WebSocket } from 'ws';
import type { SocketPort } from './contracts.ts';

/** How often waiting sockets are re-checked (ms): short against the policies' timeouts (seconds). */
export const BUFFER_POLL_MS = 5;
/**
 * How long a closed socket may take to finish the close handshake before it is destroyed. A
 * stalled peer never reads the close frame queued behind what it owes; without this the socket and
 * its buffers would stay for ws's own 30 s close timeout.
 */
export const CLOSE_GRACE_MS = 2_000;

interface Waiter {
  readonly ws: WebSocket;
  readonly low: number;
  readonly resolve: () => void;
}

export interface BufferWatch {
  whenBelow(ws: WebSocket, low: number): Promise<void>;
  close(): void;
}

export function createBufferWatch(pollMs: number = BUFFER_POLL_MS): BufferWatch {
  const waiters = new Set<Waiter>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const check = (): void => {
    for (const w of waiters) {
      if (w.ws.readyState !== w.ws.OPEN || w.ws.bufferedAmount <= w.low) {
        waiters.delete(w);
        w.resolve();
      }
    }
    if (waiters.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    whenBelow(ws, low) {
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= low) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.add({ ws, low, resolve });
        timer ??= setInterval(check, pollMs);
        timer.unref();
      });
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      for (const w of waiters) w.resolve();
      waiters.clear();
    },
  };
}

export function socketPortOf(ws: WebSocket, watch: BufferWatch): SocketPort {
  return {
    bufferedBytes: () => ws.bufferedAmount,
    whenBelow: (low) => watch.whenBelow(ws, low),
    close(code, reason) {
      closeWithGrace(ws, code, reason);
    },
    get isOpen() {
      return ws.readyState === ws.OPEN;
    },
  };
}

/** Closes with a code; destroys the socket if the peer has not completed the handshake after CLOSE_GRACE_MS. */
export function closeWithGrace(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.CLOSED) return;
  ws.close(code, reason);
  setTimeout(() => {
    if (ws.readyState !== ws.CLOSED) ws.terminate();
  }, CLOSE_GRACE_MS).unref();
}
