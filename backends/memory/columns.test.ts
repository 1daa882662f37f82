// Proves the chunked ticket columns address rows across chunk boundaries (bulk copy, fill, get,
// set) and that ticket ids round-trip as prefix + number or through the fallback map.
import { describe, expect, it } from 'vitest';
import { ChunkedColumn, ID_FALLBACK, TicketTable } from './columns.ts';

const CHUNK_ROWS = 1 << 20;

describe('chunked columns', () => {
  it('copies and fills ranges that straddle a chunk boundary', () => {
    const col = new ChunkedColumn((n) => new Uint32Array(n));
    col.reserve(CHUNK_ROWS + 10);
    const at = CHUNK_ROWS - 3;
    col.copyFrom(at, Uint32Array.from([1, 2, 3, 4, 5, 6]), 1, 6);
    expect([0, 1, 2, 3, 4, 5].map((i) => col.get(at + i))).toEqual([2, 3, 4, 5, 6, 0]);
    col.fill(at + 1, at + 4, 9);
    expect([0, 1, 2, 3, 4].map((i) => col.get(at + i))).toEqual([2, 9, 9, 9, 6]);
    col.set(CHUNK_ROWS + 9, 77);
    expect(col.get(CHUNK_ROWS + 9)).toBe(77);
    expect(col.chunks).toHaveLength(2);
  });

  it('starts with a small first chunk and grows it by doubling, keeping the rows', () => {
    const col = new ChunkedColumn((n) => new Uint16Array(n));
    col.reserve(10);
    expect(col.capacity()).toBe(1024);
    col.set(7, 42);
    col.reserve(5_000);
    expect(col.capacity()).toBe(8_192);
    col.reserve(CHUNK_ROWS + 1);
    expect(col.capacity()).toBe(2 * CHUNK_ROWS);
    expect(col.get(7)).toBe(42);
  });

  it('stores ticket ids compactly when they round-trip and in the fallback map otherwise', () => {
    const t = new TicketTable();
    t.reserve(8);
    const ids = ['T123456', 'T0', 'T007', '12', 'ticket-', 'T4294967295', 'x9'];
    ids.forEach((id, row) => t.setId(row, id));
    expect(ids.map((_, row) => t.idOf(row))).toEqual(ids);
    expect(ids.map((_, row) => t.idPrefix.get(row) === ID_FALLBACK)).toEqual([false, false, true, false, true, true, false]);
    expect(t.fallbackIds.size).toBe(3);
  });
});
