// `replayOnMemory`: a generated day replayed on the embedded backend (memory store and bus, real
// clock) through the pipeline: what `raceday run --scenario typical-day` calls.
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import type { PipelineOptions } from '../pipeline/runner.ts';
import { buildRaceDay } from './raceday.ts';
import { replayRaceDay, type BetPath, type ReplayReport } from './replay.ts';
import { pipelineConnector } from './replay-pipeline.ts';
import type { ScenarioSpec } from './spec.ts';

export interface MemoryReplayOptions {
  readonly spec: ScenarioSpec;
  readonly seed: number;
  readonly speed?: number;
  readonly bets?: BetPath;
  readonly progress?: boolean;
  readonly settleTimeoutMs?: number;
  readonly pipeline?: Omit<PipelineOptions, 'store' | 'bus' | 'clock'>;
}

export async function replayOnMemory(o: MemoryReplayOptions): Promise<ReplayReport> {
  const clock = createRealClock();
  const day = buildRaceDay(o.spec, o.seed);
  // Ledger totals only: a full ledger log of millions of tickets is for checkers, not for load.
  const store = createMemoryStore({ clock, ledgerLog: false, capacityTickets: day.ticketCount });
  const bus = createMemoryBus({ clock });
  try {
    return await replayRaceDay({
      day,
      store,
      connect: pipelineConnector(bus, clock, o.pipeline),
      ...(o.speed !== undefined ? { speed: o.speed } : {}),
      ...(o.bets !== undefined ? { bets: o.bets } : {}),
      ...(o.progress !== undefined ? { progress: o.progress } : {}),
      ...(o.settleTimeoutMs !== undefined ? { settleTimeoutMs: o.settleTimeoutMs } : {}),
    });
  } finally {
    await bus.close();
    await store.close();
  }
}
