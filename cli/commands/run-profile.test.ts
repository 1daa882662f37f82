// `raceday run --profile` on the memory backend: the run record gets a profile section (one per
// sample with --variant), `--json` a summary, and the planner fits a cost model from the record.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fittedFromRecords } from '../../planner/calibration.ts';
import { parseProfileSection } from '../../planner/profile-record.ts';
import { readRunRecord } from '../../reports/record/write.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as run } from './run.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday run --profile', () => {
  it('writes one profile per --variant sample into the record, and a cost model is fitted from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raceday-profile-'));
    const argv = ['--profile', '--users', '80', '--variant', 'n1=maxInFlight=1', '--variant', 'n4=maxInFlight=4', '--variant', 'n16=maxInFlight=16', '--out', dir, '--json'];
    const { code, out, err } = await capture(() => run.run(argv));
    expect(code, err).toBe(0);
    const printed = JSON.parse(out) as { profile: { variant: string; concurrency: number; operations: Record<string, { count: number }> }[] };
    expect(printed.profile.map((p) => [p.variant, p.concurrency])).toEqual([
      ['n1', 2],
      ['n4', 8],
      ['n16', 32],
    ]);
    const rec = await readRunRecord(join(dir, 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    const section = parseProfileSection(rec.value.profile);
    if (!section.ok) throw new Error(section.error.message);
    expect(section.value.runs.map((r) => `${r.variant}#${r.repeat}`)).toEqual(['n1#0', 'n4#0', 'n16#0']);
    for (const r of section.value.runs) {
      expect(r.operations['settle.commit']?.count).toBe(r.run.settledUsers);
      expect(r.run.throughputUsersPerSecond).toBeGreaterThan(0);
    }
    const fitted = fittedFromRecords([rec.value]);
    if (!fitted.ok) throw new Error(fitted.error.message);
    expect(fitted.value.model.target).toBe('memory');
    expect(fitted.value.warnings.join(' ')).toContain('3 settle concurrency levels');
  });

  it('prints a profile summary with --json on a single run, and refuses --profile on a replay', async () => {
    const { code, out, err } = await capture(() => run.run(['--profile', '--users', '40', '--json']));
    expect(code, err).toBe(0);
    const printed = JSON.parse(out) as { profile: { concurrency: number; operations: Record<string, { count: number; meanUs: number }> }; settledUsers: number };
    expect(printed.profile.concurrency).toBe(2 * 256);
    expect(printed.profile.operations['settle.commit']?.count).toBe(printed.settledUsers);
    const replay = await capture(() => run.run(['--profile', '--scenario', 'typical-day']));
    expect(replay.code).toBe(2);
    expect(replay.err).toContain('--profile applies to --scenario smoke only');
  });
});
