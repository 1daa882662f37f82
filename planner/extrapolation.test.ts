import { describe, expect, it } from 'vitest';
import { EMULATOR_MODEL } from './_fixtures/cost-models.ts';
import { extrapolationOf } from './extrapolation.ts';

describe('extrapolation', () => {
  it('is the workload over the largest calibrated race, flagged beyond 2x', () => {
    expect(extrapolationOf(EMULATOR_MODEL, { users: 20_000, tickets: 20_000 })).toEqual({ extrapolation: 2, warnings: [] });
    const beyond = extrapolationOf(EMULATOR_MODEL, { users: 20_010, tickets: 20_010 });
    expect(beyond.extrapolation).toBe(2.001);
    expect(beyond.warnings[0]).toMatch(/^PLAN.EXTRAPOLATED: 20010 users is 2.0x the largest calibrated race \(10000 users\)/);
  });

  it('says so when the model records no calibrated race', () => {
    const r = extrapolationOf({ ...EMULATOR_MODEL, calibratedMax: { users: 0, tickets: 0 } }, { users: 500, tickets: 500 });
    expect(r.warnings[0]).toMatch(/^PLAN.UNCALIBRATED/);
  });
});
