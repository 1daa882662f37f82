-- raceday: the Spanner schema of the google backend (one DDL file; spanner-admin.ts applies it).
-- Statements are separated by semicolons; `--` comments are stripped before they are sent.
--
-- Sharding (emulator-only technique, see spanner-store.ts): every shard database holds this whole
-- schema. Users and everything keyed by user live in the shard chosen by a hash of UserId; Races
-- and RaceOutcomes are small and replicated into every shard, so bet placement can check the race
-- in the same transaction as the balance.

-- One row per user. Balances are integers (yen and medals) and may never go negative; the store
-- asserts that before every write and after every read rather than with CHECK constraints,
-- because emulator 1.5.28 evaluates CHECK constraints slowly (2,000 inserted users: 6 s with two
-- checks, 0.25 s without; upserts 16 s), which would dominate every bulk load.
-- Keyed by UserId alone: the user is the root of the interleaved hierarchy below, so one user's
-- tickets, settlement markers and ledger live next to the balance they change (one split, one
-- transaction per settlement).
-- The opening balances stay beside the current ones so the conservation check (opening + ledger
-- = current) needs no other source.
CREATE TABLE Users (
  UserId STRING(64) NOT NULL,
  CashYen INT64 NOT NULL,
  Medals INT64 NOT NULL,
  InitialCashYen INT64 NOT NULL,
  InitialMedals INT64 NOT NULL,
) PRIMARY KEY (UserId);

-- Races are few (dozens a day); keyed by RaceId so placement and settlement read them by key.
CREATE TABLE Races (
  RaceId STRING(64) NOT NULL,
  Sport STRING(16) NOT NULL,
  Riders INT64 NOT NULL,
  CloseAtMs INT64 NOT NULL,
  PostAtMs INT64 NOT NULL,
) PRIMARY KEY (RaceId);

-- The official outcome, one row per result version (a correction is a new version), interleaved
-- in its race so "the latest version of race R" is a key-range read on the RaceId prefix.
CREATE TABLE RaceOutcomes (
  RaceId STRING(64) NOT NULL,
  ResultVersion INT64 NOT NULL,
  ResultJson STRING(MAX) NOT NULL,
  PayoutTableJson STRING(MAX) NOT NULL,
  PublishedAtMs INT64 NOT NULL,
) PRIMARY KEY (RaceId, ResultVersion),
  INTERLEAVE IN PARENT Races ON DELETE CASCADE;

-- Outcomes by publication time: the reconciler reads the races of a recent window only, so its
-- round costs the same on a store that has run for a year as on a fresh one.
CREATE INDEX RaceOutcomesByTime ON RaceOutcomes (PublishedAtMs);

-- Tickets keyed (UserId, RaceId, TicketId) and interleaved in Users: one user's tickets of one
-- race are one contiguous key range, which settlement reads with the read API (the emulator scans
-- for SQL inside read-write transactions; key-range reads stay fast at any size).
-- OpenRaceId equals RaceId while the ticket is open and is NULL once settled, so the
-- NULL_FILTERED index below holds exactly the open tickets and shrinks as the race settles.
CREATE TABLE Tickets (
  UserId STRING(64) NOT NULL,
  RaceId STRING(64) NOT NULL,
  TicketId STRING(64) NOT NULL,
  BetType STRING(32) NOT NULL,
  Combination STRING(16) NOT NULL,
  Stake INT64 NOT NULL,
  Currency STRING(8) NOT NULL,
  Status STRING(16) NOT NULL,
  Per100 INT64,
  Payout INT64,
  SettlementId STRING(160),
  OpenRaceId STRING(64),
) PRIMARY KEY (UserId, RaceId, TicketId),
  INTERLEAVE IN PARENT Users ON DELETE CASCADE;

-- The fan-out's lookup: users with open tickets in a race, ascending, read as a key range on
-- OpenRaceId through the read API (`index:` option), which the emulator serves without the
-- NULL_FILTERED query hint. Settled tickets (OpenRaceId NULL) are not in the index at all.
CREATE NULL_FILTERED INDEX TicketsByOpenRace ON Tickets (OpenRaceId, UserId);

-- A race's tickets by race: ingest sums the race's cash pools over the key range (RaceId, 'cash'),
-- and the checks walk a race's tickets as pages of the range (RaceId), each resumed after the last
-- (RaceId, Currency, UserId, TicketId) read: the key names every primary key column, so it is
-- unique. Without it both are filters on RaceId over the whole Tickets table (keyed by user), a
-- scan of every ticket ever stored, once per result. Costs one index row per bet; STORING what the
-- pools sum, so they need no read of the base table.
CREATE INDEX TicketsByRace ON Tickets (RaceId, Currency, UserId, TicketId) STORING (BetType, Combination, Stake);

-- The settlement marker of (user, race): its presence makes a redelivered settlement a no-op.
-- Interleaved in Users and keyed (UserId, RaceId) so the settlement transaction reads it by key
-- in the same split as the tickets and balances it guards.
CREATE TABLE Settlements (
  UserId STRING(64) NOT NULL,
  RaceId STRING(64) NOT NULL,
  SettlementId STRING(160) NOT NULL,
  ResultVersion INT64 NOT NULL,
  CashDelta INT64 NOT NULL,
  MedalDelta INT64 NOT NULL,
  Hits INT64 NOT NULL,
  TrifectaHits INT64 NOT NULL,
  SettledAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (UserId, RaceId),
  INTERLEAVE IN PARENT Users ON DELETE CASCADE;

-- One race's settlements in user order (the day ranking pages them after the barrier), read as a
-- key range on RaceId; STORING the totals so the page needs no second read per user.
CREATE INDEX SettlementsByRace ON Settlements (RaceId, UserId) STORING (SettlementId, ResultVersion, CashDelta, MedalDelta, Hits, TrifectaHits);

-- Every balance change as a signed integer. Keyed (UserId, EntryId) and interleaved in Users so a
-- user's ledger sums with one key-range read; EntryId is deterministic (settlement id + index,
-- `stake:` + ticket id, `bonus:` + bonus id), so a replayed write collides instead of doubling.
CREATE TABLE Ledger (
  UserId STRING(64) NOT NULL,
  EntryId STRING(200) NOT NULL,
  Currency STRING(8) NOT NULL,
  Amount INT64 NOT NULL,
  Reason STRING(16) NOT NULL,
  Ref STRING(200) NOT NULL,
) PRIMARY KEY (UserId, EntryId),
  INTERLEAVE IN PARENT Users ON DELETE CASCADE;

-- Bonuses keyed by their deterministic BonusId alone: granting is exactly once per id, whoever
-- asks. The row lives in the shard of its user, because the grant and the medal credit commit
-- together.
CREATE TABLE Bonuses (
  BonusId STRING(200) NOT NULL,
  UserId STRING(64) NOT NULL,
  Medals INT64 NOT NULL,
  Reason STRING(64) NOT NULL,
) PRIMARY KEY (BonusId);

-- Day missions: what each race added to a user's day ("3 hits today"), one row per (user, day,
-- race). Day is the race's date in Japan, "YYYY-MM-DD". Keyed by race, a redelivered `settled`
-- finds its row and counts nothing twice; the user's progress is the sum of the day's rows, one
-- key-range read on (UserId, Day). Interleaved in Users: the row, the bonuses it earns and the
-- medal balance they credit commit together in the user's split.
CREATE TABLE DayProgress (
  UserId STRING(64) NOT NULL,
  Day STRING(10) NOT NULL,
  RaceId STRING(64) NOT NULL,
  SettlementId STRING(160) NOT NULL,
  Hits INT64 NOT NULL,
  TrifectaHits INT64 NOT NULL,
) PRIMARY KEY (UserId, Day, RaceId),
  INTERLEAVE IN PARENT Users ON DELETE CASCADE;

-- Post-settlement markers of (race, user), keyed race first so one race's markers are one range;
-- the counter per race (below) makes the ranking barrier one key read instead of a count scan.
CREATE TABLE PostSettled (
  RaceId STRING(64) NOT NULL,
  UserId STRING(64) NOT NULL,
) PRIMARY KEY (RaceId, UserId);

-- Users of the race marked post-settled in this shard; the store sums the shards.
CREATE TABLE PostSettledCounts (
  RaceId STRING(64) NOT NULL,
  UsersMarked INT64 NOT NULL,
) PRIMARY KEY (RaceId);

-- The right to publish a race's day ranking: an insert-if-absent on RaceId in the race's home
-- shard, taken over only when unpublished and past its lease. PostSettledUsers records what the barrier counted when the claim was made,
-- so a checker can verify the ranking waited for every user.
CREATE TABLE RankingClaims (
  RaceId STRING(64) NOT NULL,
  ClaimedAtMs INT64 NOT NULL,
  PostSettledUsers INT64 NOT NULL,
  -- Who claimed, and on which delivery attempt: a later attempt of the claiming message (after a
  -- crash before publishing) may claim again and publish; a duplicate of the same attempt may not.
  Claimant STRING(200),
  ClaimAttempt INT64,
  -- Set once the claimant published the ranking. An unpublished claim is a lease: older than the
  -- lease (core/ranking.ts RANKING_CLAIM_LEASE_MS), another worker at the barrier takes it over.
  PublishedAtMs INT64,
) PRIMARY KEY (RaceId);

-- Published rankings by time (the reconciler's notification audit reads a recent window).
CREATE INDEX RankingClaimsByPublished ON RankingClaims (PublishedAtMs);

-- Users whose settlement of a race was dead-lettered, with the reason. Such a user is also given a
-- PostSettled row (and counted), so the ranking barrier counts every terminal user once, whether
-- it was settled, dead-lettered, or dead-lettered and re-driven later. Lives in the user's shard.
CREATE TABLE DeadLettered (
  RaceId STRING(64) NOT NULL,
  UserId STRING(64) NOT NULL,
  Reason STRING(MAX) NOT NULL,
  AtMs INT64 NOT NULL,
) PRIMARY KEY (RaceId, UserId);

-- The ranking barrier's denominator: how many users the fan-out found for the race. Written once
-- (first call wins) in the race's home shard, so a redelivered fan-out cannot change it.
CREATE TABLE FanoutCounts (
  RaceId STRING(64) NOT NULL,
  UsersFound INT64 NOT NULL,
) PRIMARY KEY (RaceId);

-- Transactional outbox: messages written in the settlement transaction and relayed afterwards.
-- Keyed by the deterministic OutboxId (a replayed write collides); lives in the user's shard so
-- it commits with the settlement. The index orders rows by commit time for "oldest first"; a
-- time-ordered index is a write hot spot on real Spanner at scale, acceptable for a relay queue
-- that stays short.
CREATE TABLE Outbox (
  OutboxId STRING(200) NOT NULL,
  Topic STRING(128) NOT NULL,
  Data STRING(MAX) NOT NULL,
  AttributesJson STRING(MAX) NOT NULL,
  WrittenAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (OutboxId);

CREATE INDEX OutboxByTime ON Outbox (WrittenAt, OutboxId);

-- The per-user notification log: every notification the pipeline publishes to a user, numbered
-- 1, 2, ... per user (Seq), so a client that missed some subscribes again after the last number
-- it saw and reads the rest as one key range (UserId, Seq > n). Lives in the user's shard. Not
-- interleaved in Users: a log row needs no balance row, and nothing else reads them together.
-- Body is the notification's wire JSON (core/messages.ts), checked again when read.
CREATE TABLE Notifications (
  UserId STRING(64) NOT NULL,
  Seq INT64 NOT NULL,
  NotificationId STRING(200) NOT NULL,
  Body STRING(MAX) NOT NULL,
) PRIMARY KEY (UserId, Seq);

-- One row per notification id and user: a redelivered notification finds its number by key
-- (the append is idempotent), and a second row with the same id cannot commit.
CREATE UNIQUE INDEX NotificationsById ON Notifications (UserId, NotificationId);

-- Each user's last number: the append reads it by key and writes the next, so two appends for
-- one user conflict on this row and Spanner serializes them (no number given twice or skipped).
CREATE TABLE NotificationHeads (
  UserId STRING(64) NOT NULL,
  LastSeq INT64 NOT NULL,
) PRIMARY KEY (UserId);
