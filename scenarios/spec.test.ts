// Proves that scenario files are validated with errors naming the field and the allowed range,
// that defaults fill what a file leaves out, and that every preset loads; by parsing good and bad
// scenario objects and files and comparing the error text.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, presetNames, ScenarioError } from './spec.ts';

const race = (over: object) => ({ venue: 'kawasaki', sport: 'keirin', riders: 9, postMinute: 600, ...over });
const errorOf = (value: unknown): string => {
  try {
    parseScenario(value, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
};

describe('scenario schema', () => {
  it('names the race and the allowed riders for the sport', () => {
    const msg = errorOf({ name: 'x', users: 10, tickets: 10, races: [race({ raceId: 'a' }), race({ raceId: 'b' }), race({ raceId: 'c', riders: 6 })] });
    expect(msg).toContain('races[2].riders: must be 7, 8 or 9 for keirin');
    expect(errorOf({ name: 'x', users: 10, tickets: 10, races: [race({ sport: 'pist6', riders: 7 })] })).toContain('races[0].riders: must be 6 for pist6');
    expect(errorOf({ name: 'x', users: 10, tickets: 10, meetings: [{ sport: 'autorace', riders: [8, 9] }] })).toContain('meetings[0].riders: must be 8 for autorace');
  });

  it('names numeric fields with their range, unknown keys and bad enums', () => {
    const msg = errorOf({ name: 'x', users: 0, tickets: 10, medalShare: 1.5, oops: true, race: { voidRate: -1 }, races: [race({ sport: 'horse' })] });
    expect(msg).toContain('users: must be an integer in 1..50000000');
    expect(msg).toContain('medalShare: must be a number in 0..1');
    expect(msg).toContain('race.voidRate: must be a number in 0..1');
    expect(msg).toContain('Unrecognized key: "oops"');
    expect(msg).toContain('races[0].sport: must be one of keirin, pist6, autorace');
  });

  it('rejects bet types a sport does not sell, return rates under the legal floor and duplicate race ids', () => {
    const msg = errorOf({
      name: 'x',
      users: 1,
      tickets: 1,
      races: [race({ raceId: 'r' }), race({ raceId: 'r' })],
      bettors: { betTypeShares: { pist6: { bracket_exacta: 3 } } },
      returnRates: { trifecta: '0.65' },
    });
    expect(msg).toContain('bettors.betTypeShares.pist6.bracket_exacta: is not sold in pist6');
    expect(msg).toContain('returnRates.trifecta: must be a decimal string in "0.70".."1"');
    expect(msg).toContain('races[1].raceId: must be unique');
    expect(errorOf({ name: 'x', users: 1, tickets: 1 })).toContain('meetings: must list at least one meeting');
  });

  it('fills defaults for everything a file leaves out', () => {
    const spec = parseScenario({ name: 'x', users: 5, tickets: 7, meetings: [{ sport: 'keirin' }] });
    expect(spec.medalShare).toBe(0.85);
    expect(spec.meetings[0]?.kind).toBe('daytime');
    expect(spec.race.scratchRate).toBe(0.02);
    expect(spec.arrival.rush).toBe(6);
    expect(spec.bettors.purchaseSizeMean).toBe(2.5);
  });

  it('loads every preset, and reports a bad file by path and a missing one by name', () => {
    for (const name of presetNames()) expect(loadScenario(name).name).toBe(name);
    const gp = loadScenario('grand-prix');
    expect(gp.users).toBe(2_000_000);
    expect(gp.tickets).toBe(20_000_000);
    expect(gp.medalShare).toBeGreaterThanOrEqual(0.8);
    const dir = mkdtempSync(join(tmpdir(), 'raceday-spec-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', users: 1, tickets: 1, races: [race({ riders: 10 })] }));
    expect(() => loadScenario(bad)).toThrow(/bad\.json is invalid:\n {2}races\[0\]\.riders: must be an integer in 1\.\.9/);
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => loadScenario(join(dir, 'broken.json'))).toThrow(/not valid JSON/);
    expect(() => loadScenario('no-such-preset')).toThrow(/neither a preset/);
  });
});
