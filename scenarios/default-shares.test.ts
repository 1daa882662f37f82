// The scenario presets draw keirin bet types from the one source of the sales shares (core/sports.ts).
import { describe, expect, it } from 'vitest';
import { KEIRIN_SALES_PER_MILLE } from '../core/sports.ts';
import { DEFAULT_BET_TYPE_SHARES } from './spec.ts';

describe('default keirin bet-type shares', () => {
  it("are the core's sales shares in percent", () => {
    const preset = DEFAULT_BET_TYPE_SHARES.keirin;
    expect(preset).toEqual({ trifecta: 70.5, exacta: 18.2, trio: 6, bracket_exacta: 1.9, quinella: 1.7, bracket_quinella: 1.3, wide: 0.5 });
    for (const [t, perMille] of Object.entries(KEIRIN_SALES_PER_MILLE)) expect(preset[t as keyof typeof preset]).toBeCloseTo((perMille as number) / 10, 9);
  });
});
