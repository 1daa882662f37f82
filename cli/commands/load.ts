// `raceday load subscribers|bets|stall-probe`: the load drivers of loadtests/ on an embedded gateway
// (memory Store, the real gateway on 127.0.0.1), each printing a readable summary or one JSON object.
import { fileURLToPath } from 'node:url';
import { parseArgs, UsageError, withUsage, type FlagSpec, type ParsedFlags } from '../args.ts';
import type { CommandModule } from '../main.ts';
import { DEFAULT_POLICY_SPEC, POLICY_SPECS } from '../../gateway/policies/index.ts';
import { runBetsEmbedded } from '../../loadtests/bets-run.ts';
import { measureClientCost } from '../../loadtests/client-cost.ts';
import type { SwarmReport } from '../../loadtests/swarm.ts';
import { canUseNetworkNamespace, inNetworkNamespace, probeStall, SMALL_TCP_BUFFERS } from '../../loadtests/stall-probe.ts';
import { runSubscribers, runSubscribersExternal } from '../../loadtests/subscribers-run.ts';
import { probeGatewayStall } from '../../loadtests/stall-probe-gateway.ts';
import { COHORT_BEHAVIOUR_DEFAULT } from '../../loadtests/swarm/cohorts.ts';
import { formatBets, formatGatewayStallProbe, formatStallProbe, formatSubscribers, formatSwarm } from '../../loadtests/summary.ts';

const DRIVERS = ['subscribers', 'bets', 'stall-probe', 'client-cost'] as const;
type Driver = (typeof DRIVERS)[number];

const smallBuffersHelp = `  --small-tcp-buffers  run inside a network namespace made for the run, with TCP buffers
              tcp_rmem/tcp_wmem "${SMALL_TCP_BUFFERS.rmem}" (the machine's settings are untouched;
              needs root and unshare): a stalled client then shows backpressure after tens of KB`;

const USAGE: Record<Driver, string> = {
  subscribers: `usage: raceday load subscribers [--users N] [--cohorts SPEC] [--policy SPEC] [--json] ...

A swarm of graphql-transport-ws clients against an embedded gateway (memory Store): rounds of
per-user notifications and a race's odds stream; per cohort: delivery counted from the sequence
numbers against the Store's log (lost, duplicated, out of order), latency (receipt - publishedAt,
or - the odds frame's sentAt) as HDR percentiles, closes by code; event-loop delay of the driver
and of every swarm worker; and the bytes a stalled client absorbs before backpressure.
  --users N          subscribers (default 1000)
  --cohorts SPEC     e.g. slow=5%,stalled=1%,flapping=10 (counts or percentages; the rest healthy)
  --policy SPEC      delivery policy (default ${DEFAULT_POLICY_SPEC}; e.g. ${POLICY_SPECS.join(', ')})
  --notifications N  notification rounds, one per user each (default 3)
  --round-ms MS      pause between rounds (default 500)
  --odds-rate N      odds frames a second to every subscriber (default 10; 0: none)
  --odds-bytes B     size of an odds frame (default 2048)
  --drain-ms MS      listening after the last round (default 2000)
  --workers N        swarm workers (default: 1 per 2,500 users, at most 4)
  --processes        workers as child processes instead of threads
  --slow-kbps K      read rate of the slow cohort, KB/s (default 8)
  --flap-ms MS       connection lifetime of the flapping cohort (default 1500)
  --liveness-ms MS   a client that hears nothing from the gateway (no pong, no frame) this long
                     drops the connection (close 4408, SWARM.PEER_SILENT) and reconnects
                     (default 30000; 0: never)
${smallBuffersHelp}
  --json             one JSON object on standard output
Against a gateway already running (raceday gateway --demo-users N), instead of an embedded one:
  --url WS_URL       its WebSocket URL; users are u000001.. as --demo-users makes them; give it
                     once per instance (raceday gateway --instances N prints wsUrls) to deal
                     the users round robin over them
  --secret S         its token secret
  --race ID          the race whose odds to watch (default: none)
  --listen-ms MS     how long to listen while something else publishes (default 10000)
  --expect N         notifications each user should receive meanwhile (default 0)
Exit 1 when healthy clients lost, duplicated or reordered a notification.`,
  bets: `usage: raceday load bets [--backend memory|emulators] [--users N] [--rate-peak N] [--ramp-ms MS] [--json] ...

The deadline rush: autocannon posts placeBet (GraphQL over HTTP, bearer tokens) to an embedded
gateway at a rate ramping in stages to the race's close and on past it; latency percentiles and
refusals by code; then the Store is checked: every accepted bet is there once, every refused one
left nothing, and every user's cash is the opening cash minus exactly the accepted stakes.
  --backend B        memory (default) or emulators (Spanner on the emulator, a fresh database)
  --users N          bettors (default 200)
  --poor-users N     bettors who can afford three bets (default 5): BET.INSUFFICIENT_BALANCE
  --ramp-ms MS       ramp length, ending at the close (default 5000)
  --stages N         ramp steps (default 5)
  --rate-start N     requests a second in the first stage (default 50)
  --rate-peak N      requests a second in the last stage and after the close (default 500)
  --after-close-ms MS  rush past the close, at the peak rate (default 1000): refused BET.RACE_CLOSED
  --connections N    HTTP connections (default 32)
  --json             one JSON object on standard output
Every 10th bet is malformed (BET.COMBINATION_INVALID) and every 25th repeats the previous key (a retry).
Exit 1 when the Store check fails.`,
  'stall-probe': `usage: raceday load stall-probe [--frame-bytes B] [--small-tcp-buffers] [--json]

How many bytes a client that never reads absorbs on loopback before the sender sees backpressure
(ws bufferedAmount > 0): through the real gateway (odds frames one at a time, the gateway's own
metrics read after each), and for a bare ws server writing a burst. Until then the kernels'
buffers hide the stall.
  --frame-bytes B    payload bytes per frame (default 4096)
${smallBuffersHelp}
  --json             one JSON object on standard output`,
  'client-cost': `usage: raceday load client-cost [--clients N] [--json]

What one subscriber connection costs the driver: N connections subscribed to notifications through
the swarm's lean client and through graphql-ws's createClient (on ws), each kind in a fresh process
with an embedded gateway; heap and RSS growth per client and the time to connect them all.
  --clients N        connections per kind (default 2000)
  --json             one JSON object on standard output`,
};

const usage = `usage: raceday load <driver> [options] [--json]

drivers:
  subscribers   a swarm of graphql-ws subscribers in cohorts (healthy, slow, stalled, flapping)
  bets          the deadline rush: placeBet over HTTP ramping to the close, checked against the Store
  stall-probe   bytes a stalled client absorbs on loopback before backpressure
  client-cost   heap and RSS per connection: the swarm's lean client against graphql-ws createClient
Run "raceday load <driver> --help" for its options. Everything runs on 127.0.0.1, bounded in count and time.`;

const COMMON: Record<string, FlagSpec> = { json: { type: 'boolean' }, 'small-tcp-buffers': { type: 'boolean' } };

const SPECS: Record<Driver, Record<string, FlagSpec>> = {
  subscribers: {
    ...COMMON, users: { type: 'int', min: 1, max: 20_000 }, cohorts: { type: 'string' }, policy: { type: 'string' },
    notifications: { type: 'int', min: 1, max: 1_000 }, 'round-ms': { type: 'int', min: 0, max: 60_000 },
    'odds-rate': { type: 'int', min: 0, max: 1_000 }, 'odds-bytes': { type: 'int', min: 64, max: 1_000_000 },
    'drain-ms': { type: 'int', min: 0, max: 600_000 }, workers: { type: 'int', min: 1, max: 16 }, processes: { type: 'boolean' },
    'slow-kbps': { type: 'int', min: 1, max: 1_000_000 }, 'flap-ms': { type: 'int', min: 50, max: 600_000 }, 'liveness-ms': { type: 'int', min: 0, max: 3_600_000 },
    url: { type: 'string', repeatable: true }, secret: { type: 'string' }, race: { type: 'string' }, 'listen-ms': { type: 'int', min: 100, max: 3_600_000 },
    expect: { type: 'int', min: 0, max: 1_000_000 },
  },
  bets: {
    ...COMMON, backend: { type: 'string', choices: ['memory', 'emulators'] }, users: { type: 'int', min: 1, max: 100_000 }, 'poor-users': { type: 'int', min: 0, max: 100_000 },
    'ramp-ms': { type: 'int', min: 500, max: 600_000 }, stages: { type: 'int', min: 1, max: 100 },
    'rate-start': { type: 'int', min: 1, max: 100_000 }, 'rate-peak': { type: 'int', min: 1, max: 100_000 },
    'after-close-ms': { type: 'int', min: 0, max: 60_000 }, connections: { type: 'int', min: 1, max: 1_000 },
  },
  'stall-probe': { ...COMMON, 'frame-bytes': { type: 'int', min: 1, max: 16 * 1024 * 1024 } },
  'client-cost': { json: { type: 'boolean' }, clients: { type: 'int', min: 1, max: 20_000 } },
};

const num = (f: ParsedFlags, name: string, fallback: number): number => (typeof f[name] === 'number' ? f[name] : fallback);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Re-runs this very command inside a network namespace with small TCP buffers; returns its exit code. */
function rerunInNamespace(argv: readonly string[]): number {
  if (!canUseNetworkNamespace()) throw new UsageError('--small-tcp-buffers needs a network namespace (root and unshare); none could be made here');
  const bin = fileURLToPath(new URL('../../bin/raceday.mjs', import.meta.url));
  const r = inNetworkNamespace([bin, 'load', ...argv]);
  process.stdout.write(r.stdout);
  return r.status;
}

async function runDriver(driver: Driver, f: ParsedFlags, lists: Record<string, (string | number)[]> = {}): Promise<number> {
  if (driver === 'client-cost') {
    const clients = num(f, 'clients', 2_000);
    const r = { lean: measureClientCost('lean', clients), graphqlWs: measureClientCost('graphql-ws', clients) };
    const line = (c: typeof r.lean) => `${c.kind.padEnd(10)} ${c.clients} clients connected in ${c.connectMs} ms; heap ${(c.heapBytesPerClient / 1024).toFixed(1)} KiB and RSS ${(c.rssBytesPerClient / 1024).toFixed(1)} KiB per client (gateway side included)`;
    process.stdout.write(`${f.json === true ? JSON.stringify(r) : `${line(r.lean)}\n${line(r.graphqlWs)}`}\n`);
    return 0;
  }
  if (driver === 'stall-probe') {
    const frameBytes = num(f, 'frame-bytes', 4_096);
    const r = { gateway: await probeGatewayStall({ frameBytes }), ws: await probeStall({ frameBytes }) };
    process.stdout.write(`${f.json === true ? JSON.stringify(r) : `${formatGatewayStallProbe(r.gateway)}\n${formatStallProbe(r.ws)}`}\n`);
    return 0;
  }
  if (driver === 'bets') {
    const rateStart = num(f, 'rate-start', 50);
    const ratePeak = num(f, 'rate-peak', 500);
    if (ratePeak < rateStart) throw new UsageError(`--rate-peak (${ratePeak}) must be at least --rate-start (${rateStart})`);
    const users = num(f, 'users', 200);
    const poor = num(f, 'poor-users', Math.min(5, users));
    if (poor > users) throw new UsageError(`--poor-users (${poor}) cannot exceed --users (${users})`);
    const r = await runBetsEmbedded({
      backend: f.backend === 'emulators' ? 'emulators' : 'memory', users, poorUsers: poor, rampMs: num(f, 'ramp-ms', 5_000), stages: num(f, 'stages', 5), rateStartPerSecond: rateStart,
      ratePeakPerSecond: ratePeak, afterCloseMs: num(f, 'after-close-ms', 1_000), connections: num(f, 'connections', 32), log,
    });
    process.stdout.write(`${f.json === true ? JSON.stringify(r) : formatBets(r)}\n`);
    return r.verification.ok ? 0 : 1;
  }
  const cohorts = typeof f.cohorts === 'string' ? f.cohorts : '';
  const behaviour = { slowReadBytesPerSecond: num(f, 'slow-kbps', 8) * 1024, flapEveryMs: num(f, 'flap-ms', 1_500), livenessMs: num(f, 'liveness-ms', COHORT_BEHAVIOUR_DEFAULT.livenessMs) };
  const isolation = f.processes === true ? 'process' : 'thread';
  const workers = typeof f.workers === 'number' ? { workers: f.workers } : {};
  const external = ['url', 'secret', 'race', 'listen-ms', 'expect'].filter((k) => f[k] !== undefined);
  const embeddedOnly = ['policy', 'notifications', 'round-ms', 'odds-rate', 'odds-bytes', 'drain-ms'].filter((k) => f[k] !== undefined);
  if (external.length > 0) {
    if (typeof f.url !== 'string' || typeof f.secret !== 'string') throw new UsageError(`--${external[0]} needs --url and --secret (the running gateway's)`);
    if (embeddedOnly.length > 0) throw new UsageError(`--${embeddedOnly[0]} applies to the embedded gateway only, not with --url`);
    const urls = (lists['url'] ?? []).map(String);
    const r = await runSubscribersExternal({
      wsUrl: f.url, ...(urls.length > 1 ? { wsUrls: urls } : {}), secret: f.secret, users: num(f, 'users', 1_000), userIdOf: (i) => `u${String(i).padStart(6, '0')}`, cohorts,
      ...(typeof f.race === 'string' ? { raceId: f.race } : {}), listenMs: num(f, 'listen-ms', 10_000), expectPerUser: num(f, 'expect', 0),
      isolation, behaviour, ...workers, log,
    });
    process.stdout.write(`${f.json === true ? JSON.stringify(r) : formatSwarm(r.swarm)}\n`);
    return healthyExitCode(r.swarm);
  }
  const r = await runSubscribers({
    users: num(f, 'users', 1_000), cohorts, policy: typeof f.policy === 'string' ? f.policy : DEFAULT_POLICY_SPEC,
    notificationsPerUser: num(f, 'notifications', 3), roundIntervalMs: num(f, 'round-ms', 500), oddsPerSecond: num(f, 'odds-rate', 10),
    oddsBytes: num(f, 'odds-bytes', 2_048), drainMs: num(f, 'drain-ms', 2_000), isolation, behaviour, ...workers, log,
  });
  process.stdout.write(`${f.json === true ? JSON.stringify(r) : formatSubscribers(r)}\n`);
  return healthyExitCode(r.swarm);
}

/** 1 when healthy clients lost, duplicated or reordered a notification: what a gateway owes them. */
function healthyExitCode(s: SwarmReport): number {
  const h = s.cohorts.healthy?.delivery;
  return h === undefined || (h.lost === 0 && h.duplicates === 0 && h.outOfOrder === 0) ? 0 : 1;
}

export const command: CommandModule = {
  summary: 'load drivers: a subscriber swarm in cohorts, the placeBet deadline rush, the stall probe',
  usage,
  async helpFor(argv) {
    const d = argv[0] as Driver;
    return DRIVERS.includes(d) ? USAGE[d] : undefined;
  },
  async run(argv) {
    const [driver, ...rest] = argv;
    if (driver === undefined || !(DRIVERS as readonly string[]).includes(driver)) {
      process.stderr.write(`raceday load: ${driver === undefined ? 'missing driver' : `unknown driver "${driver}"`} (one of ${DRIVERS.join(', ')}; raceday help load lists them)\n`);
      return 2;
    }
    const d = driver as Driver;
    return withUsage(USAGE[d], async () => {
      const { flags, lists } = parseArgs(rest, SPECS[d]);
      if (flags['small-tcp-buffers'] === true && process.env.RACEDAY_NETNS !== '1') return rerunInNamespace(argv);
      return runDriver(d, flags, lists);
    });
  },
};
