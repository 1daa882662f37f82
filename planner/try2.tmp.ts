import { predictVirtual } from './virtual.ts';
import { predictClosedForm } from './queueing.ts';
import { EMULATOR_MODEL, BASE_CONFIGURATION } from './_fixtures/cost-models.ts';
const users = Number(process.argv[2] ?? 4000);
for (const shards of [1, 2, 4, 8, 16]) {
  const c = { ...BASE_CONFIGURATION, spannerShards: shards };
  const w = { users, tickets: users * 5 };
  const v = await predictVirtual(EMULATOR_MODEL, c, w, { samples: 1 });
  const q = await predictClosedForm(EMULATOR_MODEL, c, w);
  console.log(shards, v.makespanMs.p50, v.bottleneck, q.makespanMs.p50, q.bottleneck, JSON.stringify(v.utilisation).slice(0, 300));
}
