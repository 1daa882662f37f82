// Proves the /proc reader names the emulator processes by their command lines, counts the CPU they
// spend (the Pub/Sub emulator's grows while it carries messages, the Spanner emulator's while it
// creates a database), and gives no figure for a
// process that is not an emulator.
import { describe, expect, it } from 'vitest';
import { createSpannerClient } from '../backends/google/spanner-client.ts';
import { emulatorCpuSeconds, emulatorCpuSince } from './cpu.ts';
import { measurePubSubThroughput } from './measure.ts';
import { provisionSpanner } from './provision.ts';
import { describeWithEmulators, useEmulators } from './test-support.ts';

describe('emulatorCpuSeconds without emulators', () => {
  it('gives no figure for a process that is not an emulator, nor for a pid that does not exist', () => {
    expect(emulatorCpuSeconds([process.pid, 2 ** 22 + 1])).toEqual({});
  });

  it('subtracts per emulator and leaves out what one side lacks', () => {
    expect(emulatorCpuSince({ pubsub: 1.25, spanner: 2 }, { pubsub: 3.5, spanner: 2.04 })).toEqual({ pubsub: 2.25, spanner: 0.04 });
    expect(emulatorCpuSince({}, { pubsub: 3 })).toEqual({});
  });
});

describeWithEmulators('emulatorCpuSeconds on the running emulators', () => {
  const emulators = useEmulators({ spanner: true });

  it('reads both emulators, and each spends CPU on the work it is given', async () => {
    const h = emulators();
    // Emulators given from outside (external strategy) have no pids here, hence no figures.
    if (h.pids.length === 0) return expect(emulatorCpuSeconds(h.pids)).toEqual({});
    const before = emulatorCpuSeconds(h.pids);
    expect(Object.keys(before).sort()).toEqual(['pubsub', 'spanner']);
    await measurePubSubThroughput(h, 5_000);
    // Creating databases with the schema and dropping them is work for the Spanner emulator. The
    // kernel counts CPU in 10 ms ticks, so one small database alone can read as 0 on a fast run:
    // three are created and dropped, all inside the measurement.
    const databaseIds = [0, 1, 2].map((i) => `cpu-${Date.now().toString(36)}${process.pid.toString(36)}${i}`);
    await provisionSpanner(h, databaseIds);
    const spanner = createSpannerClient({ projectId: h.projectId, instanceId: h.spannerInstance, emulator: true, emulatorHost: h.spannerHost as string });
    try {
      for (const id of databaseIds) await spanner.instance(h.spannerInstance).database(id).delete();
    } finally {
      await spanner.close();
    }
    const used = emulatorCpuSince(before, emulatorCpuSeconds(h.pids));
    expect(used.pubsub).toBeGreaterThan(0);
    expect(used.spanner).toBeGreaterThan(0);
  }, 60_000);
});
