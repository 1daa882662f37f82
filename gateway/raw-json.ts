// Serialising a frame once for every subscriber. graphql-ws stringifies each `next` message per
// subscription (its id differs), so 10,000 watchers of one odds frame (about 10 KB of JSON) would
// cost 10,000 serialisations of the same value, the gateway's largest per-frame cost. Instead a
// subscription yields the projected value as RawJson (serialised once per frame and selection);
// graphql-ws's message replacer puts a token in its place, and the socket's send puts the text
// back. The token is random per process and never leaves it (every message carrying it is
// rewritten before it reaches the socket), so no client can forge it.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';

export class RawJson {
  readonly text: string;
  private encoded: Buffer | undefined;
  constructor(text: string) {
    this.text = text;
  }

  /** UTF-8 once per frame, not once per subscriber (encoding 10 KB for each socket showed in profiles). */
  get bytes(): Buffer {
    this.encoded ??= Buffer.from(this.text, 'utf8');
    return this.encoded;
  }
}

const TOKEN = `\u0001raw-${randomUUID()}\u0001`;
const TOKEN_JSON = JSON.stringify(TOKEN);

/**
 * The text of the RawJson the replacer met last. graphql-ws stringifies a message and hands it to
 * the socket's send synchronously, so one slot is enough: the send that follows consumes it.
 */
let pending: RawJson | undefined;

/** graphql-ws's `jsonMessageReplacer`: a RawJson becomes the token (and is remembered for the send). */
export function rawJsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof RawJson) {
    pending = value;
    return TOKEN;
  }
  return value;
}

/** Wraps a socket's send so the token is replaced by the text it stands for. */
export function sendRawJson(ws: WebSocket): void {
  const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
  ws.send = ((data: unknown, ...rest: unknown[]): void => {
    const raw = pending;
    pending = undefined;
    if (raw !== undefined && typeof data === 'string') {
      // The value is the message's last: a subscription id cannot be the token (it is secret).
      const at = data.lastIndexOf(TOKEN_JSON);
      if (at >= 0) {
        const framed = Buffer.concat([Buffer.from(data.slice(0, at), 'utf8'), raw.bytes, Buffer.from(data.slice(at + TOKEN_JSON.length), 'utf8')]);
        // A Buffer is sent as binary unless told otherwise; graphql-transport-ws speaks text frames.
        const cb = rest.find((r) => typeof r === 'function');
        return send(framed, { binary: false }, cb);
      }
    }
    return send(data, ...rest);
  }) as WebSocket['send'];
}
