import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { costModelFromRecords, loadCostModel } from '../../planner/calibration.ts';
import { normalisedModelFromRecords } from '../../planner/normalise.ts';
import { readRunRecord } from '../../reports/record/write.ts';
import { capture } from '../_fixtures/capture.ts';
import { planCalibrate } from './plan-calibrate.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday plan calibrate', () => {
  it('calibrates the memory backend over 6 levels: a model file the planner reads back, JSON on stdout, a progress line per run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raceday-calibrate-'));
    const out = join(dir, 'model.json');
    const { code, out: stdout, err } = await capture(() => planCalibrate.run(['calibrate', '--backend', 'memory', '--levels', '1,2,3,4,6,8', '--users', '60', '--out', out, '--record', join(dir, 'rec'), '--json']));
    expect(code, err).toBe(0);
    expect(err.match(/^plan calibrate: run \d\/6 on memory/gm)).toHaveLength(6);
    const printed = JSON.parse(stdout) as { ok: boolean; runs: { concurrency: number; settledUsers: number }[]; model: { usl: { levels: unknown[] }[] }; wallMs: number };
    expect(printed.ok).toBe(true);
    expect(printed.runs.map((r) => r.concurrency)).toEqual([1, 2, 3, 4, 6, 8]);
    expect(printed.runs.every((r) => r.settledUsers > 0)).toBe(true);
    expect(printed.model.usl[0]?.levels).toHaveLength(6);
    const model = loadCostModel(out);
    if (!model.ok) throw new Error(model.error.message);
    expect(model.value.target).toBe('memory');
    expect(model.value.sources[0]).toContain('raceday plan calibrate --backend memory --levels 1,2,3,4,6,8 --users 60');
    expect(model.value.operations['settle.commit']?.samples).toBeGreaterThan(0);
    // The runs as a run record: the planner fits the same levels from it (costModelFromRecords), and
    // normalised against the same runs, the same costs (normalisedModelFromRecords, what plan --calibrate uses).
    const rec = await readRunRecord(join(dir, 'rec', 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    const again = costModelFromRecords([rec.value]);
    if (!again.ok) throw new Error(again.error.message);
    expect(again.value.usl[0]?.levels).toEqual(model.value.usl[0]?.levels);
    const normalised = await normalisedModelFromRecords([rec.value]);
    if (!normalised.ok) throw new Error(normalised.error.message);
    expect(normalised.value.operations['settle.commit']).toEqual(model.value.operations['settle.commit']);
    expect(model.value.sources.at(-1)).toMatch(/^normalised: /);
  });

  it('--repeat K runs every level K times, round after round, and fits over all of them', async () => {
    const { code, out, err } = await capture(() => planCalibrate.run(['--backend', 'memory', '--levels', '1,2,3,4,5,6', '--users', '30', '--repeat', '2', '--json']));
    expect(code, err).toBe(0);
    const printed = JSON.parse(out) as { runs: { concurrency: number }[]; model: { usl: { levels: { n: number }[] }[] } };
    expect(printed.runs.map((r) => r.concurrency)).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
    expect(printed.model.usl[0]?.levels).toHaveLength(12);
    expect(err.match(/^plan calibrate: run \d+\/12 on memory/gm)).toHaveLength(12);
  });

  it('fails with PLAN.TOO_FEW_LEVELS before running anything when fewer than 6 distinct levels are given', async () => {
    const { code, err } = await capture(() => planCalibrate.run(['--backend', 'memory', '--levels', '1,2,4,4,4,8', '--users', '30']));
    expect(code).toBe(1);
    expect(err).toContain('PLAN.TOO_FEW_LEVELS: calibration needs at least 6 distinct concurrency levels for its USL fit, got 4');
    expect(err).not.toContain('plan calibrate: run 1/');
  });

  it('refuses bad options with usage errors', async () => {
    const cases: [string[], string][] = [
      [[], '--backend memory|emulators is required'],
      [['--backend', 'memory', '--levels', '1,x,3'], '--levels must be comma-separated integers'],
      [['--backend', 'memory', '--shards', '2'], 'apply to --backend emulators'],
      [['--backend', 'google'], 'google'],
    ];
    for (const [argv, message] of cases) {
      const { code, err } = await capture(() => planCalibrate.run(argv));
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toContain(message);
    }
  });
});
