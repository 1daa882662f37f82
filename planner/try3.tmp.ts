import { runVirtual } from './virtual-run.ts';
import { EMULATOR_MODEL, BASE_CONFIGURATION } from './_fixtures/cost-models.ts';
for (const shards of [1, 2, 4, 8, 16]) {
  const r = await runVirtual(EMULATOR_MODEL, { ...BASE_CONFIGURATION, spannerShards: shards }, 4000, 20000, 1);
  console.log(shards, r.usersPerCommit.toFixed(2), r.makespanMs.toFixed(0));
}
