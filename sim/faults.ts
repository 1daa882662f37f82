// The fault schedule of one seed: bus fault rates, transaction aborts, crash points, worker
// restarts and poison messages, plus the pipeline shape (variants, workers, flow control, ack
// deadlines). The subscriptions allow production's MAX_DELIVERY_ATTEMPTS, so a valid message may
// be retried into the dead letters; rates are high enough that every seed exercises several faults.
import type { BusFaults } from '../backends/memory/index.ts';
import { encodeRaceResults, encodeSettled, encodeSettleRequest } from '../core/messages.ts';
import type { SeededRng } from '../core/rng.ts';
import { allSubscriptions, MAX_DELIVERY_ATTEMPTS, TOPICS, type SubscriptionSpec } from '../core/topology.ts';
import type { Stage, StageOptions } from '../pipeline/runner.ts';
import type { FanoutVariant, NotifyVariant, PipelineVariants, SettlePath } from '../pipeline/settings.ts';

/**
 * The simulated deployment's subscriptions: the production ones, with Pub/Sub's default limit of
 * MAX_DELIVERY_ATTEMPTS (5) deliveries, so stacked faults may dead-letter valid work and the
 * checkers see how the pipeline copes (every user ends settled or dead-lettered with a reason).
 */
export function simSubscriptions(): SubscriptionSpec[] {
  return allSubscriptions();
}

const CRASHES_PER_RUN_MAX = 6;

export interface PoisonPlan {
  readonly atMs: number;
  readonly topic: string;
  readonly data: string;
}

export interface RestartPlan {
  readonly atMs: number;
  readonly stage: Stage;
}

export interface FaultPlan {
  readonly bus: BusFaults;
  readonly abortProbability: number;
  readonly transactionLatencyMs: number;
  /** Chance, per mille, that a handler crashes at any one probe point. */
  readonly crashPerMille: number;
  /**
   * Crashes injected at most in the run. Bounded like every other fault: a design that redoes a
   * whole race per delivery (single-worker) would otherwise never finish under a per-user crash
   * rate, which says more about the rate than about the design.
   */
  readonly crashesMax: number;
  readonly restarts: readonly RestartPlan[];
  readonly poison: readonly PoisonPlan[];
  readonly variants: PipelineVariants;
  readonly stages: Record<Stage, StageOptions>;
}

export interface FaultChoices {
  /** false: no faults at all (the pipeline shape is still drawn from the seed). */
  readonly faults: boolean;
  readonly fanout?: FanoutVariant;
  readonly notify?: NotifyVariant;
  readonly settlePath?: SettlePath;
}

const perMille = (rng: SeededRng, max: number): number => rng.int(0, max) / 1000;

function drawVariants(rng: SeededRng, choices: FaultChoices): PipelineVariants {
  const r = rng.int(0, 9);
  const fanout: FanoutVariant = choices.fanout ?? (r < 6 ? { kind: 'per-user' } : r < 9 ? { kind: 'user-batch', usersPerMessage: rng.int(2, 25) } : { kind: 'single-worker' });
  const notify: NotifyVariant = choices.notify ?? (rng.int(0, 3) === 0 ? 'outbox' : 'after-commit');
  // A third of the worlds settle through the columnar path, checked against the object path's results.
  const settlePath: SettlePath = choices.settlePath ?? (rng.int(0, 2) === 0 ? 'columns' : 'objects');
  return { fanout, notify, settlePath };
}

function drawPoison(rng: SeededRng, raceId: string, horizonMs: number): PoisonPlan[] {
  const kinds = [
    (i: number) => ({ topic: TOPICS.settleRequests, data: `{"schemaVersion":1,"raceId":"${raceId}","userId":` + `${i}` }),
    (i: number) => ({ topic: TOPICS.settleRequests, data: JSON.stringify({ schemaVersion: 99, raceId, userId: `u${i}`, resultVersion: 1, publishedAt: 0 }) }),
    (i: number) => ({ topic: TOPICS.settled, data: JSON.stringify({ schemaVersion: 1, raceId, userId: `u${i}` }) }),
    (i: number) => ({ topic: TOPICS.raceResults, data: encodeRaceResults({ raceId: `unknown-${i}`, resultVersion: 1, publishedAt: i }) }),
    (i: number) => ({
      topic: TOPICS.settled,
      data: encodeSettled({ raceId: `unknown-${i}`, userId: 'u1', settlementId: `stl:unknown-${i}:u1:v1`, cash: 0, medals: 0, hits: 0, resultVersion: 1, publishedAt: 0 }),
    }),
    // Messages naming a result version that was never recorded (a publisher of a refused
    // correction): refused with RESULT.ALREADY_FINAL, never settled or ranked on.
    (i: number) => ({ topic: TOPICS.raceResults, data: encodeRaceResults({ raceId, resultVersion: 2 + i, publishedAt: i }) }),
    (i: number) => ({ topic: TOPICS.settleRequests, data: encodeSettleRequest({ raceId, userId: 'u00001', resultVersion: 2 + i, publishedAt: 0 }) }),
  ];
  const out: PoisonPlan[] = [];
  const count = rng.int(0, 3);
  for (let i = 0; i < count; i++) {
    const kind = kinds[rng.int(0, kinds.length - 1)] as (i: number) => { topic: string; data: string };
    out.push({ atMs: rng.int(0, horizonMs), ...kind(i) });
  }
  return out;
}

export function drawFaultPlan(rng: SeededRng, raceId: string, choices: FaultChoices): FaultPlan {
  const variants = drawVariants(rng, choices);
  const ackDeadlineMs = rng.int(200, 2_000);
  const stages: Record<Stage, StageOptions> = {
    fanout: { workers: 1, maxInFlight: 1, ackDeadlineMs: ackDeadlineMs * 5 },
    settle: { workers: rng.int(1, 4), maxInFlight: rng.int(1, 8), ackDeadlineMs },
    postSettle: { workers: rng.int(1, 3), maxInFlight: rng.int(1, 8), ackDeadlineMs },
    notify: { workers: rng.int(1, 3), maxInFlight: rng.int(1, 8), ackDeadlineMs },
    deadLetters: { workers: 1, maxInFlight: 4, ackDeadlineMs },
  };
  const transactionLatencyMs = rng.int(0, 3);
  if (!choices.faults) return { bus: {}, abortProbability: 0, transactionLatencyMs, crashPerMille: 0, crashesMax: 0, restarts: [], poison: [], variants, stages };
  const horizonMs = 400;
  const restarts: RestartPlan[] = [];
  for (let i = rng.int(0, 2); i > 0; i--) restarts.push({ atMs: rng.int(1, horizonMs), stage: (['fanout', 'settle', 'postSettle', 'notify'] as const)[rng.int(0, 3)] as Stage });
  return {
    bus: {
      duplicateProbability: perMille(rng, 80),
      reorderProbability: perMille(rng, 200),
      reorderMaxDelayMs: rng.int(1, 100),
      lostAckProbability: perMille(rng, 40),
      delayPastDeadlineProbability: perMille(rng, 20),
    },
    abortProbability: perMille(rng, 100),
    transactionLatencyMs,
    crashPerMille: rng.int(0, 20),
    // The single-worker fan-out settles the whole race in one delivery, so every crash costs the
    // race-results message an attempt: more crashes than MAX_DELIVERY_ATTEMPTS - 1 would
    // dead-letter the race itself, which no barrier can recover (a limit of that design, not a bug).
    crashesMax: rng.int(0, variants.fanout.kind === 'single-worker' ? MAX_DELIVERY_ATTEMPTS - 1 : CRASHES_PER_RUN_MAX),
    restarts,
    poison: drawPoison(rng, raceId, horizonMs),
    variants,
    stages,
  };
}

/**
 * Work that crashes on every delivery attempt, so the bus itself dead-letters it after
 * MAX_DELIVERY_ATTEMPTS (no handler gets to give a reason): the settle requests naming
 * `settleUser` die before any of their users is touched (settle.received), and the `settled`
 * messages of `settledUser` die after its bonuses, before its post-settle marker
 * (postSettle.afterBonus). Both users hold tickets in `raceId`, the race the terminal checkers
 * read. The dead-letter intake must make them (and any other user a doomed request names)
 * terminal, so the race is still ranked.
 */
export interface DoomPlan {
  readonly raceId: string;
  readonly settleUser?: string;
  readonly settledUser?: string;
}

/** Each kind of doom in about half the seeds; none for single-worker requests (that fan-out settles in the race's own delivery, and dooming it dooms the race). */
export function drawDoomPlan(rng: SeededRng, raceId: string, users: readonly string[], variants: PipelineVariants): DoomPlan {
  if (users.length < 2) return { raceId };
  const settleUser = variants.fanout.kind !== 'single-worker' && rng.int(0, 1) === 0 ? users[rng.int(0, users.length - 1)] : undefined;
  const others = users.filter((u) => u !== settleUser);
  const settledUser = rng.int(0, 1) === 0 ? others[rng.int(0, others.length - 1)] : undefined;
  return { raceId, ...(settleUser === undefined ? {} : { settleUser }), ...(settledUser === undefined ? {} : { settledUser }) };
}
