// A graphql-transport-ws client on a raw TCP socket, for end-to-end policy tests through the real
// gateway: it completes the WebSocket handshake, sends connection_init with its token, waits for
// connection_ack, subscribes, and then never reads again (its socket is paused for good).
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A masked client text frame (clients must mask every frame they send). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]);
  if (length > 0xffff) throw new Error('frame too large for this test client');
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, masked]);
}

export async function stalledGraphqlClient(wsUrl: string, token: string, subscription: string): Promise<{ close(): void }> {
  const url = new URL(wsUrl);
  const socket: Socket = connect({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {}); // the gateway will cut it; nobody is reading
  let seen = Buffer.alloc(0);
  const waitFor = (marker: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (seen.includes(marker)) {
          socket.off('data', onData);
          resolve();
        }
      };
      const onData = (chunk: Buffer): void => {
        seen = Buffer.concat([seen, chunk]);
        check();
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed before "${marker}": ${seen.toString('latin1').slice(0, 200)}`)));
      check();
    });
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
  );
  await waitFor('\r\n\r\n');
  if (!seen.subarray(0, 12).equals(Buffer.from('HTTP/1.1 101'))) throw new Error(`handshake refused: ${seen.toString('latin1').split('\r\n')[0] ?? ''}`);
  socket.write(maskedTextFrame(JSON.stringify({ type: 'connection_init', payload: { token } })));
  await waitFor('connection_ack');
  socket.write(maskedTextFrame(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: subscription } })));
  socket.pause();
  return { close: () => socket.destroy() };
}
