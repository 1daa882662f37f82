// The deadline rush on the emulators backend: placeBet through the real gateway into Spanner (the
// emulator, a fresh database), then every answer checked against what Spanner holds. Small: tens of
// bettors, a few hundred requests.
import { expect, it } from 'vitest';
import { describeWithEmulators } from '../emulators/test-support.ts';
import { runBetsEmbedded } from './bets-run.ts';

describeWithEmulators('load bets on the emulators backend', () => {
  it('accepted and refused bets reconcile with Spanner', async () => {
    const r = await runBetsEmbedded({
      backend: 'emulators', users: 30, poorUsers: 2, rampMs: 2_000, stages: 2, rateStartPerSecond: 20, ratePeakPerSecond: 60,
      afterCloseMs: 1_000, connections: 8, log: () => {},
    });
    expect(r.backend).toBe('emulators');
    expect(r.rush.accepted).toBeGreaterThan(10);
    expect(r.rush.rejectedByCode['BET.COMBINATION_INVALID']).toBeGreaterThan(0);
    expect(r.rush.rejectedByCode['BET.RACE_CLOSED']).toBeGreaterThan(0);
    expect(r.verification).toMatchObject({ ok: true, acceptedMissing: 0, rejectedLeftTicket: 0, balanceMismatches: 0, usersChecked: 30 });
  });
});
