// A swarm worker: runs a slice of the simulated users in its own event loop, so the driver's
// thread only merges results. It runs as a worker thread (parentPort) or as a child process
// (process.send), whichever started it, and speaks protocol.ts with the driver.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { COHORTS, type Cohort } from './cohorts.ts';
import { createHistogramSet, encodeHistograms } from './histograms.ts';
import type { CohortTotals, DriverMessage, LoopDelay, StartMessage, StopMessage, WorkerMessage, WorkerReport } from './protocol.ts';
import type { DeliveryTotals } from './sequence.ts';
import { startUser, type RunningUser, type UserState } from './user.ts';

interface Channel {
  post(m: WorkerMessage): void;
  onMessage(fn: (m: DriverMessage) => void): void;
  close(): void;
}

function channel(): Channel | undefined {
  if (parentPort !== null) {
    const port = parentPort;
    return { post: (m) => port.postMessage(m), onMessage: (fn) => port.on('message', fn), close: () => port.close() };
  }
  if (process.send !== undefined) {
    return {
      post: (m) => process.send?.(m),
      onMessage: (fn) => process.on('message', (m) => fn(m as DriverMessage)),
      close: () => process.disconnect(),
    };
  }
  return undefined;
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const SETTLE_POLL_MS = 50;

export async function startAll(msg: StartMessage, stopping: () => boolean): Promise<{ users: RunningUser[]; histograms: ReturnType<typeof createHistogramSet> }> {
  const histograms = createHistogramSet();
  const users: RunningUser[] = [];
  const ctx = { url: msg.url, behaviour: msg.behaviour, histograms, stopping };
  // Handshakes in bounded waves: 10,000 simultaneous connects would only measure the listen backlog.
  for (let i = 0; i < msg.plans.length; i += msg.connectConcurrency) {
    const wave = msg.plans.slice(i, i + msg.connectConcurrency).map((p) => startUser(p, ctx));
    users.push(...wave);
    await Promise.all(wave.map((u) => u.ready));
  }
  return { users, histograms };
}

function deliveryOf(states: readonly UserState[], stop: StopMessage): DeliveryTotals {
  let expected = 0;
  let received = 0;
  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  for (const s of states) {
    const e = stop.expected[s.plan.userId] ?? stop.expectedDefault;
    const c = s.tracker.counts();
    const lostHere = s.tracker.lostOf(e);
    expected += e;
    received += c.distinct;
    lost += lostHere;
    duplicates += c.duplicates;
    outOfOrder += c.outOfOrder;
    unexpected += c.distinct - (e - lostHere);
  }
  return { expected, received, lost, duplicates, outOfOrder, unexpected };
}

export function totalsOf(states: readonly UserState[], stop: StopMessage): CohortTotals {
  const closes: Record<string, number> = {};
  let connects = 0, connectFailures = 0, errors = 0, notificationFrames = 0, oddsFrames = 0, bytes = 0, afterStall = 0;
  for (const s of states) {
    connects += s.connects;
    connectFailures += s.connectFailures;
    errors += s.errors;
    notificationFrames += s.notifications;
    oddsFrames += s.odds;
    bytes += s.bytes;
    afterStall += s.notificationsAfterStall;
    for (const [code, n] of s.closesByCode) closes[code] = (closes[code] ?? 0) + n;
  }
  return {
    users: states.length, connects, connectFailures, closesByCode: closes, errors, notificationFrames, oddsFrames, bytes,
    delivery: deliveryOf(states, stop), notificationsAfterStall: afterStall,
  };
}

function loopDelayMs(): LoopDelay {
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
}

function main(ch: Channel): void {
  let running: Promise<Awaited<ReturnType<typeof startAll>>> | undefined;
  let stopping = false;
  ch.onMessage((msg) => {
    if (msg.type === 'start') {
      loopDelay.enable();
      running = startAll(msg, () => stopping);
      void running.then(({ users }) => {
        const failed = users.filter((u) => u.state.connects === 0);
        ch.post({ type: 'ready', connected: users.length - failed.length, failed: failed.length, ...(failed[0]?.state.lastError === undefined ? {} : { firstError: failed[0].state.lastError }) });
      });
      return;
    }
    if (msg.type === 'quiesce') {
      void (async () => {
        const { users } = await (running as NonNullable<typeof running>);
        users.forEach((u) => u.quiesce());
        const owed = (u: RunningUser) => u.state.plan.cohort !== 'stalled' && u.state.tracker.lostOf(msg.expected[u.state.plan.userId] ?? msg.expectedDefault) > 0;
        const deadline = performance.now() + msg.settleMs;
        let behind = users.filter(owed).length;
        while (behind > 0 && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
          behind = users.filter(owed).length;
        }
        ch.post({ type: 'settled', behind });
      })();
      return;
    }
    void (async () => {
      stopping = true;
      const { users, histograms } = await (running as NonNullable<typeof running>);
      for (const u of users) u.stop();
      loopDelay.disable();
      const cohorts: Partial<Record<Cohort, CohortTotals>> = {};
      for (const c of COHORTS) {
        const states = users.filter((u) => u.state.plan.cohort === c).map((u) => u.state);
        if (states.length > 0) cohorts[c] = totalsOf(states, msg);
      }
      const lastError = users.map((u) => u.state.lastError).find((e) => e !== undefined);
      const report: WorkerReport = { histograms: encodeHistograms(histograms), cohorts, loopDelayMs: loopDelayMs(), ...(lastError === undefined ? {} : { lastError }) };
      ch.post({ type: 'report', report });
      ch.close();
    })();
  });
}

const ch = channel();
if (ch !== undefined) main(ch);
