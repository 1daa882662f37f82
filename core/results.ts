// Race results: validating the official finishing order and scratches, and deriving the winning
// combinations of a bet type by the prefix rule of docs/rules.md (dead heats make several winners).
import { encodeCombination } from './combination.ts';
import type { RaceResult } from './race-result.ts';
import { err, ok, type Result } from './result.ts';
import { BET_TYPE_SPECS, bracketOf, placingsNeeded, type BetType, type Field } from './sports.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `parent.key` for error paths, JSON-quoting a key that is not a plain identifier (`pools.trifecta."3-1-5"`). */
export function keyPath(parent: string, key: string): string {
  const segment = IDENTIFIER.test(key) ? key : JSON.stringify(key);
  return parent === '' ? segment : `${parent}.${segment}`;
}

const isRider = (value: unknown, field: Field): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= field.riders;

/**
 * Scratched riders (欠車): distinct rider numbers of the field. Returned ascending, so two lists
 * naming the same riders compare equal. Scratching every rider is allowed (the race is then
 * undecidable for every bet type and refunded).
 */
export function validateScratched(value: unknown, field: Field, path = 'scratched'): Result<readonly number[]> {
  if (!Array.isArray(value)) return err('RACE.SCRATCH_INVALID', `scratched must be an array of rider numbers, got ${JSON.stringify(value)}`, path);
  const seen = new Set<number>();
  for (let i = 0; i < value.length; i++) {
    const rider: unknown = value[i];
    const at = `${path}[${i}]`;
    if (!isRider(rider, field)) return err('RACE.SCRATCH_INVALID', `rider ${JSON.stringify(rider)} is out of range 1..${field.riders}`, at);
    if (seen.has(rider)) return err('RACE.SCRATCH_INVALID', `rider ${rider} is scratched twice`, at);
    seen.add(rider);
  }
  return ok([...seen].sort((a, b) => a - b));
}

/**
 * Parses `{"status":"official","order":[[3],[1,5],[2]]}` or `{"status":"void"}`. Paths are
 * prefixed with `path` (default `result`), e.g. `result.order[1][0]`. An official order may be
 * empty (every rider fell: every bet type is undecidable and refunded); its groups may not.
 * A void result carries no order: `order` absent or `[]` (an empty order is no order); a void
 * result that names finishers is a contradiction and is rejected.
 */
export function parseRaceResult(value: unknown, field: Field, scratched: readonly number[], path = 'result'): Result<RaceResult> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return err('RESULT.STATUS_INVALID', `result must be an object like {"status":"official","order":[[3],[1,5]]}, got ${JSON.stringify(value)}`, path);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'status' && key !== 'order') return err('INPUT.INVALID', `unknown key "${key}" (expected status, order)`, keyPath(path, key));
  }
  const status = record['status'];
  if (status === 'void') {
    // An empty order is no order (what a producer that always writes the field sends); only riders contradict a void.
    const order = record['order'];
    if (order !== undefined && !(Array.isArray(order) && order.length === 0)) {
      return err('RESULT.ORDER_INVALID', 'a void race has no finishing order (omit order, or give [])', `${path}.order`);
    }
    return ok({ status: 'void' });
  }
  if (status !== 'official') return err('RESULT.STATUS_INVALID', `status must be "official" or "void", got ${JSON.stringify(status)}`, `${path}.status`);
  const order = parseOrder(record['order'], field, scratched, `${path}.order`);
  return order.ok ? ok({ status: 'official', order: order.value }) : order;
}

function parseOrder(value: unknown, field: Field, scratched: readonly number[], path: string): Result<number[][]> {
  const bad = (message: string, at: string) => err('RESULT.ORDER_INVALID', message, at);
  if (!Array.isArray(value)) return bad(`order must be an array of finishing groups like [[3],[1,5]], got ${JSON.stringify(value)}`, path);
  const seen = new Set<number>();
  const groups: number[][] = [];
  for (let g = 0; g < value.length; g++) {
    const group: unknown = value[g];
    const gPath = `${path}[${g}]`;
    if (!Array.isArray(group)) return bad(`a finishing group must be an array of riders, got ${JSON.stringify(group)}`, gPath);
    if (group.length === 0) return bad('a finishing group must name at least one rider', gPath);
    const riders: number[] = [];
    for (let i = 0; i < group.length; i++) {
      const rider: unknown = group[i];
      const at = `${gPath}[${i}]`;
      if (!isRider(rider, field)) return bad(`rider ${JSON.stringify(rider)} is out of range 1..${field.riders}`, at);
      if (scratched.includes(rider)) return bad(`rider ${rider} was scratched and cannot finish`, at);
      if (seen.has(rider)) return bad(`rider ${rider} finishes twice`, at);
      seen.add(rider);
      riders.push(rider);
    }
    groups.push(riders);
  }
  return ok(groups);
}

/**
 * Every prefix of length k of every linear order consistent with the finishing groups, passed to
 * `visit` (the array is reused: copy it to keep it). Only prefixes are walked, so a 9-way dead
 * heat costs 9*8*7 visits, not 9! orders. Nothing is visited when fewer than k riders finished.
 */
export function forEachPrefix(order: readonly (readonly number[])[], k: number, visit: (prefix: readonly number[]) => void): void {
  let finishers = 0;
  for (const g of order) finishers += g.length;
  if (finishers < k) return;
  const prefix: number[] = [];
  const used = new Set<number>();
  // The riders available at the next position are the unused ones of the first group not yet exhausted.
  const walk = (groupIndex: number): void => {
    if (prefix.length === k) {
      visit(prefix);
      return;
    }
    const group = order[groupIndex] as readonly number[];
    let remaining = 0;
    for (const r of group) if (!used.has(r)) remaining++;
    if (remaining === 0) {
      walk(groupIndex + 1);
      return;
    }
    for (const r of group) {
      if (used.has(r)) continue;
      used.add(r);
      prefix.push(r);
      walk(groupIndex);
      prefix.pop();
      used.delete(r);
    }
  };
  walk(0);
}

/** The combinations (as number lists) one prefix of the finishing order makes for a bet type. */
function combinationsOfPrefix(betType: BetType, field: Field, prefix: readonly number[], out: (numbers: readonly number[]) => void): void {
  const spec = BET_TYPE_SPECS[betType];
  if (betType === 'place') {
    for (const r of prefix) out([r]);
    return;
  }
  if (betType === 'wide') {
    for (let i = 0; i < prefix.length; i++) {
      for (let j = i + 1; j < prefix.length; j++) {
        const a = prefix[i] as number;
        const b = prefix[j] as number;
        out(a < b ? [a, b] : [b, a]);
      }
    }
    return;
  }
  const numbers = spec.brackets ? prefix.map((r) => bracketOf(field.riders, r)) : [...prefix];
  if (!spec.ordered) numbers.sort((a, b) => a - b);
  out(numbers);
}

/**
 * The winning combination codes of a bet type, ascending, by the prefix rule: every linear order
 * consistent with the groups, its first k riders (k = placingsNeeded), form the combination.
 * Empty for a void race or when fewer than k riders finished (the bet type is then refunded).
 */
export function winningCombinations(betType: BetType, field: Field, result: RaceResult): readonly number[] {
  if (result.status !== 'official') return [];
  const k = placingsNeeded(betType, field.riders);
  const codes = new Set<number>();
  forEachPrefix(result.order, k, (prefix) => {
    combinationsOfPrefix(betType, field, prefix, (numbers) => codes.add(encodeCombination(numbers)));
  });
  return [...codes].sort((a, b) => a - b);
}
