// Proves the hand-rolled writer produces exactly what String() and JSON would: every integer
// (edge values around digit and 2^31 boundaries plus 200,000 seeded random ones up to 10^13)
// matches String(n), zero padding works, and segments of any length copy intact.
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { ascii, LineWriter, putBytes, putDigits } from './jsonl.ts';

const dec = new TextDecoder();

describe('jsonl writer', () => {
  it('writes integers exactly as String() does', () => {
    const buf = new Uint8Array(64);
    const rng = createRng('digits');
    const xs = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 10_001, 99_999_999, 100_000_000, 2_147_483_647, 2_147_483_648, 4_294_967_295, 1e12 - 1, 1e12];
    for (let i = 0; i < 200_000; i++) xs.push(Math.floor(rng.float() * 10 ** rng.int(1, 13)));
    const bad = xs.filter((x) => dec.decode(buf.subarray(0, putDigits(buf, 0, x, 0))) !== String(x));
    expect(bad).toEqual([]);
    expect(dec.decode(buf.subarray(0, putDigits(buf, 0, 42, 7)))).toBe('0000042');
    expect(dec.decode(buf.subarray(0, putDigits(buf, 0, 12_345_678, 3)))).toBe('12345678');
  });

  it('copies short and long segments and flushes full buffers to the sink', () => {
    const buf = new Uint8Array(200);
    const short = ascii('","userId":"u');
    const long = ascii('","betType":"trifecta","combination":"3-1-5","currency":"medal","stake":');
    const end = putBytes(buf, putBytes(buf, 0, short), long);
    expect(dec.decode(buf.subarray(0, end))).toBe('","userId":"u","betType":"trifecta","combination":"3-1-5","currency":"medal","stake":');
    const out: string[] = [];
    const w = new LineWriter((b) => out.push(dec.decode(b)), 40);
    for (let i = 0; i < 10; i++) {
      w.ensure(8);
      w.bytes(ascii('{"n":'));
      w.uint(i);
      w.bytes(ascii('}\n'));
    }
    w.text('{"t":"日本"}\n');
    w.flush();
    expect(out.join('')).toBe(`${Array.from({ length: 10 }, (_, i) => `{"n":${i}}\n`).join('')}{"t":"日本"}\n`);
    expect(w.bytesWritten).toBe(Buffer.byteLength(out.join('')));
  });
});
