// Measures the predictors themselves: the wall time of one virtual-time run against the race's
// size (what decides SLICE_USERS_DEFAULT), and the virtual model against the closed form on a set
// of configurations. Prints one JSON object per line.
//   npx tsx planner/virtual-bench.ts wall [--users 1000,10000,40000] [--model fixture|shipped]
//   npx tsx planner/virtual-bench.ts compare [--users 20000] [--model fixture|shipped]
import { defaultCostModel } from './calibration.ts';
import type { CostModel, PlanConfiguration } from './contracts.ts';
import { BASE_CONFIGURATION, EMULATOR_MODEL, GOOGLE_MODEL, MEMORY_MODEL, scaled } from './_fixtures/cost-models.ts';
import { closedForm } from './queueing.ts';
import { predictVirtual } from './virtual.ts';

function arg(argv: readonly string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (argv[i + 1] ?? fallback);
}

function models(kind: string): { memory: CostModel; emulators: CostModel } {
  if (kind === 'shipped') return { memory: defaultCostModel('memory'), emulators: defaultCostModel('emulators') };
  if (kind === 'fixture') return { memory: MEMORY_MODEL, emulators: EMULATOR_MODEL };
  throw new Error(`--model must be fixture or shipped, got ${kind}`);
}

const print = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

async function wall(argv: readonly string[]): Promise<void> {
  const list = arg(argv, 'users', '1000,10000,40000').split(',').map(Number);
  const m = models(arg(argv, 'model', 'fixture'));
  for (const [target, model] of Object.entries(m)) {
    const c: PlanConfiguration = { ...BASE_CONFIGURATION, settlementsPerCommit: target === 'memory' ? 1 : 25 };
    for (const users of list) {
      const t0 = performance.now();
      const p = await predictVirtual(model, c, { users, tickets: users * 10 }, { samples: 1, sliceUsers: users });
      const wallMs = performance.now() - t0;
      print({ target, users, tickets: users * 10, wallMs: Math.round(wallMs), wallUsPerUser: Math.round((wallMs * 1000) / users), virtualMakespanMs: p.makespanMs.p50, rssMb: Math.round(process.memoryUsage().rss / 1e6) });
    }
  }
}

async function compare(argv: readonly string[]): Promise<void> {
  const users = Number(arg(argv, 'users', '20000'));
  const m = models(arg(argv, 'model', 'fixture'));
  const cases: { name: string; model: CostModel; c: PlanConfiguration }[] = [
    { name: 'memory', model: m.memory, c: { ...BASE_CONFIGURATION, settlementsPerCommit: 1 } },
    { name: 'emulators 1 shard', model: m.emulators, c: BASE_CONFIGURATION },
    { name: 'emulators 2 shards', model: m.emulators, c: { ...BASE_CONFIGURATION, spannerShards: 2 } },
    { name: 'emulators 4 shards', model: m.emulators, c: { ...BASE_CONFIGURATION, spannerShards: 4 } },
    { name: 'emulators 16 shards', model: m.emulators, c: { ...BASE_CONFIGURATION, spannerShards: 16 } },
    { name: 'emulators user-batch:10', model: m.emulators, c: { ...BASE_CONFIGURATION, fanout: 'user-batch:10' } },
    { name: 'emulators 8 shards, 1x2 settle slots', model: m.emulators, c: { ...BASE_CONFIGURATION, spannerShards: 8, settleWorkers: 1, maxInFlight: 2 } },
    { name: 'emulators slow fan-out, 8 shards', model: scaled(m.emulators, 'fanout.page', 25), c: { ...BASE_CONFIGURATION, spannerShards: 8 } },
    { name: 'google 1 node (fixture)', model: GOOGLE_MODEL, c: { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 1 } },
    { name: 'google 10 nodes (fixture)', model: GOOGLE_MODEL, c: { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 10 } },
  ];
  for (const k of cases) {
    const w = { users, tickets: users * 5 };
    const t0 = performance.now();
    const v = await predictVirtual(k.model, k.c, w, { samples: 3 });
    const virtualWallMs = Math.round(performance.now() - t0);
    const t1 = performance.now();
    const q = closedForm(k.model, k.c, w);
    const closedFormUs = Math.round((performance.now() - t1) * 1000);
    const err = (a: number, b: number): number => Math.round(((a - b) / b) * 1000) / 10;
    print({
      case: k.name,
      users,
      virtual: { makespanMs: v.makespanMs, notifyP50: v.notifyLatencyMs.p50, notifyP99: v.notifyLatencyMs.p99, bottleneck: v.bottleneck, wallMs: virtualWallMs },
      closedForm: { makespanMs: q.makespanMs.p50, notifyP50: q.notifyLatencyMs.p50, notifyP99: q.notifyLatencyMs.p99, bottleneck: q.bottleneck, us: closedFormUs },
      differencePercent: { makespan: err(q.makespanMs.p50, v.makespanMs.p50), notifyP99: err(q.notifyLatencyMs.p99, v.notifyLatencyMs.p99) },
    });
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'wall') await wall(rest);
else if (mode === 'compare') await compare(rest);
else throw new Error('usage: npx tsx planner/virtual-bench.ts wall|compare [--users N[,N...]] [--model fixture|shipped]');
