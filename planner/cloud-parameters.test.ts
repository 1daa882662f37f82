// The cloud parameters: every default has a source and a date, a --params file overrides any of
// them and is refused with the key named when wrong, and the google cost model takes its node
// rates from them and says which figures are assumed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOUD_PARAMETER_NAMES, defaultCloudParameters, googleCostModel, loadCloudParameters, parseOverrides, publishQuotaBytesPerSecond, spannerCpuCeiling } from './cloud-parameters.ts';
import { toyModel } from './_fixtures/plan-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'raceday-params-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cloud parameters', () => {
  it('states the published figures of issue 14 with a source page and the date read', () => {
    const p = defaultCloudParameters();
    expect(p.spannerReadsPerSecondPerNode.value).toBe(22_500);
    expect(p.spannerWritesPerSecondPerNode.value).toBe(3_500);
    expect(p.spannerProcessingUnitsPerNode.value).toBe(1_000);
    expect(p.spannerMaxCpuRegional.value).toBe(0.65);
    expect(p.spannerMaxCpuMultiRegion.value).toBe(0.45);
    expect(p.spannerMutationsPerCommitMax.value).toBe(80_000);
    expect(p.pubsubPublishMBpsLargeRegion.value).toBe(200);
    expect(p.pubsubPublishMBpsSmallRegion.value).toBe(50);
    expect(p.pubsubMinBilledBytes.value).toBe(1_000);
    expect(p.pubsubOrderingKeyMBps.value).toBe(1);
    expect(p.subscriberMaxOutstandingMessages.value).toBe(1_000);
    expect(p.subscriberMaxOutstandingBytes.value).toBe(100 * 1024 * 1024);
    expect([p.publisherBatchMaxMessages.value, p.publisherBatchMaxBytes.value, p.publisherBatchMaxMilliseconds.value]).toEqual([100, 1024 * 1024, 10]);
    for (const n of CLOUD_PARAMETER_NAMES) {
      expect(p[n].asOf, n).toBe('2026-12-01');
      expect(p[n].source.title.length, n).toBeGreaterThan(10);
      if (p[n].kind === 'published') expect(p[n].source.url, n).toMatch(/^https:\/\/(cloud\.google\.com|github\.com)\//);
    }
  });

  it('a --params file overrides any parameter and marks it', async () => {
    const file = join(dir, 'params.json');
    writeFileSync(file, JSON.stringify({ spannerWritesPerSecondPerNode: 2_000, useLargeRegion: 0, multiRegion: 1 }));
    const p = await loadCloudParameters(file);
    expect(p.spannerWritesPerSecondPerNode).toMatchObject({ value: 2_000, overridden: true });
    expect(p.spannerReadsPerSecondPerNode.overridden).toBeUndefined();
    expect(publishQuotaBytesPerSecond(p)).toBe(50e6);
    expect(spannerCpuCeiling(p)).toBe(0.45);
    expect(googleCostModel(p).parallelism).toMatchObject({ writesPerSecondPerNode: 2_000, maxCpuShare: 0.45 });
  });

  it('refuses an unknown name, a bad value and a file that is not JSON, naming each', async () => {
    expect(() => parseOverrides({ spannerWritesPerSecond: 1 })).toThrow(/PLAN\.PARAMS_INVALID.*\n.*unknown parameter "spannerWritesPerSecond"/);
    expect(() => parseOverrides({ spannerWritesPerSecondPerNode: -5 })).toThrow(/spannerWritesPerSecondPerNode: .*>0/);
    expect(() => parseOverrides({ spannerMaxCpuRegional: 1.5 })).toThrow(/spannerMaxCpuRegional/);
    expect(() => parseOverrides({ useLargeRegion: 2 })).toThrow(/useLargeRegion/);
    expect(() => parseOverrides({ notificationBytes: '400' })).toThrow(/notificationBytes/);
    expect(() => parseOverrides([1])).toThrow(/PLAN\.PARAMS_INVALID/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    await expect(loadCloudParameters(bad)).rejects.toThrow(/PLAN\.PARAMS_INVALID: .*bad\.json is not JSON/);
    await expect(loadCloudParameters(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json \(ENOENT\)/);
  });

  it('googleCostModel takes node rates from the parameters and says the service times are assumed', () => {
    const p = defaultCloudParameters();
    const bare = googleCostModel(p);
    expect(bare.target).toBe('google');
    expect(bare.parallelism).toMatchObject({ writesPerSecondPerNode: 3_500, readsPerSecondPerNode: 22_500, maxCpuShare: 0.65 });
    expect(bare.sources.join(' ')).toMatch(/ASSUMED: no measured model/);
    const measured = toyModel();
    const m = googleCostModel(p, measured);
    expect(m.operations['settle.commit']).toEqual(measured.operations['settle.commit']);
    expect(m.sources.join(' ')).toMatch(/ASSUMED: per-operation service times are the measured emulators model/);
    // 3,500 x 0.65 / (8 + 10) users/s per node x 2.5 ms per commit = 316 users/s x 0.0025 s -> 1 transaction in flight.
    expect(m.parallelism.transactionsPerUnit).toBe(Math.max(1, Math.round(((3_500 * 0.65) / 18) * 0.0025)));
  });
});
