// A GraphQL-over-HTTP endpoint for the deadline-rush test until the gateway's own server is
// started from the test: the gateway's schema (placeBet validated by the core, written through
// the Store) behind graphql-http, with the gateway's bearer-token check.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler } from 'graphql-http/lib/use/http';
import { bearerToken, verifyToken } from '../../gateway/auth.ts';
import { DEFAULT_LIMITS } from '../../gateway/limits.ts';
import { createSchema, type GatewayStore } from '../../gateway/schema.ts';

export async function startBetsServer(store: GatewayStore, secret: string): Promise<{ graphqlUrl: string; close(): Promise<void> }> {
  const schema = createSchema({ store, limits: DEFAULT_LIMITS, nowMs: () => Date.now() });
  const handler = createHandler({
    schema,
    context: async (req) => {
      const v = await verifyToken(bearerToken(req.headers.authorization as string | undefined), secret);
      if (!v.ok) return [JSON.stringify({ errors: [{ message: v.error.message, extensions: { code: v.error.code } }] }), { status: 401, statusText: 'Unauthorized' }];
      return { userId: v.value.userId };
    },
  });
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/graphql') === true) void handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { graphqlUrl: `http://127.0.0.1:${port}/graphql`, close: () => new Promise((r) => server.close(() => r())) };
}
