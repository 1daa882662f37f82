// TEST ADAPTER, not k6: the helper thread behind the synchronous http stand-in. It performs one
// request per message and wakes the waiting VU through the shared flag.
import { workerData, type MessagePort } from 'node:worker_threads';

const port = (workerData as { port: MessagePort }).port;

interface Job {
  readonly method: string;
  readonly url: string;
  readonly body?: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly flag: Int32Array;
}

port.on('message', async (job: Job) => {
  const started = performance.now();
  let reply: { status: number; body: string; headers: Record<string, string>; error: string; durationMs: number };
  try {
    const res = await fetch(job.url, { method: job.method, headers: job.headers, ...(job.body === undefined ? {} : { body: job.body }), signal: AbortSignal.timeout(job.timeoutMs) });
    const body = await res.text();
    reply = { status: res.status, body, headers: Object.fromEntries(res.headers), error: '', durationMs: performance.now() - started };
  } catch (e) {
    reply = { status: 0, body: '', headers: {}, error: (e as Error).message, durationMs: performance.now() - started };
  }
  port.postMessage(reply);
  Atomics.store(job.flag, 0, 1);
  Atomics.notify(job.flag, 0);
});
