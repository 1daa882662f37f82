// A hand-rolled JSON Lines byte writer: lines are assembled in one reused buffer from precomputed
// ASCII segments and integers written digit by digit, and the buffer goes to a synchronous sink
// when full. JSON.stringify per ticket would allocate a string per ticket and cost several times more.

const SHORT_COPY_BYTES = 24;
/** "0000", "0001", ..., "9999" as ASCII bytes (40 KB, stays in cache). */
const DIGIT_QUADS = new Uint8Array(40_000).map((_, i) => 48 + (Math.floor((i >> 2) / [1000, 100, 10, 1][i & 3]!) % 10));

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

  bytes(seg: Uint8Array): void {
    this.pos = putBytes(this.buf, this.pos, seg);
  }

  /** A non-negative integer in decimal (below 2^53 / 100). */
  uint(n: number): void {
    this.pos = putDigits(this.buf, this.pos, n, 0);
  }

  padded(n: number, width: number): void {
    this.pos = putDigits(this.buf, this.pos, n, width);
  }

  /** Any text as UTF-8 (for the rare records that are not on the hot path). */
  text(s: string): void {
    this.ensure(s.length * 3);
    const r = encoder.encodeInto(s, this.buf.subarray(this.pos));
    this.pos += r.written;
  }
}

/**
 * Copies a segment at `p` and returns the position after it. The hot loop calls these pure
 * functions with its buffer and position in locals (TurboFan inlines them; methods reading and
 * writing `this.pos` measured about twice as slow). TypedArray.set only pays off for long segments.
 */
export function putBytes(buf: Uint8Array, p: number, seg: Uint8Array): number {
  const n = seg.length;
  if (n > SHORT_COPY_BYTES) {
    buf.set(seg, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) buf[p++] = seg[i] as number;
  return p;
}

/**
 * Writes a non-negative integer below 2^53 / 100 zero-padded to `width` digits (wider numbers are
 * not truncated) and returns the position after it. Four digits per step from a table;
 * floor(n * 0.0001) is exact here because the fractional part of n / 10^4 is 0 or at least 10^-4,
 * far above the rounding error of one multiplication (n < 2^53 / 100).
 */
export function putDigits(buf: Uint8Array, p: number, n: number, width: number): number {
  let digits = decimalDigits(n);
  if (digits < width) digits = width;
  const end = p + digits;
  p = end;
  while (digits >= 4) {
    const q = Math.floor(n * 0.0001);
    const r = (n - q * 10_000) * 4;
    buf[--p] = DIGIT_QUADS[r + 3] as number;
    buf[--p] = DIGIT_QUADS[r + 2] as number;
    buf[--p] = DIGIT_QUADS[r + 1] as number;
    buf[--p] = DIGIT_QUADS[r] as number;
    n = q;
    digits -= 4;
  }
  while (digits > 0) {
    const q = Math.floor(n * 0.1);
    buf[--p] = 48 + n - q * 10;
    n = q;
    digits--;
  }
  return end;
}
