import { execSync } from 'node:child_process';
import { ensureEmulators } from '../../emulators/index.ts';
import { measureRawSettlement } from './spanner-capacity.ts';
const h = await ensureEmulators({ pubsub: false, spanner: true, reuse: false });
const target = { projectId: h.projectId, instanceId: h.spannerInstance, emulator: true, emulatorHost: h.spannerHost };
const users = Number(process.argv[2] ?? 2000), shards = Number(process.argv[3] ?? 1), loops = Number(process.argv[4] ?? 1);
const emuCpu = () => { try { return execSync(`ps -o times= -p $(pgrep -f 'emulator_main.*${h.spannerHost}' | tr '\\n' ',' | sed 's/,$//')`).toString().trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0); } catch { return NaN; } };
const c0 = process.cpuUsage(), e0 = emuCpu(), t0 = Date.now();
try {
  const r = await measureRawSettlement({ target, users, shards, loopsPerShard: loops });
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ ...r, wallSeconds: (Date.now() - t0) / 1000, clientCpuSeconds: (c.user + c.system) / 1e6, emulatorCpuSeconds: emuCpu() - e0, loadavg: (await import('node:os')).loadavg()[0] }));
} finally { await h.stop(); }
