// `raceday gateway`: the notification gateway in its own process, on 127.0.0.1, until SIGINT or
// SIGTERM (then it closes its clients, intake and backend, and exits 0). Prints one JSON line
// with its URLs (and the token secret when it made one up), so load drivers can find it.
import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS, type GatewayLimits } from '../../gateway/limits.ts';
import { DEFAULT_POLICY_SPEC, parsePolicy, POLICY_GRAMMAR } from '../../gateway/policies/index.ts';
import { startGateway } from '../../gateway/server.ts';
import { createOddsBroadcaster, ODDS_INTERVAL_MS_DEFAULT, ODDS_INTERVAL_MS_MIN, ODDS_RUSH_INTERVAL_MS_DEFAULT } from '../../gateway/odds-broadcaster.ts';
import { STRATEGIES, type StrategyChoice } from '../../emulators/index.ts';
import { parseArgs, UsageError, withUsage, type ParsedFlags } from '../args.ts';
import { openGatewayBackend, type GatewayBackend } from '../gateway-backend.ts';
import type { DeliveryPolicy } from '../../gateway/contracts.ts';
import { INTAKES, openIntake, type IntakeKind } from '../gateway-intake.ts';
import { seedDemo, DEMO_RACE } from '../gateway-demo.ts';
import { checkInstances, PARENT_PIPE_ENV, runInstances } from '../gateway-instances.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday gateway [--backend memory|emulators] [--port P] [--policy SPEC] [--intake ${INTAKES.join('|')}] [--secret S] [--instances N] [options]

Runs the notification gateway on 127.0.0.1 until Ctrl-C / SIGTERM: GraphQL over HTTP (POST /graphql),
graphql-transport-ws (ws://127.0.0.1:P/graphql), GET /metrics (Prometheus text), GET /healthz.
Prints one JSON line: {"url","wsUrl","metricsUrl","policy","backend",...}. See docs/gateway.md.

  --backend B               memory (default): an in-process store and bus of its own;
                            emulators: the Pub/Sub and Spanner emulators (started or reused)
  --project P               emulators: attach to project P that a run provisioned (its databases and
                            topics are used as they are and left in place); without it the gateway
                            provisions a fresh project of its own, dropped on exit
  --spanner-shards N        emulators: the shard databases of the attached project (default 1)
  --strategy S              emulators: ${STRATEGIES.join(', ')} (default auto)
  --port P                  TCP port (default 0: any free port, printed)
  --policy SPEC             delivery policy (default ${DEFAULT_POLICY_SPEC}):
${POLICY_GRAMMAR.map((l) => `                              ${l}`).join('\n')}
  --intake I                where notifications come from: ${INTAKES.join(', ')} (default: bus on memory,
                            pubsub on emulators); none: only what the process delivers itself
  --instances N             N gateway processes (default 1), ports P, P+1, ... (or any free ones), one
                            token secret, one JSON line listing every instance's URLs; needs
                            --backend emulators and --intake pubsub or redis (every instance sees
                            every notification); a signal reaches all, one dying stops the rest
  --instance-id ID          pubsub intake: this instance's subscription suffix (default random;
                            with --instances N: ID-1 .. ID-N)
  --redis-url URL           redis intake: the server (default: start or reuse raceday's redis-server)
  --odds-interval-ms N      live odds: a frame per watched race every N ms in its betting window
                            (default ${ODDS_INTERVAL_MS_DEFAULT}; ${ODDS_RUSH_INTERVAL_MS_DEFAULT} in the last minute before the close); see docs/odds.md
  --secret S                HS256 key tokens are signed with, at least 32 bytes (default: the
                            RACEDAY_GATEWAY_SECRET environment variable, else a random one, printed)
  --recovery-idle-ms N      notifications(afterSeq): read the store after a subscription's last number when
                            its live feed was quiet N ms (a dropped latest notification shows no gap);
                            default off (a store read per quiet subscription per period)
  --demo-users N            put N users (u000001...) with 100,000 yen and 1,000 medals and one open
                            keirin race "${DEMO_RACE}" (closing in an hour) into the store, for load drivers
  --max-connections N       WebSocket connections per instance (default ${DEFAULT_LIMITS.maxConnections}); more: closed 4503
  --max-frame-bytes N       largest client frame (default ${DEFAULT_LIMITS.maxFrameBytes}); larger: closed 1009
  --max-body-bytes N        largest HTTP request body (default ${DEFAULT_LIMITS.maxBodyBytes}); larger: 413
  --max-depth N             deepest operation (default ${DEFAULT_LIMITS.maxDepth}); deeper: GATEWAY.QUERY_TOO_DEEP
  --max-cost N              costliest operation (default ${DEFAULT_LIMITS.maxCost}); costlier: GATEWAY.QUERY_TOO_COSTLY
  --init-timeout-ms N       time to send connection_init (default ${DEFAULT_LIMITS.connectionInitTimeoutMs}); then closed 4408
  --max-subscriptions N     subscriptions per connection (default ${DEFAULT_LIMITS.maxSubscriptionsPerConnection}); more: closed 4430
  --headers-timeout-ms N    time to send HTTP request headers (default ${DEFAULT_LIMITS.headersTimeoutMs}); then the socket is closed

Exit code 0 after Ctrl-C / SIGTERM once everything closed; 2 on a usage error.`;

const spec = {
  backend: { type: 'string', choices: ['memory', 'emulators'] },
  project: { type: 'string' },
  'spanner-shards': { type: 'int', min: 1, max: 64 },
  strategy: { type: 'string', choices: STRATEGIES },
  port: { type: 'int', min: 0, max: 65_535 },
  policy: { type: 'string' },
  intake: { type: 'string', choices: INTAKES },
  'instance-id': { type: 'string' },
  'redis-url': { type: 'string' },
  secret: { type: 'string' },
  'odds-interval-ms': { type: 'int', min: ODDS_INTERVAL_MS_MIN, max: 600_000 },
  'demo-users': { type: 'int', min: 1, max: 1_000_000 },
  'recovery-idle-ms': { type: 'int', min: 10, max: 3_600_000 },
  'max-connections': { type: 'int', min: 1, max: 1_000_000 },
  'max-frame-bytes': { type: 'int', min: 256, max: 64 * 1024 * 1024 },
  'max-body-bytes': { type: 'int', min: 256, max: 64 * 1024 * 1024 },
  'max-depth': { type: 'int', min: 1, max: 100 },
  'max-cost': { type: 'int', min: 1, max: 10_000_000 },
  'init-timeout-ms': { type: 'int', min: 1, max: 600_000 },
  'max-subscriptions': { type: 'int', min: 1, max: 10_000 },
  'headers-timeout-ms': { type: 'int', min: 100, max: 600_000 },
  instances: { type: 'int', min: 1, max: 16 },
} as const;

const LIMIT_FLAGS: Readonly<Record<string, keyof GatewayLimits>> = {
  'max-connections': 'maxConnections',
  'max-frame-bytes': 'maxFrameBytes',
  'max-body-bytes': 'maxBodyBytes',
  'max-depth': 'maxDepth',
  'max-cost': 'maxCost',
  'init-timeout-ms': 'connectionInitTimeoutMs',
  'max-subscriptions': 'maxSubscriptionsPerConnection',
  'headers-timeout-ms': 'headersTimeoutMs',
};

/** Closing may take this long (stalled clients, the emulators' clients) before the process leaves anyway. */
const CLOSE_TIMEOUT_MS = 15_000;

function secretOf(flag: unknown): { secret: string; generated: boolean } {
  const given = typeof flag === 'string' ? flag : process.env.RACEDAY_GATEWAY_SECRET;
  if (given === undefined || given === '') return { secret: randomBytes(32).toString('hex'), generated: true };
  if (Buffer.byteLength(given) < 32) throw new UsageError(`the gateway secret must be at least 32 bytes, got ${Buffer.byteLength(given)}`);
  return { secret: given, generated: false };
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    // An instance of `--instances N` runs in a process group of its own (Ctrl-C reaches the parent
    // alone, which forwards it once); should the parent die without forwarding, its end of this
    // pipe closes, and the instance closes as if told to.
    if (process.env[PARENT_PIPE_ENV] === '1') {
      process.stdin.on('end', () => on('SIGTERM'));
      process.stdin.resume();
    }
  });
}

interface ServeOne {
  readonly flags: ParsedFlags;
  readonly backend: GatewayBackend;
  readonly intakeKind: IntakeKind;
  readonly policy: DeliveryPolicy;
  readonly limits: Partial<Record<keyof GatewayLimits, number>>;
  readonly secret: string;
  readonly generated: boolean;
  readonly log: (line: string) => void;
}

/** One gateway in this process: serves until SIGINT / SIGTERM, then closes its gateway and intake. */
async function serveOne({ flags, backend, intakeKind, policy, limits, secret, generated, log }: ServeOne): Promise<void> {
  const intake = await openIntake(intakeKind, backend, { ...(typeof flags['instance-id'] === 'string' ? { instanceId: flags['instance-id'] } : {}), ...(typeof flags['redis-url'] === 'string' ? { redisUrl: flags['redis-url'] } : {}), log });
  const gateway = await startGateway({
    store: backend.store,
    secret,
    policy,
    port: (flags['port'] as number | undefined) ?? 0,
    limits,
    ...(intake === undefined ? {} : { intake: intake.intake }),
    ...(typeof flags['recovery-idle-ms'] === 'number' ? { recoveryIdleCheckMs: flags['recovery-idle-ms'] } : {}),
    log,
  });
  // Live odds of every watched race in its betting window (docs/odds.md).
  const odds = createOddsBroadcaster({ store: backend.store, sink: gateway, watchedRaces: () => gateway.watchedRaces(), ...(typeof flags['odds-interval-ms'] === 'number' ? { intervalMs: flags['odds-interval-ms'] } : {}), onError: (raceId, e) => log(`gateway: odds of ${raceId}: ${(e as Error).message}`) });
  odds.start();
  const base = `http://127.0.0.1:${gateway.port}`;
  process.stdout.write(`${JSON.stringify({ url: gateway.url, wsUrl: gateway.wsUrl, metricsUrl: `${base}/metrics`, healthUrl: `${base}/healthz`, policy: policy.name, intake: intakeKind, backend: backend.where, ...(generated ? { secret } : {}), ...(typeof flags['demo-users'] === 'number' ? { demo: { users: flags['demo-users'], raceId: DEMO_RACE } } : {}) })}\n`);
  const signal = await untilSignal();
  log(`raceday gateway: ${signal}, closing`);
  const closing = (async () => {
    await odds.stop();
    await gateway.close();
    await intake?.close();
  })();
  await Promise.race([closing, new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
}

async function run(argv: readonly string[]): Promise<number> {
  const { flags } = parseArgs(argv, spec);
  const backendName = (flags['backend'] as 'memory' | 'emulators' | undefined) ?? 'memory';
  if (backendName === 'memory') {
    for (const f of ['project', 'spanner-shards', 'strategy']) if (flags[f] !== undefined) throw new UsageError(`--${f} applies to --backend emulators only`);
  }
  const policySpec = typeof flags['policy'] === 'string' ? flags['policy'] : DEFAULT_POLICY_SPEC;
  const policy = parsePolicy(policySpec);
  if (!policy.ok) throw new UsageError(policy.error.message);
  const intakeKind: IntakeKind = (flags['intake'] as IntakeKind | undefined) ?? (backendName === 'memory' ? 'bus' : 'pubsub');
  if (flags['instance-id'] !== undefined && intakeKind !== 'pubsub') throw new UsageError('--instance-id applies to --intake pubsub only');
  if (flags['redis-url'] !== undefined && intakeKind !== 'redis') throw new UsageError('--redis-url applies to --intake redis only');
  const instances = (flags['instances'] as number | undefined) ?? 1;
  checkInstances(instances, backendName, intakeKind);
  const limits: Partial<Record<keyof GatewayLimits, number>> = {};
  for (const [flag, key] of Object.entries(LIMIT_FLAGS)) if (typeof flags[flag] === 'number') limits[key] = flags[flag];
  const { secret, generated } = secretOf(flags['secret']);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const backend = await openGatewayBackend({
    backend: backendName,
    ...(typeof flags['project'] === 'string' ? { projectId: flags['project'] } : {}),
    ...(typeof flags['spanner-shards'] === 'number' ? { spannerShards: flags['spanner-shards'] } : {}),
    ...(typeof flags['strategy'] === 'string' ? { strategy: flags['strategy'] as StrategyChoice } : {}),
    log,
  });
  let code = 0;
  try {
    if (typeof flags['demo-users'] === 'number') await seedDemo(backend.store, flags['demo-users']);
    if (instances > 1) {
      // The children attach to this process's project (provisioned above, or --project) and share its store.
      const demo = typeof flags['demo-users'] === 'number' ? { users: flags['demo-users'], raceId: DEMO_RACE } : undefined;
      code = await runInstances({ count: instances, flags, intake: intakeKind, backend, secret, generatedSecret: generated, policy: policy.value.name, ...(demo === undefined ? {} : { demo }), log });
    } else {
      await serveOne({ flags, backend, intakeKind, policy: policy.value, limits, secret, generated, log });
    }
  } finally {
    await Promise.race([backend.close().catch(() => undefined), new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
  }
  // A client library that keeps a handle open must not keep a stopped server's process alive.
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}

export const command: CommandModule = {
  summary: 'the notification gateway (GraphQL over HTTP and WebSocket) until Ctrl-C',
  usage,
  run: (argv) => withUsage(usage, () => run(argv)),
};
