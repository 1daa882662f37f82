// Proves what bettors buy: on a large seeded sample the bet-type shares come within 2 percentage
// points of the configured ones (keirin defaults from docs/rules.md, the documented PIST6 and autorace
// defaults, and a custom mix), and win picks follow the strength model (chi-square against the
// pick probabilities, far below the alpha-0.001 critical value). The generated stream is counted directly.
import { describe, expect, it } from 'vitest';
import { buildPlan, betTypeSharesFor } from './plan.ts';
import { parseScenario, type ScenarioInput } from './spec.ts';
import { EVENT_TICKET, openDayStream } from './stream.ts';

const TICKETS_PER_RACE = 150_000;

function countTypes(input: Partial<ScenarioInput>, seed: number) {
  const races = [
    { raceId: 'k9', venue: 'kawasaki', sport: 'keirin', riders: 9, postMinute: 700 },
    { raceId: 'k7', venue: 'kokura', sport: 'keirin', riders: 7, postMinute: 701 },
    { raceId: 'p6', venue: 'pist6-chiba', sport: 'pist6', riders: 6, postMinute: 702 },
    { raceId: 'a8', venue: 'iizuka', sport: 'autorace', riders: 8, postMinute: 703 },
  ] as const;
  const spec = parseScenario({ name: 'shares', users: 50_000, tickets: TICKETS_PER_RACE * races.length, races: [...races], ...input });
  const plan = buildPlan(spec, seed);
  const counts = plan.races.map((r) => new Array<number>(r.betTypes.length).fill(0));
  const combos = plan.races.map((r) => r.combos.map((c) => new Array<number>(c.texts.length).fill(0)));
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  while (stream.next()) {
    if (cur.kind !== EVENT_TICKET) continue;
    const i = cur.race.race.index;
    (counts[i] as number[])[cur.typeSlot]! += 1;
    ((combos[i] as number[][])[cur.typeSlot] as number[])[cur.comboIndex]! += 1;
  }
  return { spec, plan, counts, combos };
}

describe('bettor popularity', () => {
  it('matches the configured bet-type shares within 2 percentage points', () => {
    const { spec, plan, counts } = countTypes({}, 11);
    for (const race of plan.races) {
      const { types, shares } = betTypeSharesFor(spec, race.field);
      const c = counts[race.index] as number[];
      const total = c.reduce((a, b) => a + b, 0);
      expect(total).toBe(TICKETS_PER_RACE);
      types.forEach((t, k) => {
        const got = (c[k] as number) / total;
        expect(Math.abs(got - (shares[k] as number)), `${race.slot.raceId} ${t}: got ${got}`).toBeLessThan(0.02);
      });
    }
    // Keirin shares are national sales (core/sports.ts; they sum to 100.1%, so trifecta's 70.5 becomes 70.43%).
    expect(betTypeSharesFor(spec, { sport: 'keirin', riders: 9 }).shares[plan.races[0]!.betTypes.indexOf('trifecta')]).toBeCloseTo(0.705 / 1.001, 6);
  });

  it('honours a custom mix', () => {
    const { plan, counts } = countTypes({ bettors: { betTypeShares: { keirin: { wide: 50, trio: 50 } } } }, 12);
    const k9 = plan.races[0]!;
    expect(k9.betTypes).toEqual(['wide', 'trio']);
    const c = counts[0] as number[];
    expect(Math.abs((c[0] as number) / TICKETS_PER_RACE - 0.5)).toBeLessThan(0.02);
  });

  it('picks stronger riders more often, as the strength model says', () => {
    const { plan, combos } = countTypes({ bettors: { longshotShare: 0 } }, 13);
    const p6 = plan.races[2]!;
    const slot = p6.betTypes.indexOf('win');
    const picks = (combos[2] as number[][])[slot] as number[];
    const n = picks.reduce((a, b) => a + b, 0);
    const prob = p6.combos[slot]!.probabilities;
    // Chi-square over the 6 riders (5 df); purchases of several tickets repeat a pick only by
    // chance, so the statistic stays chi-square-like. Critical value at alpha 0.001: 20.52.
    let chi2 = 0;
    picks.forEach((o, i) => (chi2 += (o - n * (prob[i] as number)) ** 2 / (n * (prob[i] as number))));
    expect(n).toBeGreaterThan(5_000);
    expect(chi2).toBeLessThan(20.52);
    const strongest = p6.strengths.indexOf(Math.max(...p6.strengths.slice(1)));
    const weakest = p6.strengths.indexOf(Math.min(...p6.strengths.slice(1)));
    expect(picks[strongest - 1]).toBeGreaterThan(picks[weakest - 1] as number);
  });
});
