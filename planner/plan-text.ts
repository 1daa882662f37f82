// A plan as text for the terminal: the verdict, the recommendation table, the limits, the
// assumptions and parameters, and an ASCII chart of makespan against the main knob with the SLO
// marked, so the answer reads without a browser.
import type { PlanAnswer } from './recommend.ts';

const n = (v: number, d = 1): string => v.toLocaleString('en-US', { maximumFractionDigits: d });
const s = (ms: number): string => n(ms / 1000);
const pct = (x: number): string => `${n(100 * x)}%`;

function table(rows: readonly (readonly [string, string])[]): string[] {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
}

/** Makespan (s) against the knob: one row per knob value, a bar to the closed form's high bound, `|` at the SLO. */
export function asciiChart(a: PlanAnswer, width = 50): string[] {
  if (a.curve.length === 0) return [];
  const slo = a.question.sloSeconds;
  const top = Math.max(slo * 1.5, ...a.curve.map((c) => Math.min(c.makespanHighMs / 1000, slo * 4)));
  const at = (v: number): number => Math.min(width, Math.round((v / top) * width));
  const sloAt = at(slo);
  const chosen = (a.configuration[a.mainKnob.name] ?? 1) as number;
  const lines = [`makespan (s, closed-form high bound; V = virtual-time p50) against ${a.mainKnob.label}; | is the SLO (${n(slo)} s)`];
  for (const c of a.curve) {
    const high = c.makespanHighMs / 1000;
    const bar: string[] = Array.from({ length: width + 1 }, (_, i) => (i < at(high) ? '#' : ' '));
    if (bar[sloAt] !== undefined) bar[sloAt] = '|';
    if (c.virtualMakespanMs !== null) bar[Math.min(width, at(c.virtualMakespanMs / 1000))] = 'V';
    const label = `${String(c.knob).padStart(5)}${c.knob === chosen ? '*' : ' '}`;
    lines.push(`${label} ${bar.join('')} ${high > top ? '>' : ' '}${n(high)} s${c.meetsSlo ? '' : ' (misses)'}`);
  }
  lines.push(`      * the recommendation`);
  return lines;
}

export function planText(a: PlanAnswer): string {
  const q = a.question;
  const p = a.prediction;
  const c = a.configuration;
  const notifyHead = a.headroom.notify;
  const out = [
    `raceday plan: ${n(q.users, 0)} users, ${n(q.tickets, 0)} tickets, SLO ${n(q.sloSeconds)} s${q.notifyP99Seconds === undefined ? '' : `, notify latency p99 SLO ${n(q.notifyP99Seconds)} s`} on ${q.target}`,
    a.feasible ? `FEASIBLE: the configuration below meets ${notifyHead === undefined ? 'the SLO' : 'both SLOs'} with ${s(a.headroom.marginMs)} s (${pct(a.headroom.marginShare)}) of makespan headroom${notifyHead === undefined ? '' : ` and ${s(notifyHead.marginMs)} s (${pct(notifyHead.marginShare)}) of notify latency headroom`}.` : `INFEASIBLE: no configuration meets ${notifyHead === undefined ? 'the SLO' : 'both SLOs'}.`,
    ...a.infeasible.map((i) => `  ${i.code}: ${i.reason}`),
    '',
    a.feasible ? 'Recommendation:' : 'Best effort (the fastest configuration found):',
    ...table([
      ['settle workers', String(c.settleWorkers)],
      ['post-settle workers', String(c.postSettleWorkers)],
      ['notify workers', String(c.notifyWorkers)],
      ['subscriber clients', String(c.subscriberClients)],
      ['flow control (maxInFlight)', String(c.maxInFlight)],
      ['settlements per commit', String(c.settlementsPerCommit)],
      [q.target === 'google' ? 'Spanner nodes' : 'Spanner shards', String(q.target === 'google' ? (c.spannerNodes ?? 1) : c.spannerShards)],
      ['gateway instances', String(c.gatewayInstances)],
      ['fan-out', c.fanout],
      ['cost (relative units)', n(a.cost, 2)],
    ]),
    '',
    `Predicted (${p.method}):`,
    ...table([
      ['makespan (p50 [low - high])', `${s(p.makespanMs.p50)} s [${s(p.makespanMs.low)} - ${s(p.makespanMs.high)}]`],
      ['notify makespan', `${s(p.notifyMakespanMs.p50)} s [${s(p.notifyMakespanMs.low)} - ${s(p.notifyMakespanMs.high)}]`],
      ['notify latency p50 / p99', `${s(p.notifyLatencyMs.p50)} s / ${s(p.notifyLatencyMs.p99)} s (p99 high ${s(p.notifyLatencyMs.p99High)} s)`],
      ['throughput', `${n(p.throughputUsersPerSecond, 0)} users/s`],
      ['bottleneck', `${a.headroom.bottleneck} (${pct(a.headroom.bottleneckUtilisation)} busy)`],
      ['headroom', `SLO ${s(a.headroom.sloMs)} s - predicted high ${s(a.headroom.predictedHighMs)} s = ${s(a.headroom.marginMs)} s`],
      ...(notifyHead === undefined ? [] : [['notify latency headroom', `SLO ${s(notifyHead.sloMs)} s - predicted p99 high ${s(notifyHead.predictedHighMs)} s = ${s(notifyHead.marginMs)} s`] as const]),
      ['utilisation', Object.entries(p.utilisation).sort(([, x], [, y]) => y - x).map(([k, v]) => `${k} ${pct(v)}`).join(', ')],
      ['closed form (search)', `${s(a.closedForm.makespanMs.p50)} s [${s(a.closedForm.makespanMs.low)} - ${s(a.closedForm.makespanMs.high)}]`],
      ['configurations searched', String(a.searched)],
    ]),
    '',
    ...asciiChart(a),
  ];
  if (a.warnings.length > 0) out.push('', 'Warnings:', ...a.warnings.map((w) => `  - ${w}`));
  out.push('', 'Assumptions:', ...a.assumptions.map((x) => `  - ${x}`));
  out.push('', `Cloud parameters (as of ${a.parameters[0]?.asOf ?? '?'}; override with --params FILE.json):`);
  out.push(...table(a.parameters.map((x) => [x.name, `${n(x.value, 3)} ${x.unit}${x.overridden ? ' (overridden)' : ''} [${x.kind}: ${x.url}]`])));
  return `${out.join('\n')}\n`;
}
