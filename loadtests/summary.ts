// The readable summaries `raceday load` prints without --json: the same figures as the JSON, in
// the order a person checks them (did everything arrive, how fast, was the driver itself healthy).
import type { Percentiles } from '../reports/latency.ts';
import type { BetsRunReport } from './bets-run.ts';
import type { StallProbeResult } from './stall-probe.ts';
import type { GatewayStallProbeResult } from './stall-probe-gateway.ts';
import type { SubscribersRunReport } from './subscribers-run.ts';
import type { SwarmReport } from './swarm.ts';

const pct = (p: Percentiles | null, what = 'frames'): string =>
  p === null ? 'none received' : `p50 ${p.p50} ms, p90 ${p.p90}, p99 ${p.p99}, p99.9 ${p['p99.9']}, max ${p.max} (${p.count} ${what})`;

export function formatStallProbe(r: StallProbeResult): string {
  const kb = (r.bytesAbsorbed / 1024).toFixed(1);
  return `stalled client, bare ws burst: ${kb} KiB absorbed by the kernels' buffers before the sender's bufferedAmount > 0 ` +
    `(${r.frames} frames of ${r.frameBytes} B; tcp_rmem ${r.tcpRmem}, tcp_wmem ${r.tcpWmem}${r.netns ? ', in a network namespace' : ''})` +
    (r.backpressure ? '' : ' -- NO backpressure seen within the probe\'s bounds');
}

export function formatGatewayStallProbe(r: GatewayStallProbeResult): string {
  const kb = (r.bytesAbsorbed / 1024).toFixed(1);
  return `stalled client through the gateway: ${kb} KiB absorbed (${r.frames} odds frames of ${r.frameWireBytes} B) before the gateway saw backpressure ` +
    `(${r.seenAs === 'socket-buffered' ? 'ws bufferedAmount > 0' : r.seenAs === 'queued' ? 'a frame waiting in its queue' : 'never, within the bound'}; ` +
    `tcp_rmem ${r.tcpRmem}, tcp_wmem ${r.tcpWmem}${r.netns ? ', in a network namespace' : ''})`;
}

export function formatSwarm(s: SwarmReport): string {
  const lines = [`swarm: ${s.users} users in ${s.workers} ${s.isolation === 'thread' ? 'worker threads' : 'child processes'}`];
  for (const [name, c] of Object.entries(s.cohorts)) {
    if (c === undefined) continue;
    const d = c.delivery;
    lines.push(`  ${name.padEnd(9)} ${c.users} users, ${c.connects} connections, closes ${JSON.stringify(c.closesByCode)}, errors ${c.errors}`);
    lines.push(`            notifications: expected ${d.expected}, received ${d.received}, lost ${d.lost}, duplicates ${d.duplicates}, out of order ${d.outOfOrder}, unexpected ${d.unexpected}`);
    lines.push(`            notification latency: ${pct(c.notificationLatencyMs)}`);
    lines.push(`            odds latency:         ${pct(c.oddsLatencyMs)}`);
  }
  const w = s.workerLoopDelayMs.map((d) => d.max).join(', ');
  lines.push(`  settle before the count: ${s.settle.waitedMs} ms; clients still owed notifications then: ${s.settle.behindAtCount}`);
  lines.push(`  event-loop delay: driver p99 ${s.driverLoopDelayMs.p99} ms max ${s.driverLoopDelayMs.max}; workers max ${w} ms`);
  lines.push('  (a worker delay near the latencies means the swarm, not the gateway, was the bottleneck)');
  return lines.join('\n');
}

export function formatSubscribers(r: SubscribersRunReport): string {
  const p = r.gateway.policyStats;
  return [
    `gateway policy ${r.gateway.policy}: drops ${p.drops}, evictions ${p.evictions}, max queue ${p.maxQueueMessages} messages / ${p.maxQueueBytes} B`,
    `published: ${r.published.notifications} notifications, ${r.published.oddsFrames} odds frames of ${r.published.oddsBytes} B (expected counts from the Store)`,
    formatSwarm(r.swarm),
    formatGatewayStallProbe(r.gatewayStallProbe),
    formatStallProbe(r.stallProbe),
    `elapsed ${(r.elapsedMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

export function formatBets(r: BetsRunReport): string {
  const b = r.rush;
  const v = r.verification;
  const lines = [
    `deadline rush on the ${r.backend} backend: ${b.requests} requests, ${b.accepted} accepted (${b.acceptedDistinctTickets} distinct tickets), ${b.indeterminate} without an answer, ${b.transportErrors} transport errors`,
    `  refused by code: ${Object.entries(b.rejectedByCode).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`,
    `  latency: ${pct(b.latencyMs, 'requests')}`,
  ];
  for (const s of b.stages) lines.push(`  stage ${String(s.ratePerSecond).padStart(5)} req/s from ${Math.round(s.startMsBeforeClose)} ms before close: ${s.requests} answered, p99 ${s.latencyMs.p99} ms`);
  lines.push(`Store check: ${v.ok ? 'OK' : 'FAILED'}: ${v.acceptedMissing} accepted bets missing, ${v.rejectedLeftTicket} refused bets left a ticket, ${v.balanceMismatches} balances off (${v.usersChecked} users)${v.firstProblem === undefined ? '' : `; first: ${v.firstProblem}`}`);
  lines.push(`elapsed ${(r.elapsedMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
