import { ensureEmulators } from '../../emulators/index.ts';
import { measureRawSettlement } from './spanner-capacity.ts';
const h = await ensureEmulators({ pubsub: false, spanner: true });
const target = { projectId: h.projectId, instanceId: h.spannerInstance, emulator: true, emulatorHost: h.spannerHost };
const users = Number(process.argv[2] ?? 2000), shards = Number(process.argv[3] ?? 1), loops = Number(process.argv[4] ?? 1);
try {
  console.log(JSON.stringify(await measureRawSettlement({ target, users, shards, loopsPerShard: loops })));
} finally { await h.stop(); }
