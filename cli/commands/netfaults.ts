// `raceday netfaults probe|gateway-restart`: the network half of the chaos runs on their own, on
// the emulators with a private Toxiproxy: how the official clients behave through one fault
// (chaos/client-probe.ts), and the gateway restarted under subscribed clients
// (chaos/gateway-restart.ts). Both print JSON with --json; docs/network-faults.md has the figures.
import { probeClients } from '../../chaos/client-probe.ts';
import { NETWORK_FAULTS, type NetworkFaultKind } from '../../chaos/contracts.ts';
import { DEFAULT_GATEWAY_STEPS, runGatewayRestart, type GatewayStep } from '../../chaos/gateway-restart.ts';
import { ensureEmulators } from '../../emulators/index.ts';
import { findToxiproxy, startToxiproxy } from '../../emulators/toxiproxy.ts';
import { exitOnInterrupt } from '../../sim/open-backend.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const STEP_NAMES = ['kill', 'term', ...NETWORK_FAULTS] as const;

const usage = `usage: raceday netfaults probe --fault K [--fault-ms N] [--after-ms N] [--json]
       raceday netfaults gateway-restart [--users N] [--steps S,S,...] [--fault-ms N] [--no-resume] [--json]

Network faults on real sockets, on the emulators (started or reused) with a private Toxiproxy
(RACEDAY_TOXIPROXY_BIN, else .tools/toxiproxy/server; .ci/install-tools builds it). See
docs/network-faults.md.

  probe            the Pub/Sub bus and the Spanner store, opened on a fresh project through
                   proxies, under a publish and a point read every 200 ms; one fault K on both
                   proxies for --fault-ms (default 5000), then --after-ms (default 15000) of
                   watching. Reports errors, new connections during the fault (the client
                   noticed), the first success and message after the clear, lost and duplicated.
  gateway-restart  a raceday gateway process (--intake pubsub) and --users N (default 30)
                   subscribers through a proxy; notifications appended and published as the
                   notify stage does, every 200 ms per user; the steps in order (default
                   ${DEFAULT_GATEWAY_STEPS.map(stepName).join(',')}; kill = SIGKILL and restart, term =
                   SIGTERM and restart, a fault kind = that fault on the clients' proxy for
                   --fault-ms, default 3000). Reports notifications lost and duplicated after
                   recovery and each step's recovery time. --no-resume: clients resubscribe
                   without afterSeq (shows what sequence recovery is worth). Exit 1 unless 0 lost
                   and 0 duplicated.

  K: ${NETWORK_FAULTS.join(', ')}`;

function stepName(s: GatewayStep): string {
  return 'restart' in s ? (s.restart === 'SIGKILL' ? 'kill' : 'term') : s.fault;
}

function parseSteps(text: string): GatewayStep[] {
  return text.split(',').map((raw) => {
    const s = raw.trim();
    if (s === 'kill') return { restart: 'SIGKILL' as const };
    if (s === 'term') return { restart: 'SIGTERM' as const };
    if ((NETWORK_FAULTS as readonly string[]).includes(s)) return { fault: s as NetworkFaultKind };
    throw new UsageError(`--steps: "${s}" is not a step (one of ${STEP_NAMES.join(', ')})`);
  });
}

const spec = {
  fault: { type: 'string', choices: NETWORK_FAULTS },
  'fault-ms': { type: 'int', min: 100, max: 900_000 },
  'after-ms': { type: 'int', min: 0, max: 900_000 },
  users: { type: 'int', min: 1, max: 2_000 },
  steps: { type: 'string' },
  'no-resume': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const command: CommandModule = {
  summary: 'network faults through Toxiproxy: probe the Google clients, restart the gateway under clients',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, spec, { positionals: 1 });
      const action = positionals[0];
      if (action !== 'probe' && action !== 'gateway-restart') throw new UsageError(`say what to do: probe or gateway-restart${action === undefined ? '' : `, not "${action}"`}`);
      const only = action === 'probe' ? ['users', 'steps', 'no-resume'] : ['fault', 'after-ms'];
      const stray = only.find((f) => flags[f] !== undefined);
      if (stray !== undefined) throw new UsageError(`--${stray} does not apply to "netfaults ${action}"`);
      if (action === 'probe' && flags['fault'] === undefined) throw new UsageError(`netfaults probe needs --fault K (one of ${NETWORK_FAULTS.join(', ')})`);
      try {
        findToxiproxy();
      } catch (e) {
        // Missing tooling is the user's to fix, like a bad option: one line, no stack.
        throw new UsageError((e as Error).message);
      }
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const emulators = await ensureEmulators({ log });
      const toxi = await startToxiproxy();
      const uninstall = exitOnInterrupt(() => toxi.stop());
      try {
        if (action === 'probe') {
          const r = await probeClients({ toxi, emulators, kind: flags['fault'] as NetworkFaultKind, faultMs: (flags['fault-ms'] as number | undefined) ?? 5_000, afterMs: (flags['after-ms'] as number | undefined) ?? 15_000, log });
          process.stdout.write(flags['json'] === true ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
          return 0;
        }
        const r = await runGatewayRestart({
          toxi, emulators, users: (flags['users'] as number | undefined) ?? 30, resumeAfterSeq: flags['no-resume'] !== true, log,
          ...(typeof flags['steps'] === 'string' ? { steps: parseSteps(flags['steps']) } : {}),
          ...(typeof flags['fault-ms'] === 'number' ? { faultMs: flags['fault-ms'] } : {}),
          ...(flags['no-resume'] === true ? { recoverTimeoutMs: 10_000 } : {}),
        });
        process.stdout.write(flags['json'] === true ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
        return r.lost === 0 && r.duplicated === 0 ? 0 : 1;
      } finally {
        await toxi.stop();
        uninstall();
      }
    }),
};
