// Runs measureRawSettlement from a shell until `raceday bench emulators` wraps it:
//   npx tsx emulators/spanner-capacity-cli.ts --users 10000 --shards 4 [--tickets 5] [--loops 1]
// Starts (or reuses) a Spanner emulator through emulators/, prints one JSON line, stops what it started.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ensureEmulators } from './index.ts';
import { measureRawSettlement } from '../backends/google/spanner-capacity.ts';

const { values } = parseArgs({
  options: { users: { type: 'string', default: '2000' }, shards: { type: 'string', default: '1' }, tickets: { type: 'string', default: '5' }, loops: { type: 'string', default: '1' } },
  strict: true,
});
const handle = await ensureEmulators({ pubsub: false, spanner: true });
try {
  const target = { projectId: handle.projectId, instanceId: handle.spannerInstance, emulator: true, emulatorHost: handle.spannerHost };
  const cpuBefore = process.cpuUsage();
  const result = await measureRawSettlement({ target, users: Number(values.users), shards: Number(values.shards), ticketsPerUser: Number(values.tickets), loopsPerShard: Number(values.loops) });
  const cpu = process.cpuUsage(cpuBefore);
  console.log(JSON.stringify({ ...result, clientCpuSeconds: (cpu.user + cpu.system) / 1e6, loadAverage1m: loadavg()[0] }));
} finally {
  await handle.stop();
}
