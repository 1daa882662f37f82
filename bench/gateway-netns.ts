// Small TCP buffers for the gateway bench, in a network namespace of its own. On loopback with
// Linux's default buffers a client that never reads absorbs about 4 MB (the sender's socket buffer
// grows to net.ipv4.tcp_wmem's maximum, 4 MiB) before the gateway's `ws` buffer grows at all, so
// with 500 stalled clients the stall would need gigabytes of odds and minutes to appear. In a
// fresh namespace (`unshare -rn`, its own loopback and its own net.ipv4.tcp_rmem/tcp_wmem) the
// bench sets the buffers' maximum to a few KiB, and a stalled client is felt within seconds,
// as a phone on a bad network is felt at scale. Only 127.0.0.1 exists in there: the bench uses
// the memory backend and nothing else.
import { spawn } from 'node:child_process';

/** Set in the re-run inside the namespace, with the buffer size, so it does not re-run again. */
export const NETNS_ENV = 'RACEDAY_BENCH_GATEWAY_NETNS';

/** The TCP buffer size the bench is running under, when it runs inside its namespace. */
export function insideNetns(): number | undefined {
  const v = process.env[NETNS_ENV];
  return v === undefined ? undefined : Number(v);
}

/**
 * Re-runs this very command inside a new network namespace whose TCP buffers (min, default, max)
 * are `4096 B B`. Resolves with its exit code, or undefined when no namespace could be made
 * (no `unshare`, or user namespaces refused): the caller then runs with the host's buffers.
 */
export function rerunInNetns(tcpBufferBytes: number, log: (line: string) => void): Promise<number | undefined> {
  // Only the raceday command re-runs itself; called from elsewhere (a test runner) it runs here.
  if (!/raceday(\.mjs)?$/.test(process.argv[1] ?? '')) {
    log('raceday bench gateway: not started by the raceday command, so no network namespace: running with the host\'s TCP buffers');
    return Promise.resolve(undefined);
  }
  const sizes = `4096 ${tcpBufferBytes} ${tcpBufferBytes}`;
  const setup = `ip link set lo up && echo "${sizes}" > /proc/sys/net/ipv4/tcp_rmem && echo "${sizes}" > /proc/sys/net/ipv4/tcp_wmem && exec "$@"`;
  const args = ['-rn', 'sh', '-c', setup, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  return new Promise((resolve) => {
    const child = spawn('unshare', args, { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, [NETNS_ENV]: String(tcpBufferBytes) } });
    let started = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      // The setup's own errors come before the bench's first line; after that, pass everything on.
      if (started) return void process.stderr.write(d);
      stderr += d.toString('utf8');
      if (stderr.includes('raceday bench gateway')) {
        started = true;
        process.stderr.write(stderr);
      }
    });
    child.on('error', () => resolve(undefined));
    child.on('exit', (code) => {
      if (started || code === 0) return resolve(code ?? 1);
      log(`raceday bench gateway: no network namespace with small TCP buffers (${stderr.trim().split('\n')[0] ?? `unshare exited ${code}`}); running with the host's buffers, so stalls take longer to show`);
      resolve(undefined);
    });
  });
}
