// The gateway's HTTP side: GraphQL over HTTP (graphql-http) on /graphql with the caller's token in
// `Authorization: Bearer`, the Prometheus text on GET /metrics and GET /healthz. The request body
// is read here, bounded (graphql-http's own node adapter reads it without a limit), and the token
// is checked before graphql-http sees the request: an anonymous caller gets 401, no execution.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http';
import { bearerToken, createTokenVerifier } from './auth.ts';
import type { GatewayLimits } from './limits.ts';
import { checkedDocument, isErrors } from './operations.ts';
import type { GatewayContext } from './schema.ts';

export interface HttpDeps {
  readonly schema: GraphQLSchema;
  readonly secret: Uint8Array;
  readonly limits: GatewayLimits;
  readonly metricsText: () => Promise<string>;
  readonly metricsContentType: string;
}

const GRAPHQL_PATH = '/graphql';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

const errorBody = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** The body as text, or undefined when it grew past `max` bytes (the request is then answered 413). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { schema, limits } = deps;
  const verify = createTokenVerifier(deps.secret);
  const handle = createHandler<IncomingMessage, { userId: string }, GatewayContext>({
    schema,
    context: (req) => ({ userId: req.context.userId }),
    // Validated here (with the depth and cost limits), so graphql-http runs the arguments as they are.
    onSubscribe: (req, params) => {
      const document = checkedDocument(schema, params.query, params.operationName, params.variables ?? {}, limits);
      if (isErrors(document)) return document;
      const contextValue: GatewayContext = { userId: req.context.userId };
      return { schema, document, operationName: params.operationName ?? null, variableValues: params.variables ?? null, contextValue };
    },
  });
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/metrics') {
      const text = await deps.metricsText();
      res.writeHead(200, { 'content-type': deps.metricsContentType }).end(text);
      return;
    }
    if (path !== GRAPHQL_PATH) return sendJson(res, 404, errorBody('GATEWAY.NOT_FOUND', `no such path ${path}: GraphQL is on ${GRAPHQL_PATH}`));
    const auth = await verify(bearerToken(req.headers.authorization));
    if (!auth.ok) return sendJson(res, 401, errorBody(auth.error.code, auth.error.message), { 'www-authenticate': 'Bearer' });
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === undefined) return sendJson(res, 413, errorBody('GATEWAY.BODY_TOO_LARGE', `the request body is larger than ${limits.maxBodyBytes} bytes`), { connection: 'close' });
    const [text, init] = await handle({ url: req.url ?? '/', method: req.method ?? 'GET', headers: req.headers, body, raw: req, context: { userId: auth.value.userId } });
    res.writeHead(init.status, init.statusText, init.headers as Record<string, string>).end(text);
  };
}
