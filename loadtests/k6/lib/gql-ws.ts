// graphql-transport-ws over k6/websockets, as little of it as a load script needs: connection_init
// with the token, subscribe once acknowledged, answer pings, hand each `next` payload to the caller.
import { WebSocket } from 'k6/websockets';

export interface GqlWsHandlers {
  /** A `next` frame's data for the subscription `id`. */
  onNext(id: string, data: Record<string, unknown>): void;
  onError?(message: string): void;
  onClose?(): void;
}

export interface GqlSubscription {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

interface Frame {
  type?: string;
  id?: string;
  payload?: { data?: Record<string, unknown>; errors?: unknown } | unknown[];
}

/** Opens a connection and subscribes to each of `subscriptions` (ids "1", "2", ...) once acknowledged. */
export function openGqlWs(url: string, token: string, subscriptions: readonly GqlSubscription[], handlers: GqlWsHandlers): WebSocket {
  // k6 takes the sub-protocol as a header: its constructor's protocols argument is reserved.
  const ws = new WebSocket(url, null, { headers: { 'Sec-WebSocket-Protocol': 'graphql-transport-ws' } });
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { token } }));
  ws.onmessage = (event) => {
    if (event === undefined || typeof event.data !== 'string') return;
    const frame = JSON.parse(event.data) as Frame;
    if (frame.type === 'connection_ack') {
      subscriptions.forEach((s, i) => ws.send(JSON.stringify({ id: String(i + 1), type: 'subscribe', payload: { query: s.query, variables: s.variables ?? {} } })));
    } else if (frame.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    } else if (frame.type === 'next' && frame.id !== undefined && !Array.isArray(frame.payload)) {
      if (frame.payload?.errors !== undefined) handlers.onError?.(JSON.stringify(frame.payload.errors));
      else handlers.onNext(frame.id, frame.payload?.data ?? {});
    } else if (frame.type === 'error') {
      handlers.onError?.(JSON.stringify(frame.payload));
    }
  };
  ws.onerror = (e) => handlers.onError?.(String(e?.error ?? 'websocket error'));
  ws.onclose = () => handlers.onClose?.();
  return ws;
}
