// A hand-rolled JSON Lines byte writer: lines are assembled in one reused buffer from precomputed
// ASCII segments and integers written digit by digit, and the buffer goes to a synchronous sink
// when full. JSON.stringify per ticket would allocate a string per ticket and cost several times more.

export type ByteSink = (bytes: Uint8Array) => void;

const encoder = new TextEncoder();

export function ascii(text: string): Uint8Array {
  return encoder.encode(text);
}

export class LineWriter {
  readonly buf: Uint8Array;
  pos = 0;
  bytesWritten = 0;
  private readonly sink: ByteSink;

  constructor(sink: ByteSink, capacityBytes: number) {
    this.sink = sink;
    this.buf = new Uint8Array(capacityBytes);
  }

  /** Makes room for `n` more bytes, flushing if needed; a line must fit the buffer. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) throw new Error(`invariant violated: a ${n}-byte line exceeds the ${this.buf.length}-byte buffer`);
    }
  }

  flush(): void {
    if (this.pos === 0) return;
    this.sink(this.buf.subarray(0, this.pos));
    this.bytesWritten += this.pos;
    this.pos = 0;
  }

  /** Copies a segment; a plain loop beats TypedArray.set for the short segments of a line. */
  bytes(seg: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < seg.length; i++) buf[p++] = seg[i] as number;
    this.pos = p;
  }

  range(src: Uint8Array, from: number, to: number): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = from; i < to; i++) buf[p++] = src[i] as number;
    this.pos = p;
  }

  /** A non-negative safe integer in decimal. */
  uint(n: number): void {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.padded(n, digits);
  }

  /** A non-negative integer zero-padded to `width` digits (wider numbers are not truncated). */
  padded(n: number, width: number): void {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    if (digits < width) digits = width;
    const buf = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    for (let i = 0; i < digits; i++) {
      const q = Math.floor(n / 10);
      buf[--p] = 48 + (n - q * 10);
      n = q;
    }
  }

  /** Any text as UTF-8 (for the rare records that are not on the hot path). */
  text(s: string): void {
    this.ensure(s.length * 3);
    const r = encoder.encodeInto(s, this.buf.subarray(this.pos));
    this.pos += r.written;
  }
}
