// Both predictors on the shipped default calibrations (planner/calibrations): they run, agree on
// the bottleneck, and every cost term the calibration fits is one the virtual world sizes.
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION } from './_fixtures/cost-models.ts';
import { defaultCostModel } from './calibration.ts';
import { predictClosedForm } from './queueing.ts';
import { unsizedTerms } from './service-times.ts';
import { predictVirtual } from './virtual.ts';

describe('the shipped calibrations', () => {
  for (const target of ['memory', 'emulators'] as const) {
    it(`predict ${target} with both models`, async () => {
      const model = defaultCostModel(target);
      expect(unsizedTerms(model)).toEqual([]);
      const c = { ...BASE_CONFIGURATION, settlementsPerCommit: target === 'memory' ? 1 : 25 };
      const w = { users: 2_000, tickets: 10_000 };
      const v = await predictVirtual(model, c, w, { samples: 1 });
      const q = await predictClosedForm(model, c, w);
      expect(v.bottleneck).toBe(target === 'memory' ? 'cpu' : 'db:s0');
      expect(q.bottleneck).toBe(v.bottleneck);
      expect(v.makespanMs.p50).toBeGreaterThan(0);
      expect(v.warnings.filter((x) => x.startsWith('PLAN.TERM_IGNORED'))).toEqual([]);
    });
  }
});
