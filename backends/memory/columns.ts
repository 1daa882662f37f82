// Columnar storage for the memory store: tickets live in typed-array chunks (22 bytes a ticket,
// plus 8 in the race index; no object per ticket; a ticket's race is known from the race's row
// list), users in growable typed arrays. Chunks never move, so growing to tens of millions of
// rows costs no copy and no doubling peak.

/** 2^20 rows per chunk: big enough to amortize, small enough that the last chunk wastes little. */
export const CHUNK_SHIFT = 20;
const CHUNK_ROWS = 1 << CHUNK_SHIFT;
export const CHUNK_MASK = CHUNK_ROWS - 1;
const FIRST_CHUNK_MIN_ROWS = 1024;

type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array;

export class ChunkedColumn<A extends Typed> {
  readonly chunks: A[] = [];
  private readonly make: (rows: number) => A;

  constructor(make: (rows: number) => A) {
    this.make = make;
  }

  /**
   * Makes rows [0, rows) addressable. The first chunk starts small and doubles up to the chunk
   * size (a smoke world must not pay for a million rows per column); later chunks are full size.
   */
  reserve(rows: number): void {
    const first = this.chunks[0];
    if (rows <= CHUNK_ROWS && this.chunks.length <= 1) {
      if (first !== undefined && first.length >= rows) return;
      let size = Math.max(FIRST_CHUNK_MIN_ROWS, first?.length ?? 0);
      while (size < rows) size *= 2;
      this.replaceFirst(Math.min(size, CHUNK_ROWS));
      return;
    }
    if (first !== undefined && first.length < CHUNK_ROWS) this.replaceFirst(CHUNK_ROWS);
    while (this.chunks.length * CHUNK_ROWS < rows) this.chunks.push(this.make(CHUNK_ROWS));
  }

  private replaceFirst(size: number): void {
    const next = this.make(size);
    const first = this.chunks[0];
    if (first !== undefined) next.set(first as never);
    this.chunks[0] = next;
  }

  /** Rows addressable now. */
  capacity(): number {
    const n = this.chunks.length;
    return n === 0 ? 0 : (n - 1) * CHUNK_ROWS + (this.chunks[n - 1] as A).length;
  }

  get(i: number): number {
    return (this.chunks[i >>> CHUNK_SHIFT] as A)[i & CHUNK_MASK] as number;
  }

  set(i: number, v: number): void {
    (this.chunks[i >>> CHUNK_SHIFT] as A)[i & CHUNK_MASK] = v;
  }

  /** Copies `src[from, to)` into rows starting at `at` (rows must be reserved), chunk by chunk. */
  copyFrom(at: number, src: Uint8Array | Uint16Array | Uint32Array, from: number, to: number): void {
    let row = at;
    for (let i = from; i < to; ) {
      const inChunk = Math.min(to - i, CHUNK_ROWS - (row & CHUNK_MASK));
      (this.chunks[row >>> CHUNK_SHIFT] as A).set(src.subarray(i, i + inChunk) as never, row & CHUNK_MASK);
      i += inChunk;
      row += inChunk;
    }
  }

  /** Sets rows [from, to) to `value` (rows must be reserved). */
  fill(from: number, to: number, value: number): void {
    for (let row = from; row < to; ) {
      const inChunk = Math.min(to - row, CHUNK_ROWS - (row & CHUNK_MASK));
      (this.chunks[row >>> CHUNK_SHIFT] as A).fill(value, row & CHUNK_MASK, (row & CHUNK_MASK) + inChunk);
      row += inChunk;
    }
  }
}

/** Ticket id prefix code meaning "the id is in the fallback map". */
export const ID_FALLBACK = 255;
const MAX_ID_PREFIXES = 255;
const MAX_ID_NUMBER = 0xffff_fffe;

/** Ticket status codes in the status column (0 = open; the rest as settle-columns.ts STATUS_CODE). */
export const TICKET_STATUS = ['open', 'won', 'lost', 'refunded', 'special'] as const;
export const STATUS_OPEN = 0;

export class TicketTable {
  count = 0;
  readonly user = new ChunkedColumn((n) => new Uint32Array(n));
  readonly betType = new ChunkedColumn((n) => new Uint8Array(n));
  readonly comboCode = new ChunkedColumn((n) => new Uint16Array(n));
  readonly stakeUnits = new ChunkedColumn((n) => new Uint32Array(n));
  /** 0 cash, 1 medal. */
  readonly currency = new ChunkedColumn((n) => new Uint8Array(n));
  readonly status = new ChunkedColumn((n) => new Uint8Array(n));
  readonly per100 = new ChunkedColumn((n) => new Uint32Array(n));
  /** Ticket ids as prefix (index into `prefixes`) + decimal number; other shapes in `fallbackIds`. */
  readonly idPrefix = new ChunkedColumn((n) => new Uint8Array(n));
  readonly idNumber = new ChunkedColumn((n) => new Uint32Array(n));
  readonly prefixes: string[] = [];
  private readonly prefixCode = new Map<string, number>();
  readonly fallbackIds = new Map<number, string>();

  /** Rows addressable in every column (they are reserved together). */
  capacity(): number {
    return this.user.capacity();
  }

  reserve(rows: number): void {
    for (const c of [this.user, this.betType, this.comboCode, this.stakeUnits, this.currency, this.status, this.per100, this.idPrefix, this.idNumber]) {
      (c as ChunkedColumn<Typed>).reserve(rows);
    }
  }

  /** Code of a ticket id prefix, or ID_FALLBACK when the table of prefixes is full. */
  prefixCodeOf(prefix: string): number {
    let code = this.prefixCode.get(prefix);
    if (code === undefined) {
      if (this.prefixes.length >= MAX_ID_PREFIXES) return ID_FALLBACK;
      code = this.prefixes.length;
      this.prefixes.push(prefix);
      this.prefixCode.set(prefix, code);
    }
    return code;
  }

  /** Stores a ticket id at `row`: "T123456" as (code of "T", 123456) when it round-trips exactly. */
  setId(row: number, id: string): void {
    let j = id.length;
    while (j > 0 && id.charCodeAt(j - 1) >= 48 && id.charCodeAt(j - 1) <= 57) j--;
    const digits = id.length - j;
    const leadingZero = digits > 1 && id.charCodeAt(j) === 48;
    const n = digits > 0 && digits <= 10 && !leadingZero ? Number(id.slice(j)) : -1;
    const code = n >= 0 && n <= MAX_ID_NUMBER ? this.prefixCodeOf(id.slice(0, j)) : ID_FALLBACK;
    this.idPrefix.set(row, code);
    if (code === ID_FALLBACK) this.fallbackIds.set(row, id);
    else this.idNumber.set(row, n);
  }

  idOf(row: number): string {
    const code = this.idPrefix.get(row);
    if (code === ID_FALLBACK) return this.fallbackIds.get(row) as string;
    return `${this.prefixes[code] as string}${this.idNumber.get(row)}`;
  }
}

/** A growable typed array (users: about a million rows; doubling is cheap at that size). */
export class GrowArray<A extends Typed> {
  data: A;
  private readonly make: (rows: number) => A;

  constructor(make: (rows: number) => A, initialRows = 1024) {
    this.make = make;
    this.data = make(initialRows);
  }

  reserve(rows: number): void {
    if (rows <= this.data.length) return;
    let size = this.data.length;
    while (size < rows) size *= 2;
    const next = this.make(size);
    next.set(this.data as never);
    this.data = next;
  }
}
