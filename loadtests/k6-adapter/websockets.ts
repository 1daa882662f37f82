// TEST ADAPTER, not k6: k6/websockets' WebSocket over `ws`, with the browser-style handlers the
// scripts set (onopen, onmessage, onerror, onclose). k6 takes the sub-protocol as a
// `Sec-WebSocket-Protocol` header; `ws` wants it as its protocols argument, so it is moved there.
import WsSocket from 'ws';

interface Params {
  readonly headers?: Record<string, string>;
}

export class WebSocket {
  readonly url: string;
  onopen: () => void = () => {};
  onmessage: (event?: { data: string | ArrayBuffer; type: string; timestamp: number }) => void = () => {};
  onerror: (event?: { error: string; type: string; timestamp: number }) => void = () => {};
  onclose: () => void = () => {};
  private readonly socket: WsSocket;

  constructor(url: string, _protocols?: null, params?: Params | null) {
    this.url = url;
    const headers = { ...params?.headers };
    const key = Object.keys(headers).find((h) => h.toLowerCase() === 'sec-websocket-protocol');
    const protocols = key === undefined ? [] : (headers[key] as string).split(',').map((p) => p.trim());
    if (key !== undefined) delete headers[key];
    this.socket = new WsSocket(url, protocols, { headers, perMessageDeflate: false });
    this.socket.on('open', () => this.onopen());
    this.socket.on('message', (data: Buffer, isBinary: boolean) =>
      this.onmessage({ data: isBinary ? new Uint8Array(data).buffer : data.toString('utf8'), type: 'message', timestamp: Date.now() }));
    this.socket.on('error', (e) => this.onerror({ error: e.message, type: 'error', timestamp: Date.now() }));
    this.socket.on('close', () => this.onclose());
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(data: string | ArrayBuffer): void {
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code ?? 1000, reason);
  }
}
