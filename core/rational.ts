// Exact rationals for return rates: "0.75" is 75/100, never the float 0.75.
import { err, ok, type Result } from './result.ts';

export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d{1,12}))?$/;

/** Parses a decimal string such as "0.75" into an exact rational in [0, 1]. */
export function parseRate(text: unknown, path?: string): Result<Rational> {
  if (typeof text !== 'string') return err('RATE.INVALID', `return rate must be a decimal string like "0.75", got ${JSON.stringify(text)}`, path);
  const m = DECIMAL.exec(text);
  if (m === null) return err('RATE.INVALID', `return rate must be a decimal string like "0.75", got "${text}"`, path);
  const frac = m[2] ?? '';
  const den = 10n ** BigInt(frac.length);
  const num = BigInt((m[1] as string) + frac);
  if (num > den) return err('RATE.INVALID', `return rate must be at most 1, got "${text}"`, path);
  if (num === 0n) return err('RATE.INVALID', `return rate must be above 0, got "${text}"`, path);
  return ok({ num, den });
}

export function formatRate(r: Rational): string {
  const digits = r.den.toString().length - 1;
  if (r.den !== 10n ** BigInt(digits)) return `${r.num}/${r.den}`;
  const s = r.num.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
