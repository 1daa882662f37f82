// How an ingest process receives official results: `POST /results` on 127.0.0.1, one result as
// JSON (the pipeline's OfficialResult: raceId, resultVersion, result, scratched, optional
// returnRates and outsidePools), answered with the ingest's outcome. HTTP rather than a topic: the
// result feed is a request that must be answered (accepted, or refused with the reason), and a
// caller whose request failed (the process was killed) simply posts again, which ingest answers
// idempotently (the same result republishes the recorded message; docs/result-finality.md).
//   200 {"ok":true,"outcome":{recorded,resultVersion,publishedAtMs}}
//   422 {"ok":false,"error":{code,message}}  the result was refused (RACE.UNKNOWN, RESULT.ALREADY_FINAL, ...)
//   400 INGEST.BAD_REQUEST (not JSON, not an object), 413 INGEST.TOO_LARGE, 404 / 405 elsewhere.
// GET /healthz answers 200. Closing stops accepting and waits for requests in flight.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngestOutcome, OfficialResult } from '../pipeline/ingest.ts';
import type { Result } from '../core/result.ts';

export const INGEST_ENDPOINT_LIMITS = {
  /** A result with outside pools is a few kilobytes; anything near this is not a result. */
  maxBodyBytes: 1024 * 1024,
  /** A request still sending its body after this long is cut off (a stalled client holds no slot). */
  requestTimeoutMs: 10_000,
} as const;

export interface IngestEndpoint {
  readonly url: string;
  /** Results accepted (recorded or republished) and refused so far. */
  counts(): { readonly accepted: number; readonly refused: number; readonly malformed: number };
  close(): Promise<void>;
}

type Ingest = (input: OfficialResult) => Promise<Result<IngestOutcome>>;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const fail = (code: string, message: string) => ({ ok: false, error: { code, message } });

/** The body as text, or undefined once it passed the limit (the answer is sent here). */
async function bodyOf(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > INGEST_ENDPOINT_LIMITS.maxBodyBytes) {
      // The answer goes out first; then the connection is cut, so the rest of the body is never read.
      res.once('finish', () => req.destroy());
      res.setHeader('connection', 'close');
      send(res, 413, fail('INGEST.TOO_LARGE', `a result body must be at most ${INGEST_ENDPOINT_LIMITS.maxBodyBytes} bytes`));
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startIngestEndpoint(ingest: Ingest, port = 0): Promise<IngestEndpoint> {
  const counts = { accepted: 0, refused: 0, malformed: 0 };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return send(res, 200, { ok: true });
    if (path !== '/results') return send(res, 404, fail('INGEST.NOT_FOUND', 'POST /results is the only endpoint'));
    if (req.method !== 'POST') return send(res, 405, fail('INGEST.METHOD', 'results are POSTed'));
    const text = await bodyOf(req, res);
    if (text === undefined) return;
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (e) {
      counts.malformed++;
      return send(res, 400, fail('INGEST.BAD_REQUEST', `the body is not JSON: ${(e as Error).message}`));
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input) || typeof (input as { raceId?: unknown }).raceId !== 'string') {
      counts.malformed++;
      return send(res, 400, fail('INGEST.BAD_REQUEST', 'the body must be an official result object with a string raceId'));
    }
    const given = input as OfficialResult;
    const r = await ingest({ ...given, scratched: given.scratched ?? [] });
    if (!r.ok) {
      counts.refused++;
      return send(res, 422, fail(r.error.code, r.error.message));
    }
    counts.accepted++;
    return send(res, 200, { ok: true, outcome: r.value });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A store or bus failure: the caller retries (ingest is idempotent); the process goes on.
      if (!res.headersSent) send(res, 503, fail('INGEST.UNAVAILABLE', (e as Error).message));
      else res.destroy();
    });
  });
  server.requestTimeout = INGEST_ENDPOINT_LIMITS.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
