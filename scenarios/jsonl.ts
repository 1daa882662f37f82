// A hand-rolled JSON Lines byte writer: lines are assembled in one reused buffer from precomputed
// ASCII segments and integers written digit by digit, and the buffer goes to a synchronous sink
// when full. JSON.stringify per ticket would allocate a string per ticket and cost several times more.

const SHORT_COPY_BYTES = 24;
const INT32_LIMIT = 2147483648;

function decimalDigits(n: number): number {
  if (n < 100_000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : 5;
  if (n < 10_000_000_000) return n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
  return String(n).length;
}

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

  /** Copies a segment: TypedArray.set has a fixed cost that only pays off for longer segments. */
  bytes(seg: Uint8Array): void {
    const n = seg.length;
    if (n > SHORT_COPY_BYTES) {
      this.buf.set(seg, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = seg[i] as number;
    this.pos = p;
  }

  /** A non-negative safe integer in decimal. */
  uint(n: number): void {
    this.padded(n, 0);
  }

  /** A non-negative safe integer zero-padded to `width` digits (wider numbers are not truncated). */
  padded(n: number, width: number): void {
    let digits = decimalDigits(n);
    if (digits < width) digits = width;
    const buf = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    if (n < INT32_LIMIT) {
      // Int32 arithmetic: V8 keeps it in registers, no float division.
      for (let i = 0; i < digits; i++) {
        const q = (n / 10) | 0;
        buf[--p] = 48 + n - q * 10;
        n = q;
      }
      return;
    }
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
