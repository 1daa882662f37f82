// TEST ADAPTER, not k6: summaries of the kept samples and the threshold forms the scripts use.
import type { MetricSamples } from './metrics.ts';

export function summarize(m: MetricSamples): Record<string, number> {
  const v = [...m.values].sort((a, b) => a - b);
  const count = v.length;
  const sum = v.reduce((s, x) => s + x, 0);
  if (m.type === 'counter') return { count: sum };
  if (m.type === 'rate') return { rate: count === 0 ? 0 : sum / count, passes: sum, fails: count - sum };
  if (m.type === 'gauge') return { value: v[v.length - 1] ?? 0 };
  const pct = (p: number) => (count === 0 ? 0 : (v[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] as number));
  return { count, avg: count === 0 ? 0 : sum / count, min: v[0] ?? 0, med: pct(50), max: v[count - 1] ?? 0, 'p(90)': pct(90), 'p(95)': pct(95), 'p(99)': pct(99) };
}

/** Evaluates `p(99)<200`, `count>0`, `rate<0.01`, `count==0`, `avg<X`, `max<X` on a summary. */
export function evaluate(expr: string, s: Record<string, number>): boolean {
  const m = /^\s*(p\(\d+(?:\.\d+)?\)|avg|min|med|max|count|rate|value)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expr);
  if (m === null) throw new Error(`K6_ADAPTER.THRESHOLD_UNSUPPORTED: "${expr}"`);
  const [, stat, op, num] = m as unknown as [string, string, string, string];
  let value = s[stat];
  if (value === undefined && /^p\(/.test(stat)) {
    // Percentiles the summary does not precompute are not supported: say so rather than guess.
    throw new Error(`K6_ADAPTER.THRESHOLD_UNSUPPORTED: percentile ${stat}`);
  }
  value ??= 0;
  const n = Number(num);
  return op === '<' ? value < n : op === '>' ? value > n : op === '<=' ? value <= n : op === '>=' ? value >= n : value === n;
}
