// Every bound of the scenario generators in one place (TigerBeetle style: a limit on everything).
export const LIMITS = {
  usersMax: 50_000_000,
  ticketsMax: 500_000_000,
  meetingsMax: 200,
  racesMax: 1_000,
  racesPerMeetingMax: 12,
  /** The scenario clock runs from 00:00 (minute 0) of the day's origin to the next day's 06:00. */
  dayMinutes: 30 * 60,
  outsideSalesYenPerRaceMax: 100_000_000_000,
  stakeUnitsMax: 100_000,
  /** Scratches stop so that at least this many riders start. */
  ridersStartingMin: 3,
  /** JSON Lines output buffer, flushed whenever it cannot hold one more line of the longest kind. */
  outputBufferBytes: 1 << 20,
  /** Tickets per TicketBatch handed to runners. */
  ticketBatchSize: 4096,
  /** User id strings kept for reuse while building Ticket objects. */
  userIdCacheMax: 100_000,
} as const;

/** Bounds and cadences of the replay driver (replay.ts). */
export const REPLAY_LIMITS = {
  settleTimeoutMs: 600_000,
  pollMs: 20,
  progressEveryMs: 250,
  /** Between progress lines when stderr is not a terminal (pipes, CI logs). */
  progressLineEveryMs: 5_000,
  /** Users per putUsers call. */
  putUsersSlice: 131_072,
  /** Tickets per loadTickets call. */
  loadSliceMax: 4096,
  /** Shortest wait worth a timer on the scaled clock. */
  sleepMinMs: 2,
  driverErrorsKept: 20,
  /** Consecutive idle polls before the day counts as drained (a stage may be between deliveries). */
  idlePollsToFinish: 3,
} as const;
