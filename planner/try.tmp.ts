import { predictVirtual } from './virtual.ts';
import { predictClosedForm } from './queueing.ts';
import { EMULATOR_MODEL, MEMORY_MODEL, GOOGLE_MODEL, BASE_CONFIGURATION } from './_fixtures/cost-models.ts';
const users = Number(process.argv[2] ?? 1000);
for (const [name, m] of [['emu', EMULATOR_MODEL], ['mem', MEMORY_MODEL], ['goo', GOOGLE_MODEL]] as const) {
  const c = { ...BASE_CONFIGURATION, settlementsPerCommit: m.target === 'emulators' ? 25 : 1, spannerNodes: 1 };
  const w = { users, tickets: users * 5 };
  const t = performance.now();
  const v = await predictVirtual(m, c, w, { samples: 1 });
  const wall = performance.now() - t;
  const q = await predictClosedForm(m, c, w);
  console.log(name, Math.round(wall), JSON.stringify({ v: [v.makespanMs, v.notifyMakespanMs, v.notifyLatencyMs, v.bottleneck, v.utilisation, v.warnings] }));
  console.log(name, JSON.stringify({ q: [q.makespanMs, q.notifyMakespanMs, q.notifyLatencyMs, q.bottleneck, q.utilisation] }));
}
