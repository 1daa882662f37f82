// TEST ADAPTER, not k6: k6/http's post and get. k6's HTTP calls block the VU; so do these: the
// request runs on a helper thread and the VU waits on a shared flag (Atomics.wait), then reads the
// answer synchronously (receiveMessageOnPort). Built-in metrics are recorded as k6 names them.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { builtin } from './metrics.ts';

const REQUEST_TIMEOUT_MS = 60_000;

export interface Response {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly error: string;
  readonly timings: { readonly duration: number };
  json(): unknown;
}

interface Params {
  readonly headers?: Record<string, string>;
  readonly timeout?: string | number;
}

let helper: { worker: Worker; port: MessagePort } | undefined;

function helperThread(): { worker: Worker; port: MessagePort } {
  if (helper !== undefined) return helper;
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./http-worker.ts', import.meta.url), { workerData: { port: port2 }, transferList: [port2] });
  // Neither the helper nor its port may keep the process alive once the script is done.
  worker.unref();
  port1.unref();
  helper = { worker, port: port1 };
  return helper;
}

function request(method: string, url: string, body: string | undefined, params: Params | undefined): Response {
  const { port } = helperThread();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  port.postMessage({ method, url, body, headers: params?.headers ?? {}, timeoutMs: REQUEST_TIMEOUT_MS, flag });
  if (Atomics.wait(flag, 0, 0, REQUEST_TIMEOUT_MS + 5_000) === 'timed-out') throw new Error(`K6_ADAPTER.HTTP_TIMEOUT: ${method} ${url}`);
  const msg = receiveMessageOnPort(port);
  if (msg === undefined) throw new Error('K6_ADAPTER.NO_REPLY: the http helper woke the VU without a reply');
  const r = msg.message as { status: number; body: string; headers: Record<string, string>; error: string; durationMs: number };
  builtin.httpReqs.add(1);
  builtin.httpReqDuration.add(r.durationMs);
  builtin.httpReqFailed.add(r.status === 0 || r.status >= 400);
  return { status: r.status, body: r.body, headers: r.headers, error: r.error, timings: { duration: r.durationMs }, json: () => JSON.parse(r.body) as unknown };
}

export function post(url: string, body?: string | null, params?: Params): Response {
  return request('POST', url, body ?? undefined, params);
}

export function get(url: string, params?: Params): Response {
  return request('GET', url, undefined, params);
}

export default { post, get };
