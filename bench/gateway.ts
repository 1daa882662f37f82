// `raceday bench gateway`: the delivery-policy matrix in one run (docs/bench.md, gateway section).
// Every policy x {0%, 5% slow-or-stalled} subscribers: a fresh in-process gateway, a swarm in child
// processes watching the next race's odds, one race settling every subscriber. Per cell: healthy
// gateway-delivery latency, delivered, lost after recovery, drops ("channel is full" lines
// counted apart), evictions and time to evict, the deepest queue, the gateway's peak RSS. Then
// the gateway's messages per second against a bare `ws` send loop (bench/ws-baseline.ts) to the
// same number of connections from the same swarm, in the same run. Progress on stderr, JSON on stdout.
import { randomBytes } from 'node:crypto';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { parsePolicy } from '../gateway/policies/index.ts';
import { runCell, signUsers, type CellResult, type CellSettings } from './gateway-cell.ts';
import { insideNetns, rerunInNetns } from './gateway-netns.ts';
import { runWsBaseline, type WsBaselineResult } from './ws-baseline.ts';

/**
 * The matrix's policies, sized for a run of minutes (docs/bench.md says why each number):
 * shared-blocking keeps the incident's shared buffer of 100 but waits 1 s, not 60 s, before
 * "channel is full"; queues of 3 frames and a 32 KiB byte cap fill within seconds at the odds
 * rate below, so evictions happen inside a cell.
 */
export const MATRIX_POLICIES: readonly string[] = ['shared-blocking:100:1000:4KiB', 'unbounded', 'per-subscriber:3:drop-oldest', 'per-subscriber:3:evict-after:1000', 'bytes:32KiB:disconnect'];
/** The policy the throughput comparison with the bare loop runs (the fix). */
const THROUGHPUT_POLICY = 'per-subscriber:3:evict-after:1000';

const DEFAULTS = {
  subscribers: 10_000,
  slowPercents: [0, 5],
  oddsIntervalMs: 2_000, // one frame every 2 s: 10,000 watchers make 5,000 frames a second
  oddsCombinations: 504, // every trifecta combination staked: about 8 KB of odds per frame
  warmupMs: 20_000,
  warmupMaxMs: 60_000,
  drainMs: 10_000,
  burstDeadlineMs: 20_000,
  slowReadBytesPerSecond: 1_024, // a quarter of the odds stream's 4 KB/s: a slow client falls behind
  healthyWatchersPercent: 20, // 2,000 of 10,000 healthy users on the odds: 8 MB/s, what 2 cores carry beside the clients
  throughputNotifications: 10,
  tcpBufferBytes: 4_096,
} as const;

export const usage = `usage: raceday bench gateway [--subscribers N] [--policies P,P,...] [--slow 0,5] [--json] [options]

The delivery-policy matrix: each policy x each share of slow-or-stalled subscribers (half slow,
half stalled), one race settling every subscriber while the next race's odds stream to all of
them; then the gateway's messages per second against a bare ws send loop to the same number of
connections. Progress on stderr; with --json one JSON object on stdout.

  --subscribers N          subscribers per cell (default ${DEFAULTS.subscribers.toLocaleString('en-US')}; 50 or more)
  --policies LIST          comma-separated policy specs (default: ${MATRIX_POLICIES.join(', ')})
  --slow LIST              percents of slow-or-stalled subscribers (default 0,5)
  --odds-interval-ms MS    odds frame interval, the deadline rush (default ${DEFAULTS.oddsIntervalMs}; 0 = no odds)
  --odds-combinations N    staked combinations in the odds race, ~16 bytes of frame each (default ${DEFAULTS.oddsCombinations})
  --warmup-ms MS           odds streaming before the race settles (default ${DEFAULTS.warmupMs}); with slow clients
                           it goes on until the gateway feels them, at most --warmup-max-ms (default ${DEFAULTS.warmupMaxMs})
  --drain-ms MS            time to receive and recover after the last notification (default ${DEFAULTS.drainMs})
  --burst-deadline-ms MS   notifications the gateway has not taken by then are given up (default ${DEFAULTS.burstDeadlineMs})
  --slow-read-bytes N      bytes a second a slow client reads (default ${DEFAULTS.slowReadBytesPerSecond})
  --watchers-percent P     healthy subscribers that watch the odds (default ${DEFAULTS.healthyWatchersPercent}); slow and stalled ones always do
  --throughput-notifications N  notifications per subscriber in the throughput comparison (default ${DEFAULTS.throughputNotifications})
  --tcp-buffer-bytes N     run in a network namespace with TCP buffers of N bytes (default ${DEFAULTS.tcpBufferBytes}); 0 = host buffers
  --workers N              swarm client processes (default: the swarm's own)
  --json                   one JSON object on stdout`;

const listOf = (text: string, what: string): string[] => {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value`);
  return items;
};

function percentsOf(text: string): number[] {
  return listOf(text, 'slow').map((p) => {
    if (!/^\d{1,2}$/.test(p)) throw new UsageError(`--slow takes whole percents below 100, got "${p}"`);
    return Number(p);
  });
}

const int = (flags: Record<string, unknown>, name: string, dflt: number): number => (typeof flags[name] === 'number' ? flags[name] : dflt);

export async function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags } = parseArgs(argv, {
      subscribers: { type: 'int', min: 50, max: 50_000 },
      policies: { type: 'string' },
      slow: { type: 'string' },
      'odds-interval-ms': { type: 'int', min: 0, max: 60_000 },
      'odds-combinations': { type: 'int', min: 1, max: 504 },
      'warmup-ms': { type: 'int', min: 0, max: 600_000 },
      'warmup-max-ms': { type: 'int', min: 0, max: 600_000 },
      'drain-ms': { type: 'int', min: 0, max: 600_000 },
      'burst-deadline-ms': { type: 'int', min: 100, max: 3_600_000 },
      'slow-read-bytes': { type: 'int', min: 1, max: 100_000_000 },
      'watchers-percent': { type: 'int', min: 0, max: 100 },
      'throughput-notifications': { type: 'int', min: 1, max: 1_000 },
      'tcp-buffer-bytes': { type: 'int', min: 0, max: 64 * 1024 * 1024 },
      workers: { type: 'int', min: 1, max: 16 },
      json: { type: 'boolean' },
    });
    const policies = typeof flags['policies'] === 'string' ? listOf(flags['policies'], 'policies') : [...MATRIX_POLICIES];
    for (const p of policies) {
      const parsed = parsePolicy(p);
      if (!parsed.ok) throw new UsageError(`--policies: ${parsed.error.message}`);
    }
    const percents = typeof flags['slow'] === 'string' ? percentsOf(flags['slow']) : [...DEFAULTS.slowPercents];
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const tcpBufferBytes = int(flags, 'tcp-buffer-bytes', DEFAULTS.tcpBufferBytes);
    if (tcpBufferBytes > 0 && insideNetns() === undefined) {
      const code = await rerunInNetns(tcpBufferBytes, log);
      if (code !== undefined) return code;
    }
    const netnsTcpBufferBytes = insideNetns() ?? null;
    log(`raceday bench gateway: ${policies.length} policies x ${percents.length} shares at ${int(flags, 'subscribers', DEFAULTS.subscribers)} subscribers${netnsTcpBufferBytes === null ? ' (host TCP buffers)' : ` (network namespace, TCP buffers ${netnsTcpBufferBytes} B)`}`);
    const settings: CellSettings = {
      subscribers: int(flags, 'subscribers', DEFAULTS.subscribers),
      oddsIntervalMs: int(flags, 'odds-interval-ms', DEFAULTS.oddsIntervalMs),
      oddsCombinations: int(flags, 'odds-combinations', DEFAULTS.oddsCombinations),
      warmupMs: int(flags, 'warmup-ms', DEFAULTS.warmupMs),
      warmupMaxMs: int(flags, 'warmup-max-ms', DEFAULTS.warmupMaxMs),
      drainMs: int(flags, 'drain-ms', DEFAULTS.drainMs),
      burstDeadlineMs: int(flags, 'burst-deadline-ms', DEFAULTS.burstDeadlineMs),
      slowReadBytesPerSecond: int(flags, 'slow-read-bytes', DEFAULTS.slowReadBytesPerSecond),
      healthyWatchersPercent: int(flags, 'watchers-percent', DEFAULTS.healthyWatchersPercent),
      ...(typeof flags['workers'] === 'number' ? { workers: flags['workers'] } : {}),
      log,
    };
    const result = await runMatrix(policies, percents, settings, int(flags, 'throughput-notifications', DEFAULTS.throughputNotifications), netnsTcpBufferBytes);
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${renderTable(result.cells)}\n`);
    return 0;
  });
}

interface Throughput {
  readonly policy: string;
  readonly notificationsPerSubscriber: number;
  readonly gatewayMessagesPerSecond: number;
  readonly wsBaselineMessagesPerSecond: number;
  /** Gateway / bare loop: the share of the machine's limit the gateway reaches. */
  readonly ratio: number;
  readonly gatewayDeliveryMs: CellResult['healthyDeliveryMs'];
  readonly gatewayLost: number;
  readonly wsBaseline: WsBaselineResult;
}

async function runMatrix(policies: readonly string[], percents: readonly number[], s: CellSettings, throughputNotifications: number, netnsTcpBufferBytes: number | null) {
  const started = Date.now();
  const secret = randomBytes(32);
  s.log(`signing ${s.subscribers} tokens`);
  const users = await signUsers(s.subscribers, secret);
  s.log(`throughput: ${throughputNotifications} notifications per subscriber through ${THROUGHPUT_POLICY}, no odds, no slow clients`);
  const gw = await runCell({ policy: THROUGHPUT_POLICY, slowOrStalledPercent: 0, notificationsPerUser: throughputNotifications }, { ...s, oddsIntervalMs: 0, warmupMs: 500, warmupMaxMs: 500 }, users, secret);
  // Same frame size as the gateway's notification frames: the envelope around the pad is ~110 bytes.
  const payloadBytes = Math.max(1, (gw.notificationFrameBytes ?? 300) - 110);
  s.log(`throughput: bare ws loop, ${throughputNotifications} frames of ~${gw.notificationFrameBytes ?? '?'} bytes per subscriber`);
  const baseline = await runWsBaseline({ users, framesPerUser: throughputNotifications, payloadBytes, ...(s.workers === undefined ? {} : { workers: s.workers }), log: s.log });
  const throughput: Throughput = {
    policy: THROUGHPUT_POLICY,
    notificationsPerSubscriber: throughputNotifications,
    gatewayMessagesPerSecond: gw.healthyMessagesPerSecond,
    wsBaselineMessagesPerSecond: baseline.messagesPerSecond,
    ratio: baseline.messagesPerSecond > 0 ? Math.round((gw.healthyMessagesPerSecond / baseline.messagesPerSecond) * 1000) / 1000 : 0,
    gatewayDeliveryMs: gw.healthyDeliveryMs,
    gatewayLost: gw.lostAfterRecovery,
    wsBaseline: baseline,
  };
  s.log(`throughput: gateway ${throughput.gatewayMessagesPerSecond} msg/s, bare ws ${throughput.wsBaselineMessagesPerSecond} msg/s, ratio ${throughput.ratio}`);
  const cells: CellResult[] = [];
  for (const policy of policies) {
    for (const percent of percents) {
      s.log(`cell ${cells.length + 1}/${policies.length * percents.length}: ${policy}, ${percent}% slow-or-stalled`);
      const cell = await runCell({ policy, slowOrStalledPercent: percent }, s, users, secret);
      cells.push(cell);
      const d = cell.healthyDeliveryMs;
      s.log(`  healthy p50 ${d?.p50 ?? '-'} p99 ${d?.p99 ?? '-'} ms, delivered ${cell.delivered}/${cell.expected}, lost after recovery ${cell.lostAfterRecovery}, drops ${cell.drops}, evictions ${cell.evictions}, peak RSS ${cell.gatewayPeakRssMb} MB (${Math.round(cell.cellMs / 1000)} s)`);
    }
  }
  return {
    bench: 'gateway',
    subscribers: s.subscribers,
    settings: { ...s, log: undefined, netnsTcpBufferBytes },
    throughput,
    cells,
    findings: findingsOf(cells, baseline),
    wallMs: Date.now() - started,
    node: process.version,
  };
}

/** Per policy: healthy p99 with slow clients against without, and whether the incident's stall showed. */
function findingsOf(cells: readonly CellResult[], baseline: WsBaselineResult) {
  const out: Record<string, unknown> = {};
  for (const policy of new Set(cells.map((c) => c.policy))) {
    const mine = cells.filter((c) => c.policy === policy);
    const calm = mine.find((c) => c.slowOrStalledPercent === 0);
    const rough = mine.find((c) => c.slowOrStalledPercent > 0);
    const p99 = (c: CellResult | undefined) => c?.healthyDeliveryMs?.p99;
    const calmP99 = p99(calm);
    const roughP99 = p99(rough);
    out[policy] = {
      healthyP99Ratio: calmP99 !== undefined && roughP99 !== undefined && calmP99 > 0 ? Math.round((roughP99 / calmP99) * 100) / 100 : null,
      healthyP99VsWsBaseline: roughP99 !== undefined && baseline.latencyMs !== null && baseline.latencyMs.p99 > 0 ? Math.round((roughP99 / baseline.latencyMs.p99) * 100) / 100 : null,
      ...(policy.startsWith('shared-blocking') && rough !== undefined
        ? { stallReproduced: calmP99 !== undefined && roughP99 !== undefined && roughP99 >= 10 * Math.max(calmP99, 1) && rough.channelIsFullLines > 0 }
        : {}),
    };
  }
  return out;
}

function renderTable(cells: readonly CellResult[]): string {
  const head = 'policy                               slow%  p50ms   p99ms  p99.9ms  delivered  lost  drops  evict  maxQ  rssMB';
  const rows = cells.map((c) => {
    const d = c.healthyDeliveryMs;
    return [c.policy.padEnd(36), String(c.slowOrStalledPercent).padStart(5), String(d?.p50 ?? '-').padStart(6), String(d?.p99 ?? '-').padStart(7), String(d?.['p99.9'] ?? '-').padStart(8), String(c.delivered).padStart(10), String(c.lostAfterRecovery).padStart(5), String(c.drops).padStart(6), String(c.evictions).padStart(6), String(c.maxQueueMessages).padStart(5), String(c.gatewayPeakRssMb).padStart(6)].join(' ');
  });
  return [head, ...rows].join('\n');
}
